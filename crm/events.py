"""Domain events: what happened, published once the transaction that did it commits.

Services publish; other parts subscribe without the publisher knowing them (dependencies point
one way, DESIGN.md "Layout"): outgoing webhooks deliver events to subscribed URLs, reminders
turn ``lead.assigned`` into a notification. A receiver connects to :data:`event_published`::

    @receiver(event_published)
    def on_event(sender, event: str, data: dict, **kwargs): ...

``data`` is JSON-ready (ids and datetimes as strings). Receivers must be quick (queue Celery
work for anything slow) and must not raise: a failing receiver is logged, never the caller's
error.
"""

import logging

from django.db import transaction
from django.dispatch import Signal

log = logging.getLogger(__name__)

#: Every event name, with what its ``data`` carries.
EVENTS = {
    "lead.created": "the lead (id, name, email, phone, status, source, owner_id, created_at)",
    "lead.status_changed": "the lead, plus from_status and to_status",
    "lead.assigned": "the lead, plus owner_id (new owner), previous_owner_id and by_user_id",
    "lead.converted": "the lead, plus contact_id and company_id",
    "call.completed": "the call (id, lead_id, agent_id, outcome, disposition, duration_seconds)",
    "task.completed": "the task (id, title, assignee_id, related_to_type, related_to_id)",
}

event_published = Signal()


def publish(event: str, data: dict) -> None:
    """Announce ``event`` (a key of :data:`EVENTS`) with ``data`` after the current
    transaction commits (at once outside one); nothing is announced if it rolls back.
    Raises ValueError for an unknown event name."""
    if event not in EVENTS:
        raise ValueError(f"Unknown event {event!r}; add it to crm.events.EVENTS.")
    transaction.on_commit(lambda: _send(event, data))


def _send(event: str, data: dict) -> None:
    for receiver, result in event_published.send_robust(sender=event, event=event, data=data):
        if isinstance(result, Exception):
            log.error("event %s: receiver %r failed", event, receiver, exc_info=result)
