"""``manage.py rebuild_contact_counts``: recompute the contact count rollups from the contacts table."""

from django.core.management.base import BaseCommand

from contacts.services import contact_counts_rebuild


class Command(BaseCommand):
    help = "Recompute ContactStatusCount and ContactTagCount from the live contacts (after loads outside the services)."

    def handle(self, *args, **opts):
        total = contact_counts_rebuild()
        self.stdout.write(self.style.SUCCESS(f"Rollups rebuilt: {total} live contacts."))
