"""Every Celery beat schedule, in one place (STYLE.md 8).

Each entry says why it runs and expires before the next run, so a backlog never piles up.
Later issues add the Meta sync (every 15 minutes) and the call scheduler (every minute) here.
"""

from datetime import timedelta

BEAT_SCHEDULE = {
    # An import whose worker died (machine restart, OOM) is picked up again from its last
    # committed batch, so no upload is ever left "running" for good.
    "leads.resume_stalled_imports": {
        "task": "leads.resume_stalled_imports",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50, "queue": "imports"},
    },
}
