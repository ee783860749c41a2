"""Every lead write with a business rule (STYLE.md 2). The API, pages, admin, tasks and
commands call these; none of them saves a Lead itself.

Rules kept here:
* phones are stored in E.164 (DESIGN.md decision 10) with the extension apart;
* one live lead per email (seed 001), one live lead per phone per agent (seed 004);
* a new (or changed) E.164 phone that another live lead has is refused with the match named
  (:class:`PossibleDuplicate`, 409, as contacts) unless the caller says ``allow_duplicate``;
  a match whose agent differs from this lead's (both set) is another calling queue, not a warning;
* every status change writes a ``status_change`` timeline entry with from, to and who;
* a new interaction moves ``last_interaction_at`` forward;
* deleting is soft (seed 004, DESIGN.md decision 9); purging is explicit;
* creation, status changes and (re)assignment are published as events (crm.events).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from contacts import services as contact_services
from contacts.models import Company, Contact
from crm.errors import DuplicateRecord, ServiceError
from crm.events import publish
from crm.models import Interaction, User
from crm.phones import InvalidPhoneNumber, normalize_phone
from leads import listcache, order_buckets
from leads.models import Lead, LeadOrderCount, LeadStageCount, LeadStageDayCount, LeadStageMonthCount

# Fields a caller may set directly through lead_create / lead_update.
PLAIN_FIELDS = (
    "first_name", "last_name", "email", "company", "job_title", "source", "score", "value",
    "owner", "agent_id", "custom_fields", "ai_summary", "schedule_at", "attempts_count",
    "call_status", "disposition",
)

#: Checks an ``agent_id`` must pass before a lead gets it; each raises ServiceError (field
#: ``agent_id``). Apps to the right register theirs in ``AppConfig.ready`` (calling: the agent
#: exists and is active), so leads never imports them.
AGENT_CHECKS: list[Callable[[object], None]] = []


def _check_agent(agent_id) -> None:
    for check in AGENT_CHECKS:
        check(agent_id)


def split_name(name: str) -> tuple[str, str]:
    """``"Alice van Dyke"`` -> ``("Alice", "van Dyke")`` (DESIGN.md decision 4)."""
    parts = (name or "").strip().split(None, 1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) > 1 else ""


def _apply_phone(lead: Lead, raw: str, region: str | None) -> None:
    if not raw:
        lead.phone, lead.phone_extension, lead.phone_verified = "", "", False
        return
    try:
        parsed = normalize_phone(raw, region)
    except InvalidPhoneNumber as exc:
        raise ServiceError(str(exc), code="invalid_phone", field="phone") from None
    lead.phone, lead.phone_extension, lead.phone_verified = parsed.e164, parsed.extension, parsed.verified


def _check_duplicates(lead: Lead) -> None:
    """Refuse a second live lead with the same email, or the same phone for the same agent.

    The phone rule has no unique index (MySQL has no partial ones), so the matching rows are
    locked first: a concurrent insert of the same phone/agent waits on the lock. A deleted lead
    duplicates nothing (restoring it checks again).
    """
    if lead.deleted_at is not None:
        return
    live = Lead.objects.live().exclude(pk=lead.pk)
    if lead.live_email:
        other = live.filter(live_email=lead.live_email).only("id", "first_name", "last_name").first()
        if other:
            raise DuplicateRecord(
                f"A lead with this email already exists: {other.name} ({other.pk})",
                code="duplicate_lead", field="email", extra={"existing_id": str(other.pk)},
            )
    if lead.phone and lead.agent_id:
        other = (
            live.select_for_update().filter(agent_id=lead.agent_id, phone=lead.phone)
            .only("id", "first_name", "last_name").first()
        )
        if other:
            raise DuplicateRecord(
                "Lead with this phone number already exists for this agent",
                code="duplicate_lead", field="phone", extra={"existing_id": str(other.pk)},
            )


class PossibleDuplicate(DuplicateRecord):
    """A live lead already has this E.164 phone. Answered 409 with ``existing``
    (``{id, name, email, phone}``) and ``existing_id``; resend with ``allow_duplicate``
    (the contacts' shape, ``contacts.services.PossibleDuplicate``)."""

    status_code = 409
    default_code = "duplicate_lead"


def _check_phone_match(lead: Lead) -> None:
    """Raise :class:`PossibleDuplicate` if another live lead has ``lead.phone`` (E.164).

    Leads of another agent (both with an agent, different ones) are exempt: seed 004 lets one
    number sit in several agents' queues. Same phone and same agent is :func:`_check_duplicates`'
    hard rule, checked first. Reads the ``lead_phone`` index: only the rows with this number.
    """
    if not lead.phone or lead.deleted_at is not None:
        return
    matches = Lead.objects.live().filter(phone=lead.phone).exclude(pk=lead.pk)
    if lead.agent_id:
        matches = matches.filter(Q(agent_id__isnull=True) | Q(agent_id=lead.agent_id))
    other = matches.only("id", "first_name", "last_name", "email", "phone").order_by("created_at", "id").first()
    if other:
        raise PossibleDuplicate(
            f"A lead with this phone ({other.phone}) already exists: {other.name} ({other.pk}). "
            "Send allow_duplicate: true to create it anyway.",
            field="phone",
            extra={"existing_id": str(other.pk), "existing": {
                "id": str(other.pk), "name": other.name, "email": other.email or None, "phone": other.phone}},
        )


def lead_check_duplicates(*, lead: Lead) -> None:
    """Raise DuplicateRecord if ``lead`` (saved or not; ``live_email`` synced, phone in E.164)
    would duplicate a live lead. For forms that show the error on its field before they call
    :func:`lead_create` or :func:`lead_update`, which check again. Call inside a transaction."""
    _check_duplicates(lead)


def _check_owner(user: User | None, owner: User | None) -> None:
    """A sales user may assign a lead only to themselves or leave it unassigned (decision 8)."""
    if user is None or not user.is_authenticated or user.sees_all or owner is None:
        return
    if owner.pk != user.pk:
        raise ServiceError("Sales users can assign leads only to themselves.", code="forbidden_owner",
                           field="owner_id")


def assignable_owners(user: User):
    """Users ``user`` may make the owner of a lead (decision 8: sales users only themselves),
    active ones, ordered by name: the owner choices of every form."""
    owners = User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")
    if user is None or not user.is_authenticated:
        return owners.none()
    return owners if user.sees_all else owners.filter(pk=user.pk)


def lead_check_owner(*, user: User | None, owner: User | None) -> None:
    """Raise ServiceError if ``user`` may not assign a lead to ``owner`` (for forms that show
    it on the field before calling :func:`lead_create`/:func:`lead_update`, which check again)."""
    _check_owner(user, owner)


def _save(lead: Lead) -> None:
    try:
        with transaction.atomic():
            lead.save()
    except IntegrityError:
        # Lost a race on the live-email unique index.
        _check_duplicates(lead)
        raise


def created_day(moment: datetime) -> date:
    """The UTC calendar day of ``moment``: the bucket :class:`LeadStageDayCount` counts it in."""
    if timezone.is_aware(moment):
        moment = moment.astimezone(UTC)
    return moment.date()


_CURRENT = object()


def stage_key(lead: Lead, *, owner_id=_CURRENT, status: str | None = None) -> tuple:
    """``(owner_id, status, created day)`` of ``lead`` for :func:`stage_counts_bump`; pass
    ``owner_id`` (None = unassigned) or ``status`` to name the lead's previous ones instead."""
    owner = lead.owner_id if owner_id is _CURRENT else owner_id
    return (owner, status or lead.status, created_day(lead.created_at))


def _add_to_count(model, key: dict, delta: int) -> None:
    if model.objects.filter(**key).update(n=F("n") + delta):
        return
    try:
        with transaction.atomic():
            model.objects.create(n=delta, **key)
    except IntegrityError:  # created concurrently: add to it
        model.objects.filter(**key).update(n=F("n") + delta)


def stage_counts_bump(deltas: dict[tuple[int | None, str, date], int]) -> None:
    """Apply ``{(owner_id or None, status, created day): +/-n}`` (see :func:`stage_key`) to the
    lead rollups: :class:`LeadStageCount` per (owner, status), :class:`LeadStageMonthCount` per
    (owner, status, month) and :class:`LeadStageDayCount` per (owner, status, day).

    Call inside the transaction that changes the leads, so counts and rows commit together.
    Keys are sorted so concurrent writers lock counter rows in the same order (no deadlock).
    Also invalidates cached lead lists: the CSV import's raw INSERTs come through here.
    """
    listcache.bump()
    per_stage: dict[tuple[int, str], int] = {}
    per_month: dict[tuple[int, str, date], int] = {}
    per_day: dict[tuple[int, str, date], int] = {}
    for (owner_id, status, day), delta in deltas.items():
        owner_id, month = owner_id or 0, day.replace(day=1)
        per_stage[owner_id, status] = per_stage.get((owner_id, status), 0) + delta
        per_month[owner_id, status, month] = per_month.get((owner_id, status, month), 0) + delta
        per_day[owner_id, status, day] = per_day.get((owner_id, status, day), 0) + delta
    for (owner_id, status), delta in sorted(per_stage.items()):
        if delta:
            _add_to_count(LeadStageCount, {"owner_id": owner_id, "status": status}, delta)
    for (owner_id, status, month), delta in sorted(per_month.items()):
        if delta:
            _add_to_count(LeadStageMonthCount, {"owner_id": owner_id, "status": status, "month": month}, delta)
    for (owner_id, status, day), delta in sorted(per_day.items()):
        if delta:
            _add_to_count(LeadStageDayCount, {"owner_id": owner_id, "status": status, "day": day}, delta)


def _bump(lead: Lead, delta: int) -> None:
    stage_counts_bump({stage_key(lead): delta})


def stage_counts_rebuild() -> int:
    """Recompute the lead rollups (:class:`LeadStageCount`, :class:`LeadStageMonthCount`,
    :class:`LeadStageDayCount` with one GROUP BY, then the list orderings' bucket counts,
    :class:`LeadOrderCount`, in primary-key chunks); returns the live leads counted.

    For data written outside the services (bulk loads, benchmark seeding) and as a nightly
    reconciliation.
    """
    total = _stage_counts_rebuild()
    order_buckets.rebuild_order_counts(Lead, LeadOrderCount)
    listcache.bump()
    return total


@transaction.atomic
def _stage_counts_rebuild() -> int:
    rows = list(Lead.objects.live().order_by()
                .values("owner_id", "status", day=TruncDate("created_at", tzinfo=UTC))
                .annotate(c=Count("pk")))
    per_stage: dict[tuple[int, str], int] = {}
    per_month: dict[tuple[int, str, date], int] = {}
    for row in rows:
        key = (row["owner_id"] or 0, row["status"])
        per_stage[key] = per_stage.get(key, 0) + row["c"]
        month = (*key, row["day"].replace(day=1))
        per_month[month] = per_month.get(month, 0) + row["c"]
    LeadStageCount.objects.all().delete()
    LeadStageMonthCount.objects.all().delete()
    LeadStageDayCount.objects.all().delete()
    LeadStageCount.objects.bulk_create(
        LeadStageCount(owner_id=owner_id, status=status, n=n) for (owner_id, status), n in per_stage.items()
    )
    LeadStageMonthCount.objects.bulk_create(
        (LeadStageMonthCount(owner_id=owner_id, status=status, month=month, n=n)
         for (owner_id, status, month), n in per_month.items()), batch_size=2000,
    )
    LeadStageDayCount.objects.bulk_create(
        (LeadStageDayCount(owner_id=row["owner_id"] or 0, status=row["status"], day=row["day"], n=row["c"])
         for row in rows), batch_size=2000,
    )
    return sum(per_stage.values())


def _record(lead: Lead, *, kind: str, user: User | None, subject: str = "", body: str = "",
            direction: str = "", occurred_at: datetime | None = None, metadata: dict | None = None
            ) -> Interaction:
    return Interaction.objects.create(
        lead=lead, kind=kind, user=user if user and user.is_authenticated else None,
        subject=subject, body=body, direction=direction,
        occurred_at=occurred_at or timezone.now(), metadata=metadata or {},
    )


def lead_event_data(lead: Lead, **extra) -> dict:
    """The JSON-ready lead facts every ``lead.*`` event carries (crm.events.EVENTS), plus ``extra``."""
    return {
        "id": str(lead.pk), "name": lead.name, "email": lead.email, "phone": lead.phone,
        "company": lead.company, "status": lead.status, "source": lead.source,
        "value": str(lead.value), "owner_id": lead.owner_id,
        "created_at": lead.created_at.isoformat(), **extra,
    }


def _publish_assigned(lead: Lead, previous_owner_id: int | None, user: User | None) -> None:
    by = user.pk if user is not None and user.is_authenticated else None
    publish("lead.assigned", lead_event_data(lead, previous_owner_id=previous_owner_id, by_user_id=by))


@transaction.atomic
def lead_create(*, user: User | None, name: str | None = None, phone: str | None = None,
                status: str = Lead.Status.NEW, region: str | None = None, allow_duplicate: bool = False,
                **fields) -> Lead:
    """Create a lead and a ``lead_created`` timeline entry; returns the saved Lead.

    ``name`` splits into first/last name when those are not given; ``phone`` is any notation
    (stored E.164); other keywords are :data:`PLAIN_FIELDS`. ``schedule_at`` defaults to now
    when an agent is set (seed 004). Raises ServiceError (bad phone, no name),
    DuplicateRecord (400: email, or phone for the same agent) or :class:`PossibleDuplicate`
    (409: another live lead has the phone) unless ``allow_duplicate``.
    """
    unknown = set(fields) - set(PLAIN_FIELDS)
    if unknown:
        raise TypeError(f"lead_create() got unexpected fields: {sorted(unknown)}")
    if name and not fields.get("first_name"):
        fields["first_name"], last = split_name(name)
        fields.setdefault("last_name", last)
    if not (fields.get("first_name") or "").strip():
        raise ServiceError("A lead needs a name.", code="name_required", field="first_name")
    if "owner" not in fields and user is not None and user.is_authenticated:
        fields["owner"] = user  # what you type in is yours unless you say otherwise
    _check_owner(user, fields.get("owner"))
    lead = Lead(status=status, **fields)
    if lead.agent_id:
        _check_agent(lead.agent_id)
    if lead.agent_id and lead.schedule_at is None:
        lead.schedule_at = timezone.now()
    _apply_phone(lead, phone or "", region)
    lead.sync_live_email()
    _check_duplicates(lead)
    if not allow_duplicate:
        _check_phone_match(lead)
    _save(lead)
    _bump(lead, +1)
    _record(lead, kind=Interaction.Kind.LEAD_CREATED, user=user,
            subject="Lead created", metadata={"status": lead.status, "source": lead.source})
    publish("lead.created", lead_event_data(lead))
    if lead.owner_id is not None:
        _publish_assigned(lead, None, user)
    return lead


@transaction.atomic
def lead_update(*, lead: Lead, user: User | None, name: str | None = None, phone: str | None = None,
                status: str | None = None, region: str | None = None, allow_duplicate: bool = False,
                **fields) -> Lead:
    """Change the given fields (PUT and PATCH alike: absent keys stay as they are).

    A ``status`` different from the current one goes through :func:`lead_change_status`. A new
    phone is checked against the other live leads unless ``allow_duplicate`` (an unchanged one,
    or a new agent, is not). Raises as :func:`lead_create`.
    """
    unknown = set(fields) - set(PLAIN_FIELDS)
    if unknown:
        raise TypeError(f"lead_update() got unexpected fields: {sorted(unknown)}")
    if "owner" in fields:
        _check_owner(user, fields["owner"])
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    previous_owner, previous_phone = lead.owner_id, lead.phone
    if fields.get("agent_id") and fields["agent_id"] != lead.agent_id:
        _check_agent(fields["agent_id"])
    if name is not None and "first_name" not in fields:
        fields["first_name"], fields["last_name"] = split_name(name)
    for key, value in fields.items():
        setattr(lead, key, value)
    if "first_name" in fields and not (lead.first_name or "").strip():
        raise ServiceError("A lead needs a name.", code="name_required", field="first_name")
    if phone is not None:
        _apply_phone(lead, phone, region)
    lead.sync_live_email()
    if {"email", "agent_id"} & set(fields) or phone is not None:
        _check_duplicates(lead)
    if not allow_duplicate and lead.phone != previous_phone:
        _check_phone_match(lead)
    _save(lead)
    if lead.owner_id != previous_owner and lead.deleted_at is None:
        stage_counts_bump({stage_key(lead, owner_id=previous_owner): -1, stage_key(lead): +1})
        if lead.owner_id is not None:
            _publish_assigned(lead, previous_owner, user)
    if status is not None and status != lead.status:
        lead = lead_change_status(lead=lead, status=status, user=user)
    return lead


@transaction.atomic
def lead_change_status(*, lead: Lead, status: str, user: User | None) -> Lead:
    """Move a lead to pipeline ``status`` and write a ``status_change`` entry (from, to, who).

    The same status again is a no-op. Raises ServiceError for an unknown status.
    """
    if status not in Lead.Status.values:
        raise ServiceError(
            f'"{status}" is not a valid status. Choose one of: {", ".join(Lead.Status.values)}.',
            code="invalid_status", field="status",
        )
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.status == status:
        return lead
    now = timezone.now()
    previous = lead.status
    lead.status, lead.status_changed_at = status, now
    lead.save(update_fields=["status", "status_changed_at"])
    if lead.deleted_at is None:
        stage_counts_bump({stage_key(lead, status=previous): -1, stage_key(lead): +1})
    who = user.full_name if user and user.is_authenticated else "system"
    _record(lead, kind=Interaction.Kind.STATUS_CHANGE, user=user, occurred_at=now,
            body=f"{Lead.Status(previous).label} → {Lead.Status(status).label} by {who}",
            metadata={"from": previous, "to": status, "by": who})
    publish("lead.status_changed", lead_event_data(lead, from_status=previous, to_status=status))
    return lead


@transaction.atomic
def lead_add_interaction(*, lead: Lead, user: User | None, kind: str, body: str = "", subject: str = "",
                         direction: str = "", occurred_at: datetime | None = None,
                         metadata: dict | None = None) -> Interaction:
    """Add a timeline entry to ``lead`` and move ``last_interaction_at`` forward to it.

    ``kind`` is one of :class:`crm.models.Interaction.Kind` (status changes go through
    :func:`lead_change_status`). Raises ServiceError for an unknown kind.
    """
    if kind not in Interaction.Kind.values or kind == Interaction.Kind.STATUS_CHANGE:
        allowed = [k for k in Interaction.Kind.values if k != Interaction.Kind.STATUS_CHANGE]
        raise ServiceError(f'"{kind}" is not a valid type. Choose one of: {", ".join(allowed)}.',
                           code="invalid_type", field="type")
    entry = _record(lead, kind=kind, user=user, subject=subject, body=body, direction=direction,
                    occurred_at=occurred_at, metadata=metadata)
    # One UPDATE that only ever moves the timestamp forward, whatever order entries arrive in.
    Lead.objects.filter(pk=lead.pk).filter(
        Q(last_interaction_at__isnull=True) | Q(last_interaction_at__lt=entry.occurred_at)
    ).update(last_interaction_at=entry.occurred_at, updated_at=timezone.now())
    return entry


@transaction.atomic
def interaction_update(*, entry: Interaction, user: User | None, **fields) -> Interaction:
    """Edit a timeline entry's kind, subject, body, direction or time (seed 002's PUT /actions)."""
    kind = fields.get("kind")
    if kind is not None and (kind not in Interaction.Kind.values or kind == Interaction.Kind.STATUS_CHANGE):
        raise ServiceError(f'"{kind}" is not a valid type.', code="invalid_type", field="action_type")
    if entry.kind == Interaction.Kind.STATUS_CHANGE:
        raise ServiceError("Status changes are history and cannot be edited.", code="read_only")
    for key in ("kind", "subject", "body", "direction", "occurred_at"):
        if key in fields:
            setattr(entry, key, fields[key])
    entry.save()
    return entry


@transaction.atomic
def interaction_delete(*, entry: Interaction, user: User | None) -> None:
    """Remove a timeline entry (seed 002's DELETE /actions); status changes stay."""
    if entry.kind == Interaction.Kind.STATUS_CHANGE:
        raise ServiceError("Status changes are history and cannot be deleted.", code="read_only")
    entry.delete()


@transaction.atomic
def lead_delete(*, lead: Lead, user: User | None) -> None:
    """Soft-delete: the lead leaves lists and counts but stays restorable (seed 004)."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.deleted_at is not None:
        return
    lead.deleted_at = timezone.now()
    lead.save(update_fields=["deleted_at"])
    _bump(lead, -1)


@transaction.atomic
def lead_restore(*, lead: Lead, user: User | None) -> Lead:
    """Bring a soft-deleted lead back, unless a live lead has taken its email meanwhile."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.deleted_at is None:
        return lead
    lead.deleted_at = None
    lead.sync_live_email()
    _check_duplicates(lead)
    _save(lead)
    _bump(lead, +1)
    return lead


def lead_purge(*, older_than: timedelta) -> int:
    """Delete for good the leads soft-deleted more than ``older_than`` ago; returns how many."""
    cutoff = timezone.now() - older_than
    total = 0
    while True:
        ids = list(Lead.objects.filter(deleted_at__lt=cutoff).values_list("pk", flat=True)[:1000])
        if not ids:
            return total
        with transaction.atomic():
            Interaction.objects.filter(lead_id__in=ids).delete()
            total += Lead.objects.filter(pk__in=ids)._raw_delete(Lead.objects.db)


@dataclass(frozen=True)
class StatusSpan:
    """Time a lead spent in one pipeline status: ``seconds`` summed over every visit."""

    status: str
    label: str
    seconds: float
    current: bool

    @property
    def human(self) -> str:
        minutes = int(self.seconds // 60)
        days, rem = divmod(minutes, 60 * 24)
        hours, mins = divmod(rem, 60)
        if days:
            return f"{days}d {hours}h"
        if hours:
            return f"{hours}h {mins}m"
        return f"{mins}m"


def lead_status_durations(lead: Lead, changes: Iterable[Interaction] | None = None,
                          now: datetime | None = None) -> list[StatusSpan]:
    """Time spent in each status, derived from the ``status_change`` entries (one query).

    The lead starts in the first change's ``from`` status (or its current one) at ``created_at``.
    Returns spans in pipeline order, only for statuses it has been in.
    """
    now = now or timezone.now()
    if changes is None:
        changes = lead.interactions.filter(kind=Interaction.Kind.STATUS_CHANGE).order_by("occurred_at", "id")
    changes = list(changes)
    totals: dict[str, float] = {}
    status = changes[0].metadata.get("from", lead.status) if changes else lead.status
    since = lead.created_at
    for change in changes:
        totals[status] = totals.get(status, 0.0) + max((change.occurred_at - since).total_seconds(), 0.0)
        status, since = change.metadata.get("to", status), change.occurred_at
    totals[lead.status] = totals.get(lead.status, 0.0) + max((now - since).total_seconds(), 0.0)
    return [
        StatusSpan(s, Lead.Status(s).label, totals[s], s == lead.status)
        for s in Lead.Status.values if s in totals
    ]


# --- lead conversion and the shared timeline (issue 3) ---------------------------------------------


class AlreadyConverted(ServiceError):
    """The lead was converted before; answered 409 naming the contact (``contact_id``)."""

    status_code = 409
    default_code = "lead_already_converted"


@dataclass(frozen=True)
class Conversion:
    """What :func:`lead_convert` did: the contact (new, or the live one with the lead's
    email), the company linked (or None) and whether each was created."""

    lead: Lead
    contact: Contact
    company: Company | None
    contact_created: bool
    company_created: bool


_CONVERTED_STATUS = {"closed": "customer", "qualified": "qualified", "proposal": "qualified"}


@transaction.atomic
def lead_convert(*, lead: Lead, user: User | None) -> Conversion:
    """Turn ``lead`` into a contact (issue 3), through ``contacts.services``.

    The company comes from the lead's company name or email domain: an existing live company
    is matched (by domain, then by name case-insensitively; free-mail domains such as
    gmail.com are no company's) or else created. A live contact that already has the lead's
    email is reused instead of duplicated; otherwise a contact is created with the lead's
    name, email, phone, title, owner and the company (linked with the job title as role).
    The lead's timeline entries are linked to the contact so the history shows on both sides,
    a note records the conversion, ``converted_contact``/``converted_at`` are set and
    ``lead.converted`` is published. Raises :class:`AlreadyConverted` (409) the second time.
    """
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.converted_contact_id is not None:
        contact = Contact.objects.filter(pk=lead.converted_contact_id).only("id", "first_name", "last_name").first()
        name = contact.name if contact else "a contact"
        raise AlreadyConverted(
            f"This lead was already converted to {name} on {lead.converted_at:%Y-%m-%d}.",
            extra={"contact_id": str(lead.converted_contact_id)},
        )
    company, company_created = contact_services.company_find_or_create(
        user=user, name=lead.company, email=lead.email, owner=lead.owner)
    contact = (Contact.objects.live().filter(email=lead.email.strip().lower()).order_by("created_at", "id").first()
               if lead.email else None)
    contact_created = contact is None
    if contact is None:
        contact = contact_services.contact_create(
            user=None, allow_duplicate=True, first_name=lead.first_name, last_name=lead.last_name,
            email=lead.email, phone=(f"{lead.phone} x{lead.phone_extension}" if lead.phone_extension else lead.phone),
            job_title=lead.job_title, owner_id=lead.owner, status=_CONVERTED_STATUS.get(lead.status, "active"),
            notes=lead.ai_summary, primary_company_id=company,
        )
    if company is not None:
        contact_services.contact_link_company(contact=contact, company=company, user=user, role=lead.job_title or None)
    now = timezone.now()
    Lead.objects.filter(pk=lead.pk).update(converted_contact=contact, converted_at=now)
    lead.converted_contact, lead.converted_at = contact, now
    Interaction.objects.filter(lead=lead, contact__isnull=True).update(contact=contact)
    contact_services.interaction_add(
        user=user, kind=Interaction.Kind.NOTE, lead=lead, contact=contact, company=company,
        subject="Converted to contact",
        body=f"{lead.name} became contact {contact.name}" + (f" at {company.name}" if company else "") + ".",
        metadata={"event": "lead_converted", "contact_id": str(contact.pk),
                  "company_id": str(company.pk) if company else None},
    )
    contact_services.contact_refresh_last_contacted(contact=contact)
    publish("lead.converted", lead_event_data(lead, contact_id=str(contact.pk),
                                              company_id=str(company.pk) if company else None))
    return Conversion(lead, contact, company, contact_created, company_created)


@transaction.atomic
def interaction_add(*, user: User | None, kind: str, lead: Lead | None = None, contact: Contact | None = None,
                    company: Company | None = None, **entry) -> Interaction:
    """One timeline entry on a lead, a contact and/or a company (seed 003's body with
    ``lead_id``/``contact_id``/``company_id``): a lead's goes through :func:`lead_add_interaction`
    (which moves ``last_interaction_at``), then shows on the contact and company too, whose
    ``last_contacted`` rule lives in ``contacts.services``. The caller checks that ``user``
    may see each record. Raises ServiceError (``invalid_type``, ``target_required``)."""
    if lead is None:
        return contact_services.interaction_add(user=user, kind=kind, contact=contact, company=company, **entry)
    created = lead_add_interaction(lead=lead, user=user, kind=kind, **entry)
    contact_services.interaction_link(entry=created, contact=contact, company=company)
    return created
