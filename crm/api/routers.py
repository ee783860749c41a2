"""Router whose routes match with and without a trailing slash, no redirects (DESIGN.md decision 2)."""

from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """``/api/v1/leads`` and ``/api/v1/leads/`` both resolve (DRF stores only '/' or '')."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"
