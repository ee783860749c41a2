"""Thin Celery tasks for the Meta integration (STYLE.md 5), routed to the ``meta`` queue.

``process_leadgen_batch`` fans a multi-lead webhook POST out to ``process_leadgen`` per id.
Beat entries (``config/schedule.py``): ``campaigns.sync_meta`` every 15 minutes and
``campaigns.requeue_pending_leadgen`` every 5 minutes.
"""

import logging
from datetime import date

from celery import shared_task
from django.db import OperationalError

from campaigns import services
from campaigns.meta import MetaError, MetaNotConfigured, MetaTokenError
from campaigns.models import MetaSyncRun
from crm.errors import ServiceError
from crm.models import User

log = logging.getLogger(__name__)


@shared_task(name="campaigns.sync_meta", bind=True, max_retries=3, acks_late=True, time_limit=30 * 60)
def sync_meta(self, trigger: str = MetaSyncRun.Trigger.SCHEDULE, since: str | None = None,
              until: str | None = None, user_id: int | None = None) -> dict:
    """Run :func:`campaigns.services.meta_sync` (dates ``YYYY-MM-DD``; default the trailing window).

    A scheduled tick does nothing while Meta is not configured (no failed run every 15 minutes).
    A run that failed on a rate limit or outage is retried after Meta's wait (at most 3 times,
    10 minutes apart at most; the next tick follows anyway); a token error is never retried.
    Returns ``{"run": id, "status", "rows_fetched", "error"}`` or ``{"skipped": reason}``.
    """
    if trigger == MetaSyncRun.Trigger.SCHEDULE and not services.meta_configured():
        return {"skipped": "not configured"}
    user = User.objects.filter(pk=user_id).first() if user_id else None
    try:
        run = services.meta_sync(since=date.fromisoformat(since) if since else None,
                                 until=date.fromisoformat(until) if until else None, trigger=trigger, user=user)
    except ServiceError as exc:
        return {"skipped": exc.detail}
    if run.status == MetaSyncRun.Status.FAILED and run.retry_after and self.request.retries < self.max_retries:
        raise self.retry(countdown=min(run.retry_after, 600))
    return {"run": str(run.pk), "status": run.status, "rows_fetched": run.rows_fetched, "error": run.error}


@shared_task(name="campaigns.process_leadgen", bind=True, max_retries=8, acks_late=True, time_limit=120,
             autoretry_for=(OperationalError,), retry_backoff=True, retry_jitter=True)
def process_leadgen(self, leadgen_id: str) -> dict:
    """Fetch Lead Ads lead ``leadgen_id`` and create or merge the CRM lead
    (:func:`campaigns.services.leadgen_process`; idempotent by leadgen id).

    Transient Graph trouble (rate limits, 5xx, timeouts) is retried with backoff, honouring
    Meta's wait; a token or configuration error marks the event failed without retrying.
    Returns ``{"leadgen_id", "status", "lead_id", "duplicate"}``.
    """
    try:
        event = services.leadgen_process(leadgen_id)
    except (MetaTokenError, MetaNotConfigured) as exc:
        log.error("leadgen %s not processed: %s", leadgen_id, exc)
        return {"leadgen_id": leadgen_id, "status": "failed", "error": str(exc)}
    except MetaError as exc:
        if not exc.retryable:
            return {"leadgen_id": leadgen_id, "status": "failed", "error": str(exc)}
        countdown = max(exc.retry_after or 0, min(2 ** self.request.retries * 5, 600))
        raise self.retry(exc=exc, countdown=min(countdown, 3600)) from None
    return {"leadgen_id": leadgen_id, "status": event.status, "lead_id": str(event.lead_id or ""),
            "duplicate": event.duplicate}


@shared_task(name="campaigns.process_leadgen_batch", acks_late=True, time_limit=300)
def process_leadgen_batch(leadgen_ids: list[str]) -> list[str]:
    """Fan the leadgen ids of one webhook POST (Meta batches up to 1,000 changes) out to one
    :func:`process_leadgen` task each, so every lead is fetched, retried and failed on its own;
    the webhook publishes one message per POST and the worker does the per-id publishing.
    Redelivered after a crash it queues them all again, which is harmless (idempotent by id).
    Returns the ids queued."""
    for leadgen_id in leadgen_ids:
        process_leadgen.delay(leadgen_id)
    return leadgen_ids


@shared_task(name="campaigns.requeue_pending_leadgen")
def requeue_pending_leadgen() -> list[str]:
    """Beat job: queue again leadgen events still pending after two minutes (a message lost to a
    broker outage, or a worker that died). Returns the leadgen ids queued."""
    ids = services.leadgen_pending()
    services.leadgen_enqueue(ids)
    return ids
