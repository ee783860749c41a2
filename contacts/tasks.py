"""Thin Celery tasks for contacts (STYLE.md 5).

``contacts.rebuild_counts`` runs nightly from ``config/schedule.py`` (beside
``leads.rebuild_stage_counts``).
"""

from celery import shared_task


@shared_task(name="contacts.rebuild_counts")
def rebuild_counts() -> int:
    """Recompute the contact count rollups (per owner and status, per tag and owner) from the
    contacts table, so a change made outside the services (a raw bulk load, a restored backup)
    heals. Returns the live contact total. See :func:`contacts.services.contact_counts_rebuild`."""
    from contacts.services import contact_counts_rebuild

    return contact_counts_rebuild()
