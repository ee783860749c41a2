"""``manage.py bench_calls [--leads 100000] [--workers 2] [--batch 2000]``: the scheduler benchmark
(issue 6 "Speed": one tick over 100,000 due leads claims and dispatches at least 5,000 leads per
second with two workers, and no lead is claimed twice).

Seeds ``--leads`` due leads (``schedule_at`` = now) for a new 24/7 simulated agent, then starts
``--workers`` processes that each run :func:`calling.services.scheduler_tick` with the provider
hand-off in process (``dispatch="inline"``: the simulated provider queues one end-of-call Celery
message per batch) until nothing is due, and prints claimed leads per second, total calls,
distinct leads called (equal to the calls: no lead claimed twice) and wall time. Only the
claim-and-dispatch phase is timed, not the seeding. The agent, its leads and calls are removed
afterwards unless ``--keep``.

Run it on a scratch MariaDB/MySQL database (it refuses anything else: SQLite has no row locks),
with REDIS_URL set so the end-of-call messages go to a broker that no worker drains, e.g.::

    DATABASE_URL=mysql://root@127.0.0.1:3306/crm_bench REDIS_URL=redis://127.0.0.1:6379/9 \\
        manage.py migrate && manage.py bench_calls --leads 100000 --workers 2
"""

import multiprocessing
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.utils import timezone

from calling import services
from calling.models import WEEKDAYS, Call
from crm.ids import uuid7
from leads.models import Lead
from leads.services import stage_counts_rebuild

SEED_CHUNK = 5000


def _worker(args) -> tuple[int, int, float]:
    """One worker process: ticks until a tick claims nothing. Returns (claimed, ticks, seconds)."""
    batch, max_seconds = args
    connections.close_all()  # never share the parent's MySQL connection after fork
    claimed = ticks = 0
    started = time.perf_counter()
    while True:
        result = services.scheduler_tick(dispatch="inline", batch_size=batch, max_seconds=max_seconds)
        ticks += 1
        claimed += result.claimed
        if not result.claimed:
            break
    connections.close_all()
    return claimed, ticks, time.perf_counter() - started


class Command(BaseCommand):
    help = "Benchmark the call scheduler's claim + dispatch on a scratch MariaDB/MySQL database."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=100_000, help="due leads to seed (default 100000)")
        parser.add_argument("--workers", type=int, default=2, help="scheduler processes (default 2)")
        parser.add_argument("--batch", type=int, default=2000, help="leads claimed per transaction (default 2000)")
        parser.add_argument("--keep", action="store_true", help="keep the agent, leads and calls afterwards")

    def handle(self, *args, leads: int, workers: int, batch: int, keep: bool, **opts):
        if connection.vendor != "mysql":
            raise CommandError("bench_calls needs a scratch MariaDB/MySQL database (DATABASE_URL=mysql://…); "
                               f"this one is {connection.vendor}.")
        if leads < 1 or workers < 1 or batch < 1:
            raise CommandError("--leads, --workers and --batch must be at least 1.")
        agent = services.agent_create(user=None, name=f"Bench 24/7 {timezone.now():%Y%m%d-%H%M%S}",
                                      business_hours={day: [["00:00", "24:00"]] for day in WEEKDAYS},
                                      max_attempts=3, provider="simulated")
        try:
            self._run(agent, leads=leads, workers=workers, batch=batch)
        finally:
            if not keep:
                self._clean(agent)

    def _run(self, agent, *, leads: int, workers: int, batch: int) -> None:
        now = timezone.now()
        t0 = time.perf_counter()
        # Leads through bulk_create, not lead_create: the benchmark times the scheduler, not the
        # import; each lead gets a distinct phone, so the one-live-lead-per-phone rule holds.
        for start in range(0, leads, SEED_CHUNK):
            Lead.objects.bulk_create([
                Lead(id=uuid7(), first_name=f"Bench{i}", last_name="Lead", phone=f"+1212{i:07d}",
                     agent_id=agent.pk, schedule_at=now, created_at=now)
                for i in range(start, min(leads, start + SEED_CHUNK))])
        self.stdout.write(f"seeded {leads} due leads for agent {agent.pk} in {time.perf_counter() - t0:.1f}s")
        connections.close_all()

        t0 = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = pool.map(_worker, [(batch, 3600.0)] * workers)
        wall = time.perf_counter() - t0

        calls = Call.objects.filter(agent=agent)
        total = calls.count()
        distinct = calls.values("lead_id").distinct().count()
        placed = calls.filter(status=Call.Status.RINGING).count()
        claimed = sum(r[0] for r in results)
        still_due = services.due_leads(agent, timezone.now()).count()
        for n, (count, ticks, seconds) in enumerate(results, 1):
            self.stdout.write(f"worker {n}: claimed {count} in {ticks} ticks, {seconds:.2f}s")
        self.stdout.write(f"leads claimed+dispatched: {claimed} in {wall:.2f}s wall = {claimed / wall:,.0f} leads/s "
                          f"({workers} workers, batch {batch})")
        self.stdout.write(f"calls: {total}; distinct leads called: {distinct}; handed to the provider "
                          f"(ringing): {placed}; still due: {still_due}")
        if total != distinct or claimed != total:
            raise CommandError("a lead was claimed twice (or a claim was lost)")

    def _clean(self, agent) -> None:
        """Remove the benchmark's calls, leads and agent (raw DELETEs: 100,000 rows), then
        rebuild the lead rollups those DELETEs bypassed (``stage_counts_rebuild``, ~20 s at 1M
        leads): left as they were, the list's totals and deep pages would count leads that are
        gone."""
        with connection.cursor() as cur:
            prep = Call._meta.pk.get_db_prep_value
            cur.execute(f"DELETE FROM {Call._meta.db_table} WHERE agent_id = %s", [prep(agent.pk, connection)])
            cur.execute(f"DELETE FROM {Lead._meta.db_table} WHERE agent_id = %s", [prep(agent.pk, connection)])
        agent.delete()
        stage_counts_rebuild()
