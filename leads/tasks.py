"""Thin Celery tasks for leads (STYLE.md 5): take ids, call one service, own the retry policy.

Routed to the ``imports`` queue by ``CELERY_TASK_ROUTES``; the beat entry for
``leads.resume_stalled_imports`` lives in ``config/schedule.py``.
"""

from celery import shared_task
from django.db import OperationalError

from leads import imports


@shared_task(name="leads.import_leads_csv", bind=True, autoretry_for=(OperationalError,), retry_backoff=True,
             retry_jitter=True, max_retries=5, acks_late=True)
def import_leads_csv(self, import_id: str) -> dict | None:
    """Run CSV import job ``import_id`` (seed 004 section 6) via :func:`leads.imports.import_run`.

    Idempotent: the job is claimed by a conditional UPDATE and resumes after its last committed
    batch, so a redelivered message or a retry never imports a row twice. Returns the job's
    counters, or ``None`` when another worker holds it, it already finished, or it is unknown.
    A database error (OperationalError) is retried with backoff; an unreadable file marks the
    job failed.
    """
    job = imports.import_run(import_id)
    if job is None:
        return None
    return {"id": str(job.pk), "status": job.status, "success_count": job.success_count,
            "error_count": job.error_count, "total_processed": job.processed_rows}


@shared_task(name="leads.resume_stalled_imports")
def resume_stalled_imports() -> list[str]:
    """Beat job (every minute): queue again imports whose worker died or whose message was lost.

    Returns the re-queued job ids. See :func:`leads.imports.import_resume_stalled`.
    """
    return imports.import_resume_stalled()


@shared_task(name="leads.rebuild_stage_counts")
def rebuild_stage_counts() -> int:
    """Beat job (nightly): recompute the (owner, status) lead totals from the leads table, so a
    change made outside the services (a raw bulk load, a restored backup) heals within a day.
    Returns the live lead total. See :func:`leads.services.stage_counts_rebuild`."""
    from leads.services import stage_counts_rebuild

    return stage_counts_rebuild()
