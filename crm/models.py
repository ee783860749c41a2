"""Users with a role, and the one timeline every seed's interactions, activities and actions share;
API keys and outgoing webhooks (subscriptions and their delivery log)."""

import json

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
        return self.display_name(self.first_name, self.last_name, self.username)

    @staticmethod
    def display_name(first_name: str, last_name: str, username: str) -> str:
        """"First Last", or the username when both are blank (what :attr:`full_name` shows;
        lists that read these columns without loading the user call it directly)."""
        return f"{first_name} {last_name}".strip() or username


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


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """A key an integration sends as ``Authorization: Api-Key <key>`` or ``X-API-Key: <key>``
    (DESIGN.md decision 8; seed 001 F's "API key" in settings).

    Only ``key_hash`` (SHA-256 hex of the whole key) is stored; the key itself is shown once when
    made (``crm.apikeys.api_key_create``). ``prefix`` is its first characters, kept to recognise it
    in a masked list. Calls made with the key act as ``user``: a service account (inactive, so it
    can neither sign in with a password nor be offered as a lead owner) whose ``role`` is the
    key's role. ``last_used_at`` moves at most once a minute. A key with ``revoked_at`` set
    answers 401.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    role = models.CharField(max_length=16, choices=User.Role.choices, default=User.Role.MANAGER)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["revoked_at", "created_at"], name="apikey_active_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.masked})"

    @property
    def masked(self) -> str:
        """``crm_AbCdEf12••••••••``: enough to recognise the key, useless to anyone who reads it."""
        return f"{self.prefix}{'•' * 8}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class WebhookSubscription(models.Model):
    """An outgoing webhook: POST every chosen event (``events``, names from ``crm.events.EVENTS``)
    to ``url``, signed with ``secret`` (HMAC-SHA256 over the raw body, ``X-CRM-Signature``).
    Inactive subscriptions receive nothing."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(max_length=100, blank=True, default="")
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=80)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["active"], name="webhooksub_active")]

    def __str__(self) -> str:
        return self.name or self.url


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one subscription: the delivery log.

    ``body`` is the exact JSON text sent (every retry sends the same bytes and signature);
    ``event_id`` is shared by the deliveries of one event to several subscriptions, so a
    receiver can de-duplicate. ``attempts`` counts HTTP tries; ``status_code`` and
    ``last_error`` are those of the latest one. ``pending`` until a 2xx (``delivered``) or the
    last allowed attempt failed (``failed``).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    event_id = models.UUIDField()
    body = models.TextField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["-created_at"], name="webhookdelivery_created"),
            models.Index(fields=["subscription", "-created_at"], name="webhookdelivery_sub_created"),
            models.Index(fields=["status", "created_at"], name="webhookdelivery_status"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription_id} ({self.status})"

    @property
    def payload(self):
        """The body parsed back (for pages and the API)."""
        return json.loads(self.body)
