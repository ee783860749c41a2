"""Tasks API routes under /api/v1/ (filled by the tasks issue)."""

urlpatterns: list = []
