"""One error shape for the whole API (DESIGN.md decision 7).

Every error body is ``{"detail": "<sentence>", "code": "<machine_code>"}``; validation errors add
``"errors": {"<field>": ["<message>", ...]}`` (``"non_field_errors"`` for the body as a whole,
``"<index>"`` keys inside bulk payloads). Unknown ids answer 404 ``<model>_not_found``.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from crm.errors import ServiceError


class Conflict(exceptions.APIException):
    """409/400-style refusal that names the record in the way (duplicates, double conversion)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The request conflicts with an existing record."
    default_code = "conflict"

    def __init__(self, detail=None, code=None, extra=None):
        super().__init__(detail, code)
        self.extra = extra or {}


def _first_message(errors) -> str:
    """The first human message found in DRF's nested error structure."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            msg = _first_message(value)
            if msg:
                return msg if key in ("non_field_errors", "detail") else f"{key}: {msg}"
    elif isinstance(errors, list):
        for value in errors:
            msg = _first_message(value)
            if msg:
                return msg
    elif errors:
        return str(errors)
    return ""


def _not_found_code(context) -> tuple[str, str]:
    view = context.get("view")
    queryset = getattr(view, "queryset", None)
    model = getattr(queryset, "model", None)
    if model is None and view is not None and hasattr(view, "get_queryset"):
        try:
            model = view.get_queryset().model
        except Exception:  # noqa: BLE001 - the error path must never raise
            model = None
    if model is None:
        return "Not found.", "not_found"
    name = model._meta.verbose_name
    return f"{name.capitalize()} not found", f"{model._meta.model_name}_not_found"


def exception_handler(exc, context):
    """DRF exception handler that renders every error in the one shape."""
    if isinstance(exc, ServiceError):
        body = {"detail": exc.detail, "code": exc.code, **exc.extra}
        if exc.field:
            body["errors"] = {exc.field: [exc.detail]}
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, Http404):
        detail, code = _not_found_code(context)
        return Response({"detail": detail, "code": code}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {
            "detail": _first_message(errors) or "Invalid input.",
            "code": "invalid",
            "errors": errors,
        }
        return response

    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    if isinstance(detail, dict | list):
        message = _first_message(detail)
    else:
        message = str(detail)
    if isinstance(exc, exceptions.NotFound) and message in ("Not found.", "No Lead matches the given query."):
        message, codes = _not_found_code(context)
    body = {"detail": message, "code": codes if isinstance(codes, str) else "error"}
    body.update(getattr(exc, "extra", {}))
    response.data = body
    return response
