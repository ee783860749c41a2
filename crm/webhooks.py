"""Outgoing webhooks: subscriptions, the delivery log, signing and one delivery attempt.

An event published by a service (``crm.events``) becomes one :class:`WebhookDelivery` row per
active subscription that chose it, and a Celery task per row (``crm.deliver_webhook``) — never
an HTTP call in the publishing request. Each attempt POSTs the stored body with::

    Content-Type: application/json
    X-CRM-Event: lead.created
    X-CRM-Event-Id: <uuid, the same for every subscription and every retry>
    X-CRM-Delivery-Id: <uuid of the delivery row>
    X-CRM-Timestamp: <unix seconds when the event happened; also "created_at" in the body>
    X-CRM-Signature: sha256=<hex HMAC-SHA256 of the raw body with the subscription's secret>

and body ``{"id", "event", "created_at", "data"}``. A 2xx marks it delivered; anything else
(status, timeout after ``WEBHOOK_TIMEOUT_SECONDS``, refused connection) is logged on the row and
retried with exponential backoff (``WEBHOOK_RETRY_BASE_SECONDS`` × 2^(attempt-1), ±10 %) until
``WEBHOOK_MAX_ATTEMPTS``, then marked failed. Redirects are not followed.
"""

import hashlib
import hmac
import json
import logging
import random
import secrets
import uuid
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.dispatch import receiver
from django.utils import timezone

from crm.errors import ServiceError
from crm.events import EVENTS, event_published
from crm.models import User, WebhookDelivery, WebhookSubscription

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-CRM-Signature"
USER_AGENT = "CRM-Webhooks/1.0"
#: Response text kept in ``last_error`` for a non-2xx answer.
ERROR_SNIPPET = 300


def sign(secret: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``body`` (the exact bytes sent) keyed by ``secret``.
    A receiver recomputes it over the raw request body and compares in constant time."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _clean(url: str, events) -> tuple[str, list[str]]:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServiceError("Enter an http:// or https:// URL.", code="invalid_url", field="url")
    if len(url) > 500:
        raise ServiceError("The URL is longer than 500 characters.", code="invalid_url", field="url")
    if isinstance(events, str):
        events = [events]
    chosen = sorted(set(events or []))
    unknown = [e for e in chosen if e not in EVENTS]
    if unknown:
        raise ServiceError(f'Unknown event {unknown[0]!r}. Choose from: {", ".join(EVENTS)}.',
                           code="invalid_event", field="events")
    if not chosen:
        raise ServiceError("Choose at least one event.", code="events_required", field="events")
    return url, chosen


@transaction.atomic
def webhook_subscription_create(*, url: str, events, name: str = "", active: bool = True,
                                by: User | None) -> WebhookSubscription:
    """Subscribe ``url`` to ``events`` (names from ``crm.events.EVENTS``) with a new secret.
    Raises ServiceError for a non-http(s) URL, an unknown event or none."""
    url, chosen = _clean(url, events)
    return WebhookSubscription.objects.create(
        url=url, events=chosen, name=(name or "").strip()[:100], active=active, secret=new_secret(), created_by=by,
    )


@transaction.atomic
def webhook_subscription_update(*, subscription: WebhookSubscription, by: User | None, url: str | None = None,
                                events=None, name: str | None = None, active: bool | None = None,
                                rotate_secret: bool = False) -> WebhookSubscription:
    """Change the given fields; ``rotate_secret`` issues a new secret (the old one stops
    verifying at once). Raises as :func:`webhook_subscription_create`."""
    url, chosen = _clean(url if url is not None else subscription.url,
                         events if events is not None else subscription.events)
    subscription.url, subscription.events = url, chosen
    if name is not None:
        subscription.name = name.strip()[:100]
    if active is not None:
        subscription.active = active
    if rotate_secret:
        subscription.secret = new_secret()
    subscription.save()
    return subscription


@transaction.atomic
def webhook_subscription_delete(*, subscription: WebhookSubscription, by: User | None) -> None:
    """Remove the subscription and its delivery log."""
    subscription.delete()


def webhook_enqueue(event: str, data: dict) -> list[WebhookDelivery]:
    """Log one pending delivery per active subscription to ``event`` and queue its task.

    Called by the ``event_published`` receiver (after the publishing transaction committed).
    The subscriptions table is small (tens of rows), so they are filtered here rather than
    with a JSON query the databases disagree on.
    """
    targets = [s for s in WebhookSubscription.objects.filter(active=True) if event in (s.events or [])]
    if not targets:
        return []
    now = timezone.now()
    event_id = uuid.uuid4()
    body = json.dumps(
        {"id": str(event_id), "event": event, "created_at": now.isoformat(), "data": data},
        separators=(",", ":"), default=str,
    )
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(subscription=s, event=event, event_id=event_id, body=body, created_at=now) for s in targets
    )
    from crm.tasks import deliver_webhook

    for delivery in deliveries:
        deliver_webhook.delay(str(delivery.pk))
    return deliveries


@receiver(event_published, dispatch_uid="crm.webhooks.on_event")
def _on_event(sender, event: str, data: dict, **kwargs) -> None:
    webhook_enqueue(event, data)


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones: base × 2^(attempts-1), ±10 %."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return round(base * random.uniform(0.9, 1.1), 2)


def webhook_attempt(*, delivery_id) -> float | None:
    """Make one HTTP attempt for a pending delivery and log its outcome on the row.

    Returns the seconds to wait before retrying, or None when there is nothing more to do
    (delivered, failed for good, unknown id, or no longer pending — so a duplicate task is
    harmless).
    """
    delivery = WebhookDelivery.objects.select_related("subscription").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return None
    sub = delivery.subscription
    raw = delivery.body.encode()
    timestamp = str(int(delivery.created_at.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-CRM-Event": delivery.event,
        "X-CRM-Event-Id": str(delivery.event_id),
        "X-CRM-Delivery-Id": str(delivery.pk),
        "X-CRM-Timestamp": timestamp,
        SIGNATURE_HEADER: sign(sub.secret, raw),
    }
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    code, error = None, ""
    try:
        response = httpx.post(sub.url, content=raw, headers=headers, follow_redirects=False,
                              timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)))
        code = response.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}: {response.text[:ERROR_SNIPPET]}"
    except httpx.TimeoutException:
        error = f"Timed out after {timeout:g} s"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:ERROR_SNIPPET]

    now = timezone.now()
    attempts = delivery.attempts + 1
    fields = {"attempts": F("attempts") + 1, "status_code": code, "last_error": error, "last_attempt_at": now}
    pending = WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING)
    if not error:
        pending.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=now, **fields)
        return None
    if attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        pending.update(status=WebhookDelivery.Status.FAILED, failed_at=now, **fields)
        log.warning("webhook %s to %s failed for good after %s attempts: %s", delivery.pk, sub.url, attempts, error)
        return None
    pending.update(**fields)
    return retry_delay(attempts)


@transaction.atomic
def webhook_redeliver(*, delivery: WebhookDelivery, by: User | None) -> WebhookDelivery:
    """Send a failed (or delivered) delivery again: back to pending with a fresh attempt count."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.PENDING, attempts=0, failed_at=None, delivered_at=None, last_error=""
    )
    from crm.tasks import deliver_webhook

    transaction.on_commit(lambda: deliver_webhook.delay(str(delivery.pk)))
    delivery.refresh_from_db()
    return delivery
