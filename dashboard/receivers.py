"""Keep the dashboard rollups current: every lead save marks the days it counts on as dirty
(after its transaction commits), and a lead leaving won/lost marks the day it got there."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from crm.events import event_published
from dashboard import services
from leads.models import Lead


@receiver(post_save, sender=Lead, dispatch_uid="dashboard.lead_saved")
def _lead_saved(sender, instance: Lead, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    # Read loaded values only: a lead saved from a deferred queryset must not cost a query here.
    loaded = instance.__dict__
    days = [services._local_day(loaded.get("created_at")), services._local_day(loaded.get("status_changed_at"))]
    transaction.on_commit(lambda: services.rollup_mark_dirty(days), robust=True)


@receiver(event_published, dispatch_uid="dashboard.on_event")
def _on_event(sender, event: str, data: dict, **kwargs) -> None:
    if event == "lead.status_changed" and data.get("from_status") in services.TERMINAL:
        services.rollup_mark_previous_status_day(data["id"])
