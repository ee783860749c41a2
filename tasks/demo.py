"""Demo tasks, follow-up processes and notifications for ``manage.py seed_demo``.

Everything goes through ``tasks.services`` and ``crm.notifications``. Idempotent: adds nothing
when tasks exist, unless ``force``. Each demo user gets tasks that are overdue, due today and
upcoming (some on their leads, a few completed); a few processes have their next follow-up a
few minutes away, so a running worker with beat turns them into tasks and notifications soon
after the demo starts.
"""

import datetime as dt
import random

from django.utils import timezone

from crm.models import User
from crm.notifications import notify
from leads.models import Lead
from tasks import services
from tasks.models import Process, Task

TITLES = [
    "Call back about pricing", "Send the proposal", "Prepare the demo", "Follow up on the contract",
    "Email the case study", "Book a meeting with procurement", "Check budget approval", "Update the quote",
    "Ask for a referral", "Confirm onboarding date",
]
PROCESSES = [("Lead nurturing", "email"), ("Call cadence", "phone"), ("Meeting follow-up", "meeting"),
             ("SMS reminders", "sms")]


def seed(*, users: dict[str, User], rng: random.Random, force: bool = False, stdout=None) -> None:
    """Create demo tasks, processes and notifications for ``users`` (keys admin, manager,
    sales1..3) unless tasks exist and not ``force``."""
    if Task.objects.exists() and not force:
        if stdout:
            stdout.write("Tasks exist; skipping the tasks demo (use --force to add more).")
        return
    now = timezone.now()
    today = timezone.localdate()
    made = {"tasks": 0, "processes": 0, "notifications": 0}
    people = [users[k] for k in ("sales1", "sales2", "sales3", "manager") if k in users]
    for user in people:
        leads = list(Lead.objects.live().filter(owner=user).order_by("-created_at")[:12])
        plan = [
            ("overdue", today - dt.timedelta(days=rng.randint(2, 6))),
            ("overdue", now - dt.timedelta(hours=rng.randint(2, 20))),
            ("today", today),
            ("today", now + dt.timedelta(hours=rng.randint(1, 6))),
            ("upcoming", today + dt.timedelta(days=rng.randint(1, 3))),
            ("upcoming", now + dt.timedelta(days=rng.randint(2, 9), hours=rng.randint(0, 5))),
            ("upcoming", today + dt.timedelta(days=rng.randint(4, 12))),
            ("undated", None),
            ("done", today - dt.timedelta(days=rng.randint(1, 4))),
            ("done", today - dt.timedelta(days=rng.randint(1, 4))),
        ]
        for i, (kind, due) in enumerate(plan):
            lead = leads[i % len(leads)] if leads and i % 3 != 2 else None
            task = services.task_create(
                user=user, title=rng.choice(TITLES) + (f" — {lead.name}" if lead else ""),
                description="Demo task.", due_date=due, priority=rng.choice(["low", "medium", "medium", "high"]),
                related_to_type="lead" if lead else "general", related_to_id=lead.pk if lead else None,
            )
            if kind == "done":
                services.task_set_completed(task=task, user=user, completed=True)
            made["tasks"] += 1
        # One process per user whose follow-up comes due a few minutes from now (a running
        # scheduler fires it), one paused.
        if leads:
            name, channel = rng.choice(PROCESSES)
            services.process_create(user=user, name=name, lead_id=leads[0].pk, channel=channel,
                                    next_followup_datetime=now + dt.timedelta(minutes=rng.randint(2, 10)),
                                    interval_days=rng.choice([None, 3, 7]))
            services.process_create(user=user, name="Quarterly check-in", lead_id=leads[-1].pk, channel="phone",
                                    status=Process.Status.PAUSED,
                                    next_followup_datetime=now + dt.timedelta(days=rng.randint(10, 30)))
            made["processes"] += 2
            lead = leads[min(1, len(leads) - 1)]
            if notify(user, kind="lead_assigned", title=f"Lead {lead.name} assigned to you",
                      key=f"lead-assigned:{lead.pk}", url=f"/leads/{lead.pk}/"):
                made["notifications"] += 1
    # Reminders for what is already due or overdue, as the scheduler would raise them.
    sent = services.tasks_send_reminders()
    made["notifications"] += sent["due"] + sent["overdue"]
    if stdout:
        stdout.write(f"Tasks demo: {made['tasks']} tasks, {made['processes']} processes, "
                     f"{made['notifications']} notifications.")
