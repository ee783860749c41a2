"""Every Celery beat schedule, in one place (STYLE.md 8).

Each entry says why it runs and expires before the next run, so a backlog never piles up.
Later issues add the Meta sync (every 15 minutes) and the call scheduler (every minute) here.
"""

from datetime import timedelta

from celery.schedules import crontab

BEAT_SCHEDULE = {
    # An import whose worker died (machine restart, OOM) is picked up again from its last
    # committed batch, so no upload is ever left "running" for good.
    "leads.resume_stalled_imports": {
        "task": "leads.resume_stalled_imports",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50, "queue": "imports"},
    },
    # Outgoing webhook deliveries left pending for an hour (broker down when the event fired, a
    # worker lost mid-task) are queued again; receivers de-duplicate by X-CRM-Event-Id.
    "crm.requeue_stalled_webhooks": {
        "task": "crm.requeue_stalled_webhooks",
        "schedule": timedelta(minutes=10),
        "options": {"expires": 9 * 60},
    },
    # Follow-up processes come due to the minute; each due one becomes exactly one task (rows
    # claimed with SKIP LOCKED), so overlapping ticks or extra workers are harmless.
    "tasks.run_due_followups": {
        "task": "tasks.run_due_followups",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},
    },
    # "Task due" / "task overdue" notifications, once each per task (claimed by conditional UPDATE).
    "tasks.send_task_reminders": {
        "task": "tasks.send_task_reminders",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},
    },
    # Dashboard rollups: days marked dirty by lead saves, and today (CSV imports insert around
    # Lead.save), recomputed in the background so reads rarely have to.
    "dashboard.refresh_rollups": {
        "task": "dashboard.refresh_rollups",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},
    },
    # Nightly full recount of the dashboard rollups heals any write made around Lead.save.
    "dashboard.rebuild_rollups": {
        "task": "dashboard.rebuild_rollups",
        "schedule": crontab(hour=3, minute=37),
        "options": {"expires": 3600},
    },
    # The lead totals are kept by the services; a nightly recount heals anything written
    # around them (raw bulk loads, restores). One GROUP BY, ~0.5 s at a million leads.
    "leads.rebuild_stage_counts": {
        "task": "leads.rebuild_stage_counts",
        "schedule": crontab(hour=3, minute=17),
        "options": {"expires": 3600},
    },
    # The contact totals (per owner/status, day, tag, company) are kept by contacts.services; a
    # nightly recount heals anything written around them. ~26 s at a million contacts.
    "contacts.rebuild_counts": {
        "task": "contacts.rebuild_counts",
        "schedule": crontab(hour=3, minute=27),
        "options": {"expires": 3600},
    },
    # Seed 001 section 3: Meta campaigns and daily insights every 15 minutes, re-reading the
    # trailing window because attributed conversions keep arriving. Skips itself until Meta is
    # configured; a token error fails the run without retrying.
    "campaigns.sync_meta": {
        "task": "campaigns.sync_meta",
        "schedule": timedelta(minutes=15),
        "options": {"expires": 14 * 60, "queue": "meta"},
    },
    # Lead Ads events whose task was lost (broker outage, dead worker) are queued again.
    "campaigns.requeue_pending_leadgen": {
        "task": "campaigns.requeue_pending_leadgen",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 4 * 60, "queue": "meta"},
    },
    # Seed 004's scheduler: every minute, fail calls that never reported back, then claim the
    # due leads of agents inside business hours (SKIP LOCKED, so overlapping ticks and extra
    # workers are harmless) and queue their dispatch to the provider.
    "calling.scheduler_tick": {
        "task": "calling.scheduler_tick",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50, "queue": "calling"},
    },
}
