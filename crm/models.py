"""Users with a role, and the one timeline every seed's interactions, activities and actions share."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone

from crm.ids import uuid7


class CRMUserManager(UserManager):
    """``createsuperuser`` (interactive or ``--noinput``) makes an ``admin``-role account."""

    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", User.Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person who logs in. ``role`` decides what they see (DESIGN.md decision 8):
    ``sales`` sees leads they own and unassigned ones; ``manager`` and ``admin`` see all."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        MANAGER = "manager", "Manager"
        SALES = "sales", "Sales"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.SALES)

    objects = CRMUserManager()

    @property
    def sees_all(self) -> bool:
        """True for managers, admins and superusers: they see every record."""
        return self.is_superuser or self.role in (self.Role.ADMIN, self.Role.MANAGER)

    @property
    def full_name(self) -> str:
        return self.get_full_name() or self.username


class InteractionQuerySet(models.QuerySet):
    def latest_first(self):
        return self.order_by("-occurred_at", "-id")


class Interaction(models.Model):
    """One entry on the timeline (DESIGN.md decision 5).

    Seed 000's interactions (``type``/``notes``), seed 001's activity (``type``/``title``/
    ``description``/``timestamp``), seed 002's actions (``action_type``/``details``) and seed 003's
    interactions (``kind``/``direction``/``subject``/``body``/``occurred_at``) are all views of
    this row. ``metadata`` holds kind-specific facts: ``{"from": "new", "to": "contacted"}`` for
    a ``status_change``, duration and transcript link for a ``call``.
    """

    class Kind(models.TextChoices):
        CALL = "call", "Call"
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"
        MEETING = "meeting", "Meeting"
        NOTE = "note", "Note"
        FOLLOW_UP = "follow_up", "Follow-up"
        EMAIL_OPENED = "email_opened", "Email opened"
        PAGE_VISIT = "page_visit", "Page visit"
        STATUS_CHANGE = "status_change", "Status change"
        LEAD_CREATED = "lead_created", "Lead created"

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices, db_index=True)
    direction = models.CharField(max_length=10, choices=Direction.choices, blank=True, default="")
    subject = models.CharField(max_length=255, blank=True, default="")
    body = models.TextField(blank=True, default="")
    occurred_at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="interactions"
    )
    contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="interactions"
    )
    company = models.ForeignKey(
        "contacts.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="interactions"
    )
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InteractionQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["lead", "-occurred_at"], name="crm_interaction_lead_time"),
            models.Index(fields=["contact", "-occurred_at"], name="crm_interaction_contact_time"),
            models.Index(fields=["company", "-occurred_at"], name="crm_interaction_company_time"),
            models.Index(fields=["-occurred_at"], name="crm_interaction_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject or self.body[:40]}".strip()

    @property
    def title(self) -> str:
        """Seed 001's activity ``title``: the subject, or a sentence made from the kind."""
        if self.subject:
            return self.subject
        if self.kind == self.Kind.STATUS_CHANGE:
            return f"Status changed from {self.metadata.get('from')} to {self.metadata.get('to')}"
        return self.get_kind_display()


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """An in-app reminder for one user (the bell in the layout): a task come due or overdue,
    a lead assigned to them. ``key`` makes each reminder happen once per user however many
    workers raise it (unique with ``user``, e.g. ``task-due:<task id>``); ``url`` is where a
    click goes. Unread while ``read_at`` is NULL."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=32)
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True, default="")
    url = models.CharField(max_length=500, blank=True, default="")
    key = models.CharField(max_length=120)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_user")]
        indexes = [models.Index(fields=["user", "read_at", "created_at"], name="notification_user_unread")]

    def __str__(self) -> str:
        return self.title
