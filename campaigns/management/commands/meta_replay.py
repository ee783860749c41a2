"""``manage.py meta_replay [--port 8915] [--campaigns 3] [--days 30]``: serve a stand-in Graph API
(campaigns, daily insights, Lead Ads leads) for demos and end-to-end checks. Point
``META_GRAPH_URL`` at it and set any ``META_ACCESS_TOKEN``/``META_AD_ACCOUNT_ID``."""

import time

from django.core.management.base import BaseCommand

from campaigns.replay import FakeGraph


class Command(BaseCommand):
    help = "Serve a local stand-in for the Meta Graph API (until Ctrl-C)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8915)
        parser.add_argument("--campaigns", type=int, default=3)
        parser.add_argument("--days", type=int, default=30)

    def handle(self, *args, port, campaigns, days, **opts):
        with FakeGraph(campaigns=campaigns, days=days, port=port) as graph:
            self.stdout.write(f"Graph API stand-in at {graph.url} ({campaigns} campaigns, {days} days). "
                              f"Set META_GRAPH_URL={graph.url}")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
