"""Thin Celery tasks for follow-ups and reminders (STYLE.md 5); their beat entries live in
``config/schedule.py``. Both are safe to run from several workers and overlapping ticks."""

from celery import shared_task
from django.db import OperationalError

from tasks import services


@shared_task(name="tasks.run_due_followups", autoretry_for=(OperationalError,), retry_backoff=True,
             retry_jitter=True, max_retries=3)
def run_due_followups() -> list[str]:
    """Beat job (every minute): each active process whose next follow-up has come gets exactly
    one task for the lead's owner, a timeline entry and a notification
    (:func:`tasks.services.processes_run_due`). Returns the created task ids."""
    return [str(task.pk) for task in services.processes_run_due()]


@shared_task(name="tasks.send_task_reminders", autoretry_for=(OperationalError,), retry_backoff=True,
             retry_jitter=True, max_retries=3)
def send_task_reminders() -> dict[str, int]:
    """Beat job (every minute): "task due" and "task overdue" notifications, once each per task
    (:func:`tasks.services.tasks_send_reminders`). Returns ``{"due": n, "overdue": m}``."""
    return services.tasks_send_reminders()
