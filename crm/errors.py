"""Errors that services raise, independent of HTTP; the API and the pages map them.

``ServiceError(detail, code=..., field=..., extra=...)``: the API answers 400 with
``{"detail", "code", **extra}`` (plus ``"errors": {field: [detail]}`` when ``field`` is set);
forms show ``detail`` on ``field``. ``NotFound`` answers 404.
"""


class ServiceError(Exception):
    """A business rule refused the request; nothing was changed."""

    status_code = 400
    default_code = "invalid"

    def __init__(self, detail: str, *, code: str | None = None, field: str | None = None, extra=None):
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.default_code
        self.field = field
        self.extra = extra or {}


class DuplicateRecord(ServiceError):
    """The record would duplicate a live one; ``extra`` names it (``existing_id``)."""

    default_code = "duplicate"


class NotFound(ServiceError):
    status_code = 404
    default_code = "not_found"
