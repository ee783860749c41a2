"""``manage.py run_call_scheduler [--once]``: the call scheduler without Celery beat.

Each tick is :func:`calling.services.scheduler_tick` with the provider hand-off done in this
process: fail stale calls, claim due leads inside their agents' business hours, place the
calls. ``--once`` runs one tick and exits; otherwise a tick starts every ``--interval`` seconds
(default 60) until interrupted. Safe next to beat or other copies of itself (SKIP LOCKED claims).
"""

import time

from django.core.management.base import BaseCommand

from calling import services


class Command(BaseCommand):
    help = "Place the calls that are due now (one tick with --once, else every --interval seconds)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run one tick and exit")
        parser.add_argument("--interval", type=int, default=60, help="seconds between ticks (default 60)")
        parser.add_argument("--batch", type=int, default=None, help="leads claimed per transaction")

    def handle(self, *args, once: bool, interval: int, batch: int | None, **opts):
        while True:
            started = time.monotonic()
            result = services.scheduler_tick(dispatch="inline", batch_size=batch)
            self.stdout.write(f"tick: {result.claimed} calls placed, {result.timed_out} timed out, "
                              f"{result.agents_open} agents open, {result.seconds:.2f}s")
            if once:
                return
            time.sleep(max(interval - (time.monotonic() - started), 1))
