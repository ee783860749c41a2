"""``manage.py seed_demo``: demo users, leads with timelines, and each app's demo data.

Runs ``<app>.demo.seed`` for every app that has one, in dependency order (DESIGN.md "Layout"),
so the demo shows every screen with data. Each step is idempotent: running the command again
adds nothing unless ``--force``. Lives in ``dashboard`` because only the rightmost app may
import all the others.
"""

import importlib
import random

from django.core.management.base import BaseCommand

from leads import demo as lead_demo

# Apps after leads whose ``demo.seed(users=, rng=, force=, stdout=)`` runs once leads exist.
DEMO_APPS = ("contacts", "tasks", "campaigns", "calling", "dashboard")


class Command(BaseCommand):
    help = "Create demo users, ~300 leads with timelines and each app's demo data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=300)
        parser.add_argument("--force", action="store_true", help="add demo data even if some exists")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, leads: int, force: bool, seed: int, **opts):
        rng = random.Random(seed)
        users = lead_demo.seed(count=leads, rng=rng, force=force, stdout=self.stdout)
        for app in DEMO_APPS:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.demo":
                    raise
                continue
            module.seed(users=users, rng=rng, force=force, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo ready. Log in as admin / crm-demo-admin."))
