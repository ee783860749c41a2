"""Demo agents, leads queued for them and a few weeks of past calls (``manage.py seed_demo``).

Idempotent: adds nothing when agents exist, unless ``force``. Everything goes through the
services; past calls are real simulated calls whose timestamps are then moved back (a
demo-only rewrite of history, as the leads demo does). One agent works around the clock, so
a fresh demo with a worker running places calls at any hour.
"""

import datetime as dt
import random

from django.utils import timezone

from calling import services
from calling.models import WEEKDAYS, Agent, Call
from calling.providers import simulated
from crm.errors import ServiceError
from crm.models import Interaction, User
from leads import services as lead_services
from leads.models import Lead

WEEKDAYS_ONLY = WEEKDAYS[:5]
AGENTS = [
    {"name": "Ana — New York", "time_zone": "America/New_York", "max_attempts": 3, "retry_delay_minutes": 60,
     "business_hours": {d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in WEEKDAYS_ONLY},
     "caller_number": "+12125550100"},
    {"name": "Lukas — Berlin", "time_zone": "Europe/Berlin", "max_attempts": 4, "retry_delay_minutes": 120,
     "business_hours": {d: [["08:30", "17:30"]] for d in WEEKDAYS_ONLY}, "caller_number": "+493055501000"},
    {"name": "Night Owl — 24/7", "time_zone": "UTC", "max_attempts": 3, "retry_delay_minutes": 5,
     "business_hours": {d: [["00:00", "24:00"]] for d in WEEKDAYS}},
]
QUEUED_LEADS = 30
PAST_CALL_LEADS = 15


def seed(*, users: dict[str, User], rng: random.Random, force: bool = False, stdout=None) -> None:
    """Create the demo agents, give ~30 leads to them (due now, so the scheduler calls them) and
    make past calls with outcomes for ~15 more."""
    if Agent.objects.exists() and not force:
        if stdout:
            stdout.write("Demo agents already present; none added (use --force to add more).")
        return
    admin = users.get("admin")
    agents = [services.agent_create(user=admin, **spec) for spec in AGENTS]
    candidates = list(Lead.objects.live().filter(agent_id__isnull=True).exclude(phone="")
                      .order_by("created_at")[: QUEUED_LEADS + PAST_CALL_LEADS])
    now = timezone.now()
    queued = past = 0
    for i, lead in enumerate(candidates):
        agent = agents[i % len(agents)]
        try:
            lead = lead_services.lead_update(lead=lead, user=admin, agent_id=agent.pk, schedule_at=now,
                                             call_status=Lead.CallStatus.NEW, attempts_count=0, disposition="")
        except ServiceError:
            continue  # the same phone is already queued for this agent
        if i < QUEUED_LEADS:
            queued += 1
            continue
        _past_call(lead, rng, now)
        past += 1
    if stdout:
        stdout.write(f"Created {len(agents)} calling agents, queued {queued} leads, {past} past calls.")


def _past_call(lead: Lead, rng: random.Random, now: dt.datetime) -> None:
    """One simulated call, ended with a random outcome, moved 1-20 days back."""
    call = services.call_schedule_now(lead=lead, user=None, dispatch="none")
    result = rng.choice(["completed", "completed", "not_interested", "hung_up", "no_answer", "busy"])
    services.call_apply_event(simulated.event_for(str(call.pk), lead.name, result))
    when = now - dt.timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 8))
    call.refresh_from_db()
    duration = dt.timedelta(seconds=call.duration_seconds or 0)
    Call.objects.filter(pk=call.pk).update(status=Call.Status.COMPLETED if call.outcome != "failed" else "failed",
                                           created_at=when,
                                           dispatched_at=when, started_at=when, ended_at=when + duration)
    Interaction.objects.filter(lead=lead, kind=Interaction.Kind.CALL, metadata__call_id=str(call.pk)).update(
        occurred_at=when + duration)
    if lead.pk and call.outcome != "answered":
        # Its retry is due again now, so the demo's scheduler picks it up.
        Lead.objects.filter(pk=lead.pk, call_status=Lead.CallStatus.IN_PROGRESS).update(schedule_at=now)
