"""``manage.py bench_meta [--campaigns 200] [--days 90] [--webhooks 2000]``: the issue's speed goals.

1. A ``--days``-day sync of ``--campaigns`` campaigns (one row per campaign per day, paged 500 at
   a time) from a local stand-in Graph API (campaigns.replay) into the configured database.
2. ``--webhooks`` signed Lead Ads POSTs, one leadgen id each, through the whole Django stack
   in-process (signature check, event insert, task publish to the configured broker).

Uses the configured database: run it against a scratch one. It removes what it wrote (the
campaigns, their insights, the events) when done; queued tasks stay on the broker's ``meta``
queue unless ``--purge`` (tasks for removed events do nothing but fail one Graph lookup).
"""

import hashlib
import hmac
import json
import time
from datetime import date

from django.core.management.base import BaseCommand
from django.test import Client, override_settings

from campaigns import services
from campaigns.models import Campaign, LeadgenEvent
from campaigns.replay import FakeGraph


class Command(BaseCommand):
    help = "Benchmark the Meta sync and the Lead Ads webhook."

    def add_arguments(self, parser):
        parser.add_argument("--campaigns", type=int, default=200)
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--webhooks", type=int, default=2000)
        parser.add_argument("--purge", action="store_true", help="purge the meta queue afterwards")

    def handle(self, *args, campaigns, days, webhooks, purge, **opts):
        until = date.today()
        with FakeGraph(campaigns=campaigns, days=days, until=until) as graph, override_settings(
            META_GRAPH_URL=graph.url, META_ACCESS_TOKEN="bench-token", META_AD_ACCOUNT_ID="100200300",
            META_APP_SECRET="bench-secret", META_SYNC_TRAILING_DAYS=days,
        ):
            started = time.perf_counter()
            run = services.meta_sync(trigger="command")
            took = time.perf_counter() - started
            self.stdout.write(f"sync: {run.status}, {run.campaigns_fetched} campaigns, {run.rows_fetched} daily rows, "
                              f"{run.requests} requests in {took:.2f}s ({run.rows_fetched / took:,.0f} rows/s)")
            started = time.perf_counter()
            run2 = services.meta_sync(trigger="command")
            took2 = time.perf_counter() - started
            self.stdout.write(f"re-sync of the same range (all updates): {run2.rows_fetched} rows in {took2:.2f}s")

            client = Client()
            base = int(time.time()) * 10_000
            bodies = []
            for i in range(webhooks):
                body = json.dumps({"object": "page", "entry": [{"id": "153125381133", "time": int(time.time()),
                    "changes": [{"field": "leadgen", "value": {"leadgen_id": base + i, "page_id": 153125381133,
                                 "form_id": 900100200300, "ad_id": 120219900000000900,
                                 "created_time": int(time.time())}}]}]}).encode()
                bodies.append((body, "sha256=" + hmac.new(b"bench-secret", body, hashlib.sha256).hexdigest()))
            started = time.perf_counter()
            for body, signature in bodies:
                response = client.post("/api/v1/webhooks/meta/leadgen", data=body, content_type="application/json",
                                       HTTP_X_HUB_SIGNATURE_256=signature)
                assert response.status_code == 200, response.content
            took3 = time.perf_counter() - started
            self.stdout.write(f"webhook: {webhooks} signed POSTs in {took3:.2f}s = {webhooks / took3:,.0f} req/s "
                              f"({took3 / webhooks * 1000:.2f} ms each, event stored + task published)")

        meta_ids = [f"1202199{i:011d}" for i in range(campaigns)]
        Campaign.objects.filter(meta_id__in=meta_ids).delete()
        LeadgenEvent.objects.filter(leadgen_id__gte=str(base), leadgen_id__lte=str(base + webhooks)).delete()
        if purge:
            from config.celery import app

            with app.connection_for_write() as conn:
                n = conn.default_channel.queue_purge("meta")
            self.stdout.write(f"purged {n} queued messages from 'meta'")
