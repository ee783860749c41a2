"""Meta sync and Lead Ads ingestion: every campaigns write with a rule lives here (STYLE.md 2).

* :func:`meta_sync` reads the campaign list and daily campaign insights from the Marketing API
  (seed 001 section 3.1, every 15 minutes) and upserts them idempotently, one page per
  transaction; a run is a :class:`MetaSyncRun` row.
* :func:`leadgen_receive` stores Lead Ads notifications and queues them, one INSERT and one
  broker message per webhook POST (seed 001 section 3.2);
  :func:`leadgen_process` fetches one lead from Graph and creates it (source "Facebook Ad")
  through ``leads.services`` with its campaign attribution, or adds a timeline entry to the live
  lead that has the same email or phone.
* :func:`campaign_metrics` and :func:`campaign_totals` compute spend, leads, CPL and ROAS for a
  date range (seed 001 section D).
"""

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, FloatField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.constants import OnConflict
from django.db.models.functions import Cast, Coalesce
from django.db.models.sql import InsertQuery
from django.urls import reverse
from django.utils import timezone

from campaigns.meta import GraphClient, MetaError, MetaNotConfigured, MetaRateLimited, MetaTokenError
from campaigns.models import Campaign, CampaignInsight, LeadAttribution, LeadgenEvent, MetaSyncRun
from crm.errors import DuplicateRecord, ServiceError
from crm.models import Interaction, User
from crm.phones import InvalidPhoneNumber, normalize_phone
from leads import services as lead_services
from leads.models import Lead, LeadStageCount

log = logging.getLogger(__name__)

LEAD_SOURCE = "Facebook Ad"
INSIGHT_FIELDS = (
    "campaign_id,campaign_name,objective,spend,impressions,clicks,inline_link_clicks,"
    "actions,action_values,date_start,date_stop"
)
CAMPAIGN_FIELDS = "id,name,status,effective_status,objective"
LEAD_FIELDS = "created_time,id,ad_id,adset_id,campaign_id,form_id,field_data,is_organic,platform"
SYNC_LOCK = "campaigns:meta-sync-lock"
MAX_RUN_ERRORS = 50
ZERO = Decimal("0")
CENT = Decimal("0.01")


# --- configuration -------------------------------------------------------------------------------

def ad_account_path() -> str:
    """``act_<digits>`` from ``META_AD_ACCOUNT_ID`` (given with or without the prefix); '' if unset."""
    raw = (settings.META_AD_ACCOUNT_ID or "").strip()
    if not raw:
        return ""
    return raw if raw.startswith("act_") else f"act_{raw}"


def meta_configured() -> bool:
    """True when a token and an ad account are set (the sync can run)."""
    return bool(settings.META_ACCESS_TOKEN and ad_account_path())


def meta_integration_status() -> dict:
    """What the settings page shows about Meta (one query).

    ``{"configured": bool (token and ad account set), "webhook_path": "/api/v1/webhooks/meta/leadgen",
    "verify_token_set": bool, "app_secret_set": bool, "ad_account_id": "act_…" or "",
    "graph_version": "v21.0", "last_sync": {"started_at", "finished_at", "status", "rows_fetched",
    "error"} or None}``. Secrets themselves are never returned.
    """
    run = (
        MetaSyncRun.objects.order_by("-started_at", "-id")
        .only("started_at", "finished_at", "status", "rows_fetched", "error").first()
    )
    return {
        "configured": meta_configured(),
        "webhook_path": reverse("api:meta_leadgen_webhook"),
        "verify_token_set": bool(settings.META_VERIFY_TOKEN),
        "app_secret_set": bool(settings.META_APP_SECRET),
        "ad_account_id": ad_account_path(),
        "graph_version": settings.META_GRAPH_VERSION,
        "last_sync": None if run is None else {
            "started_at": run.started_at, "finished_at": run.finished_at, "status": run.status,
            "rows_fetched": run.rows_fetched, "error": run.error,
        },
    }


# --- parsing Graph rows --------------------------------------------------------------------------

def action_value(entries, action_type: str) -> Decimal | None:
    """The ``value`` of ``action_type`` in an ``actions``/``action_values`` list
    (``[{"action_type": "lead", "value": "7"}]``), or None when absent."""
    for entry in entries or []:
        if isinstance(entry, dict) and entry.get("action_type") == action_type:
            return Decimal(str(entry.get("value", "0")))
    return None


def parse_insight_row(row: dict) -> dict:
    """One Insights row (``time_increment=1``) → CampaignInsight values.

    Every metric arrives as a string; absent metrics (Meta omits empty ones) are 0. ``leads`` is
    the ``lead`` action only: it already sums on- and off-Facebook leads, so its components
    (``onsite_conversion.lead_grouped``, ``offsite_conversion.fb_pixel_lead``, ``leadgen_grouped``)
    are never added. ``purchase_value`` is ``action_values[purchase]`` (else ``omni_purchase``,
    never both). Raises ValueError naming the problem (missing campaign_id/date_start, a
    non-number).
    """
    if not isinstance(row, dict):
        raise ValueError("row is not an object")
    campaign_id = str(row.get("campaign_id") or "").strip()
    if not campaign_id:
        raise ValueError("missing campaign_id")
    raw_date = row.get("date_start")
    if not raw_date:
        raise ValueError("missing date_start")
    try:
        day = date.fromisoformat(str(raw_date)[:10])
        spend = Decimal(str(row.get("spend") or "0")).quantize(CENT)
        impressions = int(Decimal(str(row.get("impressions") or "0")))
        clicks = int(Decimal(str(row.get("clicks") or "0")))
        link_clicks = int(Decimal(str(row.get("inline_link_clicks") or "0")))
        leads = action_value(row.get("actions"), "lead") or ZERO
        purchase = action_value(row.get("action_values"), "purchase")
        if purchase is None:
            purchase = action_value(row.get("action_values"), "omni_purchase") or ZERO
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ValueError(f"unreadable value ({exc.__class__.__name__}: {exc})") from None
    return {
        "campaign_id": campaign_id, "campaign_name": str(row.get("campaign_name") or "")[:255],
        "objective": str(row.get("objective") or "")[:64], "date": day, "spend": spend,
        "impressions": impressions, "clicks": clicks, "link_clicks": link_clicks,
        "leads": int(leads), "purchase_value": purchase.quantize(CENT),
    }


# --- the sync ------------------------------------------------------------------------------------

def default_sync_range(today: date | None = None) -> tuple[date, date]:
    """The trailing window every scheduled sync re-reads (``META_SYNC_TRAILING_DAYS``, default
    28): attributed conversions keep arriving for days after a click."""
    today = today or timezone.localdate()
    return today - timedelta(days=settings.META_SYNC_TRAILING_DAYS - 1), today


def _date_windows(since: date, until: date, days: int = 31):
    start = since
    while start <= until:
        end = min(start + timedelta(days=days - 1), until)
        yield start, end
        start = end + timedelta(days=1)


def _conflict_target(fields: list[str]) -> list[str] | None:
    """MySQL/MariaDB's ON DUPLICATE KEY UPDATE takes no conflict target (any unique key triggers
    it: here only the named one can clash, the primary key being new); SQLite and PostgreSQL need one."""
    return fields if connection.features.supports_update_conflicts_with_target else None


def upsert_campaigns(rows: list[dict], account: str) -> None:
    """Insert or update campaigns by ``meta_id`` in one statement: ``rows`` are
    ``{"meta_id", "name", "status", "effective_status", "objective"}`` (the sync's parsed page)."""
    now = timezone.now()
    objs = {}
    for row in rows:
        objs[row["meta_id"]] = Campaign(
            meta_id=row["meta_id"], name=row["name"], status=row.get("status", ""),
            effective_status=row.get("effective_status", ""), objective=row.get("objective", ""),
            ad_account_id=account, created_at=now, updated_at=now,
        )
    if objs:
        Campaign.objects.bulk_create(
            list(objs.values()), update_conflicts=True, unique_fields=_conflict_target(["meta_id"]),
            update_fields=["name", "status", "effective_status", "objective", "ad_account_id", "updated_at"],
        )


def _campaign_ids(meta_ids, names: dict[str, tuple[str, str]], account: str) -> dict[str, object]:
    """``{meta_id: pk}`` for the page's campaigns; creates the ones the list did not return
    (archived or deleted campaigns still report insights) from the row's name and objective."""
    found = dict(Campaign.objects.filter(meta_id__in=meta_ids).values_list("meta_id", "pk"))
    missing = [m for m in meta_ids if m not in found]
    if missing:
        now = timezone.now()
        Campaign.objects.bulk_create(
            [Campaign(meta_id=m, name=names[m][0] or f"Campaign {m}", objective=names[m][1],
                      ad_account_id=account, created_at=now) for m in missing],
            ignore_conflicts=True,
        )
        found.update(Campaign.objects.filter(meta_id__in=missing).values_list("meta_id", "pk"))
    return found


def upsert_insights(rows: list[dict], account: str) -> int:
    """Insert or update daily rows on (campaign, date) in one transaction; ``rows`` are
    :func:`parse_insight_row` results (unknown campaigns are created). Returns rows written."""
    if not rows:
        return 0
    names = {r["campaign_id"]: (r["campaign_name"], r["objective"]) for r in rows}
    with transaction.atomic():
        ids = _campaign_ids(list(names), names, account)
        now = timezone.now()
        # The last row wins when a page repeats a (campaign, date).
        objs = {}
        for r in rows:
            objs[(r["campaign_id"], r["date"])] = CampaignInsight(
                campaign_id=ids[r["campaign_id"]], date=r["date"], spend=r["spend"],
                impressions=r["impressions"], clicks=r["clicks"], link_clicks=r["link_clicks"],
                leads=r["leads"], purchase_value=r["purchase_value"], updated_at=now,
            )
        CampaignInsight.objects.bulk_create(
            list(objs.values()), update_conflicts=True, unique_fields=_conflict_target(["campaign", "date"]),
            update_fields=["spend", "impressions", "clicks", "link_clicks", "leads", "purchase_value",
                           "updated_at"],
        )
    return len(objs)


def _run_error(run: MetaSyncRun, what: str, error: str) -> None:
    if len(run.errors) < MAX_RUN_ERRORS:
        run.errors.append({"where": what, "error": error})


def _save_progress(run: MetaSyncRun) -> None:
    MetaSyncRun.objects.filter(pk=run.pk).update(
        rows_fetched=run.rows_fetched, campaigns_fetched=run.campaigns_fetched, errors=run.errors,
    )


def _sync_campaigns(client: GraphClient, run: MetaSyncRun, account: str) -> None:
    for page in client.pages(f"{account}/campaigns", {"fields": CAMPAIGN_FIELDS, "limit": 200}):
        rows = []
        for item in page:
            meta_id = str(item.get("id") or "").strip() if isinstance(item, dict) else ""
            if not meta_id or not item.get("name"):
                _run_error(run, "campaigns", f"campaign without id or name skipped: {json.dumps(item)[:200]}")
                continue
            rows.append({
                "meta_id": meta_id[:32], "name": str(item["name"])[:255],
                "status": str(item.get("status") or "")[:32],
                "effective_status": str(item.get("effective_status") or "")[:32],
                "objective": str(item.get("objective") or "")[:64],
            })
        upsert_campaigns(rows, account)
        run.campaigns_fetched += len(rows)
        _save_progress(run)


def _sync_insights(client: GraphClient, run: MetaSyncRun, account: str, since: date, until: date) -> None:
    for start, end in _date_windows(since, until):
        params = {
            "level": "campaign", "time_increment": 1, "fields": INSIGHT_FIELDS, "limit": 500,
            "time_range": json.dumps({"since": start.isoformat(), "until": end.isoformat()}),
        }
        for page in client.pages(f"{account}/insights", params):
            rows = []
            for item in page:
                try:
                    rows.append(parse_insight_row(item))
                except ValueError as exc:
                    _run_error(run, "insights", f"row skipped, {exc}: {json.dumps(item, default=str)[:200]}")
            run.rows_fetched += upsert_insights(rows, account)
            _save_progress(run)


def _link_attributions() -> int:
    """Attach attributions whose campaign was unknown when the lead arrived (one UPDATE)."""
    return LeadAttribution.objects.filter(campaign__isnull=True).exclude(meta_campaign_id="").filter(
        meta_campaign_id__in=Campaign.objects.values("meta_id")
    ).update(campaign=Subquery(Campaign.objects.filter(meta_id=OuterRef("meta_campaign_id")).values("pk")[:1]))


def meta_sync(*, since: date | None = None, until: date | None = None,
              trigger: str = MetaSyncRun.Trigger.SCHEDULE, user: User | None = None,
              client: GraphClient | None = None) -> MetaSyncRun:
    """Sync campaigns and daily insights for ``since``..``until`` (inclusive; default the
    trailing window of :func:`default_sync_range`) and return the finished :class:`MetaSyncRun`.

    Idempotent: campaigns upsert on ``meta_id`` and insights on (campaign, date), so re-running
    a range changes rows in place. Each page commits on its own: a failure keeps what was read.
    Never raises for Meta trouble: a bad token (190) fails the run with a message saying to
    replace ``META_ACCESS_TOKEN`` (``run.retry_after`` is None: retrying cannot help); a rate
    limit or outage that outlasts the client's retries fails it with ``run.retry_after`` (seconds)
    set. Raises ServiceError for an inverted range or when another sync is running.
    """
    if since is None or until is None:
        default_since, default_until = default_sync_range()
        since, until = since or default_since, until or default_until
    if since > until:
        raise ServiceError("since must be on or before until.", code="invalid_range", field="since")
    if not cache.add(SYNC_LOCK, "1", timeout=settings.CELERY_TASK_TIME_LIMIT):
        raise ServiceError("A Meta sync is already running.", code="sync_running")
    run = MetaSyncRun.objects.create(since=since, until=until, trigger=trigger,
                                     requested_by=user if user and user.is_authenticated else None)
    run.retry_after = None
    own_client = client is None
    try:
        account = ad_account_path()
        if not account:
            raise MetaNotConfigured("Meta is not configured: set META_AD_ACCOUNT_ID (and META_ACCESS_TOKEN).")
        client = client or GraphClient.from_settings()
        try:
            _sync_campaigns(client, run, account)
            _sync_insights(client, run, account, since, until)
        finally:
            run.requests = client.requests
            if own_client:
                client.close()
        _link_attributions()
        run.status = MetaSyncRun.Status.PARTIAL if run.errors else MetaSyncRun.Status.SUCCEEDED
    except MetaTokenError as exc:
        run.status, run.error_code = MetaSyncRun.Status.FAILED, exc.code
        run.error = (f"Meta rejected the access token: {exc.message} Put a new token in META_ACCESS_TOKEN; "
                     "the sync will not retry until then.")
    except MetaNotConfigured as exc:
        run.status, run.error = MetaSyncRun.Status.FAILED, exc.message
    except MetaError as exc:
        run.status, run.error_code = MetaSyncRun.Status.FAILED, exc.code
        run.error = str(exc)
        run.retry_after = exc.retry_after or (60.0 if exc.retryable or isinstance(exc, MetaRateLimited) else None)
    finally:
        cache.delete(SYNC_LOCK)
        run.finished_at = timezone.now()
        if run.status == MetaSyncRun.Status.RUNNING:  # an unexpected exception is on its way up
            run.status, run.error = MetaSyncRun.Status.FAILED, "The sync stopped on an internal error."
        run.save()
    return run


def sync_queue_allowed(user: User | None) -> bool:
    """Only admins may start a sync by hand (the "Sync now" button)."""
    return bool(user and user.is_authenticated and (user.is_superuser or user.role == User.Role.ADMIN))


def meta_sync_request(*, user: User | None, since: date | None = None, until: date | None = None) -> None:
    """"Sync now": queue ``campaigns.sync_meta`` as a manual run once the transaction commits.

    Raises PermissionDenied (403) for anyone but an admin, ServiceError for an inverted range.
    """
    from campaigns.tasks import sync_meta  # tasks import this module

    if not sync_queue_allowed(user):
        raise PermissionDenied("Only admins can start a Meta sync.")
    if since and until and since > until:
        raise ServiceError("since must be on or before until.", code="invalid_range", field="since")
    kwargs = {"trigger": MetaSyncRun.Trigger.MANUAL, "user_id": user.pk,
              "since": since.isoformat() if since else None, "until": until.isoformat() if until else None}
    transaction.on_commit(lambda: sync_meta.apply_async(kwargs=kwargs))


# --- metrics -------------------------------------------------------------------------------------

def _range_datetimes(since: date, until: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (datetime.combine(since, time.min, tzinfo=tz), datetime.combine(until + timedelta(days=1), time.min,
                                                                           tzinfo=tz))


def closed_revenue_subquery(since: date, until: date, campaign_ref="pk"):
    """Per campaign: the ``value`` of live attributed leads that were closed (won) in the range
    (``status_changed_at``), i.e. what the CRM knows the campaign earned."""
    start, end = _range_datetimes(since, until)
    return Subquery(
        LeadAttribution.objects.filter(
            campaign=OuterRef(campaign_ref), lead__status=Lead.Status.CLOSED, lead__deleted_at__isnull=True,
            lead__status_changed_at__gte=start, lead__status_changed_at__lt=end,
        ).order_by().values("campaign").annotate(total=Sum("lead__value")).values("total")[:1]
    )


def campaign_metrics(queryset, since: date, until: date):
    """``queryset`` of campaigns annotated with the range's sums (one GROUP BY query):
    ``spend``, ``impressions``, ``clicks``, ``link_clicks``, ``leads``, ``purchase_value``,
    ``revenue`` (closed attributed leads), and float sort keys ``cpl_sort``, ``roas_sort``,
    ``meta_roas_sort`` (NULL where the divisor is 0)."""
    in_range = Q(insights__date__gte=since, insights__date__lte=until)
    money = CampaignInsight._meta.get_field("spend")
    qs = queryset.annotate(
        spend=Coalesce(Sum("insights__spend", filter=in_range), Value(ZERO), output_field=money),
        impressions=Coalesce(Sum("insights__impressions", filter=in_range), 0),
        clicks=Coalesce(Sum("insights__clicks", filter=in_range), 0),
        link_clicks=Coalesce(Sum("insights__link_clicks", filter=in_range), 0),
        leads=Coalesce(Sum("insights__leads", filter=in_range), 0),
        purchase_value=Coalesce(Sum("insights__purchase_value", filter=in_range), Value(ZERO), output_field=money),
        revenue=Coalesce(closed_revenue_subquery(since, until), Value(ZERO), output_field=money),
    )
    as_float = lambda name: Cast(name, FloatField())  # noqa: E731 - sort keys only; values stay Decimal
    return qs.annotate(
        cpl_sort=Case(When(leads__gt=0, then=as_float("spend") / as_float("leads")), output_field=FloatField()),
        roas_sort=Case(When(spend__gt=0, then=as_float("revenue") / as_float("spend")), output_field=FloatField()),
        meta_roas_sort=Case(When(spend__gt=0, then=as_float("purchase_value") / as_float("spend")),
                            output_field=FloatField()),
    )


def ratio(numerator, denominator, places: str = "0.01") -> Decimal | None:
    """``numerator / denominator`` rounded to ``places``; None (not an error) when the divisor is 0."""
    numerator, denominator = Decimal(numerator or 0), Decimal(denominator or 0)
    if not denominator:
        return None
    return (numerator / denominator).quantize(Decimal(places))


@dataclass(frozen=True)
class Totals:
    """The totals row over a set of campaigns and a date range."""

    spend: Decimal
    impressions: int
    clicks: int
    link_clicks: int
    leads: int
    purchase_value: Decimal
    revenue: Decimal

    @property
    def cpl(self) -> Decimal | None:
        return ratio(self.spend, self.leads)

    @property
    def roas(self) -> Decimal | None:
        return ratio(self.revenue, self.spend)

    @property
    def meta_roas(self) -> Decimal | None:
        return ratio(self.purchase_value, self.spend)


def campaign_totals(queryset, since: date, until: date) -> Totals:
    """Sums over the campaigns of ``queryset`` (two queries: insights, closed revenue)."""
    ids = queryset.order_by().values("pk")
    sums = CampaignInsight.objects.filter(campaign__in=ids, date__gte=since, date__lte=until).aggregate(
        spend=Sum("spend"), impressions=Sum("impressions"), clicks=Sum("clicks"), link_clicks=Sum("link_clicks"),
        leads=Sum("leads"), purchase_value=Sum("purchase_value"),
    )
    start, end = _range_datetimes(since, until)
    revenue = LeadAttribution.objects.filter(
        campaign__in=ids, lead__status=Lead.Status.CLOSED, lead__deleted_at__isnull=True,
        lead__status_changed_at__gte=start, lead__status_changed_at__lt=end,
    ).aggregate(total=Sum("lead__value"))["total"]
    return Totals(
        spend=Decimal(sums["spend"] or 0).quantize(CENT), impressions=sums["impressions"] or 0,
        clicks=sums["clicks"] or 0, link_clicks=sums["link_clicks"] or 0, leads=sums["leads"] or 0,
        purchase_value=Decimal(sums["purchase_value"] or 0).quantize(CENT),
        revenue=Decimal(revenue or 0).quantize(CENT),
    )


def campaign_daily(campaign: Campaign, since: date, until: date) -> list[dict]:
    """One entry per day of the range (days without delivery are zeros), oldest first:
    ``{"date", "spend", "impressions", "clicks", "link_clicks", "leads", "purchase_value", "cpl"}``."""
    rows = {
        r.date: r for r in CampaignInsight.objects.filter(campaign=campaign, date__gte=since, date__lte=until)
    }
    days = []
    day = since
    while day <= until:
        r = rows.get(day)
        spend = r.spend if r else ZERO
        leads = r.leads if r else 0
        days.append({
            "date": day, "spend": Decimal(spend).quantize(CENT), "impressions": r.impressions if r else 0,
            "clicks": r.clicks if r else 0, "link_clicks": r.link_clicks if r else 0, "leads": leads,
            "purchase_value": Decimal(r.purchase_value if r else 0).quantize(CENT), "cpl": ratio(spend, leads),
        })
        day += timedelta(days=1)
    return days


# --- Lead Ads webhook ----------------------------------------------------------------------------

def verify_signature(raw_body: bytes, header: str | None, app_secret: str | None = None) -> bool:
    """True when ``header`` (``X-Hub-Signature-256: sha256=<hex>``) is the HMAC-SHA256 of the raw
    request body with the app secret (``META_APP_SECRET``). False without a secret or header."""
    secret = settings.META_APP_SECRET if app_secret is None else app_secret
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[7:].strip().lower())


def _epoch(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _id(value) -> str:
    return str(value).strip()[:40] if value not in (None, "") else ""


def _insert_ignore(events: list[LeadgenEvent]) -> int:
    """Store ``events`` with one ``INSERT … IGNORE`` (``INSERT OR IGNORE`` on SQLite) per batch
    the backend allows (all of them on MySQL), in autocommit; return how many rows were inserted
    (the affected-row count), so the caller knows without a read-back whether every id was new.

    ``bulk_create(ignore_conflicts=True)`` cannot say that (and wraps the statement in a
    transaction of its own); this builds the same statement with the same Django InsertQuery that
    bulk_create uses, and keeps the cursor's rowcount. Measured on MariaDB: 0.55 ms per webhook
    against 1.37 ms for bulk_create plus the read-back (docs/benchmarks.md, issue 5 section).
    """
    fields = LeadgenEvent._meta.concrete_fields
    size = max(1, connection.ops.bulk_batch_size(fields, events) or len(events))
    inserted = 0
    with connection.cursor() as cursor:
        for start in range(0, len(events), size):
            query = InsertQuery(LeadgenEvent, on_conflict=OnConflict.IGNORE)
            query.insert_values(fields, events[start:start + size])
            for sql, params in query.get_compiler(connection=connection).as_sql():
                cursor.execute(sql, params)
                inserted += cursor.rowcount
    return inserted


def leadgen_store(payload) -> list[str]:
    """Store each ``leadgen`` change of a verified webhook body; return the leadgen ids to process.

    Walks every ``entry[]`` and ``changes[]`` (Meta batches them, integrations.md 1a), skipping
    other fields and changes without a ``leadgen_id``. All of a body's events go in one
    ``INSERT … IGNORE`` on the unique ``leadgen_id``: a leadgen id already stored is not stored
    again (Meta redelivers for 36 hours) and is returned again only while not yet processed.
    When every row was new (the usual case) nothing is read back. Raises ServiceError
    (``invalid_payload``) when the body is not a ``page`` notification object; nothing is stored then.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise ServiceError("Not a Meta webhook notification (no entry list).", code="invalid_payload")
    events = {}
    for entry in payload["entry"]:
        if not isinstance(entry, dict):
            continue
        for change in entry.get("changes") or []:
            if not isinstance(change, dict) or change.get("field") != "leadgen":
                continue
            value = change.get("value") if isinstance(change.get("value"), dict) else {}
            leadgen_id = _id(value.get("leadgen_id"))
            if not leadgen_id:
                continue
            events[leadgen_id] = LeadgenEvent(
                leadgen_id=leadgen_id, page_id=_id(value.get("page_id") or entry.get("id")),
                form_id=_id(value.get("form_id")), ad_id=_id(value.get("ad_id")),
                adgroup_id=_id(value.get("adgroup_id")), created_time=_epoch(value.get("created_time")),
                payload={"entry_id": _id(entry.get("id")), "time": entry.get("time"), "value": value},
            )
    if not events:
        return []
    if _insert_ignore(list(events.values())) == len(events):
        return list(events)
    # A redelivery: some ids were stored before; only those not yet processed are queued again.
    return list(
        LeadgenEvent.objects.filter(leadgen_id__in=list(events)).exclude(status=LeadgenEvent.Status.PROCESSED)
        .values_list("leadgen_id", flat=True)
    )


def leadgen_enqueue(leadgen_ids: list[str]) -> None:
    """Queue the processing of ``leadgen_ids`` once the current transaction commits (at once in
    autocommit), as ONE broker message: ``campaigns.process_leadgen`` for a single id, else
    ``campaigns.process_leadgen_batch``, which fans the ids out to one task each on the worker.

    Never raises for the broker: if it cannot be reached the error is logged and the events stay
    ``pending`` in the database, where ``requeue_pending_leadgen`` (beat, every 5 minutes) finds
    them, so the webhook still answers 200 and nothing is lost.
    """
    ids = [str(i) for i in leadgen_ids]
    if ids:
        transaction.on_commit(lambda: _publish_leadgen(ids))


def _publish_leadgen(ids: list[str]) -> None:
    from campaigns.tasks import process_leadgen, process_leadgen_batch  # tasks import this module

    try:
        if len(ids) == 1:
            process_leadgen.delay(ids[0])
        else:
            process_leadgen_batch.delay(ids)
    except Exception:  # noqa: BLE001 - broker down: the events are stored; the beat job re-queues them
        log.exception("could not queue leadgen %s; requeue_pending_leadgen will", ", ".join(ids[:20]))


def leadgen_receive(payload) -> list[str]:
    """A verified Lead Ads webhook body (seed 001 section 3.2): store its events
    (:func:`leadgen_store`) and queue their processing (:func:`leadgen_enqueue`); returns the
    leadgen ids queued. Raises ServiceError (``invalid_payload``) for a body that is not a
    ``page`` notification, storing and queueing nothing."""
    ids = leadgen_store(payload)
    leadgen_enqueue(ids)
    return ids


# Lead Ads standard question keys → lead fields (the rest go to custom_fields).
FIELD_MAP = {
    "full_name": "name", "first_name": "first_name", "last_name": "last_name", "email": "email",
    "work_email": "email", "phone_number": "phone", "work_phone_number": "phone",
    "company_name": "company", "job_title": "job_title",
}


def map_field_data(field_data) -> tuple[dict, dict]:
    """Lead Ads ``field_data`` (``[{"name": "email", "values": ["a@b.c"]}, …]``) → ``(known, custom)``:
    ``known`` has name/first_name/last_name/email/phone/company/job_title, ``custom`` every other
    question (one value as a string, several as a list). The first of two keys for the same field
    (``email`` before ``work_email``) wins."""
    known: dict = {}
    custom: dict = {}
    for item in field_data or []:
        if not isinstance(item, dict) or not item.get("name"):
            continue
        key = str(item["name"]).strip()
        values = [str(v).strip() for v in (item.get("values") or []) if str(v).strip()]
        if not values:
            continue
        target = FIELD_MAP.get(key.lower())
        if target and target not in known:
            known[target] = values[0]
        else:
            custom[key] = values[0] if len(values) == 1 else values
    return known, custom


def _pick_owner() -> User | None:
    """``META_LEAD_OWNER`` (a username) if set; else the active sales user with the fewest new leads
    (from the maintained (owner, status) totals, one small query each); None when there is none."""
    if settings.META_LEAD_OWNER:
        return User.objects.filter(username=settings.META_LEAD_OWNER, is_active=True).first()
    sellers = list(User.objects.filter(role=User.Role.SALES, is_active=True).order_by("pk")[:200])
    if not sellers:
        return None
    load = dict(LeadStageCount.objects.filter(owner_id__in=[u.pk for u in sellers], status=Lead.Status.NEW)
                .values_list("owner_id", "n"))
    return min(sellers, key=lambda u: (load.get(u.pk, 0), u.pk))


def _find_existing(email: str, phone: str) -> Lead | None:
    """The live lead with this email, else with this phone (E.164), locked for the merge."""
    live = Lead.objects.live().select_for_update()
    if email:
        found = live.filter(live_email=email.strip().lower()).first()
        if found:
            return found
    if phone:
        try:
            e164 = normalize_phone(phone).e164
        except InvalidPhoneNumber:
            return None
        return live.filter(phone=e164).order_by("created_at").first()
    return None


def _attribute(lead: Lead, event: LeadgenEvent, meta: dict) -> LeadAttribution | None:
    """First touch wins: a lead already attributed keeps its attribution."""
    if LeadAttribution.objects.filter(lead=lead).exists():
        return None
    meta_campaign_id = _id(meta.get("campaign_id"))
    campaign = Campaign.objects.filter(meta_id=meta_campaign_id).first() if meta_campaign_id else None
    return LeadAttribution.objects.create(
        lead=lead, campaign=campaign, meta_campaign_id=meta_campaign_id, leadgen_id=event.leadgen_id,
        ad_id=_id(meta.get("ad_id")) or event.ad_id, adset_id=_id(meta.get("adset_id")) or event.adgroup_id,
        form_id=_id(meta.get("form_id")) or event.form_id, page_id=event.page_id,
        platform=str(meta.get("platform") or "")[:20], is_organic=bool(meta.get("is_organic")),
        created_time=_parse_created(meta.get("created_time")) or event.created_time,
    )


def _parse_created(value) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def _lead_from_meta(event: LeadgenEvent, meta: dict) -> tuple[Lead, bool]:
    """Create the lead, or find the live one with the same email/phone; ``(lead, duplicate)``."""
    known, custom = map_field_data(meta.get("field_data"))
    email, phone = known.get("email", ""), known.get("phone", "")
    existing = _find_existing(email, phone)
    if existing is not None:
        return existing, True
    first, last = known.get("first_name", ""), known.get("last_name", "")
    if not first and known.get("name"):
        first, last = lead_services.split_name(known["name"])
    if not first:
        first = email.split("@")[0] if email else "Facebook lead"
    custom = {**custom, "meta_leadgen_id": event.leadgen_id}
    if meta.get("form_id") or event.form_id:
        custom["meta_form_id"] = _id(meta.get("form_id")) or event.form_id
    fields = dict(first_name=first[:150], last_name=last[:150], email=email[:254],
                  company=known.get("company", "")[:200], job_title=known.get("job_title", "")[:150],
                  source=LEAD_SOURCE, owner=_pick_owner(),
                  custom_fields=custom)
    try:
        with transaction.atomic():
            return lead_services.lead_create(user=None, phone=phone, **fields), False
    except DuplicateRecord:
        existing = _find_existing(email, phone)  # created by someone else a moment ago
        if existing is None:
            raise
        return existing, True
    except ServiceError as exc:
        if exc.code != "invalid_phone":
            raise
        # A number Meta accepted but we cannot parse: keep the lead, keep the number as typed.
        fields["custom_fields"] = {**custom, "phone_as_entered": phone}
        return lead_services.lead_create(user=None, **fields), False


def leadgen_process(leadgen_id: str, *, client: GraphClient | None = None) -> LeadgenEvent:
    """Fetch Lead Ads lead ``leadgen_id`` from Graph and turn it into a CRM lead; returns the event.

    Idempotent by ``leadgen_id``: a processed event is returned as it is, and the event row is
    locked while the lead is written, so a redelivered webhook or a retried task makes one lead.
    A live lead with the same email or phone gets a timeline entry (and the attribution, if it
    had none) instead of a duplicate. Raises :class:`MetaTokenError` (no retry can help; the
    event is marked failed) or :class:`MetaError` for transient trouble (the caller retries).
    """
    leadgen_id = _id(leadgen_id)
    event, _ = LeadgenEvent.objects.get_or_create(leadgen_id=leadgen_id)
    if event.status == LeadgenEvent.Status.PROCESSED:
        return event
    own_client = client is None
    try:
        client = client or GraphClient.from_settings()
        meta = client.get(leadgen_id, {"fields": LEAD_FIELDS})
    except MetaError as exc:
        failed = isinstance(exc, MetaTokenError | MetaNotConfigured) or not exc.retryable
        LeadgenEvent.objects.filter(pk=event.pk).update(
            attempts=F("attempts") + 1, error=str(exc)[:2000],
            status=LeadgenEvent.Status.FAILED if failed else LeadgenEvent.Status.PENDING,
        )
        raise
    finally:
        if own_client and client is not None:
            client.close()
    with transaction.atomic():
        event = LeadgenEvent.objects.select_for_update().get(pk=event.pk)
        if event.status == LeadgenEvent.Status.PROCESSED:
            return event
        lead, duplicate = _lead_from_meta(event, meta)
        if duplicate:
            known, custom = map_field_data(meta.get("field_data"))
            body = "\n".join(f"{k}: {v}" for k, v in {**known, **custom}.items())
            lead_services.lead_add_interaction(
                lead=lead, user=None, kind=Interaction.Kind.NOTE, subject="Facebook Lead Ads form submitted again",
                body=body, direction=Interaction.Direction.INBOUND,
                occurred_at=_parse_created(meta.get("created_time")) or event.created_time,
                metadata={"leadgen_id": leadgen_id, "form_id": _id(meta.get("form_id")) or event.form_id,
                          "ad_id": _id(meta.get("ad_id")), "campaign_id": _id(meta.get("campaign_id"))},
            )
        try:
            with transaction.atomic():
                _attribute(lead, event, meta)
        except IntegrityError:  # this lead was attributed concurrently: first touch stays
            pass
        event.status, event.lead, event.duplicate = LeadgenEvent.Status.PROCESSED, lead, duplicate
        event.processed_at, event.error = timezone.now(), ""
        event.attempts += 1
        event.save()
    return event


def leadgen_pending(*, older_than: timedelta = timedelta(minutes=2), limit: int = 500) -> list[str]:
    """Leadgen ids still pending after ``older_than`` (a lost message or a broker outage): the
    beat job queues them again."""
    cutoff = timezone.now() - older_than
    return list(
        LeadgenEvent.objects.filter(status=LeadgenEvent.Status.PENDING, received_at__lt=cutoff)
        .order_by("status", "received_at").values_list("leadgen_id", flat=True)[:limit]
    )


def leadgen_retry(*, leadgen_ids: list[str]) -> list[str]:
    """Put failed or pending events back to pending and queue them (admin "Process again");
    processed ones are left alone. Returns the leadgen ids queued."""
    ids = list(LeadgenEvent.objects.filter(leadgen_id__in=leadgen_ids).exclude(status=LeadgenEvent.Status.PROCESSED)
               .values_list("leadgen_id", flat=True))
    LeadgenEvent.objects.filter(leadgen_id__in=ids).update(status=LeadgenEvent.Status.PENDING)
    leadgen_enqueue(ids)
    return ids


@transaction.atomic
def lead_attribute(*, lead: Lead, campaign: Campaign | None, leadgen_id: str, ad_id: str = "", adset_id: str = "",
                   form_id: str = "", page_id: str = "") -> LeadAttribution:
    """Attribute ``lead`` to ``campaign`` by hand (demo data, admin); first touch wins, so an
    existing attribution is returned unchanged. Raises DuplicateRecord for a used ``leadgen_id``."""
    current = LeadAttribution.objects.filter(lead=lead).first()
    if current:
        return current
    if LeadAttribution.objects.filter(leadgen_id=leadgen_id).exists():
        raise DuplicateRecord(f"Leadgen id {leadgen_id} is already attributed.", code="duplicate_leadgen",
                              field="leadgen_id")
    return LeadAttribution.objects.create(
        lead=lead, campaign=campaign, meta_campaign_id=campaign.meta_id if campaign else "", leadgen_id=leadgen_id,
        ad_id=ad_id,
        adset_id=adset_id, form_id=form_id, page_id=page_id,
    )
