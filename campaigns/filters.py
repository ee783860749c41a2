"""CampaignFilterSet and the date range: shared by the API list and the campaigns page (STYLE.md 1).

Parameters: ``startDate``/``endDate`` (seed 001; ``start_date``/``end_date`` too, ``YYYY-MM-DD``,
both inclusive, default the last 30 days), ``search`` (or ``q``: name or Meta id), ``status``
(``active``, ``paused``… matched against the effective status, comma-separated allowed),
``objective`` and ``ordering`` (``-spend``, ``cpl``, ``roas``, ``name``…; seed sort params
``sort=spend_desc`` and ``sort_by``/``sort_order`` too). NULL CPL/ROAS sort last either way.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import django_filters
from django import forms
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from campaigns.models import Campaign
from crm.errors import ServiceError
from crm.filters import normalize_ordering

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366

# ordering key → annotation/column (see campaigns.services.campaign_metrics).
ORDERING_FIELDS = {
    "name": "name", "status": "effective_status", "objective": "objective", "created_at": "created_at",
    "spend": "spend", "impressions": "impressions", "clicks": "clicks", "link_clicks": "link_clicks",
    "leads": "leads", "revenue": "revenue", "purchase_value": "purchase_value",
    "cpl": "cpl_sort", "roas": "roas_sort", "meta_roas": "meta_roas_sort",
}
DEFAULT_ORDERING = "-spend"


def _param(params, *names) -> str:
    for name in names:
        value = (params.get(name) or "").strip()
        if value:
            return value
    return ""


def _parse_day(raw: str, field: str) -> date:
    try:
        return date.fromisoformat(raw[:10]) if len(raw) >= 10 and raw[4] == "-" else date.fromisoformat(raw)
    except ValueError:
        raise ServiceError(f"{field} must be a date like 2026-11-01, not {raw!r}.", code="invalid_date",
                           field=field) from None


def date_range(params, *, today: date | None = None) -> tuple[date, date]:
    """``(since, until)`` from ``startDate``/``endDate`` (or ``start_date``/``end_date``), inclusive.

    Missing end: today; missing start: 30 days ending at the end. Raises ServiceError (400) for a
    malformed date, a start after the end, or a range over three years.
    """
    today = today or timezone.localdate()
    start_raw = _param(params, "startDate", "start_date")
    end_raw = _param(params, "endDate", "end_date")
    until = _parse_day(end_raw, "endDate") if end_raw else today
    since = _parse_day(start_raw, "startDate") if start_raw else until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        raise ServiceError("startDate must be on or before endDate.", code="invalid_range", field="startDate")
    if (until - since).days + 1 > MAX_DAYS:
        raise ServiceError(f"A date range may span at most {MAX_DAYS} days.", code="invalid_range", field="startDate")
    return since, until


class CSVField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        return [part.strip() for part in (value or "").split(",") if part.strip()]


class CSVFilter(django_filters.Filter):
    field_class = CSVField


class CampaignFilterSet(django_filters.FilterSet):
    """Filters and ordering over campaigns annotated by ``campaign_metrics`` (the date range is
    read by :func:`date_range`, since it shapes the sums rather than filtering rows)."""

    search = django_filters.CharFilter(method="filter_search")
    q = django_filters.CharFilter(method="filter_search")
    status = CSVFilter(method="filter_status")
    objective = CSVFilter(method="filter_objective")
    ordering = django_filters.CharFilter(method="filter_ordering")

    class Meta:
        model = Campaign
        fields: list = []

    def __init__(self, data=None, *args, **kwargs):
        data = data.copy() if data is not None else {}
        ordering = normalize_ordering(data)
        if ordering:
            data["ordering"] = ordering
        super().__init__(data, *args, **kwargs)

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(meta_id=value))

    def filter_status(self, queryset, name, values):
        if not values:
            return queryset
        return queryset.filter(effective_status__in=[v.upper() for v in values])

    def filter_objective(self, queryset, name, values):
        if not values:
            return queryset
        wanted = set()
        for v in values:
            v = v.upper().replace(" ", "_")
            wanted |= {v, f"OUTCOME_{v}"}
        return queryset.filter(objective__in=sorted(wanted))

    def filter_ordering(self, queryset, name, value):
        return queryset  # ordering needs the range annotations: see campaign_query()


@dataclass(frozen=True)
class CampaignQuery:
    """A parsed list request: the range, the filtered campaigns (not yet annotated) and the
    ordering expressions for ``campaign_metrics(filtered, since, until).order_by(*ordering)``."""

    since: date
    until: date
    filtered: QuerySet
    ordering: list
    ordering_key: str


def campaign_query(params, queryset=None) -> CampaignQuery:
    """Read the range, the filters and the ordering from ``params`` (API and page alike).
    Raises ServiceError (400) for a bad range, filter value or ordering key."""
    since, until = date_range(params)
    filterset = CampaignFilterSet(params, queryset=queryset if queryset is not None else Campaign.objects.all())
    if not filterset.is_valid():
        field, messages = next(iter(filterset.errors.items()))
        raise ServiceError(f"{field}: {messages[0]}", code="invalid", field=field)
    key = filterset.form.cleaned_data.get("ordering") or DEFAULT_ORDERING
    return CampaignQuery(since, until, filterset.qs, order_by(key), key)


def order_by(value: str | None) -> list:
    """Expressions for ``ordering`` (comma-separated keys, ``-`` for descending); unknown keys raise
    ServiceError (400). NULLs (no CPL/ROAS) sort last in both directions; ties break on name, id."""
    keys = [part.strip() for part in (value or DEFAULT_ORDERING).split(",") if part.strip()]
    exprs = []
    for key in keys:
        desc = key.startswith("-")
        field = ORDERING_FIELDS.get(key.lstrip("-"))
        if field is None:
            raise ServiceError(f'Cannot sort by "{key.lstrip("-")}". Choose one of: {", ".join(ORDERING_FIELDS)}.',
                               code="invalid_ordering", field="ordering")
        exprs.append(F(field).desc(nulls_last=True) if desc else F(field).asc(nulls_last=True))
    return [*exprs, F("name").asc(), F("id").asc()]
