"""AI calling agents, their business hours, and the calls they place (seed 004).

An :class:`Agent` calls leads whose ``agent_id`` is its id (``leads.Lead.agent_id`` is a plain
UUID column: leads never import calling). A :class:`Call` is one attempt on one lead; its
``idempotency_key`` (``"<lead id>:<attempt>"``) is unique, so no attempt is ever placed twice.
:class:`CallWebhookEvent` remembers every provider webhook applied, so a repeat is applied once.

Call ``status`` flow: ``queued`` (claimed, not yet handed over) → ``ringing`` (handed to the
provider) → ``in_progress`` (the provider says it connected) → ``completed`` (ended; ``outcome``
says how) or ``failed`` (the provider refused it, or it never reported back in time).
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import models
from django.utils import timezone

from crm.ids import uuid7

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


def parse_hhmm(text: str) -> dt.time | None:
    """``"09:30"`` -> ``time(9, 30)``; ``"24:00"`` -> ``None`` (end of day). Raises ValueError."""
    if not isinstance(text, str) or not _HHMM.match(text):
        raise ValueError(f"{text!r} is not a time as HH:MM (00:00-24:00).")
    if text == "24:00":
        return None
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def default_business_hours() -> dict:
    """Monday to Friday, 09:00-17:00."""
    return {day: [["09:00", "17:00"]] for day in WEEKDAYS[:5]}


class Agent(models.Model):
    """An AI calling agent (seed 004's ``agent_id``).

    ``time_zone`` is an IANA name (``Europe/Berlin``); ``business_hours`` maps weekday keys
    (``mon`` … ``sun``) to lists of ``["HH:MM", "HH:MM"]`` windows in that zone, start
    inclusive, end exclusive, ``"24:00"`` allowed as an end; a missing or empty day is closed.
    ``provider`` names a module of :mod:`calling.providers` (``simulated``, ``vapi``,
    ``retell``); ``assistant_id`` is the provider's assistant/agent id and ``caller_number``
    the E.164 number calls come from (``phone_number_id`` for providers that want their own id
    of that number, like Vapi). Writes go through :mod:`calling.services`.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(max_length=120)
    active = models.BooleanField(default=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    business_hours = models.JSONField(default=default_business_hours, blank=True)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    retry_delay_minutes = models.PositiveIntegerField(default=60)
    # No choices: the provider registry decides what is valid, so a new provider is one module.
    provider = models.CharField(max_length=32, default="simulated")
    assistant_id = models.CharField(max_length=128, blank=True, default="")
    caller_number = models.CharField(max_length=20, blank=True, default="")
    phone_number_id = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["active", "name"], name="agent_active_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    def windows_on(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The business-hours windows of local date ``day`` as aware UTC ``(start, end)`` pairs.

        Wall-clock times go through zoneinfo: across a DST change a window keeps its local
        hours (09:00-17:00 stays 09:00-17:00 local), a start inside the spring-forward gap
        begins at the first valid instant after it, an ambiguous autumn time is its first
        occurrence.
        """
        zone = self.zone
        result = []
        for start_s, end_s in (self.business_hours or {}).get(WEEKDAYS[day.weekday()], []) or []:
            start_t, end_t = parse_hhmm(start_s), parse_hhmm(end_s)
            start = dt.datetime.combine(day, start_t or dt.time(0), tzinfo=zone)
            if end_t is None:
                end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
            else:
                end = dt.datetime.combine(day, end_t, tzinfo=zone)
            start_utc, end_utc = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
            if end_utc > start_utc:
                result.append((start_utc, end_utc))
        return sorted(result)

    def is_open(self, at: dt.datetime | None = None) -> bool:
        """True when ``at`` (default now) falls inside a business-hours window in the agent's zone."""
        at = at or timezone.now()
        local_day = at.astimezone(self.zone).date()
        # A window of yesterday ending at 24:00 ends today; check both days to be safe.
        for day in (local_day - dt.timedelta(days=1), local_day):
            for start, end in self.windows_on(day):
                if start <= at < end:
                    return True
        return False

    def next_open(self, after: dt.datetime) -> dt.datetime | None:
        """The first instant at or after ``after`` inside business hours (``after`` itself when
        open); ``None`` when the agent has no window in the coming 8 days."""
        local_day = after.astimezone(self.zone).date()
        for offset in range(-1, 9):
            for start, end in self.windows_on(local_day + dt.timedelta(days=offset)):
                if after < end:
                    return max(after, start)
        return None


class CallQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Calls of live leads ``user`` may read (DESIGN.md decision 8, as leads)."""
        qs = self.filter(lead__deleted_at__isnull=True)
        if user is None or not user.is_authenticated:
            return qs.none()
        if user.sees_all:
            return qs
        return qs.filter(models.Q(lead__owner=user) | models.Q(lead__owner__isnull=True))

    def with_list_related(self):
        """Calls with their lead and agent in the same query."""
        return self.select_related("lead", "agent")

    def open(self):
        """Calls not yet ended or failed."""
        return self.filter(status__in=Call.OPEN_STATUSES)


class Call(models.Model):
    """One call attempt of an agent to a lead (seed 004's call history row).

    ``outcome`` is blank until the call ends; ``duration_seconds`` counts talk time;
    ``transcript`` is the text (``transcript_url`` a provider link when it gives one);
    ``attempt`` is 1-based; ``idempotency_key`` = ``"<lead id>:<attempt>"`` (unique, also sent
    to the provider as metadata).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RINGING = "ringing", "Ringing"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    class Outcome(models.TextChoices):
        ANSWERED = "answered", "Answered"
        NO_ANSWER = "no_answer", "No answer"
        BUSY = "busy", "Busy"
        FAILED = "failed", "Failed"

    class Disposition(models.TextChoices):
        COMPLETED = "completed", "Completed"
        NO_ANSWER = "no_answer", "No answer"
        NOT_INTERESTED = "not_interested", "Not interested"
        HUNG_UP = "hung_up", "Hung up"

    OPEN_STATUSES = (Status.QUEUED, Status.RINGING, Status.IN_PROGRESS)

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # No database constraint: leads' purge removes rows with a raw DELETE it cannot extend to
    # this table; the history joins leads, so calls of a purged lead simply drop out of it.
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="calls", db_constraint=False)
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="calls")
    provider = models.CharField(max_length=32)
    provider_call_id = models.CharField(max_length=128, null=True, blank=True, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True, default="")
    disposition = models.CharField(max_length=16, choices=Disposition.choices, blank=True, default="")
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    idempotency_key = models.CharField(max_length=80, unique=True)
    to_number = models.CharField(max_length=20, blank=True, default="")
    summary = models.TextField(blank=True, default="")
    transcript = models.TextField(blank=True, default="")
    transcript_url = models.URLField(max_length=500, blank=True, default="")
    recording_url = models.URLField(max_length=500, blank=True, default="")
    ended_reason = models.CharField(max_length=120, blank=True, default="")
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CallQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # History and metrics filter by date range, agent and outcome; each leads with
            # the filter and ends with created_at so the range and the order use the index.
            models.Index(fields=["created_at", "id"], name="call_created"),
            models.Index(fields=["agent", "created_at"], name="call_agent_created"),
            models.Index(fields=["outcome", "created_at"], name="call_outcome_created"),
            models.Index(fields=["lead", "created_at"], name="call_lead_created"),
            # The timeout sweep: open calls older than the timeout.
            models.Index(fields=["status", "created_at"], name="call_status_created"),
        ]

    def __str__(self) -> str:
        return f"Call {self.pk} ({self.status}{', ' + self.outcome if self.outcome else ''})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class CallWebhookEvent(models.Model):
    """A provider webhook applied once: ``dedupe_key`` is the provider's event identity
    (Vapi ``call.id + message.type``, Retell ``call_id + event``; integrations.md)."""

    id = models.BigAutoField(primary_key=True)
    provider = models.CharField(max_length=32)
    dedupe_key = models.CharField(max_length=200)
    call = models.ForeignKey(Call, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    kind = models.CharField(max_length=20, blank=True, default="")
    payload = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "dedupe_key"], name="callevent_once")]

    def __str__(self) -> str:
        return f"{self.provider} {self.dedupe_key}"


def call_timeout() -> dt.timedelta:
    """How long a call may stay open before it counts as failed (``CALL_TIMEOUT_MINUTES``)."""
    return dt.timedelta(minutes=settings.CALL_TIMEOUT_MINUTES)
