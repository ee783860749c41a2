"""Ceiling views: what this machine serves through the same gunicorn and Django stack with the
application's own work taken away.

* :func:`ping` — a small JsonResponse: no database, no DRF, no authentication. The ceiling
  of Django + gunicorn + the middleware.
* :func:`leads_raw` — the first page of the lead list as one raw, indexed SQL query through a
  plain cursor, returned as JSON: the ceiling of "Django + one query" (no DRF, no ORM, no
  authentication, no count).

Both are mounted only when ``settings.BENCH_ENDPOINTS`` is true, and both are read-only.
"""

from django.db import connection
from django.http import JsonResponse

RAW_LEADS_SQL = (
    "SELECT id, first_name, last_name, email, phone, company, status, source, owner_id, created_at "
    "FROM leads_lead WHERE deleted_at IS NULL ORDER BY created_at DESC LIMIT 20"
)
RAW_COLUMNS = ("id", "first_name", "last_name", "email", "phone", "company", "status", "source", "owner_id",
               "created_at")


def ping(request):
    """``{"ok": true}``: the smallest JSON answer Django gives."""
    return JsonResponse({"ok": True})


def leads_raw(request):
    """The 20 newest live leads through one raw query (``lead_live_created`` index)."""
    with connection.cursor() as cursor:
        cursor.execute(RAW_LEADS_SQL)
        rows = cursor.fetchall()
    results = []
    for row in rows:
        item = dict(zip(RAW_COLUMNS, row, strict=True))
        item["id"] = str(item["id"])
        item["created_at"] = item["created_at"].isoformat()
        results.append(item)
    return JsonResponse({"results": results})
