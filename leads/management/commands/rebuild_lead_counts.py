"""``manage.py rebuild_lead_counts``: recompute the (owner, status) rollup from the leads table."""

from django.core.management.base import BaseCommand

from leads.services import stage_counts_rebuild


class Command(BaseCommand):
    help = "Recompute LeadStageCount from the live leads (after bulk loads outside the services)."

    def handle(self, *args, **opts):
        total = stage_counts_rebuild()
        self.stdout.write(self.style.SUCCESS(f"Rollup rebuilt: {total} live leads."))
