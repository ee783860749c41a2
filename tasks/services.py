"""Every task, process and reminder write with a business rule (STYLE.md 2). The API, pages,
admin, Celery tasks, demo and commands call these; none of them saves a Task or Process itself.

Rules kept here:
* a due date is a day ("2026-11-30", all day) or an ISO 8601 date-time (naive = UTC);
* a task relates to at most one lead, contact or campaign the user can see (seed 001's
  ``related_to_type``/``related_to_id``); an unknown or invisible one is a 400 on that field;
* completing a task stamps ``completed_at`` and publishes ``task.completed``;
* a due follow-up process becomes exactly one task (claimed with ``SELECT … FOR UPDATE SKIP
  LOCKED`` and keyed by ``Task.source_key``), a timeline entry and a notification;
* "task due" and "task overdue" reminders go out once each per task (claimed by a conditional
  UPDATE, keyed notifications).
"""

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from campaigns.models import Campaign
from contacts.models import Contact
from crm.errors import ServiceError
from crm.events import publish
from crm.models import Interaction, User
from crm.notifications import notify
from leads import services as lead_services
from leads.models import Lead
from tasks.models import Process, Task, visible_contacts

log = logging.getLogger(__name__)

UNSET: Any = object()
#: A "task due" reminder goes out this long before a timed task's due moment.
DUE_SOON = dt.timedelta(minutes=15)


# --- Parsing --------------------------------------------------------------------------------------


def parse_due(value, *, field: str = "due_date") -> tuple[dt.datetime | None, bool]:
    """``(due_at, all_day)`` from ``"2026-11-30"`` / a ``date`` (all day: that midnight in
    ``settings.TIME_ZONE``), an ISO 8601 date-time string or ``datetime`` (naive means UTC), or
    ``None``/``""`` (no due date). Raises ServiceError (``invalid_due_date``) on ``field``."""
    if value in (None, ""):
        return None, False
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        return timezone.make_aware(dt.datetime.combine(value, dt.time.min)), True
    elif isinstance(value, str):
        text = value.strip()
        message = f"Enter a date (YYYY-MM-DD) or an ISO 8601 date-time, not {value!r}."
        try:
            if len(text) == 10:
                day = parse_date(text)
                if day is None:
                    raise ServiceError(message, code="invalid_due_date", field=field)
                return timezone.make_aware(dt.datetime.combine(day, dt.time.min)), True
            moment = parse_datetime(text)
        except ValueError:  # well formed but impossible, like 2026-13-45
            raise ServiceError(message, code="invalid_due_date", field=field) from None
        if moment is None:
            raise ServiceError(message, code="invalid_due_date", field=field)
    else:
        raise ServiceError("A due date must be a string.", code="invalid_due_date", field=field)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.UTC)
    if not 1970 <= moment.year <= 9998:
        raise ServiceError("The due date is out of range.", code="invalid_due_date", field=field)
    return moment, False


def _check_priority(priority: str) -> str:
    if priority not in Task.Priority.values:
        raise ServiceError(
            f'"{priority}" is not a valid priority. Choose one of: {", ".join(Task.Priority.values)}.',
            code="invalid_priority", field="priority",
        )
    return priority


def _as_uuid(value, field: str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError):
        raise ServiceError(f"{value!r} is not a valid id.", code="invalid_id", field=field) from None


def resolve_related(*, user: User | None, related_to_type: str | None, related_to_id) -> dict:
    """``{"lead": …, "contact": …, "campaign": …}`` for seed 001's related pair, checked against
    what ``user`` may see (``None`` = the system, sees every live record).

    ``general`` (or no type and no id) relates to nothing. Raises ServiceError on
    ``related_to_type`` (unknown type) or ``related_to_id`` (missing, malformed, unknown or
    invisible id: the same message, so a hidden record's existence is not revealed)."""
    kind = related_to_type or (Task.RelatedType.GENERAL if related_to_id in (None, "") else None)
    if kind is None:
        raise ServiceError("Say what the id refers to: related_to_type lead, contact or campaign.",
                           code="related_type_required", field="related_to_type")
    if kind not in Task.RelatedType.values:
        raise ServiceError(
            f'"{kind}" is not a valid related_to_type. Choose one of: {", ".join(Task.RelatedType.values)}.',
            code="invalid_related_type", field="related_to_type",
        )
    empty = {"lead": None, "contact": None, "campaign": None}
    if kind == Task.RelatedType.GENERAL:
        if related_to_id not in (None, ""):
            raise ServiceError("A general task relates to nothing: leave related_to_id empty.",
                               code="related_id_not_allowed", field="related_to_id")
        return empty
    if related_to_id in (None, ""):
        raise ServiceError(f"Give the {kind}'s id in related_to_id.", code="related_id_required",
                           field="related_to_id")
    pk = _as_uuid(related_to_id, "related_to_id")
    if kind == Task.RelatedType.LEAD:
        qs = Lead.objects.live() if user is None else Lead.objects.visible_to(user)
    elif kind == Task.RelatedType.CONTACT:
        qs = Contact.objects.live() if user is None else visible_contacts(user)
    else:
        qs = Campaign.objects.all()
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise ServiceError(f"No {kind} with id {pk} that you can see.", code="related_not_found",
                           field="related_to_id")
    return {**empty, kind: obj}


def _check_assignee(assignee: User | None) -> None:
    if assignee is not None and not assignee.is_active:
        raise ServiceError("Tasks can be assigned only to active users.", code="inactive_assignee",
                           field="assignee_id")


def _check_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise ServiceError("A task needs a title.", code="title_required", field="title")
    if len(title) > 255:
        raise ServiceError("A title has at most 255 characters.", code="title_too_long", field="title")
    return title


def task_url(task: Task) -> str:
    """Where a task's notification leads: its lead or contact page, else the task form."""
    if task.lead_id:
        return reverse("leads:lead_detail", args=[task.lead_id])
    return reverse("tasks:task_edit", args=[task.pk])


def task_event_data(task: Task) -> dict:
    """JSON-ready facts of ``task.*`` events (crm.events.EVENTS)."""
    return {
        "id": str(task.pk), "title": task.title, "assignee_id": task.assignee_id,
        "related_to_type": task.related_to_type,
        "related_to_id": str(task.related_to_id) if task.related_to_id else None,
        "completed_at": task.completed_at.isoformat() if task.completed_at else None,
    }


# --- Tasks ----------------------------------------------------------------------------------------


@transaction.atomic
def task_create(*, user: User | None, title: str, description: str = "", due_date=None,
                priority: str = Task.Priority.MEDIUM, assignee: User | None = UNSET,
                related_to_type: str | None = None, related_to_id=None, completed: bool = False) -> Task:
    """Create a task; returns it saved.

    ``due_date`` as :func:`parse_due`; ``assignee`` defaults to ``user`` (``None`` = unassigned);
    the related pair as :func:`resolve_related`. Raises ServiceError (title, due_date, priority,
    related_to_type/related_to_id, assignee_id) before anything is written.
    """
    title = _check_title(title)
    due_at, all_day = parse_due(due_date)
    _check_priority(priority)
    related = resolve_related(user=user, related_to_type=related_to_type, related_to_id=related_to_id)
    if assignee is UNSET:
        assignee = user if user is not None and user.is_authenticated else None
    _check_assignee(assignee)
    creator = user if user is not None and user.is_authenticated else None
    task = Task(title=title, description=description or "", due_at=due_at, due_all_day=all_day,
                priority=priority, assignee=assignee, created_by=creator, **related)
    task.save()
    if completed:
        task = task_set_completed(task=task, user=user, completed=True)
    return task


@transaction.atomic
def task_update(*, task: Task, user: User | None, title: str = UNSET, description: str = UNSET, due_date=UNSET,
                priority: str = UNSET, assignee: User | None = UNSET, related_to_type: str | None = UNSET,
                related_to_id=UNSET, completed: bool = UNSET) -> Task:
    """Change the given fields (PUT and PATCH alike; absent ones stay). ``completed`` goes
    through :func:`task_set_completed`. A new due date re-arms the due/overdue reminders.
    Raises as :func:`task_create`; on error nothing changes."""
    task = Task.objects.select_for_update().get(pk=task.pk)
    if title is not UNSET:
        task.title = _check_title(title)
    if description is not UNSET:
        task.description = description or ""
    if due_date is not UNSET:
        due_at, all_day = parse_due(due_date)
        if (due_at, all_day) != (task.due_at, task.due_all_day):
            task.due_at, task.due_all_day = due_at, all_day
            task.due_notified_at = task.overdue_notified_at = None
    if priority is not UNSET:
        task.priority = _check_priority(priority)
    if related_to_type is not UNSET or related_to_id is not UNSET:
        kind = task.related_to_type if related_to_type is UNSET else related_to_type
        pk = task.related_to_id if related_to_id is UNSET else related_to_id
        if related_to_type is not UNSET and related_to_id is UNSET and kind != task.related_to_type:
            pk = None  # a new type needs its own id
        related = resolve_related(user=user, related_to_type=kind, related_to_id=pk)
        task.lead, task.contact, task.campaign = related["lead"], related["contact"], related["campaign"]
    if assignee is not UNSET:
        _check_assignee(assignee)
        task.assignee = assignee
    task.save()
    if completed is not UNSET and bool(completed) != task.completed:
        task = task_set_completed(task=task, user=user, completed=bool(completed))
    return task


@transaction.atomic
def task_set_completed(*, task: Task, user: User | None, completed: bool = True) -> Task:
    """Seed 001's completion toggle: check off (stamps ``completed_at``, publishes
    ``task.completed``) or reopen (clears it). The same state again changes nothing."""
    task = Task.objects.select_for_update().get(pk=task.pk)
    if task.completed == completed:
        return task
    task.completed = completed
    task.completed_at = timezone.now() if completed else None
    task.save(update_fields=["completed", "completed_at"])
    if completed:
        publish("task.completed", task_event_data(task))
    return task


@transaction.atomic
def task_delete(*, task: Task, user: User | None) -> None:
    """Delete a task for good (it has no history of its own)."""
    Task.objects.filter(pk=task.pk).delete()


def tasks_move_contact(*, source: Contact, target: Contact) -> int:
    """Move every task of contact ``source`` to ``target`` (a contact merge); returns how many.
    Runs in the caller's transaction, so a failed merge moves nothing."""
    return Task.objects.filter(contact=source).update(contact=target, updated_at=timezone.now())


# --- Processes ------------------------------------------------------------------------------------


def _check_process_fields(*, name=UNSET, channel=UNSET, status=UNSET, interval_days=UNSET) -> None:
    if name is not UNSET and not (name or "").strip():
        raise ServiceError("A process needs a name.", code="name_required", field="name")
    if name is not UNSET and len(name) > 200:
        raise ServiceError("A name has at most 200 characters.", code="name_too_long", field="name")
    if channel is not UNSET and channel not in Process.Channel.values:
        raise ServiceError(
            f'"{channel}" is not a valid channel. Choose one of: {", ".join(Process.Channel.values)}.',
            code="invalid_channel", field="channel",
        )
    if status is not UNSET and status not in Process.Status.values:
        raise ServiceError(
            f'"{status}" is not a valid status. Choose one of: {", ".join(Process.Status.values)}.',
            code="invalid_status", field="status",
        )
    if interval_days is not UNSET and interval_days is not None and not 1 <= interval_days <= 365:
        raise ServiceError("Repeat every 1 to 365 days.", code="invalid_interval", field="interval_days")


def _lead_for_process(user: User | None, lead_id) -> Lead | None:
    if lead_id in (None, ""):
        return None
    pk = _as_uuid(lead_id, "lead_id")
    qs = Lead.objects.live() if user is None else Lead.objects.visible_to(user)
    lead = qs.filter(pk=pk).first()
    if lead is None:
        raise ServiceError(f"No lead with id {pk} that you can see.", code="lead_not_found", field="lead_id")
    return lead


def _last_action_for(process: Process, action_id) -> Interaction | None:
    if action_id in (None, ""):
        return None
    pk = _as_uuid(action_id, "last_action_id")
    entry = Interaction.objects.filter(pk=pk, lead_id=process.lead_id).first() if process.lead_id else None
    if entry is None:
        raise ServiceError("last_action_id must be a timeline entry of the process's lead.",
                           code="action_not_found", field="last_action_id")
    return entry


def _parse_followup(value) -> dt.datetime | None:
    if value in (None, ""):
        return None
    moment, all_day = parse_due(value, field="next_followup_datetime")
    return moment


@transaction.atomic
def process_create(*, user: User | None, name: str, lead_id=None, channel: str = Process.Channel.EMAIL,
                   status: str = Process.Status.ACTIVE, next_followup_datetime=None,
                   interval_days: int | None = None, last_action_id=None) -> Process:
    """Start a follow-up process (seed 002's POST /processes), optionally on lead ``lead_id``
    (one ``user`` can see). ``next_followup_datetime`` is an ISO date-time (naive = UTC) or a
    date. Raises ServiceError on name, lead_id, channel, status, interval_days,
    next_followup_datetime or last_action_id."""
    _check_process_fields(name=name, channel=channel, status=status, interval_days=interval_days)
    process = Process(
        name=name.strip(), lead=_lead_for_process(user, lead_id), channel=channel, status=status,
        next_followup_at=_parse_followup(next_followup_datetime), interval_days=interval_days,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    process.last_action = _last_action_for(process, last_action_id)
    process.save()
    return process


@transaction.atomic
def process_update(*, process: Process, user: User | None, name: str = UNSET, lead_id=UNSET, channel: str = UNSET,
                   status: str = UNSET, next_followup_datetime=UNSET, interval_days=UNSET,
                   last_action_id=UNSET) -> Process:
    """Change the given fields of a process (seed 002's PUT; PATCH alike): pause, resume,
    complete, reschedule. Raises as :func:`process_create`; on error nothing changes."""
    _check_process_fields(name=name, channel=channel, status=status, interval_days=interval_days)
    process = Process.objects.select_for_update().get(pk=process.pk)
    if name is not UNSET:
        process.name = name.strip()
    if lead_id is not UNSET:
        lead = _lead_for_process(user, lead_id)
        if (lead.pk if lead else None) != process.lead_id:
            process.lead, process.last_action = lead, None
    if channel is not UNSET:
        process.channel = channel
    if status is not UNSET:
        process.status = status
    if next_followup_datetime is not UNSET:
        process.next_followup_at = _parse_followup(next_followup_datetime)
    if interval_days is not UNSET:
        process.interval_days = interval_days
    if last_action_id is not UNSET:
        process.last_action = _last_action_for(process, last_action_id)
    process.save()
    return process


@transaction.atomic
def process_delete(*, process: Process, user: User | None) -> None:
    """Delete a process; the tasks it generated stay (their ``process`` becomes empty)."""
    Process.objects.filter(pk=process.pk).delete()


@transaction.atomic
def process_log_action(*, process: Process, user: User | None, action_type: str, details: str = "",
                       occurred_at: dt.datetime | None = None, next_followup_datetime=UNSET) -> Interaction:
    """Log an action (seed 002's ``action_type``/``details``) on the process's lead through
    ``leads.services.lead_add_interaction`` and make it the process's ``last_action``;
    ``next_followup_datetime``, when given, reschedules the next follow-up. Returns the entry.
    Raises ServiceError when the process has no lead or the type is unknown."""
    process = Process.objects.select_for_update().select_related("lead").get(pk=process.pk)
    if process.lead is None or process.lead.deleted_at is not None:
        raise ServiceError("This process has no lead to log actions on.", code="process_without_lead",
                           field="lead_id")
    kind = (action_type or "").strip().lower().replace("-", "_")
    try:
        entry = lead_services.lead_add_interaction(
            lead=process.lead, user=user, kind=kind, body=details or "", occurred_at=occurred_at,
            subject=f"{process.name} ({process.get_channel_display()})",
            metadata={"process_id": str(process.pk)},
        )
    except ServiceError as exc:
        raise ServiceError(exc.detail, code=exc.code, field="action_type") from None
    process.last_action = entry
    fields = ["last_action"]
    if next_followup_datetime is not UNSET:
        process.next_followup_at = _parse_followup(next_followup_datetime)
        fields.append("next_followup_at")
    process.save(update_fields=[*fields, "updated_at"])
    return entry


def _next_followup(process: Process, now: dt.datetime) -> dt.datetime | None:
    """The follow-up after the one that fired: ``interval_days`` later (skipping any that a
    stopped scheduler missed), or None for a one-off."""
    if not process.interval_days or process.next_followup_at is None:
        return None
    step = dt.timedelta(days=process.interval_days)
    moment = process.next_followup_at + step
    if moment <= now:
        missed = (now - moment) // step + 1
        moment += step * missed
    return moment


def _fire(process: Process, now: dt.datetime) -> Task | None:
    """Turn ``process``'s due follow-up into a task, a timeline entry and a notification, then
    move ``next_followup_at`` on. Call with the process row locked. The task's unique
    ``source_key`` makes a second run for the same follow-up a no-op (returns None)."""
    due = process.next_followup_at
    lead = process.lead if process.lead_id and process.lead.deleted_at is None else None
    assignee = (lead.owner if lead is not None and lead.owner_id else None) or process.created_by
    key = f"followup:{process.pk}:{due.isoformat()}"
    channel = process.get_channel_display()
    title = f"Follow up with {lead.name} ({channel})" if lead else f"Follow-up: {process.name} ({channel})"
    # Due all day on the follow-up's day: the follow-up notification is its "due" reminder, and
    # "overdue" comes only if it is still open when that day is over (not a minute later).
    day = timezone.localtime(due).date()
    task = Task(
        title=title[:255], due_at=timezone.make_aware(dt.datetime.combine(day, dt.time.min)), due_all_day=True,
        description=f"Follow-up of the process “{process.name}”, due {timezone.localtime(due):%Y-%m-%d %H:%M}.",
        priority=Task.Priority.MEDIUM, assignee=assignee, created_by=process.created_by, lead=lead,
        process=process, source_key=key, due_notified_at=now,
    )
    try:
        with transaction.atomic():
            task.save()
    except IntegrityError:
        log.info("follow-up %s already generated its task", key)
        task = None
    else:
        if lead is not None:
            lead_services.lead_add_interaction(
                lead=lead, user=None, kind=Interaction.Kind.FOLLOW_UP,
                subject=f"Follow-up due: {process.name}", body=f"Task “{task.title}” created for "
                f"{assignee.full_name if assignee else 'nobody'}.",
                metadata={"process_id": str(process.pk), "task_id": str(task.pk), "channel": process.channel},
            )
        notify(assignee, kind="followup_due", title=title, key=f"followup:{task.pk}", url=task_url(task),
               body=f"Process “{process.name}” is due for a follow-up.")
    process.next_followup_at = _next_followup(process, now)
    process.last_fired_at = now
    process.save(update_fields=["next_followup_at", "last_fired_at", "updated_at"])
    return task


@dataclass
class FireResult:
    """One claim: the process fired (or that failed), and the task it created (None when its
    follow-up had already generated one)."""

    process: Process
    task: Task | None = None
    failed: bool = False


def process_claim_and_fire(*, now: dt.datetime | None = None, exclude=()) -> FireResult | None:
    """Claim the earliest due active process that no other worker holds and fire it, in one
    transaction. Returns None when nothing is due or every due row is locked by another worker.

    The row is locked with ``SELECT … FOR UPDATE SKIP LOCKED`` (DESIGN.md decision 12; only the
    process row, so the lead stays free), and the due filter is re-read under the lock, so a
    process fires once however many workers tick. A failure while firing rolls back that
    process's work alone and is reported as ``failed`` (it stays due for the next tick)."""
    now = now or timezone.now()
    with transaction.atomic():
        process = (
            Process.objects.due(now).exclude(pk__in=list(exclude)).select_for_update(skip_locked=True)
            .order_by("next_followup_at", "id").first()
        )
        if process is None:
            return None
        try:
            with transaction.atomic():
                return FireResult(process, _fire(process, now))
        except Exception:  # noqa: BLE001 - one bad row must not stop the tick
            log.exception("follow-up process %s failed; it stays due", process.pk)
            return FireResult(process, failed=True)


def processes_run_due(*, now: dt.datetime | None = None, limit: int = 200) -> list[Task]:
    """The scheduler's tick: fire up to ``limit`` due processes, one transaction each, so one
    failing process neither blocks nor undoes the others. Returns the tasks created. Safe to run
    from many workers at once (see :func:`process_claim_and_fire`)."""
    created: list[Task] = []
    failed: list = []
    for _ in range(limit):
        result = process_claim_and_fire(now=now, exclude=failed)
        if result is None:
            break
        if result.failed:
            failed.append(result.process.pk)
        elif result.task is not None:
            created.append(result.task)
    return created


# --- Reminders ------------------------------------------------------------------------------------


def _remind(task: Task, *, kind: str) -> bool:
    user = task.assignee or task.created_by
    when = timezone.localtime(task.due_at)
    if kind == "task_overdue":
        title = f"Overdue: {task.title}"
        body = f"Was due {when:%b %-d}" + ("" if task.due_all_day else f" at {when:%H:%M}") + "."
        key = f"task-overdue:{task.pk}"
    else:
        title = f"Due {'today' if task.due_all_day else when.strftime('at %H:%M')}: {task.title}"
        body = ""
        key = f"task-due:{task.pk}"
    return notify(user, kind=kind, title=title, key=key, url=task_url(task), body=body) is not None


def tasks_send_reminders(*, now: dt.datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Raise "task due" (``DUE_SOON`` before a timed task's due moment, from its day's start for
    an all-day one) and "task overdue" notifications for open tasks, once each.

    Each task is claimed with a conditional UPDATE of ``due_notified_at``/``overdue_notified_at``
    before its notification is raised (and the notification key is unique), so overlapping
    ticks and workers never repeat one. A task already overdue when first seen gets only the
    overdue reminder. Returns ``{"due": n, "overdue": m}`` (notifications raised).
    """
    now = now or timezone.now()
    sent = {"due": 0, "overdue": 0}
    overdue_ids = list(
        Task.objects.filter(completed=False, overdue_notified_at__isnull=True, overdue_at__lte=now)
        .order_by("overdue_at").values_list("pk", flat=True)[:limit]
    )
    for pk in overdue_ids:
        with transaction.atomic():
            if not Task.objects.filter(pk=pk, completed=False, overdue_notified_at__isnull=True).update(
                overdue_notified_at=now, due_notified_at=now
            ):
                continue  # another worker took it, or it was completed meanwhile
            task = Task.objects.select_related("assignee", "created_by").get(pk=pk)
            sent["overdue"] += _remind(task, kind="task_overdue")
    due_ids = list(
        Task.objects.filter(completed=False, due_notified_at__isnull=True, due_at__lte=now + DUE_SOON)
        .order_by("due_at").values_list("pk", flat=True)[:limit]
    )
    for pk in due_ids:
        with transaction.atomic():
            if not Task.objects.filter(pk=pk, completed=False, due_notified_at__isnull=True).update(
                due_notified_at=now
            ):
                continue
            task = Task.objects.select_related("assignee", "created_by").get(pk=pk)
            sent["due"] += _remind(task, kind="task_due")
    return sent


def notify_lead_assigned(data: dict) -> None:
    """``lead.assigned`` receiver body: tell the new owner, unless they assigned it themselves.
    One notification per (owner, lead); a later assignment brings it back unread."""
    owner_id = data.get("owner_id")
    if not owner_id or owner_id == data.get("by_user_id"):
        return
    owner = User.objects.filter(pk=owner_id, is_active=True).first()
    if owner is None:
        return
    notify(owner, kind="lead_assigned", title=f"Lead {data.get('name') or ''} assigned to you".replace("  ", " "),
           key=f"lead-assigned:{data['id']}", url=reverse("leads:lead_detail", args=[data["id"]]), renew=True)
