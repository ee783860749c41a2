"""Thin Celery tasks for calling (STYLE.md 5): take ids, call one service, own the retry policy.

All are routed to the ``calling`` queue (``CELERY_TASK_ROUTES``); the beat entry for
``calling.scheduler_tick`` lives in ``config/schedule.py``.
"""

from celery import shared_task
from django.db import OperationalError

from calling import services
from calling.providers import simulated


@shared_task(name="calling.scheduler_tick", acks_late=False)
def scheduler_tick() -> dict:
    """Beat job (every minute): fail stale calls, claim due leads inside their agents' business
    hours and queue their dispatch. Safe when ticks overlap or several workers run it (rows
    are claimed with SKIP LOCKED). Returns the tick's counts."""
    result = services.scheduler_tick(dispatch="task")
    return {"claimed": result.claimed, "timed_out": result.timed_out, "agents_open": result.agents_open,
            "seconds": round(result.seconds, 3)}


@shared_task(name="calling.dispatch_calls", autoretry_for=(OperationalError,), retry_backoff=True,
             retry_jitter=True, max_retries=5)
def dispatch_calls(call_ids: list[str]) -> int:
    """Hand queued calls to their providers (:func:`calling.services.calls_dispatch`).
    Idempotent: a call leaves ``queued`` once, so a redelivered message places nothing twice;
    a message lost for good leaves calls that the timeout fails and retries."""
    return services.calls_dispatch(call_ids)


@shared_task(name="calling.simulated_calls_end", autoretry_for=(OperationalError,), retry_backoff=True,
             retry_jitter=True, max_retries=5)
def simulated_calls_end(items: list[list[str]]) -> int:
    """The simulated provider's end-of-call reports: ``items`` are ``[call_id, lead name,
    forced result]``; each goes through :func:`calling.services.call_apply_event` (applied
    once, so a retry is harmless). Returns how many calls it reported."""
    for call_id, name, forced in items:
        services.call_apply_event(simulated.event_for(call_id, name, forced))
    return len(items)
