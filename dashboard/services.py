"""KPI and chart queries of the dashboard (seed 001 A), and the rollups they read.

Definitions (all over live leads, as they are now; days in ``TIME_ZONE``; a range is two
inclusive dates and is compared with the previous period of the same length):

* ``revenue`` — the value of the leads whose status is ``closed`` (won) and whose
  ``status_changed_at`` (the moment they were won) falls in the range. A won deal that is
  later reopened stops counting; a deal's value edited after the win counts as edited.
* ``active_leads`` — leads open at some moment of the range: created on or before its last
  day, and not closed or lost before its first day.
* ``conversion_rate`` — of the leads created in the range, the percentage now won.
* ``new_leads`` — leads created in the range.
* ``link_clicks`` — Meta ``inline_link_clicks`` of every campaign on the range's dates
  (``campaigns.CampaignInsight``).
* ``calls`` / ``answered_calls`` / ``pickup_rate`` — calls placed in the range
  (``calling.Call.created_at``), those answered, and answered as a percentage of those ended.
* ``pipeline`` — live leads per status now (``leads.LeadStageCount``), not range-bound.

Each KPI is ``{"value", "previous", "change", "trend"}``: ``change`` the % against the previous
period (None when that was 0), ``trend`` ``up``/``down``/``flat``.

Speed: every lead figure comes from the per-day rollups in ``dashboard.models`` (a few thousand
rows for two years), never from a scan of the leads table. A lead save marks its days dirty and
queues a background refresh (debounced: one at a time), which recomputes those days from the
leads (tens of ms a day at 1M leads); reads recompute only days the worker has left dirty for
a few seconds; a nightly rebuild heals writes made around ``save()`` (raw bulk loads).
"""

import calendar
import logging
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from calling.models import Call
from calling.services import provider_integration_status
from campaigns.models import CampaignInsight
from campaigns.services import meta_integration_status
from crm.errors import ServiceError
from crm.models import Interaction, User
from dashboard.models import LeadDailyStat, LeadSourceDailyStat, LeadSourceMonthlyStat, RollupDirtyDay
from leads.models import Lead, LeadStageCount

log = logging.getLogger(__name__)

DEFAULT_DAYS = 30
MAX_DAYS = 366 * 50
TERMINAL = (Lead.Status.CLOSED, Lead.Status.LOST)


# --- Ranges -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DateRange:
    """Inclusive ``start``..``end`` dates and the previous period of the same length."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> "DateRange":
        return DateRange(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def as_dict(self) -> dict:
        prev = self.previous
        return {"start_date": self.start.isoformat(), "end_date": self.end.isoformat(), "days": self.days,
                "previous_start_date": prev.start.isoformat(), "previous_end_date": prev.end.isoformat()}


def _parse_day(raw: str, field: str) -> date:
    try:
        value = parse_date(raw) if len(raw) <= 10 else None
        if value is None and len(raw) > 10:
            moment = parse_datetime(raw)
            if moment is not None:
                value = (timezone.localtime(moment) if timezone.is_aware(moment) else moment).date()
    except ValueError:  # well formed but impossible, e.g. 2026-02-30
        value = None
    if value is None:
        raise ServiceError(f'"{raw}" is not a date; use YYYY-MM-DD.', code="invalid_date", field=field)
    return value


def parse_range(params, *, today: date | None = None) -> DateRange:
    """The range asked for by ``startDate``/``endDate`` (seed 001) or ``start_date``/``end_date``.

    Missing both: the last 30 days ending today. Only a start: up to today. Only an end: the 30
    days ending then. Raises ServiceError (400) for a malformed date (``invalid_date``), an end
    before the start (``invalid_range``) or a range over 50 years (``range_too_long``).
    """
    today = today or timezone.localdate()
    raw = {}
    for field, names in (("startDate", ("startDate", "start_date")), ("endDate", ("endDate", "end_date"))):
        for name in names:
            value = (params.get(name) or "").strip()
            if value:
                raw[field] = (name, value)
                break
    start = _parse_day(raw["startDate"][1], raw["startDate"][0]) if "startDate" in raw else None
    end = _parse_day(raw["endDate"][1], raw["endDate"][0]) if "endDate" in raw else None
    if start is None and end is None:
        end = today
    if end is None:
        end = max(today, start)
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    if end < start:
        raise ServiceError("The end date is before the start date.", code="invalid_range",
                           field=raw.get("endDate", ("endDate",))[0])
    if (end - start).days + 1 > MAX_DAYS:
        raise ServiceError("The range is longer than 50 years.", code="range_too_long", field="startDate")
    return DateRange(start, end)


# --- Rollup maintenance -------------------------------------------------------------------------

def _day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def _local_day(moment: datetime | None) -> date | None:
    if moment is None:
        return None
    return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()


REFRESH_QUEUED_KEY = "dashboard:rollup-refresh-queued"


def rollup_mark_dirty(days: Iterable[date | None]) -> None:
    """Note that the rollups of ``days`` may be stale (one INSERT IGNORE; None entries skipped)
    and queue one background refresh (at most one waiting at a time, a second from now)."""
    rows = [RollupDirtyDay(day=d) for d in sorted({d for d in days if d is not None})]
    if not rows:
        return
    RollupDirtyDay.objects.bulk_create(rows, ignore_conflicts=True)
    try:
        if cache.add(REFRESH_QUEUED_KEY, 1, timeout=30):
            from dashboard.tasks import refresh_dirty_rollups

            refresh_dirty_rollups.apply_async(countdown=1)
    except Exception:  # broker or cache down: the marks stay; the beat task or a read picks them up
        log.warning("dashboard: could not queue a rollup refresh", exc_info=True)
        cache.delete(REFRESH_QUEUED_KEY)


def rollup_mark_lead(lead: Lead) -> None:
    """Mark the days a saved lead counts on: the day it was created and the day it reached its
    current status (revenue and closed/lost counts)."""
    rollup_mark_dirty([_local_day(lead.created_at), _local_day(lead.status_changed_at)])


def rollup_mark_previous_status_day(lead_id) -> None:
    """A lead left ``closed``/``lost``: the day it got there (its previous status change on the
    timeline) loses it. Called for ``lead.status_changed`` events from a terminal status."""
    moments = list(
        Interaction.objects.filter(lead_id=lead_id, kind=Interaction.Kind.STATUS_CHANGE)
        .order_by("-occurred_at", "-id").values_list("occurred_at", flat=True)[:2]
    )
    rollup_mark_dirty(_local_day(m) for m in moments)


def _compute_day_rows(day: date) -> tuple[list[LeadDailyStat], list[LeadSourceDailyStat]]:
    start, end = _day_bounds(day)
    daily: dict[int, LeadDailyStat] = {}

    def row(owner_id) -> LeadDailyStat:
        key = owner_id or 0
        if key not in daily:
            daily[key] = LeadDailyStat(day=day, owner_id=key)
        return daily[key]

    sources = []
    created = (
        Lead.objects.filter(deleted_at__isnull=True, created_at__gte=start, created_at__lt=end).order_by()
        .values("owner_id", "source").annotate(n=Count("pk"), won=Count("pk", filter=Q(status=Lead.Status.CLOSED)))
    )
    for r in created:
        stat = row(r["owner_id"])
        stat.created += r["n"]
        stat.won += r["won"]
        sources.append(LeadSourceDailyStat(day=day, owner_id=r["owner_id"] or 0, source=r["source"], created=r["n"]))
    ended = (
        Lead.objects.filter(deleted_at__isnull=True, status__in=TERMINAL, status_changed_at__gte=start,
                            status_changed_at__lt=end).order_by()
        .values("owner_id", "status").annotate(n=Count("pk"), value=Sum("value"))
    )
    for r in ended:
        _add_ended(row(r["owner_id"]), r)
    return list(daily.values()), sources


def _add_ended(stat: LeadDailyStat, r: dict) -> None:
    if r["status"] == Lead.Status.CLOSED:
        stat.closed += r["n"]
        stat.revenue += r["value"] or Decimal(0)
    else:
        stat.lost += r["n"]


def _month_rows(month: date) -> list[LeadSourceMonthlyStat]:
    last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    rows = (LeadSourceDailyStat.objects.filter(day__gte=month, day__lte=last).order_by()
            .values("owner_id", "source").annotate(n=Sum("created")))
    return [LeadSourceMonthlyStat(month=month, owner_id=r["owner_id"], source=r["source"], created=r["n"])
            for r in rows]


def rollup_refresh_day(day: date) -> None:
    """Recompute the rollup rows of ``day`` from the leads table (two indexed one-day queries),
    then its month's source totals from the day rows."""
    daily, sources = _compute_day_rows(day)
    month = day.replace(day=1)
    for attempt in range(3):
        try:
            with transaction.atomic():
                LeadDailyStat.objects.filter(day=day).delete()
                LeadSourceDailyStat.objects.filter(day=day).delete()
                LeadDailyStat.objects.bulk_create(daily)
                LeadSourceDailyStat.objects.bulk_create(sources)
                LeadSourceMonthlyStat.objects.filter(month=month).delete()
                LeadSourceMonthlyStat.objects.bulk_create(_month_rows(month))
            return
        except IntegrityError:  # another refresh of the same day committed in between: redo
            if attempt == 2:
                raise


def rollup_refresh_dirty(limit: int = 100, *, marked_before: datetime | None = None) -> int:
    """Recompute the days marked dirty (at most ``limit``; only those marked before
    ``marked_before`` when given); returns how many were done.

    Each mark is claimed by deleting it before the recompute, so concurrent callers split the
    work, and a save committed during a recompute marks its day again for the next call.
    """
    done = 0
    marks = RollupDirtyDay.objects.order_by("day")
    if marked_before is not None:
        marks = marks.filter(marked_at__lte=marked_before)
    for day in list(marks.values_list("day", flat=True)[:limit]):
        if RollupDirtyDay.objects.filter(day=day).delete()[0]:
            rollup_refresh_day(day)
            done += 1
    return done


def rollup_rebuild() -> dict:
    """Recompute every rollup row from the leads table (two GROUP BYs over all live leads: about
    a few seconds at 1M leads). For the nightly beat, ``manage.py rebuild_dashboard``, the demo
    data and bulk loads that bypass ``Lead.save``. Returns row counts."""
    started = timezone.now()
    daily: dict[tuple[date, int], LeadDailyStat] = {}

    def row(day, owner_id) -> LeadDailyStat:
        key = (day, owner_id or 0)
        if key not in daily:
            daily[key] = LeadDailyStat(day=day, owner_id=key[1])
        return daily[key]

    sources = []
    created = (
        Lead.objects.filter(deleted_at__isnull=True).order_by()
        .values(d=TruncDate("created_at"), o=F("owner_id"), s=F("source"))
        .annotate(n=Count("pk"), won=Count("pk", filter=Q(status=Lead.Status.CLOSED)))
    )
    for r in created.iterator(chunk_size=5000):
        stat = row(r["d"], r["o"])
        stat.created += r["n"]
        stat.won += r["won"]
        sources.append(LeadSourceDailyStat(day=r["d"], owner_id=r["o"] or 0, source=r["s"], created=r["n"]))
    ended = (
        Lead.objects.filter(deleted_at__isnull=True, status__in=TERMINAL).order_by()
        .values(d=TruncDate("status_changed_at"), o=F("owner_id"), status_=F("status"))
        .annotate(n=Count("pk"), value=Sum("value"))
    )
    for r in ended.iterator(chunk_size=5000):
        _add_ended(row(r["d"], r["o"]), {"status": r["status_"], "n": r["n"], "value": r["value"]})
    monthly: dict[tuple[date, int, str], int] = defaultdict(int)
    for row in sources:
        monthly[(row.day.replace(day=1), row.owner_id, row.source)] += row.created
    with transaction.atomic():
        LeadDailyStat.objects.all().delete()
        LeadSourceDailyStat.objects.all().delete()
        LeadSourceMonthlyStat.objects.all().delete()
        LeadDailyStat.objects.bulk_create(daily.values(), batch_size=2000)
        LeadSourceDailyStat.objects.bulk_create(sources, batch_size=2000)
        LeadSourceMonthlyStat.objects.bulk_create(
            (LeadSourceMonthlyStat(month=m, owner_id=o, source=src, created=n) for (m, o, src), n in monthly.items()),
            batch_size=2000,
        )
        RollupDirtyDay.objects.filter(marked_at__lt=started).delete()
    return {"days": len({d for d, _ in daily}), "daily_rows": len(daily), "source_rows": len(sources)}


# --- KPIs ---------------------------------------------------------------------------------------

def kpi(value, previous) -> dict:
    """``{"value", "previous", "change", "trend"}`` (change in % of ``previous``, 1 decimal)."""
    value = float(value or 0)
    previous = float(previous or 0)
    change = round((value - previous) / previous * 100, 1) if previous else None
    trend = "up" if value > previous else "down" if value < previous else "flat"
    return {"value": _num(value), "previous": _num(previous), "change": change, "trend": trend}


def _num(x: float):
    return int(x) if float(x).is_integer() else round(x, 2)


def _pct(part, whole) -> float:
    return round(100.0 * float(part or 0) / float(whole), 1) if whole else 0.0


def _owner_scope(user: User) -> Q:
    """Rollup rows ``user`` may count: all for managers/admins, own + unassigned for sales."""
    if user.sees_all:
        return Q()
    return Q(owner_id__in=[user.pk, 0])


def refresh_before_read() -> None:
    """Recompute the days the background refresh has left dirty for more than
    ``DASHBOARD_REFRESH_ON_READ_AFTER`` seconds (default 5; -1 never, e.g. when reading a
    replica): normally the worker refreshes within a second or two and a read only checks the
    (empty) dirty list; without a worker, reads heal the rollups themselves."""
    after = settings.DASHBOARD_REFRESH_ON_READ_AFTER
    if after >= 0:
        rollup_refresh_dirty(marked_before=timezone.now() - timedelta(seconds=after))


def lead_kpis(user: User, rng: DateRange) -> dict:
    """revenue, active_leads, conversion_rate and new_leads for ``rng`` vs the previous period
    (one query over the daily rollup)."""
    prev = rng.previous
    ended = F("closed") + F("lost")
    a = LeadDailyStat.objects.filter(_owner_scope(user), day__lte=rng.end).aggregate(
        created_to_end=Sum("created"),
        created_to_prev_end=Sum("created", filter=Q(day__lte=prev.end)),
        ended_before=Sum(ended, filter=Q(day__lt=rng.start)),
        ended_before_prev=Sum(ended, filter=Q(day__lt=prev.start)),
        revenue_cur=Sum("revenue", filter=Q(day__gte=rng.start)),
        revenue_prev=Sum("revenue", filter=Q(day__gte=prev.start, day__lte=prev.end)),
        created_cur=Sum("created", filter=Q(day__gte=rng.start)),
        created_prev=Sum("created", filter=Q(day__gte=prev.start, day__lte=prev.end)),
        won_cur=Sum("won", filter=Q(day__gte=rng.start)),
        won_prev=Sum("won", filter=Q(day__gte=prev.start, day__lte=prev.end)),
    )
    a = {k: v or 0 for k, v in a.items()}
    return {
        "revenue": kpi(a["revenue_cur"], a["revenue_prev"]),
        "active_leads": kpi(a["created_to_end"] - a["ended_before"], a["created_to_prev_end"] - a["ended_before_prev"]),
        "conversion_rate": kpi(_pct(a["won_cur"], a["created_cur"]), _pct(a["won_prev"], a["created_prev"])),
        "new_leads": kpi(a["created_cur"], a["created_prev"]),
    }


def link_click_kpi(rng: DateRange) -> dict:
    """Meta link clicks on the range's dates vs the previous period (campaign insights)."""
    prev = rng.previous
    a = CampaignInsight.objects.filter(date__gte=prev.start, date__lte=rng.end).aggregate(
        cur=Sum("link_clicks", filter=Q(date__gte=rng.start)),
        prev=Sum("link_clicks", filter=Q(date__lte=prev.end)),
    )
    return kpi(a["cur"], a["prev"])


def call_kpis(user: User, rng: DateRange) -> dict:
    """``calls`` placed (``Call.created_at``), ``answered_calls`` and ``pickup_rate`` (% of the
    calls with an outcome that were answered; calls still ringing do not count) vs the previous
    period, in one query on the ``(created_at, id)`` index. Sales users count the calls on the
    leads they may see."""
    prev = rng.previous
    start, _ = _day_bounds(prev.start)
    _, end = _day_bounds(rng.end)
    cur_start, _ = _day_bounds(rng.start)
    calls = Call.objects.filter(created_at__gte=start, created_at__lt=end)
    if not user.sees_all:
        calls = calls.filter(Q(lead__owner=user) | Q(lead__owner__isnull=True))
    a = calls.aggregate(
        cur=Count("pk", filter=Q(created_at__gte=cur_start)),
        prev=Count("pk", filter=Q(created_at__lt=cur_start)),
        answered=Count("pk", filter=Q(created_at__gte=cur_start, outcome=Call.Outcome.ANSWERED)),
        answered_prev=Count("pk", filter=Q(created_at__lt=cur_start, outcome=Call.Outcome.ANSWERED)),
        ended=Count("pk", filter=Q(created_at__gte=cur_start) & ~Q(outcome="")),
        ended_prev=Count("pk", filter=Q(created_at__lt=cur_start) & ~Q(outcome="")),
    )
    return {
        "calls": kpi(a["cur"], a["prev"]),
        "answered_calls": kpi(a["answered"], a["answered_prev"]),
        "pickup_rate": kpi(_pct(a["answered"], a["ended"]), _pct(a["answered_prev"], a["ended_prev"])),
    }


def pipeline(user: User) -> list[dict]:
    """Live leads per status now, in pipeline order: ``[{"status", "label", "count"}]``."""
    counts = dict(
        LeadStageCount.objects.filter(_owner_scope(user)).order_by().values("status")
        .annotate(n=Sum("n")).values_list("status", "n")
    )
    return [{"status": s.value, "label": s.label, "count": int(counts.get(s.value) or 0)} for s in Lead.Status]


def dashboard_stats(user: User, rng: DateRange) -> dict:
    """Seed 001's ``/dashboard/stats`` body plus call KPIs, the pipeline and the range used."""
    refresh_before_read()
    body = {"range": rng.as_dict(), **lead_kpis(user, rng), "link_clicks": link_click_kpi(rng)}
    body.update(call_kpis(user, rng))
    body["pipeline"] = pipeline(user)
    return body


# --- Charts -------------------------------------------------------------------------------------

def bucket_size(rng: DateRange) -> str:
    """``day`` up to 31 days, ``week`` up to 26 weeks, ``month`` beyond."""
    if rng.days <= 31:
        return "day"
    if rng.days <= 182:
        return "week"
    return "month"


def buckets(rng: DateRange) -> list[tuple[date, date, str]]:
    """``(first day, last day, label)`` of each bucket, clipped to the range: days, weeks
    starting on Monday, or calendar months."""
    size = bucket_size(rng)
    out = []
    cursor = rng.start
    while cursor <= rng.end:
        if size == "day":
            last, label = cursor, (f"{cursor:%a}" if rng.days <= 7 else f"{cursor:%b} {cursor.day}")
        elif size == "week":
            last, label = cursor + timedelta(days=6 - cursor.weekday()), f"{cursor:%b} {cursor.day}"
        else:
            last = cursor.replace(day=calendar.monthrange(cursor.year, cursor.month)[1])
            label = f"{cursor:%b %Y}"
        last = min(last, rng.end)
        out.append((cursor, last, label))
        cursor = last + timedelta(days=1)
    return out


def revenue_series(user: User, rng: DateRange) -> list[dict]:
    """Seed 001's revenue area chart: ``[{"date": label, "value", "start", "end"}]``, one entry
    per bucket (:func:`buckets`), zero-filled; ``value`` is revenue as defined above."""
    refresh_before_read()
    spans = buckets(rng)
    starts = [first for first, _, _ in spans]
    totals = [Decimal(0)] * len(spans)
    rows = (LeadDailyStat.objects.filter(_owner_scope(user), day__gte=rng.start, day__lte=rng.end, closed__gt=0)
            .order_by().values("day").annotate(v=Sum("revenue")).values_list("day", "v"))
    for day, value in rows:
        totals[bisect_right(starts, day) - 1] += value or 0
    return [
        {"date": label, "value": float(total), "start": first.isoformat(), "end": last.isoformat()}
        for (first, last, label), total in zip(spans, totals, strict=True)
    ]


def month_split(rng: DateRange) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
    """``(first and last month start fully inside rng, or None; the day ranges left over at
    either end)`` — so whole months read the monthly rollup and only the ends read days."""
    first = rng.start if rng.start.day == 1 else (rng.start.replace(day=28) + timedelta(days=4)).replace(day=1)
    month_end = calendar.monthrange(rng.end.year, rng.end.month)[1]
    last_end = rng.end if rng.end.day == month_end else rng.end.replace(day=1) - timedelta(days=1)
    if first > last_end:
        return None, [(rng.start, rng.end)]
    edges = []
    if rng.start < first:
        edges.append((rng.start, first - timedelta(days=1)))
    if last_end < rng.end:
        edges.append((last_end + timedelta(days=1), rng.end))
    return (first, last_end.replace(day=1)), edges


def sources_series(user: User, rng: DateRange, *, top: int = 12) -> list[dict]:
    """Seed 001's sources bar chart: leads created in the range per source, most first:
    ``[{"name", "value"}]``. A blank source shows as "Unknown"; beyond ``top`` sources the
    rest are summed as "Other"."""
    refresh_before_read()
    months, edges = month_split(rng)
    rows = []
    if edges:
        in_edges = Q()
        for first, last in edges:
            in_edges |= Q(day__gte=first, day__lte=last)
        rows += LeadSourceDailyStat.objects.filter(_owner_scope(user), in_edges).order_by() \
            .values("source").annotate(v=Sum("created")).values_list("source", "v")
    if months:
        rows += LeadSourceMonthlyStat.objects.filter(_owner_scope(user), month__gte=months[0], month__lte=months[1]) \
            .order_by().values("source").annotate(v=Sum("created")).values_list("source", "v")
    merged = defaultdict(int)
    for source, value in rows:
        merged[source or "Unknown"] += int(value or 0)
    ranked = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))
    result = [{"name": name, "value": value} for name, value in ranked[:top] if value]
    rest = sum(v for _, v in ranked[top:])
    if rest:
        result.append({"name": "Other", "value": rest})
    return result


# --- Settings (seed 001 F) ----------------------------------------------------------------------

def mask_secret(value: str, *, visible: int = 4) -> str | None:
    """``"meat…ock"``-style hint of a configured secret (None when unset): enough to check which
    one is configured, too little to use it."""
    if not value:
        return None
    if len(value) <= visible * 2:
        return "•" * len(value)
    return f"{value[:visible]}…{value[-3:]}"


def integration_settings(absolute) -> dict:
    """Meta and call-provider settings an admin pastes into those services: absolute webhook
    URLs (``absolute(path)`` builds them from the request), the Meta verify-token hint, and each
    integration's status. Secrets are only ever hinted (:func:`mask_secret`)."""
    meta = dict(meta_integration_status())
    path = meta.get("webhook_path")
    meta["webhook_url"] = absolute(path) if path else None
    meta["verify_token_hint"] = mask_secret(getattr(settings, "META_VERIFY_TOKEN", ""))
    providers = {}
    for name, status in provider_integration_status().items():
        status = dict(status)
        path = status.get("webhook_path")
        status["webhook_url"] = absolute(path) if path else None
        providers[name] = status
    return {"meta": meta, "call_providers": providers}


def api_key_row(api_key) -> dict:
    """One API key as settings show it: masked, never the secret."""
    return {
        "id": str(api_key.pk), "name": api_key.name, "role": api_key.role, "masked_key": api_key.masked,
        "prefix": api_key.prefix, "created_at": api_key.created_at, "last_used_at": api_key.last_used_at,
        "revoked_at": api_key.revoked_at,
        "created_by": api_key.created_by.username if api_key.created_by_id else None,
    }


def settings_config(absolute) -> dict:
    """Seed 001's ``GET /settings/config``: masked API keys (``api_key`` the newest active one,
    as the seed's single key), the integrations' webhook URLs and status, outgoing webhook
    subscriptions (secrets hinted), the events they can subscribe to, and the rate limits."""
    from rest_framework.settings import api_settings

    from crm.events import EVENTS
    from crm.models import ApiKey, WebhookSubscription

    keys = [api_key_row(k) for k in ApiKey.objects.active().select_related("created_by")[:100]]
    subs = [
        {"id": str(s.pk), "name": s.name, "url": s.url, "events": s.events, "active": s.active,
         "secret_hint": mask_secret(s.secret, visible=10), "created_at": s.created_at}
        for s in WebhookSubscription.objects.all()[:100]
    ]
    return {
        "api_key": keys[0]["masked_key"] if keys else None,
        "api_keys": keys,
        "webhooks": integration_settings(absolute),
        "outgoing_webhooks": subs,
        "webhook_events": EVENTS,
        "rate_limits": dict(api_settings.DEFAULT_THROTTLE_RATES),
    }
