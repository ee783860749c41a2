"""Tasks (seed 001's ``Task``) and follow-up processes (seed 002's ``processes``).

A task's due date is ``due_at`` plus ``due_all_day``: a date-only due date ("2026-11-30") is
stored as that day's midnight in ``settings.TIME_ZONE`` with ``due_all_day`` set, and
``overdue_at`` (kept by ``save()``) is when it becomes overdue: ``due_at`` for a timed task, the
next midnight for an all-day one. ``priority_rank`` (3 high, 2 medium, 1 low) makes "high first"
an indexed ordering instead of an alphabetical one.
"""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from contacts.models import Contact
from crm.ids import uuid7
from leads.models import Lead


def visible_contacts(user):
    """Live contacts ``user`` may read (DESIGN.md decision 8: managers/admins all, sales their
    own and unassigned ones). Uses ``Contact.objects.visible_to`` once the contacts app has it."""
    manager = Contact.objects
    if hasattr(manager, "visible_to"):
        return manager.visible_to(user)
    qs = manager.live()
    if user is None or not user.is_authenticated:
        return qs.none()
    if user.sees_all:
        return qs
    return qs.filter(Q(owner=user) | Q(owner__isnull=True))


class TaskQuerySet(models.QuerySet):
    """Read fragments only (STYLE.md 3)."""

    def visible_to(self, user):
        """Tasks ``user`` may read and change: all for managers/admins; for sales, the tasks
        assigned to or created by them plus those on leads and contacts they can see."""
        if user is None or not user.is_authenticated:
            return self.none()
        if user.sees_all:
            return self
        return self.filter(
            Q(assignee=user) | Q(created_by=user)
            | Q(lead_id__in=Lead.objects.visible_to(user).values("pk"))
            | Q(contact_id__in=visible_contacts(user).values("pk"))
        )

    def with_list_related(self):
        """Tasks with assignee, creator and related record in the same query."""
        return self.select_related("assignee", "created_by", "lead", "contact", "campaign")

    def open(self):
        return self.filter(completed=False)

    def overdue(self, now: dt.datetime | None = None):
        """Open tasks past their due moment (``overdue_at`` < now)."""
        return self.filter(completed=False, overdue_at__lte=now or timezone.now())

    def in_order(self):
        """Default list order: soonest due first (no due date last), then high priority first."""
        return self.order_by(models.F("due_at").asc(nulls_last=True), "-priority_rank", "-created_at", "-id")


class Task(models.Model):
    """An action item for a user, optionally about a lead, a contact or a campaign (at most one).

    ``process`` and ``source_key`` are set on tasks a follow-up process generated: the unique
    ``source_key`` (``followup:<process id>:<due moment>``) makes generation idempotent.
    ``due_notified_at``/``overdue_notified_at`` record that the reminders went out.
    """

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    PRIORITY_RANK = {Priority.LOW: 1, Priority.MEDIUM: 2, Priority.HIGH: 3}

    class RelatedType(models.TextChoices):
        LEAD = "lead", "Lead"
        CONTACT = "contact", "Contact"
        CAMPAIGN = "campaign", "Campaign"
        GENERAL = "general", "General"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    due_at = models.DateTimeField(null=True, blank=True)
    due_all_day = models.BooleanField(default=False)
    overdue_at = models.DateTimeField(null=True, blank=True, editable=False)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.MEDIUM)
    priority_rank = models.PositiveSmallIntegerField(default=2, editable=False)
    completed = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks")
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    process = models.ForeignKey(
        "tasks.Process", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    source_key = models.CharField(max_length=120, null=True, blank=True, unique=True, editable=False)
    due_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    overdue_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "-priority_rank", "-id"]
        indexes = [
            # "My tasks" and ?assignee=: open/completed, then by due moment.
            models.Index(fields=["assignee", "completed", "due_at"], name="task_assignee_due"),
            models.Index(fields=["created_by", "completed", "due_at"], name="task_creator_due"),
            models.Index(fields=["lead", "completed", "due_at"], name="task_lead_due"),
            models.Index(fields=["contact", "completed", "due_at"], name="task_contact_due"),
            models.Index(fields=["campaign", "completed", "due_at"], name="task_campaign_due"),
            # Lists for managers (everything), ?overdue=true, due_before/due_after.
            models.Index(fields=["completed", "due_at"], name="task_completed_due"),
            models.Index(fields=["completed", "overdue_at"], name="task_completed_overdue"),
            models.Index(fields=["completed", "priority_rank", "due_at"], name="task_priority_due"),
            models.Index(fields=["priority", "completed"], name="task_priority"),
            models.Index(fields=["created_at"], name="task_created"),
            models.Index(fields=["title"], name="task_title"),
            # The reminder scan: open tasks whose reminder has not gone out yet.
            models.Index(fields=["completed", "due_notified_at", "due_at"], name="task_due_reminder"),
            models.Index(fields=["completed", "overdue_notified_at", "overdue_at"], name="task_overdue_reminder"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(lead__isnull=True, contact__isnull=True)
                    | Q(lead__isnull=True, campaign__isnull=True)
                    | Q(contact__isnull=True, campaign__isnull=True)
                ),
                name="task_one_related_pair",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        self.priority_rank = self.PRIORITY_RANK.get(self.priority, 2)
        self.overdue_at = compute_overdue_at(self.due_at, self.due_all_day)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "priority_rank", "overdue_at", "updated_at"}
        super().save(*args, **kwargs)

    @property
    def related_to_type(self) -> str:
        """Seed 001's ``related_to_type``: ``lead``, ``contact``, ``campaign`` or ``general``."""
        if self.lead_id:
            return self.RelatedType.LEAD
        if self.contact_id:
            return self.RelatedType.CONTACT
        if self.campaign_id:
            return self.RelatedType.CAMPAIGN
        return self.RelatedType.GENERAL

    @property
    def related_to_id(self):
        return self.lead_id or self.contact_id or self.campaign_id

    @property
    def related_object(self):
        """The lead, contact or campaign (loaded by ``with_list_related``), or None."""
        if self.lead_id:
            return self.lead
        if self.contact_id:
            return self.contact
        if self.campaign_id:
            return self.campaign
        return None

    @property
    def due_date(self) -> dt.date | None:
        """The due day in ``settings.TIME_ZONE``."""
        if self.due_at is None:
            return None
        return timezone.localtime(self.due_at).date()

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        return not self.completed and self.overdue_at is not None and self.overdue_at <= (now or timezone.now())


def compute_overdue_at(due_at: dt.datetime | None, all_day: bool) -> dt.datetime | None:
    """When a task due at ``due_at`` becomes overdue: at once for a timed task, at the next
    midnight (``settings.TIME_ZONE``) for an all-day one."""
    if due_at is None:
        return None
    if not all_day:
        return due_at
    day = timezone.localtime(due_at).date() + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class ProcessQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Processes on leads ``user`` can see, plus those they created; all for managers/admins."""
        if user is None or not user.is_authenticated:
            return self.none()
        if user.sees_all:
            return self
        return self.filter(Q(created_by=user) | Q(lead_id__in=Lead.objects.visible_to(user).values("pk")))

    def with_list_related(self):
        return self.select_related("lead", "created_by")

    def due(self, now: dt.datetime | None = None):
        """Active processes whose next follow-up has come (the scheduler's work)."""
        return self.filter(status=Process.Status.ACTIVE, next_followup_at__lte=now or timezone.now())


class Process(models.Model):
    """A follow-up process on a lead (seed 002): ``name``, ``channel``, ``status``,
    ``last_action`` (the latest timeline entry logged through it; seed 002's ``last_action_id``)
    and ``next_followup_at`` (seed 002's ``next_followup_datetime``).

    While ``active``, the scheduler turns a due follow-up into a task for the lead's owner (or
    the creator when unowned); then ``next_followup_at`` moves on by ``interval_days`` or, without
    one, is cleared. ``pending`` and ``paused`` processes are never fired.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"
        SMS = "sms", "SMS"
        MEETING = "meeting", "Meeting"
        WHATSAPP = "whatsapp", "WhatsApp"
        LINKEDIN = "linkedin", "LinkedIn"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PENDING = "pending", "Pending"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(max_length=200)
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="processes")
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    last_action = models.ForeignKey(
        "crm.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    next_followup_at = models.DateTimeField(null=True, blank=True)
    interval_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Repeat the follow-up every N days; empty: once."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_fired_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProcessQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "processes"
        indexes = [
            # The scheduler's claim: active processes by next follow-up.
            models.Index(fields=["status", "next_followup_at"], name="process_status_next"),
            models.Index(fields=["lead", "status"], name="process_lead_status"),
            models.Index(fields=["created_by", "created_at"], name="process_creator"),
            models.Index(fields=["channel", "created_at"], name="process_channel"),
            models.Index(fields=["next_followup_at"], name="process_next"),
            models.Index(fields=["created_at"], name="process_created"),
        ]

    def __str__(self) -> str:
        return self.name
