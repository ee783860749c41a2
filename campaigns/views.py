"""Campaign pages: the table with a date range, sorting and totals; a campaign's daily chart and
table; the sync status (polled with HTMX while a run is going) and "Sync now" for admins; and
the small JSON feed the leads list and board poll to show Lead Ads leads as they arrive.

Reads use the API's ``campaign_query`` and ``campaign_metrics``, so a page URL doubles as an API
query; writes call ``campaigns.services``.
"""

from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from campaigns import services
from campaigns.filters import DEFAULT_ORDERING, campaign_query, date_range
from campaigns.models import Campaign, MetaSyncRun
from crm.api.pagination import page_window, slice_page
from crm.errors import ServiceError
from leads.models import Lead
from leads.views import is_htmx, render_page_or_partial

PAGE_SIZE = 50
# (label, ordering key, first direction when clicked, numeric column)
COLUMNS = (
    ("Campaign", "name", "", False), ("Status", "status", "", False), ("Objective", "objective", "", False),
    ("Spend", "spend", "-", True), ("Impressions", "impressions", "-", True), ("Clicks", "clicks", "-", True),
    ("Link clicks", "link_clicks", "-", True), ("Leads", "leads", "-", True), ("CPL", "cpl", "", True),
    ("Revenue", "revenue", "-", True), ("ROAS", "roas", "-", True), ("Meta ROAS", "meta_roas", "-", True),
)


STATUS_CHOICES = [("active", "Active"), ("paused", "Paused"), ("archived", "Archived"),
                  ("with_issues", "With issues"), ("in_process", "In process")]


class _QueryParams:
    def __init__(self, request):
        self.query_params = request.GET


def _columns(ordering_key: str) -> list[dict]:
    current = ordering_key.split(",")[0]
    active_key, descending = current.lstrip("-"), current.startswith("-")
    cols = []
    for label, key, first, numeric in COLUMNS:
        active = key == active_key
        if active:
            nxt = key if descending else f"-{key}"
        else:
            nxt = f"{first}{key}"
        cols.append({"label": label, "key": key, "active": active, "descending": descending, "next": nxt,
                     "numeric": numeric})
    return cols


def _presets(today) -> list[dict]:
    def item(label, since, until=today):
        return {"label": label, "startDate": since.isoformat(), "endDate": until.isoformat()}

    month_start = today.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    return [
        item("Last 7 days", today - timedelta(days=6)), item("Last 30 days", today - timedelta(days=29)),
        item("Last 90 days", today - timedelta(days=89)), item("This month", month_start),
        item("Last month", last_month_end.replace(day=1), last_month_end),
    ]


def last_run():
    return MetaSyncRun.objects.order_by("-started_at", "-id").first()


def sync_context(request) -> dict:
    return {"run": last_run(), "can_sync": services.sync_queue_allowed(request.user),
            "meta": {"configured": services.meta_configured()}}


class CampaignListView(LoginRequiredMixin, View):
    """``/campaigns/``: every campaign's spend, leads, CPL and ROAS over the chosen range, sortable,
    with a totals row and the last sync's status. Queries: count, one page, two for totals, the
    last run."""

    def get(self, request):
        error = None
        try:
            query = campaign_query(request.GET)
        except ServiceError as exc:
            error = exc.detail
            query = campaign_query({})
        try:
            limit, offset, _ = page_window(_QueryParams(request), PAGE_SIZE)
        except Exception:  # noqa: BLE001 - a malformed page number shows the first page
            limit, offset = PAGE_SIZE, 0
        rows_qs = services.campaign_metrics(query.filtered, query.since, query.until).order_by(*query.ordering)
        count = query.filtered.count()
        rows = slice_page(rows_qs, limit, offset) if count else []
        totals = services.campaign_totals(query.filtered, query.since, query.until) if count else None
        context = {
            "campaigns": rows, "totals": totals, "count": count, "since": query.since, "until": query.until,
            "columns": _columns(query.ordering_key), "ordering_param": request.GET.get("ordering", ""),
            "error": error, "presets": _presets(timezone.localdate()), "search_value": request.GET.get("search", ""),
            "status_value": request.GET.get("status", ""), "default_ordering": DEFAULT_ORDERING,
            "status_choices": STATUS_CHOICES,
            "prev_offset": max(offset - limit, 0) if offset else None,
            "next_offset": offset + limit if offset + limit < count else None,
            "first": offset + 1, "last": min(offset + limit, count),
            **sync_context(request),
        }
        return render_page_or_partial(request, "campaigns/campaign_list.html",
                                      "campaigns/partials/_campaign_rows.html", context)


class CampaignDetailView(LoginRequiredMixin, View):
    """``/campaigns/<id>/``: the range's figures, a daily spend/leads chart and the daily table."""

    def get(self, request, pk):
        campaign = get_object_or_404(Campaign, pk=pk)
        error = None
        try:
            since, until = date_range(request.GET)
        except ServiceError as exc:
            error = exc.detail
            since, until = date_range({})
        annotated = services.campaign_metrics(Campaign.objects.filter(pk=campaign.pk), since, until).get()
        daily = services.campaign_daily(campaign, since, until)
        chart = {
            "labels": [d["date"].isoformat() for d in daily],
            "spend": [float(d["spend"]) for d in daily],
            "leads": [d["leads"] for d in daily],
        }
        return render(request, "campaigns/campaign_detail.html", {
            "campaign": annotated, "daily": daily, "chart": chart, "since": since, "until": until, "error": error,
            "cpl": services.ratio(annotated.spend, annotated.leads),
            "roas": services.ratio(annotated.revenue, annotated.spend),
            "meta_roas": services.ratio(annotated.purchase_value, annotated.spend),
            "presets": _presets(timezone.localdate()),
        })


class SyncStatusView(LoginRequiredMixin, View):
    """The sync status box alone (HTMX polls it every few seconds while a run is going)."""

    def get(self, request):
        return render(request, "campaigns/partials/_sync_status.html", sync_context(request))


class SyncNowView(LoginRequiredMixin, View):
    """POST: queue a sync (admins); back to the page it came from with a message."""

    def post(self, request):
        try:
            services.meta_sync_request(user=request.user)
        except PermissionDenied:
            return HttpResponseForbidden("Only admins can start a Meta sync.")
        if is_htmx(request):
            return render(request, "campaigns/partials/_sync_status.html", {**sync_context(request), "queued": True})
        messages.success(request, "Meta sync queued; the status below updates when it finishes.")
        back = request.POST.get("next") or reverse("campaigns:campaign_list")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = reverse("campaigns:campaign_list")
        return redirect(back)


class LiveLeadsView(LoginRequiredMixin, View):
    """``/campaigns/live/leads?since=<ISO time>``: Lead Ads leads the user may see that arrived
    after ``since`` (at most 10, oldest first) and the cursor for the next poll:
    ``{"cursor": "...", "leads": [{"id", "name", "url"}]}``. The leads list and board poll it
    (static/campaigns/live_leads.js) and refresh themselves when something arrived. One query
    on the leads (source, deleted_at, created_at) index."""

    def get(self, request):
        now = timezone.now()
        since = parse_datetime(request.GET.get("since") or "")
        if since is None or timezone.is_naive(since):
            return JsonResponse({"cursor": now.isoformat(), "leads": []})
        since = max(since, now - timedelta(hours=1))  # a stale tab does not scan the past
        leads = list(
            Lead.objects.visible_to(request.user).filter(source=services.LEAD_SOURCE, created_at__gt=since)
            .order_by("created_at").only("pk", "first_name", "last_name", "created_at")[:10]
        )
        cursor = leads[-1].created_at if leads else max(since, now - timedelta(seconds=5))
        return JsonResponse({
            "cursor": cursor.isoformat() if isinstance(cursor, datetime) else now.isoformat(),
            "leads": [{"id": str(lead.pk), "name": lead.name, "url": reverse("leads:lead_detail", args=[lead.pk])}
                      for lead in leads],
        })
