"""``manage.py purge_leads --days N``: delete for good the leads soft-deleted N+ days ago."""

from datetime import timedelta

from django.core.management.base import BaseCommand

from leads.services import lead_purge


class Command(BaseCommand):
    help = "Permanently delete leads that were soft-deleted at least --days ago (default 30)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30)

    def handle(self, *args, days: int, **opts):
        count = lead_purge(older_than=timedelta(days=days))
        self.stdout.write(self.style.SUCCESS(f"Purged {count} leads deleted more than {days} days ago."))
