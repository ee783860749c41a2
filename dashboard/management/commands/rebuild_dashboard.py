"""``manage.py rebuild_dashboard``: recompute the dashboard rollups from the leads table."""

import time

from django.core.management.base import BaseCommand

from dashboard.services import rollup_rebuild


class Command(BaseCommand):
    help = "Recompute the dashboard's per-day lead rollups from the leads table (after bulk loads)."

    def handle(self, *args, **opts):
        started = time.monotonic()
        counts = rollup_rebuild()
        self.stdout.write(self.style.SUCCESS(
            f"Rebuilt {counts['daily_rows']} daily rows and {counts['source_rows']} source rows over "
            f"{counts['days']} days in {time.monotonic() - started:.1f} s."
        ))
