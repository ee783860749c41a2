"""``manage.py bench_contacts``: the contacts speed goals of issue 3, measured in-process.

Run it against a scratch database (it adds contacts): the bulk create of ``--bulk`` contacts
through ``POST /api/v1/contacts/bulk`` (wall time, best of ``--runs``), and the number of SQL
queries of the contact list and detail endpoints before and after the contacts gain more
companies, tags and timeline entries (they must not change).
"""

import random
import time
import uuid

from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework_simplejwt.tokens import RefreshToken

from contacts import services
from contacts.models import Contact
from crm.models import Interaction, User


class Command(BaseCommand):
    help = "Time a 1,000-contact bulk create and check list/detail query counts (scratch database only)."

    def add_arguments(self, parser):
        parser.add_argument("--bulk", type=int, default=1000)
        parser.add_argument("--runs", type=int, default=3)

    def handle(self, *args, bulk: int, runs: int, **opts):
        user, _ = User.objects.get_or_create(username="bench-contacts", defaults={"role": User.Role.MANAGER})
        client = Client(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
        times = []
        for run in range(runs):
            tag = uuid.uuid4().hex[:8]
            items = [{"first_name": f"Bench{i}", "last_name": tag, "email": f"b{i}.{tag}@bench.example",
                      "phone": f"+1 646 {random.randint(200, 999)} {random.randint(0, 9999):04d}",
                      "status": "active", "tags": ["bench", f"b{i % 7}"], "job_title": "Buyer"} for i in range(bulk)]
            started = time.perf_counter()
            response = client.post("/api/v1/contacts/bulk", {"contacts": items, "allow_duplicate": True},
                                   content_type="application/json")
            elapsed = time.perf_counter() - started
            if response.status_code != 201:
                self.stderr.write(response.content.decode()[:500])
                return
            times.append(elapsed)
            self.stdout.write(f"bulk create {bulk} contacts, run {run + 1}: {elapsed * 1000:.0f} ms")
        self.stdout.write(f"bulk create best: {min(times) * 1000:.0f} ms ({bulk / min(times):,.0f} contacts/s)")

        contact = Contact.objects.live().order_by("-created_at").first()

        def count(url):
            client.get(url)  # warm-up
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            return len(ctx.captured_queries)

        list_url, detail_url = "/api/v1/contacts?limit=20", f"/api/v1/contacts/{contact.pk}"
        before = (count(list_url), count(detail_url))
        page = list(Contact.objects.live().order_by("-created_at", "-id")[:20])
        companies = [services.company_create(user=None, name=f"Bench Co {uuid.uuid4().hex[:6]}") for _ in range(5)]
        for c in page:
            for company in companies:
                services.contact_link_company(contact=c, company=company, user=None, role="bench")
            c.tags.add(*services.tags_get_or_create([f"extra{i}" for i in range(5)]))
            Interaction.objects.bulk_create([Interaction(contact=c, kind="call") for _ in range(10)])
        after = (count(list_url), count(detail_url))
        self.stdout.write(f"queries list/detail before: {before}, after +5 companies +5 tags +10 entries each: {after}")
        total = Contact.objects.count()
        started = time.perf_counter()
        for _ in range(20):
            client.get(list_url)
        self.stdout.write(f"contact list first page at {total:,} contacts: "
                          f"{(time.perf_counter() - started) / 20 * 1000:.1f} ms in-process (mean of 20)")
