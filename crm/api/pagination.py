"""One pagination for every list (DESIGN.md decision 6).

``limit``/``offset`` (default 20, at most 100) or ``page``/``per_page`` (seed 004), answering
``{count, next, previous, results}``. A limit over 100 is clamped; a non-number is a 400.

Two costs dominate a list at a million rows, and both are handled here:

* the total: a view may offer ``count_rows(queryset)`` and a queryset ``fast_count()`` (a
  maintained rollup or a capped count), used instead of ``COUNT(*)``; when that count is
  capped, ``count_exact`` is false;
* a deep page: past ``DEFERRED_JOIN_OFFSET`` the ids of the page are read first from the
  ordering index alone, then only those rows are fetched (a "deferred join").
"""

from django.core.exceptions import EmptyResultSet
from django.db import connections
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
DEFERRED_JOIN_OFFSET = 200


def _int_param(request, name: str, *, minimum: int, errors: dict) -> int | None:
    """``name``'s whole number from the query string (None when absent or empty); a bad one adds
    its message to ``errors`` and gives None."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        errors[name] = [f"Must be a whole number, not {raw!r}."]
        return None
    if value < minimum:
        errors[name] = [f"Must be at least {minimum}."]
        return None
    return value


def page_window(request, default_limit: int = DEFAULT_LIMIT) -> tuple[int, int, bool]:
    """Read ``(limit, offset, page_style)`` from the query string. Raises ValidationError (400)
    naming every bad parameter of ``limit``, ``offset``, ``page`` and ``per_page``."""
    errors: dict[str, list[str]] = {}
    per_page = _int_param(request, "per_page", minimum=1, errors=errors)
    page = _int_param(request, "page", minimum=1, errors=errors)
    limit = _int_param(request, "limit", minimum=1, errors=errors)
    offset = _int_param(request, "offset", minimum=0, errors=errors)
    if errors:
        raise exceptions.ValidationError(errors)
    page_style = page is not None or per_page is not None
    if page_style and limit is None and offset is None:
        limit = min(per_page or default_limit, MAX_LIMIT)
        return limit, ((page or 1) - 1) * limit, True
    return min(limit or default_limit, MAX_LIMIT), offset or 0, False


def check_list_query(request, filterset=None) -> None:
    """Raise one ValidationError (400) that names every bad parameter of a list request:
    ``filterset``'s (a django-filter FilterSet; its own messages) and the pagination's
    (:func:`page_window`), so a caller fixes them all at once. Nothing happens when all are valid.
    ``filterset`` may be None (a list without filters)."""
    errors = {}
    if filterset is not None and not filterset.is_valid():
        errors.update(filterset.errors)
    try:
        page_window(request)
    except exceptions.ValidationError as exc:
        errors.update(exc.detail)
    if errors:
        raise exceptions.ValidationError(errors)


def slice_page(queryset, limit: int, offset: int) -> list:
    """The rows of one page; deep pages go through a deferred join on the primary key."""
    if offset < DEFERRED_JOIN_OFFSET or not queryset.query.order_by:
        return list(queryset[offset : offset + limit])
    ids = list(queryset.values_list("pk", flat=True)[offset : offset + limit])
    rows = {obj.pk: obj for obj in queryset.filter(pk__in=ids).order_by()}
    return [rows[pk] for pk in ids if pk in rows]


def raw_rows(queryset) -> list[tuple]:
    """The rows of ``queryset`` (usually a ``values_list``) as the database driver returns them:
    the ORM builds the SQL, but no converters run (UUIDs stay the driver's text, datetimes naive
    UTC). For ids that go straight back into another query, e.g. :func:`leads.api.serializers.lead_rows`."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # e.g. pk__in=[]: nothing can match, no query needed
        return []
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def objects_in_order(queryset, raw_ids: list) -> list:
    """The instances of ``queryset`` whose primary keys are ``raw_ids`` (as :func:`raw_rows`
    returns them), in that order; one query. Ids not in ``queryset`` are skipped."""
    to_python = queryset.model._meta.pk.to_python
    ids = [to_python(value) for value in raw_ids]
    found = {obj.pk: obj for obj in queryset.filter(pk__in=ids).order_by()} if ids else {}
    return [found[pk] for pk in ids if pk in found]


def count_rows(queryset) -> tuple[int, bool]:
    """``(count, exact)``: the queryset's own ``fast_count()`` when it has one, else ``COUNT(*)``."""
    fast = getattr(queryset, "fast_count", None)
    if fast is not None:
        return fast()
    return queryset.count(), True


class CRMPagination(BasePagination):
    """limit/offset and page/per_page over one response shape."""

    default_limit = DEFAULT_LIMIT

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit, self.offset, self.page_style = page_window(request, self.default_limit)
        counter = getattr(view, "count_rows", None)
        self.count, self.count_exact = counter(queryset) if counter else count_rows(queryset)
        if self.offset and self.offset >= self.count and self.count_exact:
            return []
        # A view may read its page its own way (e.g. the lead list: ids, then one raw query).
        reader = getattr(view, "page_rows", None)
        if reader is not None:
            return reader(queryset, self.limit, self.offset, self.count, self.count_exact)
        return slice_page(queryset, self.limit, self.offset)

    def _link(self, offset: int | None) -> str | None:
        if offset is None:
            return None
        url = self.request.build_absolute_uri()
        if self.page_style:
            url = replace_query_param(url, "per_page", self.limit)
            return replace_query_param(url, "page", offset // self.limit + 1)
        url = replace_query_param(url, "limit", self.limit)
        if offset == 0:
            return remove_query_param(url, "offset")
        return replace_query_param(url, "offset", offset)

    def get_paginated_response(self, data):
        next_offset = self.offset + self.limit if self.offset + self.limit < self.count else None
        prev_offset = max(self.offset - self.limit, 0) if self.offset > 0 else None
        body = {
            "count": self.count,
            "next": self._link(next_offset),
            "previous": self._link(prev_offset),
            "results": data,
        }
        if not self.count_exact:
            body["count_exact"] = False
        return Response(body)

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "results"],
            "properties": {
                "count": {"type": "integer", "example": 123},
                "count_exact": {"type": "boolean", "description": "false when the count is capped"},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        def param(name, desc):
            return {"name": name, "required": False, "in": "query", "description": desc,
                    "schema": {"type": "integer"}}

        return [
            param("limit", f"Rows per page (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})."),
            param("offset", "Rows to skip."),
            param("page", "Page number (1-based), with per_page."),
            param("per_page", f"Rows per page (at most {MAX_LIMIT})."),
        ]


