"""Thin Celery tasks of the shared kernel (STYLE.md 5): they call ``crm.webhooks`` and own the
retry policy."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from crm import webhooks
from crm.models import WebhookDelivery


@shared_task(name="crm.deliver_webhook", bind=True, max_retries=None, acks_late=True,
             soft_time_limit=60, time_limit=90, ignore_result=True)
def deliver_webhook(self, delivery_id: str) -> None:
    """One attempt at ``WebhookDelivery`` ``delivery_id``; on failure the task is retried with
    the exponential countdown :func:`crm.webhooks.retry_delay` gives, until the delivery is
    delivered or failed (``WEBHOOK_MAX_ATTEMPTS``, counted on the row, not by Celery)."""
    wait = webhooks.webhook_attempt(delivery_id=delivery_id)
    if wait is not None:
        raise self.retry(countdown=wait)


@shared_task(name="crm.requeue_stalled_webhooks", ignore_result=True)
def requeue_stalled_webhooks() -> int:
    """Queue again pending deliveries nothing touched for an hour (the broker was down when the
    event fired, or a worker died holding the task); returns how many."""
    cutoff = timezone.now() - timedelta(hours=1)
    stalled = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, created_at__lt=cutoff)
        .exclude(last_attempt_at__gte=cutoff).values_list("pk", flat=True)[:1000]
    )
    for pk in stalled:
        deliver_webhook.delay(str(pk))
    return len(stalled)
