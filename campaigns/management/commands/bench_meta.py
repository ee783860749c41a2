"""``manage.py bench_meta``: issue 5's speed goals, on MariaDB/MySQL and Redis.

    DATABASE_URL=mysql://root@127.0.0.1:3306/crm_bench_meta REDIS_URL=redis://127.0.0.1:6379/11 \\
        flock /tmp/bench.lock .venv/bin/python manage.py bench_meta [--markdown]

1. **Sync** (target < 30 s): a ``--days``-day sync of ``--campaigns`` campaigns (one insights row
   per campaign per day, paged 500 at a time) from a local stand-in Graph API (campaigns.replay),
   then the same range again (all updates).
2. **Webhook in-process** (``--inprocess N``, 0 to skip): N signed POSTs one at a time through
   Django's test client, with the time split into storing the event and publishing the task.
3. **Webhook over HTTP** (target ≥ 300 signed requests/s): gunicorn ``config.wsgi`` with
   ``--workers``/``--threads`` (the defaults are docker-compose.yml's), DEBUG off, loaded by ``wrk``
   with ``--connections`` concurrent connections for ``--duration`` s after ``--warmup`` s; every
   request is a body signed beforehand with a leadgen id of its own. Beside it, this machine's
   ceilings through the same gunicorn: the same POST with a bad signature (403: body read and
   HMAC'd, nothing stored or queued) and ``/_bench/ping`` (a plain Django JSON view). Then it
   checks that every 200 stored its event and published one task.

It needs a scratch database and a scratch Redis database with no worker on it: it refuses to
start when the ``meta`` queue holds messages, and at the end deletes its campaigns (with their
insights), sync runs and events and empties the ``meta`` queue (the tasks it published refer to
events that no longer exist).
"""

import hashlib
import hmac
import json
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client, override_settings

from bench import load
from bench.command import BenchCommand
from bench.report import Table, Target, fmt_ms, fmt_num
from campaigns import services
from campaigns.models import Campaign, LeadgenEvent, MetaSyncRun
from campaigns.replay import FakeGraph
from config.celery import app

SECRET = "bench-meta-secret"
URL = "/api/v1/webhooks/meta/leadgen"
SYNC_TARGET = Target("<", 30, "s")
WEBHOOK_TARGET = Target(">=", 300, "req/s")
# Bodies signed per second of load: above what this stack can answer, so no id is sent twice.
BODIES_PER_SECOND = 4000




def signed_body(leadgen_id: int) -> tuple[bytes, str]:
    """One Lead Ads notification for ``leadgen_id`` (integrations.md 1a) and its signature header."""
    now = int(time.time())
    body = json.dumps({"object": "page", "entry": [{"id": "153125381133", "time": now, "changes": [
        {"field": "leadgen", "value": {"leadgen_id": leadgen_id, "page_id": 153125381133, "form_id": 900100200300,
                                       "ad_id": 120219900000000900, "adgroup_id": 120219900000000800,
                                       "created_time": now}}]}]}, separators=(",", ":")).encode()
    return body, "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def write_bodies(path: Path, first_id: int, count: int) -> None:
    """``count`` signed bodies, one ``<signature> <body>`` line each, leadgen ids from ``first_id``."""
    with open(path, "w") as out:
        for i in range(count):
            body, signature = signed_body(first_id + i)
            out.write(f"{signature} {body.decode()}\n")


def signed_posts_script(path: Path, wrk_threads: int) -> str:
    """wrk Lua: each thread reads its share of ``path`` (line k goes to thread k mod threads) and
    POSTs one body per request, so no two requests carry the same leadgen id."""
    return f"""
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local sigs, bodies, n, i = {{}}, {{}}, 0, 0
function init(args)
  local k = 0
  for line in io.lines("{path}") do
    if k % {wrk_threads} == tid then
      local sig, body = line:match("^(%S+) (.*)$")
      n = n + 1
      sigs[n], bodies[n] = sig, body
    end
    k = k + 1
  end
end
function request()
  i = i % n + 1
  return wrk.format("POST", nil, {{["Content-Type"] = "application/json",
                                  ["X-Hub-Signature-256"] = sigs[i]}}, bodies[i])
end
"""


def bad_signature_script() -> str:
    body, _ = signed_body(1)
    return (f'wrk.method = "POST"\nwrk.body = {json.dumps(body.decode())}\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["X-Hub-Signature-256"] = "sha256={"0" * 64}"\n')


def meta_queue_size() -> int:
    """Messages waiting on the broker's ``meta`` queue (0 when the queue was never declared)."""
    with app.connection_for_write() as conn:
        try:
            return conn.default_channel.queue_declare("meta", passive=True).message_count
        except conn.channel_errors:
            return 0


def purge_meta_queue() -> int:
    with app.connection_for_write() as conn:
        return conn.default_channel.queue_purge("meta") or 0


class Command(BenchCommand):
    help = "Benchmark the Meta sync and the Lead Ads webhook (wrk against gunicorn) beside this machine's ceilings."

    def add_arguments(self, parser):
        parser.add_argument("--only", choices=("sync", "webhook"), help="run only one part")
        parser.add_argument("--campaigns", type=int, default=200)
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--inprocess", type=int, default=1000, help="signed POSTs in-process, one at a time")
        parser.add_argument("--duration", type=float, default=10, help="seconds of measured load per run (10)")
        parser.add_argument("--warmup", type=float, default=2, help="seconds of discarded load before each (2)")
        parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
        parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (2)")
        parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4, as docker-compose.yml)")
        parser.add_argument("--threads", type=int, default=4,
                            help="gunicorn threads per worker (4, as docker-compose.yml; 1 = sync workers)")
        parser.add_argument("--markdown", action="store_true", help="also print the tables as Markdown")

    def _run(self, opts):
        only = opts["only"]
        database_url = os.environ.get("DATABASE_URL", "")
        if connection.vendor != "mysql" or not database_url.startswith(("mysql", "mariadb")):
            raise CommandError("bench_meta measures MariaDB/MySQL: set DATABASE_URL=mysql://…/<scratch database> "
                               "in the environment (gunicorn needs it too)")
        if only != "sync":
            if not settings.CELERY_BROKER_URL.startswith("redis"):
                raise CommandError("the webhook publishes to the broker: set REDIS_URL=redis://…/<scratch db>")
            load.wrk_binary()
            queued = meta_queue_size()
            if queued:
                raise CommandError(f"the 'meta' queue on {settings.CELERY_BROKER_URL} holds {queued} messages: "
                                   "use a scratch Redis database with no worker (bench_meta empties it at the end)")
        with connection.cursor() as cur:
            cur.execute("SELECT VERSION(), @@innodb_flush_log_at_trx_commit")
            version, flush = cur.fetchone()
        load_before = os.getloadavg()
        tables: list[Table] = []
        base = int(time.time()) * 1_000_000  # leadgen ids of this run: base … base + 999,999
        try:
            if only in (None, "sync"):
                tables.append(self._bench_sync(opts))
            if only in (None, "webhook"):
                if opts["inprocess"]:
                    tables.append(self._bench_inprocess(opts["inprocess"], base))
                tables.append(self._bench_http(opts, database_url, base + 100_000))
        finally:
            self._cleanup(opts, base, only)
        header = (f"bench_meta {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {connection.settings_dict['NAME']} on "
                  f"{version} (innodb_flush_log_at_trx_commit={flush}), broker {settings.CELERY_BROKER_URL}; "
                  f"{os.cpu_count()} CPUs, load average {load_before[0]:.2f} {load_before[1]:.2f} → "
                  f"{os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
        misses = [m for t in tables for m in t.misses]
        self.stdout.write("\n" + header + "\n")
        for table in tables:
            self.stdout.write("\n" + table.text() + "\n")
        self.stdout.write(f"\nTargets missed: {len(misses)}" + "".join(f"\n  - {m}" for m in misses) + "\n")
        if opts["markdown"]:
            self.stdout.write(f"\n<!-- bench_meta --markdown -->\n_{header}_\n")
            for table in tables:
                self.stdout.write("\n" + table.markdown() + "\n")

    # -- sync ---------------------------------------------------------------------------------

    def _bench_sync(self, opts) -> Table:
        campaigns, days = opts["campaigns"], opts["days"]
        table = Table(f"Meta sync — {days} days × {campaigns} campaigns from the local stand-in Graph API")
        self.log(f"Sync: {days} days × {campaigns} campaigns…")
        with FakeGraph(campaigns=campaigns, days=days, until=date.today()) as graph, override_settings(
            META_GRAPH_URL=graph.url, META_ACCESS_TOKEN="bench-token", META_AD_ACCOUNT_ID="100200300",
            META_SYNC_TRAILING_DAYS=days,
        ):
            started = time.perf_counter()
            run = services.meta_sync(trigger="command")
            took = time.perf_counter() - started
            started = time.perf_counter()
            again = services.meta_sync(trigger="command")
            took_again = time.perf_counter() - started
        MetaSyncRun.objects.filter(pk__in=[run.pk, again.pk]).delete()  # the campaigns go in _cleanup
        table.add("first sync: time", f"{took:.2f} s", target=SYNC_TARGET, raw=took)
        table.add("first sync: daily rows / requests", f"{run.rows_fetched:,} / {run.requests}")
        table.add("first sync: rows/s", fmt_num(run.rows_fetched / took))
        table.add("same range again (all updates): time", f"{took_again:.2f} s", target=SYNC_TARGET, raw=took_again)
        table.check("run status", f"{run.status} · {again.status}", run.status == again.status == "succeeded",
                    "succeeded")
        return table

    # -- webhook, in-process ------------------------------------------------------------------

    def _bench_inprocess(self, n: int, first_id: int) -> Table:
        self.log(f"Webhook in-process: {n} signed POSTs, one at a time…")
        bodies = [signed_body(first_id + i) for i in range(n)]
        client = Client()
        with override_settings(META_APP_SECRET=SECRET, ALLOWED_HOSTS=["*"], SECURE_SSL_REDIRECT=False):
            started = time.perf_counter()
            for body, signature in bodies:
                response = client.post(URL, data=body, content_type="application/json",
                                       HTTP_X_HUB_SIGNATURE_256=signature)
                if response.status_code != 200:
                    raise CommandError(f"signed POST answered {response.status_code}: {response.content[:300]!r}")
            took = time.perf_counter() - started
            # The parts, on fresh ids: storing the events, publishing the tasks.
            more = [json.loads(signed_body(first_id + n + i)[0]) for i in range(n)]
            started = time.perf_counter()
            for payload in more:
                services.leadgen_store(payload)
            store = time.perf_counter() - started
            ids = [str(first_id + n + i) for i in range(n)]
            started = time.perf_counter()
            for leadgen_id in ids:
                services.leadgen_enqueue([leadgen_id])
            publish = time.perf_counter() - started
        table = Table(f"Lead Ads webhook in-process — {n:,} signed POSTs one at a time (Django test client)")
        table.add("signed POST: requests/s", fmt_num(n / took))
        table.add("signed POST: mean time", fmt_ms(took / n * 1000))
        table.add("of which storing the event (leadgen_store)", fmt_ms(store / n * 1000))
        table.add("of which publishing the task (leadgen_enqueue)", fmt_ms(publish / n * 1000))
        table.notes.append("one request at a time, so every commit waits for its own log flush; "
                           "the HTTP figure below is the one the target is about")
        return table

    # -- webhook, over HTTP -------------------------------------------------------------------

    def _bench_http(self, opts, database_url: str, first_id: int) -> Table:
        workers, threads, conns = opts["workers"], opts["threads"], opts["connections"]
        wrk_opts = {"duration": opts["duration"], "threads": opts["wrk_threads"], "connections": conns}
        per_run = max(1000, int(max(opts["duration"], opts["warmup"]) * BODIES_PER_SECOND))
        scratch = Path(tempfile.mkdtemp(prefix="bench_meta_"))
        warm_file, run_file = scratch / "warmup.txt", scratch / "run.txt"
        self.log(f"Webhook over HTTP: signing {2 * per_run:,} bodies…")
        write_bodies(warm_file, first_id, per_run)
        write_bodies(run_file, first_id + per_run, per_run)
        ceilings = {"bad": [], "ping": []}
        queued_before = meta_queue_size()
        self.log(f"Starting gunicorn ({workers} workers × {threads} threads)…")
        try:
            with load.Gunicorn(database_url, workers=workers, threads=threads, env={"META_APP_SECRET": SECRET},
                               log_path=scratch / "gunicorn.log") as server:
                url = server.url(URL)
                self._smoke(url, first_id - 1)

                def measure(script=None, target=url, warm_script=None):
                    if opts["warmup"] > 0:
                        load.run_wrk(target, script=warm_script or script, **{**wrk_opts, "duration": opts["warmup"]})
                    return load.run_wrk(target, script=script, **wrk_opts)

                def run_ceilings():
                    self.log("  ceilings: bad signature, /_bench/ping")
                    ceilings["bad"].append(measure(bad_signature_script()))
                    ceilings["ping"].append(measure(target=server.url("/_bench/ping")))

                run_ceilings()
                self.log(f"  signed POSTs: wrk -t{wrk_opts['threads']} -c{conns} -d{opts['duration']:g}s")
                signed = measure(signed_posts_script(run_file, wrk_opts["threads"]),
                                 warm_script=signed_posts_script(warm_file, wrk_opts["threads"]))
                run_ceilings()
        except BaseException:
            self.log(f"gunicorn's log is kept in {scratch}")
            raise
        else:
            shutil.rmtree(scratch, ignore_errors=True)
        finally:
            for path in (warm_file, run_file):
                path.unlink(missing_ok=True)
        self.log("gunicorn stopped.")
        stored = LeadgenEvent.objects.filter(leadgen_id__gte=str(first_id - 1),
                                             leadgen_id__lt=str(first_id + 2 * per_run)).count()
        queued = meta_queue_size() - queued_before
        bad = max(ceilings["bad"], key=lambda r: r.rps)
        ping = max(ceilings["ping"], key=lambda r: r.rps)
        mode = f"{workers} × {threads} threads (gthread)" if threads > 1 else f"{workers} sync workers"
        table = Table(f"Lead Ads webhook over HTTP — gunicorn {mode}, wrk -t{wrk_opts['threads']} -c{conns} "
                      f"-d{opts['duration']:g}s, one new leadgen id per POST")
        table.add("signed POST (event stored + task queued): requests/s", fmt_num(signed.rps),
                  f"{fmt_num(bad.rps)} · {fmt_num(ping.rps)}", WEBHOOK_TARGET, signed.rps)
        table.add("signed POST: p50 / p99", f"{fmt_ms(signed.p50_ms)} / {fmt_ms(signed.p99_ms)}",
                  f"{fmt_ms(bad.p50_ms)} / {fmt_ms(bad.p99_ms)} · {fmt_ms(ping.p50_ms)} / {fmt_ms(ping.p99_ms)}")
        table.check("signed POST: failed requests (non-2xx, socket errors, timeouts)", f"{signed.errors:,}",
                    signed.errors == 0, "0")
        # Requests still in flight when wrk stops are served but not counted by wrk.
        answered = signed.requests
        table.check("events stored (warm-up + measured run) vs 200s counted by wrk", f"{stored:,} vs {answered:,}",
                    stored >= answered, "stored ≥ 200s")
        table.check("tasks on the meta queue vs events stored", f"{queued:,} vs {stored:,}", queued == stored,
                    "one each")
        table.check("no leadgen id sent twice", f"{signed.requests:,} requests, {per_run:,} bodies",
                    signed.requests <= per_run, "requests ≤ bodies")
        table.add("ceiling: bad signature (403, nothing stored or queued): requests/s", fmt_num(bad.rps))
        table.add("ceiling: /_bench/ping (plain Django JSON view): requests/s", fmt_num(ping.rps))
        table.notes.append(f"{signed.requests:,} signed requests in {signed.seconds:.1f} s; ceiling column = bad "
                           "signature · /_bench/ping through the same gunicorn, best of the runs before and after: "
                           f"bad {', '.join(fmt_num(r.rps) for r in ceilings['bad'])}; "
                           f"ping {', '.join(fmt_num(r.rps) for r in ceilings['ping'])}")
        return table

    def _smoke(self, url: str, leadgen_id: int) -> None:
        """One signed POST answers 200 and one unsigned 403 before any load is put on the server."""
        body, signature = signed_body(leadgen_id)
        for sig, expected in ((signature, 200), ("sha256=" + "0" * 64, 403)):
            request = urllib.request.Request(url, data=body, method="POST", headers={
                "Content-Type": "application/json", "X-Hub-Signature-256": sig})
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status, content = response.status, response.read()
            except urllib.error.HTTPError as exc:
                status, content = exc.code, exc.read()
            if status != expected:
                raise load.LoadError(f"POST {url} answered {status} (expected {expected}): {content[:300]!r}")

    # -- cleanup ------------------------------------------------------------------------------

    def _cleanup(self, opts, base: int, only) -> None:
        if only != "webhook":
            Campaign.objects.filter(meta_id__in=[f"1202199{i:011d}" for i in range(opts["campaigns"])]).delete()
        if only != "sync":
            deleted, _ = LeadgenEvent.objects.filter(leadgen_id__gte=str(base),
                                                     leadgen_id__lt=str(base + 1_000_000)).delete()
            purged = purge_meta_queue()
            self.log(f"Cleaned up: {deleted:,} events deleted, {purged:,} messages purged from 'meta'.")
