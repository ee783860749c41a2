"""Every calling write with a business rule (STYLE.md 2): agents, the scheduler's claim, placing
calls, provider events and the outcome written back to the lead (seed 004, issue 6).

Rules kept here:

* an agent's time zone is an IANA name, its business hours valid ``HH:MM`` windows
  (start < end, several a day), ``max_attempts`` >= 1, ``retry_delay_minutes`` >= 0, its
  provider registered, its caller number E.164;
* a lead is *due* when it has an active agent, ``call_status`` new or in progress,
  ``attempts_count`` below the agent's ``max_attempts``, ``schedule_at`` null or past, a
  phone, and it is not deleted; the scheduler calls due leads only while the agent's business
  hours are open in its time zone;
* claiming a lead creates the Call (attempt n, idempotency key ``"<lead>:<n>"``, unique), adds
  one to ``attempts_count``, sets ``call_status`` in progress and leases the lead by moving
  ``schedule_at`` to now + ``CALL_TIMEOUT_MINUTES``, all in one transaction; rows are taken
  with ``SELECT … FOR UPDATE SKIP LOCKED`` (MariaDB/MySQL) or a conditional UPDATE per lead
  (SQLite), so overlapping ticks and any number of workers never call one lead twice;
* the provider gets the call after that transaction commits; if it refuses, the call fails
  and the lead follows the retry rule below, so no lead is lost;
* outcome write-back: answered → ``call_status`` done, the call's disposition, its summary
  into ``ai_summary``; no answer, busy or failed → while ``attempts_count`` <
  ``max_attempts``, due again at the first business-hours instant after now + retry delay,
  else done with disposition ``no_answer``; every ended call adds a ``call`` timeline entry
  (duration, transcript link) and publishes ``call.completed``;
* a call with no final report after ``CALL_TIMEOUT_MINUTES`` is failed (then retried);
* "call now" (``POST /calls/schedule``) places a call at once, bypassing ``schedule_at``,
  business hours, the attempts limit and a finished ``call_status`` — a person decided to
  call — but never while the lead has a call open, nor with an inactive agent.
"""

import datetime as dt
import json
import logging
import re
import uuid
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Avg, Count, F, Q
from django.urls import reverse
from django.utils import timezone

from calling import providers
from calling.models import WEEKDAYS, Agent, Call, CallWebhookEvent, call_timeout, parse_hhmm
from calling.providers.base import ANSWERED, FAILED, NO_ANSWER, CallEvent, PlaceCall, ProviderError
from crm.errors import NotFound, ServiceError
from crm.events import publish
from crm.ids import uuid7
from crm.models import Interaction, User
from crm.phones import InvalidPhoneNumber, normalize_phone
from leads import services as lead_services
from leads.models import Lead

log = logging.getLogger(__name__)

AGENT_FIELDS = ("name", "active", "time_zone", "business_hours", "max_attempts", "retry_delay_minutes",
                "provider", "assistant_id", "caller_number", "phone_number_id")
DISPATCH_CHUNK = 50


# --- agents --------------------------------------------------------------------------------------

def clean_business_hours(value) -> dict:
    """Validate and normalise ``{"mon": [["09:00", "12:00"], ...], ...}``.

    Keys: ``mon`` … ``sun`` (full English names and any case accepted); each window
    ``[start, end]`` as ``HH:MM`` with start < end (``24:00`` allowed as an end), windows of a
    day not overlapping. Returns the dict with every weekday key, windows sorted. Raises
    ServiceError (field ``business_hours``).
    """
    def fail(message):
        raise ServiceError(message, code="invalid_business_hours", field="business_hours")

    if value is None:
        value = {}
    if not isinstance(value, dict):
        fail('business_hours must be an object like {"mon": [["09:00", "17:00"]]}.')
    result = {day: [] for day in WEEKDAYS}
    for key, windows in value.items():
        day = str(key).strip().lower()[:3]
        if day not in result:
            fail(f"{key!r} is not a weekday; use mon, tue, wed, thu, fri, sat, sun.")
        if windows in (None, ""):
            continue
        if not isinstance(windows, list):
            fail(f"{key}: give a list of [start, end] windows.")
        spans = []
        for window in windows:
            if not isinstance(window, list | tuple) or len(window) != 2:
                fail(f"{key}: each window is [\"HH:MM\", \"HH:MM\"], not {window!r}.")
            start_s, end_s = window
            try:
                start, end = parse_hhmm(start_s), parse_hhmm(end_s)
            except ValueError as exc:
                fail(f"{key}: {exc}")
            if start is None:
                fail(f"{key}: a window cannot start at 24:00.")
            start_min = start.hour * 60 + start.minute
            end_min = 24 * 60 if end is None else end.hour * 60 + end.minute
            if start_min >= end_min:
                fail(f"{key}: window {start_s}-{end_s} must start before it ends.")
            spans.append((start_min, end_min, [start_s, end_s]))
        spans.sort()
        for (_, prev_end, prev), (start_min, _, cur) in zip(spans, spans[1:], strict=False):
            if start_min < prev_end:
                fail(f"{key}: windows {prev[0]}-{prev[1]} and {cur[0]}-{cur[1]} overlap.")
        result[day] += [span[2] for span in spans]
    return result


def clean_agent_fields(fields: dict, *, agent: Agent | None = None) -> dict:
    """Validate agent fields (any subset of :data:`AGENT_FIELDS`); returns them normalised.

    Raises ServiceError naming the field: unknown time zone, bad business hours,
    ``max_attempts`` < 1, ``retry_delay_minutes`` < 0, unknown provider, caller number not
    E.164, blank name, a Vapi/Retell agent without the ids it needs.
    """
    unknown = set(fields) - set(AGENT_FIELDS)
    if unknown:
        raise TypeError(f"unexpected agent fields: {sorted(unknown)}")
    data = dict(fields)
    if "name" in data:
        data["name"] = (data["name"] or "").strip()
        if not data["name"]:
            raise ServiceError("An agent needs a name.", code="name_required", field="name")
        if len(data["name"]) > 120:
            raise ServiceError("name: at most 120 characters.", code="invalid_name", field="name")
    if "time_zone" in data:
        tz = (data["time_zone"] or "").strip()
        try:
            if not tz:
                raise ValueError
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ServiceError(f"{tz!r} is not an IANA time zone such as Europe/Berlin or America/New_York.",
                               code="invalid_time_zone", field="time_zone") from None
        data["time_zone"] = tz
    if "business_hours" in data:
        data["business_hours"] = clean_business_hours(data["business_hours"])
    if "max_attempts" in data:
        value = data["max_attempts"]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
            raise ServiceError("max_attempts must be a whole number from 1 to 100.", code="invalid_max_attempts",
                               field="max_attempts")
    if "retry_delay_minutes" in data:
        value = data["retry_delay_minutes"]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 60 * 24 * 30:
            raise ServiceError("retry_delay_minutes must be a whole number from 0 to 43200 (30 days).",
                               code="invalid_retry_delay", field="retry_delay_minutes")
    if "provider" in data:
        data["provider"] = (data["provider"] or "").strip().lower()
        if providers.get(data["provider"]) is None:
            raise ServiceError(f"Unknown provider {data['provider']!r}; choose one of: "
                               f"{', '.join(providers.names())}.", code="invalid_provider", field="provider")
    if "caller_number" in data:
        raw = (data["caller_number"] or "").strip()
        if raw:
            if not raw.startswith("+"):
                raise ServiceError("caller_number must be in E.164 format, like +14155552671.",
                                   code="invalid_caller_number", field="caller_number")
            try:
                raw = normalize_phone(raw).e164
            except InvalidPhoneNumber:
                raise ServiceError("caller_number must be in E.164 format, like +14155552671.",
                                   code="invalid_caller_number", field="caller_number") from None
        data["caller_number"] = raw
    for key in ("assistant_id", "phone_number_id"):
        if key in data:
            data[key] = (data[key] or "").strip()[:128]
    # The ids a real provider cannot place a call without.
    merged = {key: getattr(agent, key) if agent else Agent._meta.get_field(key).get_default()
              for key in AGENT_FIELDS}
    merged.update(data)
    if merged["provider"] == "vapi" and not merged["assistant_id"]:
        raise ServiceError("A Vapi agent needs assistant_id (the Vapi assistant).", code="assistant_required",
                           field="assistant_id")
    if merged["provider"] == "retell" and not merged["caller_number"]:
        raise ServiceError("A Retell agent needs caller_number (the number calls come from).",
                           code="caller_number_required", field="caller_number")
    return data


@transaction.atomic
def agent_create(*, user: User | None, **fields) -> Agent:
    """Create an agent from :data:`AGENT_FIELDS` (``name`` required; defaults: UTC, Mon-Fri
    09:00-17:00, 3 attempts, 60 minutes, simulated). Raises ServiceError (see
    :func:`clean_agent_fields`)."""
    if "name" not in fields:
        raise ServiceError("An agent needs a name.", code="name_required", field="name")
    data = clean_agent_fields(fields)
    return Agent.objects.create(**data)


@transaction.atomic
def agent_update(*, agent: Agent, user: User | None, **fields) -> Agent:
    """Change the given agent fields (absent keys stay). Raises ServiceError as :func:`agent_create`."""
    data = clean_agent_fields(fields, agent=agent)
    agent = Agent.objects.select_for_update().get(pk=agent.pk)
    for key, value in data.items():
        setattr(agent, key, value)
    agent.save()
    return agent


@transaction.atomic
def agent_delete(*, agent: Agent, user: User | None) -> None:
    """Delete an agent that has never called and has no live leads; otherwise refuse (deactivate
    it instead, which keeps its history). Raises ServiceError ``agent_in_use``."""
    if Call.objects.filter(agent=agent).exists() or Lead.objects.live().filter(agent_id=agent.pk).exists():
        raise ServiceError("This agent has leads or calls; set active to false instead of deleting it.",
                           code="agent_in_use")
    agent.delete()


def check_agent_id(agent_id) -> None:
    """``leads.services.AGENT_CHECKS`` hook: a lead may only be given an existing, active agent.
    Raises ServiceError (field ``agent_id``)."""
    if agent_id in (None, ""):
        return
    try:
        agent_uuid = uuid.UUID(str(agent_id))
    except ValueError:
        raise ServiceError(f"agent_id must be a UUID, not {str(agent_id)[:40]!r}.", code="invalid_agent_id",
                           field="agent_id") from None
    agent = Agent.objects.filter(pk=agent_uuid).only("pk", "active", "name").first()
    if agent is None:
        raise ServiceError(f"No calling agent has id {agent_uuid}.", code="unknown_agent", field="agent_id")
    if not agent.active:
        raise ServiceError(f"The agent {agent.name} is inactive.", code="agent_inactive", field="agent_id")


def provider_integration_status() -> dict:
    """Per provider name: ``{"label", "configured", "webhook_path"}`` for the settings page.

    ``configured`` is True when the provider's keys are set (always for ``simulated``);
    ``webhook_path`` is ``/api/v1/calls/webhooks/<name>``, or None for a provider that does not
    call back (``simulated``).
    """
    result = {}
    for name in providers.names():
        provider = providers.get(name)
        result[name] = {
            "label": provider.label,
            "configured": provider.configured(),
            "webhook_path": f"/api/v1/calls/webhooks/{name}" if provider.uses_webhooks else None,
        }
    return result


# --- the scheduler ------------------------------------------------------------------------------

def _skip_locked() -> bool:
    return connection.features.has_select_for_update_skip_locked


# The claim walks an agent's due leads one segment at a time: per call_status (new, then in
# progress) the rows with schedule_at null, then those with schedule_at <= now, each an index
# range of ``lead_call_queue`` (agent_id, call_status, schedule_at[, id]) read in (schedule_at, id)
# order. Claimed leads move to in progress with a future schedule_at, out of every range.
_QUEUE_STATUSES = (Lead.CallStatus.NEW, Lead.CallStatus.IN_PROGRESS)


def due_leads(agent: Agent, now: dt.datetime):
    """The agent's due leads (module docstring), in (schedule_at, id) order, nulls first. The
    ``lead_call_queue`` index (agent_id, call_status, schedule_at) serves the filter."""
    return (
        Lead.objects.filter(agent_id=agent.pk, call_status__in=_QUEUE_STATUSES, deleted_at__isnull=True,
                            phone__gt="", attempts_count__lt=agent.max_attempts)
        .filter(Q(schedule_at__isnull=True) | Q(schedule_at__lte=now))
        .order_by("schedule_at", "id")
    )


def _segment(agent: Agent, now: dt.datetime, cursor: tuple):
    """Due leads of one queue segment after ``cursor`` = ``(status index, started, schedule_at, id)``
    (``started`` False: from the segment's beginning)."""
    status_index, started, schedule_at, pk = cursor
    qs = Lead.objects.filter(agent_id=agent.pk, call_status=_QUEUE_STATUSES[status_index],
                             deleted_at__isnull=True, phone__gt="", attempts_count__lt=agent.max_attempts)
    if not started:
        qs = qs.filter(Q(schedule_at__isnull=True) | Q(schedule_at__lte=now))
    elif schedule_at is None:
        qs = qs.filter(Q(schedule_at__isnull=True, pk__gt=pk) | Q(schedule_at__lte=now))
    else:
        qs = qs.filter(Q(schedule_at=schedule_at, pk__gt=pk) | Q(schedule_at__gt=schedule_at, schedule_at__lte=now))
    return qs.order_by("schedule_at", "id")


# What a provider request needs, read as plain values (no model instances on the hot path).
_DISPATCH_FIELDS = ("pk", "provider", "attempt", "idempotency_key", "to_number", "lead_id", "agent_id",
                    "lead__first_name", "lead__last_name", "lead__company", "lead__custom_fields")


@dataclass
class _Queued:
    """One claimed call as :func:`calls_dispatch` reads it (``_fail`` needs ``pk`` and ``provider``)."""

    pk: uuid.UUID | str
    provider: str
    attempt: int
    idempotency_key: str
    to_number: str
    lead_id: uuid.UUID | str
    agent_id: uuid.UUID
    first_name: str
    last_name: str
    company: str
    custom_fields: dict


_CALL_COLUMNS = ("id", "lead_id", "attempt", "idempotency_key", "to_number", "agent_id", "provider", "status",
                 "dispatched_at", "created_at", "updated_at", "outcome", "disposition", "summary", "transcript",
                 "transcript_url", "recording_url", "ended_reason", "error")
_INSERT_ROWS = 2000
_SQL_SAFE = re.compile(r"^[0-9A-Za-z_:. -]*$")


def _sql_literal(value) -> str:
    """A constant of the claim's INSERT as SQL text (ids, names and timestamps of a safe
    alphabet only; anything else is refused rather than escaped by hand)."""
    if value is None:
        return "NULL"
    text = str(value)
    if not _SQL_SAFE.match(text):
        raise ValueError(f"unsafe SQL constant {text!r}")
    return f"'{text}'"


def _uuid_sql(value) -> str:
    """A UUID (object or text) as the SQL literal its column stores: MariaDB's native ``uuid``
    takes the dashed text, other backends (CHAR(32)) the hex."""
    if connection.features.has_native_uuid_field:
        return _sql_literal(value)
    return _sql_literal(value.hex if isinstance(value, uuid.UUID) else uuid.UUID(value).hex)


def _insert_calls(agent: Agent, rows: list, now: dt.datetime, *, ringing: bool) -> list[_Queued]:
    """Insert one Call per claimed lead row ``(id, phone, attempts before, first name, last
    name, company, custom fields)`` with one multi-row INSERT; returns them as :class:`_Queued`
    (``pk`` and ``lead_id`` as dashed UUID text).

    No model instances on this hot path, and only the phone is a parameter: the ids, attempt
    and idempotency key are of a checked safe alphabet and go in as SQL literals with the
    batch's constants, which spares the driver's per-value escaping. ``ringing``: the caller
    hands the calls to the provider right after commit, so they are stamped dispatched now
    (skips the queued → ringing UPDATE).
    """
    dt_prep = Call._meta.get_field("created_at").get_db_prep_value
    stamp = dt_prep(now, connection)
    constants = [agent.provider, (Call.Status.RINGING if ringing else Call.Status.QUEUED).value,
                 dt_prep(timezone.now(), connection) if ringing else None, stamp, stamp, "", "", "", "", "", "",
                 "", ""]
    tail = ", %s, " + _uuid_sql(agent.pk) + ", " + ", ".join(_sql_literal(c) for c in constants) + ")"
    native = connection.features.has_native_uuid_field
    calls, values, params = [], [], []
    for lead_id, phone, attempts, first_name, last_name, company, custom_fields in rows:
        call_id = uuid7()
        lead_text = str(lead_id)
        if len(lead_text) == 32:  # CHAR(32) backends hand back hex
            lead_text = str(uuid.UUID(lead_text))
        attempt = attempts + 1
        key = f"{lead_text}:{attempt}"
        calls.append(_Queued(str(call_id), agent.provider, attempt, key, phone, lead_text, agent.pk,
                             first_name, last_name, company, custom_fields))
        ids = f"'{call_id}', '{lead_text}'" if native else f"'{call_id.hex}', '{uuid.UUID(lead_text).hex}'"
        values.append(f"({ids}, {int(attempt)}, {_sql_literal(key)}" + tail)
        params.append(phone)
    table = connection.ops.quote_name(Call._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in _CALL_COLUMNS)
    with connection.cursor() as cur:
        # One multi-row INSERT per _INSERT_ROWS calls (SQLite caps the parameters of a statement).
        for start in range(0, len(values), _INSERT_ROWS):
            cur.execute(f"INSERT INTO {table} ({columns}) VALUES {', '.join(values[start : start + _INSERT_ROWS])}",
                        params[start : start + _INSERT_ROWS])
    return calls


def _lock_rows(qs, limit: int) -> list:
    """Run the claim's ``SELECT … FOR UPDATE SKIP LOCKED`` without the ORM's per-value converters
    (ids stay text, ``custom_fields`` is decoded only when not empty; ``schedule_at`` aware UTC)."""
    sql, params = qs.select_for_update(skip_locked=True)[:limit].query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    result = []
    for pk, phone, attempts, first_name, last_name, company, custom, schedule_at in rows:
        custom = {} if custom in (None, "", "{}") else (json.loads(custom) if isinstance(custom, str) else custom)
        if schedule_at is not None and schedule_at.tzinfo is None:
            schedule_at = schedule_at.replace(tzinfo=dt.UTC)
        result.append((pk, phone, attempts, first_name, last_name, company, custom, schedule_at))
    return result


def claim_batch(agent: Agent, *, now: dt.datetime, limit: int, after: tuple | None = None,
                ringing: bool = False) -> tuple[list, tuple | None]:
    """Claim up to ``limit`` due leads of ``agent`` after the cursor ``after`` (None: from the start).

    One transaction, three statements on MariaDB/MySQL: lock the ids with ``SELECT … FOR UPDATE
    SKIP LOCKED`` over ``lead_call_queue`` (rows another worker holds are passed over, not waited
    for), one UPDATE leasing the leads (attempts + 1, in progress, ``schedule_at`` = now +
    timeout), one multi-row INSERT of their queued Calls (the unique idempotency key
    ``"<lead>:<attempt>"`` is a last guard). SQLite (one writer) claims each lead with a
    conditional UPDATE instead. ``ringing``: insert the calls already stamped as handed over
    (the caller places them right after commit, :func:`calls_hand_off`); else queued for
    :func:`calls_dispatch`. Returns the new calls (:class:`_Queued`: ``pk``, ``lead_id``,
    ``attempt``, …) and the cursor to continue from, None when the agent has no more candidates.
    """
    lease_until = now + call_timeout()
    cursor = after or (0, False, None, None)
    with transaction.atomic():
        while True:
            qs = _segment(agent, now, cursor).values_list(
                "pk", "phone", "attempts_count", "first_name", "last_name", "company", "custom_fields", "schedule_at")
            rows = _lock_rows(qs, limit) if _skip_locked() else list(qs[:limit])
            if rows:
                break
            if cursor[0] + 1 >= len(_QUEUE_STATUSES):
                return [], None
            cursor = (cursor[0] + 1, False, None, None)
        # A short segment is exhausted (rows other workers hold are theirs): go on to the next one.
        if len(rows) == limit:
            cursor = (cursor[0], True, rows[-1][-1], rows[-1][0])
        elif cursor[0] + 1 < len(_QUEUE_STATUSES):
            cursor = (cursor[0] + 1, False, None, None)
        else:
            cursor = None
        rows = [row[:-1] for row in rows]
        if not _skip_locked():
            # SQLite: no row locks; a conditional UPDATE per lead claims it only if it is still
            # due with the attempts count we read (SQLite runs one writer at a time).
            claimed = []
            for row in rows:
                pk, attempts = row[0], row[2]
                if (due_leads(agent, now).filter(pk=pk, attempts_count=attempts)
                        .update(attempts_count=attempts + 1, call_status=Lead.CallStatus.IN_PROGRESS,
                                schedule_at=lease_until, updated_at=now)):
                    claimed.append(row)
            rows = claimed
        else:
            # The rows are ours (locked): one UPDATE by primary key, ids as checked literals.
            # update_raw keeps the list cache and the bucket counts (updated_at moves the leads
            # to this week's bucket of the "last update" ordering).
            dt_prep = Lead._meta.get_field("updated_at").get_db_prep_value
            ids = [r[0] for r in rows]

            def lease():
                with connection.cursor() as cur:
                    cur.execute(f"UPDATE {Lead._meta.db_table} SET attempts_count = attempts_count + 1, "
                                f"call_status = %s, schedule_at = %s, updated_at = %s "
                                f"WHERE id IN ({', '.join(_uuid_sql(pk) for pk in ids)})",
                                [Lead.CallStatus.IN_PROGRESS.value, dt_prep(lease_until, connection),
                                 dt_prep(now, connection)])

            Lead.objects.filter(pk__in=ids).update_raw(lease)
        calls = _insert_calls(agent, rows, now, ringing=ringing) if rows else []
    return calls, cursor


def _new_call(agent: Agent, lead_id, phone: str, attempts: int, now: dt.datetime) -> Call:
    return Call(lead_id=lead_id, agent=agent, provider=agent.provider, attempt=attempts + 1,
                idempotency_key=f"{lead_id}:{attempts + 1}", to_number=phone, created_at=now)


@dataclass
class TickResult:
    """What one scheduler tick did: ``claimed`` calls placed, ``timed_out`` stale calls failed,
    ``agents_open`` agents inside business hours, ``seconds`` wall time."""

    claimed: int = 0
    timed_out: int = 0
    agents_open: int = 0
    seconds: float = 0.0
    call_ids: list = field(default_factory=list, repr=False)


def scheduler_tick(*, now: dt.datetime | None = None, dispatch: str = "inline", batch_size: int | None = None,
                   max_seconds: float = 50.0) -> TickResult:
    """One run of the scheduler (beat every minute; ``manage.py run_call_scheduler``).

    Fails calls open longer than the timeout, then for each active agent whose business hours
    are open at ``now`` claims its due leads in batches of ``batch_size``
    (``CALL_SCHEDULER_BATCH``) and hands each batch to the provider: ``dispatch="inline"``
    inserts the calls as ringing and calls :func:`calls_hand_off` here once the claim
    committed, ``"task"`` queues ``calling.dispatch_calls`` per :data:`DISPATCH_CHUNK` calls
    (so several workers share slow provider requests), ``"none"``
    leaves them queued (benchmarks, tests). Stops claiming after ``max_seconds`` (the next tick
    continues). Safe to run in any number of processes at once.
    """
    started = timezone.now()
    now = now or started
    batch_size = batch_size or settings.CALL_SCHEDULER_BATCH
    result = TickResult(timed_out=calls_time_out(now=now))
    clock = dt.datetime.now
    t0 = clock()
    for agent in Agent.objects.filter(active=True):
        if not agent.is_open(now):
            continue
        result.agents_open += 1
        cursor = None
        while (clock() - t0).total_seconds() < max_seconds:
            calls, cursor = claim_batch(agent, now=now, limit=batch_size, after=cursor,
                                        ringing=dispatch == "inline")
            result.claimed += len(calls)
            result.call_ids += [call.pk for call in calls]
            if calls and dispatch == "inline":
                calls_hand_off(calls)
            elif calls and dispatch == "task":
                _enqueue_dispatch([call.pk for call in calls])
            if cursor is None:
                break
    result.seconds = (clock() - t0).total_seconds()
    return result


def _enqueue_dispatch(ids: list) -> None:
    from calling.tasks import dispatch_calls

    for start in range(0, len(ids), DISPATCH_CHUNK):
        chunk = [str(pk) for pk in ids[start : start + DISPATCH_CHUNK]]
        transaction.on_commit(lambda chunk=chunk: dispatch_calls.delay(chunk))


def _claim_queued(call_ids: list) -> list:
    """Move the given calls from queued to ringing; returns the ids this process took (a
    redelivered dispatch message finds them taken and places nothing).

    One conditional UPDATE stamps the calls with this dispatch's ``dispatched_at`` (microsecond
    precision, so two dispatchers' stamps differ), then the stamp tells which rows were ours:
    no row locks held, nothing skipped.
    """
    stamp = timezone.now()
    updated = Call.objects.filter(pk__in=call_ids, status=Call.Status.QUEUED).update(
        status=Call.Status.RINGING, dispatched_at=stamp)
    if updated == len(call_ids):
        return list(call_ids)
    if not updated:
        return []
    return list(Call.objects.filter(pk__in=call_ids, status=Call.Status.RINGING, dispatched_at=stamp)
                .values_list("pk", flat=True))


def _place_request(call: _Queued, agent: Agent) -> PlaceCall:
    name = f"{call.first_name} {call.last_name}".strip()
    variables = {"first_name": call.first_name, "last_name": call.last_name, "name": name,
                 "company": call.company}
    for key, value in (call.custom_fields or {}).items():
        if isinstance(value, str | int | float | bool):
            variables.setdefault(str(key), value)
    metadata = {"call_id": str(call.pk), "lead_id": str(call.lead_id), "attempt": call.attempt,
                "idempotency_key": call.idempotency_key}
    return PlaceCall(call_id=str(call.pk), lead_id=str(call.lead_id), attempt=call.attempt,
                     to_e164=call.to_number, from_e164=agent.caller_number, assistant_id=agent.assistant_id,
                     phone_number_id=agent.phone_number_id, customer_name=name, variables=variables,
                     idempotency_key=call.idempotency_key, metadata=metadata)


def calls_dispatch(call_ids: list) -> int:
    """Hand queued calls (ids) to their providers, outside any claim transaction.

    Two queries for a batch (stamp the calls ringing, read what the requests need) plus the
    agents; a provider with ``place_calls`` (simulated) takes the whole batch at once. A
    provider that refuses a call (ProviderError) fails it and the lead follows the retry rule;
    an unknown provider likewise. Returns how many calls the providers accepted.
    """
    ids = _claim_queued(call_ids)
    if not ids:
        return 0
    return calls_hand_off([_Queued(*row) for row in
                           Call.objects.filter(pk__in=ids).order_by().values_list(*_DISPATCH_FIELDS)])


def calls_hand_off(calls: list[_Queued]) -> int:
    """Give calls already marked ringing to their providers (:func:`calls_dispatch` after it
    took them, or the scheduler right after its claim committed). Returns how many the
    providers accepted; the others are failed (see :func:`calls_dispatch`)."""
    agents = Agent.objects.in_bulk({call.agent_id for call in calls})
    by_provider: dict[str, list[_Queued]] = {}
    for call in calls:
        by_provider.setdefault(call.provider, []).append(call)
    accepted = []
    for name, group in by_provider.items():
        provider = providers.get(name)
        if provider is None:
            for call in group:
                _fail(call, f"Unknown provider {name!r}.")
            continue
        if hasattr(provider, "place_calls"):
            placed = provider.place_calls([_place_request(c, agents[c.agent_id]) for c in group])
            accepted += [(c, p.provider_call_id) for c, p in zip(group, placed, strict=True)]
            continue
        for call in group:
            try:
                placed = provider.place_call(_place_request(call, agents[call.agent_id]))
            except ProviderError as exc:
                log.warning("call %s: provider %s refused it: %s", call.pk, name, exc)
                _fail(call, str(exc))
            except Exception as exc:  # noqa: BLE001 - any adapter bug must still release the lead
                log.exception("call %s: provider %s crashed", call.pk, name)
                _fail(call, f"{type(exc).__name__}: {exc}")
            else:
                accepted.append((call, placed.provider_call_id))
    # Providers that report back by our call id (simulated) give no provider id: nothing to store.
    fill = [Call(pk=call.pk, provider_call_id=provider_call_id) for call, provider_call_id in accepted
            if provider_call_id]
    if fill:
        Call.objects.bulk_update(fill, ["provider_call_id"])
    return len(accepted)


def _fail(call, reason: str) -> None:
    call_apply_event(CallEvent(provider=call.provider, provider_call_id="", call_ref=str(call.pk), kind="ended",
                               dedupe_key=f"dispatch-failed:{call.pk}", outcome=FAILED,
                               ended_reason="provider-error", raw={"error": reason[:1000]}))


def calls_time_out(*, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Fail calls open longer than ``CALL_TIMEOUT_MINUTES`` (they never reported back), so no
    lead stays in progress for good; the lead is then retried. Returns how many."""
    now = now or timezone.now()
    cutoff = now - call_timeout()
    stale = list(Call.objects.open().filter(created_at__lt=cutoff).values_list("pk", "provider")[:limit])
    for pk, provider in stale:
        call_apply_event(CallEvent(provider=provider, provider_call_id="", call_ref=str(pk), kind="ended",
                                   dedupe_key=f"timeout:{pk}", outcome=FAILED, ended_reason="timeout"),
                         now=now)
    return len(stale)


# --- call now -------------------------------------------------------------------------------------

def call_schedule_now(*, lead: Lead, user: User | None, dispatch: str = "task") -> Call:
    """Seed 004's ``POST /calls/schedule``: call ``lead`` now (see the module docstring for
    what it bypasses). Returns the queued Call; it is handed to the provider after commit
    (``dispatch="task"``: a ``calling.dispatch_calls`` job; ``"inline"``: in this process).

    Raises NotFound (deleted lead), ServiceError ``no_agent``, ``unknown_agent``,
    ``agent_inactive``, ``no_phone`` or ``call_in_progress``.
    """
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(pk=lead.pk).first()
        if lead is None or lead.deleted_at is not None:
            raise NotFound("Lead not found", code="lead_not_found")
        if not lead.agent_id:
            raise ServiceError("This lead has no calling agent; set agent_id first.", code="no_agent",
                               field="lead_id")
        agent = Agent.objects.filter(pk=lead.agent_id).first()
        if agent is None:
            raise ServiceError(f"The lead's agent {lead.agent_id} does not exist.", code="unknown_agent",
                               field="lead_id")
        if not agent.active:
            raise ServiceError(f"The agent {agent.name} is inactive.", code="agent_inactive", field="lead_id")
        if not lead.phone:
            raise ServiceError("This lead has no phone number.", code="no_phone", field="lead_id")
        if Call.objects.filter(lead=lead).open().exists():
            raise ServiceError("A call to this lead is already under way.", code="call_in_progress",
                               field="lead_id")
        now = timezone.now()
        Lead.objects.filter(pk=lead.pk).update(
            attempts_count=F("attempts_count") + 1, call_status=Lead.CallStatus.IN_PROGRESS,
            disposition="", schedule_at=now + call_timeout(), updated_at=now)
        call = _new_call(agent, lead.pk, lead.phone, lead.attempts_count, now)
        call.save(force_insert=True)
        if dispatch == "task":
            _enqueue_dispatch([call.pk])
    if dispatch == "inline":
        calls_dispatch([call.pk])
        call.refresh_from_db()
    return call


# --- provider events and the write-back ----------------------------------------------------------

def _find_call(event: CallEvent) -> Call | None:
    qs = Call.objects.select_for_update()
    if event.provider_call_id:
        call = qs.filter(provider=event.provider, provider_call_id=event.provider_call_id).first()
        if call is not None:
            return call
    if event.call_ref:
        try:
            return qs.filter(pk=uuid.UUID(event.call_ref), provider=event.provider).first()
        except ValueError:
            return None
    return None


@transaction.atomic
def call_apply_event(event: CallEvent, *, now: dt.datetime | None = None) -> Call | None:
    """Apply one provider event (webhook, simulated end, dispatch failure, timeout) once.

    The event's ``(provider, dedupe_key)`` is recorded in the same transaction: a repeat is a
    no-op. ``progress`` moves an open call to ringing/in progress; ``ended`` (or ``analyzed``
    for an open call) ends it and writes the outcome back to the lead; ``analyzed`` after the
    end adds the summary, transcript and disposition. Returns the call, or None when no call
    matches (the event is then not recorded, so a provider retry can still apply it).
    """
    now = now or timezone.now()
    call = _find_call(event)
    if call is None:
        return None
    try:
        with transaction.atomic():
            CallWebhookEvent.objects.create(provider=event.provider, dedupe_key=event.dedupe_key[:200], call=call,
                                            kind=event.kind, payload=event.raw or {})
    except IntegrityError:
        return call  # applied before
    if not call.provider_call_id and event.provider_call_id and not Call.objects.filter(
            provider_call_id=event.provider_call_id).exists():
        call.provider_call_id = event.provider_call_id
    if event.kind == "progress":
        if call.is_open:
            order = [Call.Status.QUEUED, Call.Status.RINGING, Call.Status.IN_PROGRESS]
            if event.status in order and order.index(event.status) > order.index(call.status):
                call.status = event.status
            call.started_at = call.started_at or event.started_at or (now if event.status == "in_progress" else None)
            call.save()
        return call
    if call.is_open and event.outcome:
        _finish(call, event, now)
    elif event.kind == "analyzed" and not call.is_open:
        _enrich(call, event)
    return call


def _apply_details(call: Call, event: CallEvent) -> None:
    for attr in ("transcript", "summary", "recording_url"):
        value = getattr(event, attr)
        if value:
            setattr(call, attr, value[:500] if attr == "recording_url" else value)
    if event.duration_seconds is not None:
        call.duration_seconds = max(int(event.duration_seconds), 0)
    if event.started_at:
        call.started_at = event.started_at
    if event.ended_at:
        call.ended_at = event.ended_at


def call_transcript_path(call: Call) -> str:
    """Our page for the call's transcript and summary (seed 004's ``transcript_url``)."""
    return reverse("calling:call_detail", args=[call.pk])


def _finish(call: Call, event: CallEvent, now: dt.datetime) -> None:
    outcome = event.outcome
    call.status = Call.Status.FAILED if outcome == FAILED else Call.Status.COMPLETED
    call.outcome = outcome
    call.disposition = (event.disposition or Call.Disposition.COMPLETED) if outcome == ANSWERED else NO_ANSWER
    call.ended_reason = (event.ended_reason or "")[:120]
    if event.raw and event.raw.get("error"):
        call.error = str(event.raw["error"])
    _apply_details(call, event)
    call.ended_at = call.ended_at or now
    if call.duration_seconds is None:
        call.duration_seconds = 0
    if call.started_at is None and call.outcome == ANSWERED:
        call.started_at = call.ended_at - dt.timedelta(seconds=call.duration_seconds)
    call.save()
    _write_back(call, retryable=event.retryable, now=now)


def _write_back(call: Call, *, retryable: bool, now: dt.datetime) -> None:
    """The seed 004 status flow on the lead (module docstring), a timeline entry, an event."""
    lead = Lead.objects.filter(pk=call.lead_id).first()
    agent = call.agent
    if lead is None:
        return
    # A newer attempt exists (this one was already superseded): history only.
    latest = not Call.objects.filter(lead_id=lead.pk, attempt__gt=call.attempt).exists()
    if latest and lead.deleted_at is None:
        if call.outcome == ANSWERED:
            fields = {"call_status": Lead.CallStatus.DONE, "disposition": call.disposition, "schedule_at": None}
            if call.summary:
                fields["ai_summary"] = call.summary
        elif not retryable or lead.attempts_count >= agent.max_attempts:
            fields = {"call_status": Lead.CallStatus.DONE, "disposition": Lead.Disposition.NO_ANSWER,
                      "schedule_at": None}
        else:
            retry_at = now + dt.timedelta(minutes=agent.retry_delay_minutes)
            fields = {"call_status": Lead.CallStatus.IN_PROGRESS, "disposition": "",
                      "schedule_at": agent.next_open(retry_at) or retry_at}
        lead = lead_services.lead_update(lead=lead, user=None, **fields)
    labels = {ANSWERED: "answered", NO_ANSWER: "no answer", "busy": "busy", FAILED: "failed"}
    subject = f"AI call by {agent.name}: {labels.get(call.outcome, call.outcome)}"
    if call.outcome == ANSWERED:
        subject += f" ({Call.Disposition(call.disposition).label.lower()}, {call.duration_seconds}s)"
    lead_services.lead_add_interaction(
        lead=lead, user=None, kind=Interaction.Kind.CALL, direction=Interaction.Direction.OUTBOUND,
        subject=subject[:255], body=call.summary, occurred_at=call.ended_at,
        metadata={"call_id": str(call.pk), "agent_id": str(agent.pk), "outcome": call.outcome,
                  "disposition": call.disposition, "duration_seconds": call.duration_seconds,
                  "attempt": call.attempt, "transcript_url": call_transcript_path(call),
                  "recording_url": call.recording_url},
    )
    publish("call.completed", {
        "id": str(call.pk), "lead_id": str(call.lead_id), "agent_id": str(agent.pk), "outcome": call.outcome,
        "disposition": call.disposition, "duration_seconds": call.duration_seconds,
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
    })


def _enrich(call: Call, event: CallEvent) -> None:
    """An analysis that arrives after the end (Retell ``call_analyzed``): keep its summary,
    transcript and disposition on the call, and on the lead when this answered call decided it."""
    _apply_details(call, event)
    if call.outcome == ANSWERED and event.disposition:
        call.disposition = event.disposition
    call.save()
    if call.outcome != ANSWERED:
        return
    lead = Lead.objects.filter(pk=call.lead_id, deleted_at__isnull=True).first()
    latest = lead is not None and not Call.objects.filter(lead_id=lead.pk, attempt__gt=call.attempt).exists()
    if latest and lead.call_status == Lead.CallStatus.DONE:
        fields = {"disposition": call.disposition}
        if call.summary:
            fields["ai_summary"] = call.summary
        lead_services.lead_update(lead=lead, user=None, **fields)
    entry = Interaction.objects.filter(lead_id=call.lead_id, kind=Interaction.Kind.CALL,
                                       metadata__call_id=str(call.pk)).first()
    if entry is not None and call.summary and entry.body != call.summary:
        lead_services.interaction_update(entry=entry, user=None, body=call.summary)


# --- reads ---------------------------------------------------------------------------------------

def call_metrics(calls, *, agent_id=None) -> dict:
    """Seed 004's ``/calls/metrics`` over the ``calls`` queryset (already filtered), one query
    plus one for ``active_agents``.

    ``total_calls`` counts every call; ``answered_calls``, ``no_answer_calls`` (no answer and
    busy — the seed splits calls three ways), ``failed_calls`` and ``in_progress_calls``
    partition it (``busy_calls`` details the busy part). ``pickup_rate`` = answered / ended
    calls in percent (1 decimal); ``average_attempts_per_lead`` = calls / distinct leads;
    ``average_duration_seconds`` over answered calls; ``active_agents`` = active agents (the
    filtered one only, with ``agent_id``).
    """
    agg = calls.order_by().aggregate(
        total=Count("pk"),
        answered=Count("pk", filter=Q(outcome=ANSWERED)),
        no_answer=Count("pk", filter=Q(outcome=NO_ANSWER)),
        busy=Count("pk", filter=Q(outcome="busy")),
        failed=Count("pk", filter=Q(outcome=FAILED)),
        open=Count("pk", filter=Q(status__in=Call.OPEN_STATUSES)),
        leads=Count("lead_id", distinct=True),
        avg_duration=Avg("duration_seconds", filter=Q(outcome=ANSWERED)),
    )
    ended = agg["answered"] + agg["no_answer"] + agg["busy"] + agg["failed"]
    agents = Agent.objects.filter(active=True)
    if agent_id:
        agents = agents.filter(pk=agent_id)
    return {
        "total_calls": agg["total"],
        "answered_calls": agg["answered"],
        "no_answer_calls": agg["no_answer"] + agg["busy"],
        "busy_calls": agg["busy"],
        "failed_calls": agg["failed"],
        "in_progress_calls": agg["open"],
        "pickup_rate": round(100.0 * agg["answered"] / ended, 1) if ended else 0.0,
        "average_attempts_per_lead": round(agg["total"] / agg["leads"], 2) if agg["leads"] else 0.0,
        "average_duration_seconds": round(float(agg["avg_duration"]), 1) if agg["avg_duration"] is not None else 0.0,
        "active_agents": agents.count(),
    }
