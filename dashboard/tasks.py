"""Thin Celery tasks that keep the dashboard rollups current (dashboard.services)."""

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from dashboard import services


@shared_task(name="dashboard.refresh_rollups", ignore_result=True, soft_time_limit=240, time_limit=300)
def refresh_rollups() -> int:
    """Recompute the days lead saves marked dirty, plus today (the CSV import's raw INSERTs do
    not go through ``Lead.save``); returns the days done."""
    services.rollup_mark_dirty([timezone.localdate()])
    return services.rollup_refresh_dirty(limit=1000)


@shared_task(name="dashboard.refresh_dirty_rollups", ignore_result=True, soft_time_limit=240, time_limit=300)
def refresh_dirty_rollups() -> int:
    """Recompute the days lead saves marked dirty (queued by ``rollup_mark_dirty``, debounced)."""
    cache.delete(services.REFRESH_QUEUED_KEY)  # saves from now on queue the next run
    return services.rollup_refresh_dirty(limit=1000)


@shared_task(name="dashboard.rebuild_rollups", ignore_result=True, soft_time_limit=1800, time_limit=2000)
def rebuild_rollups() -> dict:
    """Recompute every rollup row from the leads table (nightly reconciliation)."""
    return services.rollup_rebuild()
