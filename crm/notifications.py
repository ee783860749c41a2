"""In-app notifications (the bell): raise one, read them, mark them read.

Every writer of :class:`crm.models.Notification` goes through here. A notification is raised
once per ``(user, key)``: the unique constraint makes :func:`notify` idempotent however many
workers, ticks or retries raise the same reminder (keys look like ``task-due:<task id>``,
``task-overdue:<task id>``, ``followup:<task id>``, ``lead-assigned:<lead id>``).
"""

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from crm.errors import NotFound
from crm.models import Notification, User

TITLE_MAX = 255
URL_MAX = 500
KEY_MAX = 120


def notify(user: User | None, *, kind: str, title: str, key: str, url: str = "", body: str = "",
           renew: bool = False) -> Notification | None:
    """Raise notification ``key`` for ``user``; returns the new row, or ``None`` when ``user``
    is missing/inactive or the key was already raised for them (nothing changes then).

    ``renew=True`` instead brings an existing ``key`` back as a fresh unread notification with
    the new title/body/url (one row per user and key, e.g. a lead assigned to them again) and
    returns it. ``kind`` is a short tag (``task_due``, ``task_overdue``, ``followup_due``,
    ``lead_assigned``); ``title`` is cut to 255 characters, ``url`` to 500, ``key`` must fit 120.
    Raises ValueError for an empty or over-long key. Safe inside or outside a transaction.
    """
    if not key or len(key) > KEY_MAX:
        raise ValueError(f"A notification key needs 1-{KEY_MAX} characters, got {key!r}.")
    if user is None or not user.is_active:
        return None
    fields = {"kind": kind, "title": title[:TITLE_MAX], "body": body, "url": url[:URL_MAX]}
    try:
        # A savepoint, so a duplicate does not break the caller's transaction.
        with transaction.atomic():
            return Notification.objects.create(user=user, key=key, **fields)
    except IntegrityError:
        if not renew:
            return None
    now = timezone.now()
    Notification.objects.filter(user=user, key=key).update(read_at=None, created_at=now, **fields)
    return Notification.objects.filter(user=user, key=key).first()


def notifications_for(user: User | None) -> QuerySet:
    """``user``'s notifications, newest first (none for anonymous). Read through the
    ``(user, read_at, created_at)`` index."""
    if user is None or not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def unread_count(user: User | None) -> int:
    """How many unread notifications ``user`` has: one indexed COUNT; 0 for anonymous."""
    if user is None or not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_mark_read(*, user: User, notification: Notification) -> Notification:
    """Mark one of ``user``'s notifications read (again is a no-op). Raises
    ``crm.errors.NotFound`` when it belongs to someone else."""
    if notification.user_id != user.pk:
        raise NotFound("Notification not found", code="notification_not_found")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def notification_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of ``user`` read; returns how many changed."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
