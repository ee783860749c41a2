"""``manage.py bench_contacts``: the contacts speed goals of issue 3, measured on MariaDB/MySQL in
one run, beside the same ceilings as ``manage.py bench`` and the lead list's first page.

    DATABASE_URL=mysql://root@127.0.0.1:3306/crm_bench_contacts .venv/bin/python manage.py bench_contacts
    DATABASE_URL=… .venv/bin/python manage.py bench_contacts --contacts 100000 --leads 100000 --markdown

Steps (``docs/benchmarks.md``, "Contacts at 1M", says what each figure means):

1. Preflight (``bench.seed``): MySQL/MariaDB only, every migration applied, ``wrk`` installed;
   the InnoDB buffer pool raised to 2 GiB.
2. Seed ``--contacts`` contacts with companies, links, tags and timeline entries
   (``contacts.benchmark``) and ``--leads`` leads (``bench.seed``, for the lead-list comparison)
   by raw multi-row INSERTs; each is skipped when its table already holds that many. Then the
   contact count rollups are rebuilt and ``ANALYZE TABLE`` runs.
3. gunicorn (``bench.load``, 2 sync workers, DEBUG off): ``POST /api/v1/contacts/bulk`` of
   ``--bulk`` contacts ``--bulk-runs`` times as the manager (the first run warms the worker up
   and is reported apart), timed from the client.
4. In-process: SQL queries of the list and the detail before and after the newest 20 contacts
   gain 5 companies, 5 tags and 10 timeline entries each (must not change); then everything the
   benchmark created is deleted again and the rollups rebuilt, so every run reads the same data.
5. Load (``wrk --latency``) on the contact list as the manager and as a sales user: first page,
   deep page, status, tag and company filters, a common and a rare search; the lead list's first
   page, deep page and common search beside them (its response cache off); the ceilings
   (``/_bench/ping``, ``/_bench/leads-raw``) before and after. gunicorn is always stopped.
"""

import json
import os
import random
import statistics
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from bench import data, listing, load, seed
from bench.command import BenchCommand
from bench.report import Table, Target, fmt_ms, fmt_num
from contacts import benchmark, services
from contacts.models import Company, Contact, Tag
from crm.models import Interaction

CONTACTS_URL = "/api/v1/contacts"
BULK_TARGET = Target("<", 1000, "ms")
P99_TARGET = Target("<", 50, "ms")  # the lead list's "any page" target




@dataclass
class ContactScenario(listing.Scenario):
    """One ``GET /api/v1/contacts?…`` (``bench.listing.Scenario`` for another list)."""

    url: str = CONTACTS_URL

    @property
    def path(self) -> str:
        return f"{self.url}?{self.query}"


def visible_contacts(user) -> int:
    """Live contacts ``user`` sees, counted exactly with one SQL COUNT."""
    with connection.cursor() as cur:
        if user.role == "sales":
            cur.execute("SELECT COUNT(*) FROM contacts_contact WHERE deleted_at IS NULL AND (owner_id = %s "
                        "OR owner_id IS NULL)", [user.pk])
        else:
            cur.execute("SELECT COUNT(*) FROM contacts_contact WHERE deleted_at IS NULL")
        return int(cur.fetchone()[0])


def busiest_company() -> str | None:
    """The id of the company with the most linked contacts (one GROUP BY over the links)."""
    with connection.cursor() as cur:
        cur.execute("SELECT company_id FROM contacts_contactcompany GROUP BY company_id ORDER BY COUNT(*) DESC "
                    "LIMIT 1")
        row = cur.fetchone()
    return str(row[0].decode() if isinstance(row[0], bytes) else row[0]) if row else None


def contact_scenarios(visible: dict, company_id: str | None) -> list[ContactScenario]:
    out = []
    for key, label in (("bench_manager", "manager"), ("bench_sales", "sales")):
        offset = listing.deep_offset(visible[key])
        # The first page as users open it (the list cache answers repeats), then every other
        # scenario built each time (a cache-busting parameter per request).
        out += [
            ContactScenario(f"{label}: first page", key, "limit=20"),
            ContactScenario(f"{label}: first page, built every time", key, "limit=20", uncached=True),
            ContactScenario(f"{label}: deep page (offset {offset:,})", key, f"limit=20&offset={offset}",
                            uncached=True),
            ContactScenario(f"{label}: status filter", key, "status=qualified&limit=20", uncached=True),
            ContactScenario(f"{label}: tag filter 'vip' (~2 %)", key, "tag=vip&limit=20", uncached=True),
        ]
        if company_id:
            out.append(ContactScenario(f"{label}: company filter (largest company)", key,
                                       f"company_id={company_id}&limit=20", uncached=True))
        out += [
            ContactScenario(f"{label}: search common prefix '{data.COMMON_PREFIX}'", key,
                            f"search={data.COMMON_PREFIX}&limit=20", uncached=True),
            ContactScenario(f"{label}: search rare full name '{data.RARE_FULL_NAME}'", key,
                            f"search={quote(data.RARE_FULL_NAME)}&limit=20", uncached=True),
        ]
    return out


def http_post_json(url: str, body, headers: dict, timeout: float = 120) -> tuple[int, bytes, float]:
    """``(status, body, seconds)`` of one JSON POST, timed from the client."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload, status = response.read(), response.status
    except urllib.error.HTTPError as exc:
        payload, status = exc.read(), exc.code
    return status, payload, time.perf_counter() - started


def bulk_items(n: int, base: int, company_ids: list, rng: random.Random) -> list[dict]:
    """``n`` new contacts as an integrator sends them: phones in mixed notations (some with an
    extension), unique emails and phones (never the seeded ones'), tags, a quarter with a company."""
    items = []
    for i in range(n):
        index = base + i
        first, last = rng.choice(data.FIRST_NAMES), rng.choice(data.LAST_NAMES)
        item = {"first_name": first, "last_name": last, "email": f"{first}.{last}.{index}@bulk-bench.example".lower(),
                "phone": data.phone_messy(index, rng), "job_title": rng.choice(data.TITLES) or "Buyer",
                "status": rng.choice(("new", "active", "qualified")), "tags": ["bulk-bench", f"wave-{i % 7}"]}
        if company_ids and i % 4 == 0:
            item["primary_company_id"] = company_ids[i % len(company_ids)]
        items.append(item)
    return items


class Command(BenchCommand):
    help = ("Seed N contacts on MariaDB/MySQL and measure the bulk create, the list/detail query counts and the "
            "contact list under load (wrk against gunicorn), beside the ceilings and the lead list.")

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=1_000_000, help="contacts to seed (default 1,000,000)")
        parser.add_argument("--leads", type=int, default=1_000_000,
                            help="leads to seed for the lead-list comparison (default 1,000,000; 0: none)")
        parser.add_argument("--bulk", type=int, default=1000, help="contacts per bulk create (default 1,000)")
        parser.add_argument("--bulk-runs", type=int, default=5, help="measured bulk creates (default 5)")
        parser.add_argument("--duration", type=float, default=10, help="seconds of load per scenario (default 10)")
        parser.add_argument("--warmup", type=float, default=2, help="seconds of discarded load before each (2)")
        parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
        parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
        parser.add_argument("--skip-seed", action="store_true", help="use the rows already in the database")
        parser.add_argument("--only", choices=("bulk", "queries", "list"), help="run only one part")
        parser.add_argument("--batch", type=int, default=2000, help="rows per INSERT statement when seeding")
        parser.add_argument("--explain", action="store_true", help="add EXPLAIN of every list query to the notes")
        parser.add_argument("--markdown", action="store_true", help="also print the tables as Markdown")

    # -- the run ----------------------------------------------------------------------------

    def _run(self, opts):
        started = time.monotonic()
        version = seed.preflight()
        load.wrk_binary()
        self.database_url = os.environ.get("DATABASE_URL", "")
        if not self.database_url.startswith(("mysql", "mariadb")):
            raise seed.BenchError("Set DATABASE_URL in the environment (gunicorn needs it): "
                                  "DATABASE_URL=mysql://root@127.0.0.1:3306/crm_bench_contacts …")
        db_name = connection.settings_dict["NAME"]
        self.log(f"Database {db_name} on {version}; raising innodb_buffer_pool_size…")
        pool = seed.raise_buffer_pool()
        users = seed.ensure_users()
        tables = [self._seed(users, opts)]
        self.log("ANALYZE TABLE…")
        benchmark.analyze()
        seed.analyze()
        total = benchmark.table_count("contacts_contact")
        load_before = os.getloadavg()[0]
        only = opts["only"]
        self.created_contacts: list[str] = []
        self.created_companies: list = []
        self.log(f"Starting gunicorn ({opts['workers']} workers)…")
        try:
            # Both lists with their response caches as configured (on with Redis): the first
            # pages are compared as served, and built every time.
            with load.Gunicorn(self.database_url, workers=opts["workers"]) as server:
                tokens = {key: load.login(server.url(""), key, seed.PASSWORDS[key])
                          for key in ("bench_manager", "bench_sales")}
                if only in (None, "bulk", "queries"):
                    tables.append(self._bench_bulk(server, tokens, opts))
                if only in (None, "queries"):
                    tables.append(self._bench_queries(users))
                self._cleanup()
                if only in (None, "list"):
                    tables += self._bench_list(server, tokens, users, opts)
            self.log("gunicorn stopped.")
        finally:
            self._cleanup()
        elapsed = time.monotonic() - started
        header = (
            f"bench_contacts {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {total:,} contacts, "
            f"{benchmark.table_count('contacts_company'):,} companies, {seed.lead_count():,} leads in {db_name} "
            f"({version}, buffer pool {pool / 1024**3:.1f} GiB); {os.cpu_count()} CPUs, load average "
            f"{load_before:.1f} → {os.getloadavg()[0]:.1f}; gunicorn {opts['workers']} sync workers; "
            f"wrk -t{opts['threads']} -c{opts['connections']} -d{opts['duration']:g}s; run time {elapsed / 60:.1f} min"
        )
        misses = [m for t in tables for m in t.misses]
        self.stdout.write("\n" + header + "\n")
        for table in tables:
            self.stdout.write("\n" + table.text() + "\n")
        self.stdout.write(f"\nTargets missed: {len(misses)}" + "".join(f"\n  - {m}" for m in misses) + "\n")
        if opts["markdown"]:
            self.stdout.write("\n<!-- bench_contacts --markdown -->\n")
            self.stdout.write(f"_{header}_\n")
            for table in tables:
                self.stdout.write("\n" + table.markdown() + "\n")
            self.stdout.write(f"\nTargets missed: {len(misses)}" + "".join(f"\n- {m}" for m in misses) + "\n")

    # -- seeding ----------------------------------------------------------------------------

    def _seed(self, users: dict, opts) -> Table:
        table = Table(f"Seeding — {opts['contacts']:,} contacts (raw multi-row INSERTs)")
        if opts["skip_seed"]:
            table.notes.append("seeding skipped (--skip-seed)")
            return table
        self.log(f"Seeding up to {opts['contacts']:,} contacts…")
        result = benchmark.seed_contacts(opts["contacts"], users=users, batch=opts["batch"], log=self.log)
        if result is None:
            table.add("contacts already in the table", f"{benchmark.table_count('contacts_contact'):,}")
        else:
            table.add("companies inserted", f"{result.companies:,}")
            table.add("contacts inserted", f"{result.contacts:,}")
            table.add("company links · tag links · timeline entries",
                      f"{result.links:,} · {result.tag_links:,} · {result.entries:,}")
            table.add("time", f"{result.seconds:,.1f} s")
            table.add("contacts/s", fmt_num(result.contacts_per_s))
        if opts["leads"] > 0:
            self.log(f"Seeding up to {opts['leads']:,} leads (the lead-list comparison)…")
            leads = seed.seed(opts["leads"], users=users, batch=opts["batch"], log=self.log)
            table.add("leads inserted (for the comparison)", f"{leads.leads:,}" if leads else "0 (already there)")
        return table

    # -- bulk create through the API ----------------------------------------------------------

    def _bench_bulk(self, server, tokens: dict, opts) -> Table:
        n, runs = opts["bulk"], max(1, opts["bulk_runs"])
        table = Table(f"Bulk create — POST {CONTACTS_URL}/bulk with {n:,} contacts (HTTP, gunicorn, as the manager)")
        rng = random.Random(time.time_ns())
        base = 20_000_000 + rng.randrange(200) * 50_000  # phones/emails no seeded contact has
        with connection.cursor() as cur:
            cur.execute("SELECT id FROM contacts_company WHERE deleted_at IS NULL AND owner_id IS NULL LIMIT 50")
            company_ids = [str(r[0].decode() if isinstance(r[0], bytes) else r[0]) for r in cur.fetchall()]
        headers = {"Authorization": f"Bearer {tokens['bench_manager']}", "Accept": "application/json"}
        times = []
        for run in range(runs + 1):  # run 0 warms the worker up (imports, phone metadata)
            items = bulk_items(n, base + run * n, company_ids, rng)
            status, body, seconds = http_post_json(server.url(f"{CONTACTS_URL}/bulk"), {"contacts": items}, headers)
            if status != 201:
                raise load.LoadError(f"bulk create answered {status}: {body[:500]!r}")
            payload = json.loads(body)
            self.created_contacts += [row["id"] for row in payload["results"]]
            if payload["count"] != n:
                raise load.LoadError(f"bulk create returned {payload['count']} contacts, not {n}")
            self.log(f"  bulk create run {run}{' (warm-up)' if run == 0 else ''}: {seconds * 1000:.0f} ms")
            if run:
                times.append(seconds * 1000)
        best, median = min(times), statistics.median(times)
        table.add("best", fmt_ms(best), "—", BULK_TARGET, best)
        table.add("median", fmt_ms(median), "—", BULK_TARGET, median)
        table.add("contacts/s (best)", fmt_num(n / best * 1000))
        table.notes.append("runs (ms): " + ", ".join(f"{t:.0f}" for t in times) + "; a warm-up run before them "
                           "is not counted")
        table.notes.append("each item: names, a unique email, a phone in a mixed notation (some with an "
                           "extension), job title, status, 2 tags; every 4th a primary company; duplicate checks on")
        return table

    # -- query counts -------------------------------------------------------------------------

    def _bench_queries(self, users: dict) -> Table:
        table = Table("Query counts — list and detail before/after +5 companies, +5 tags, +10 timeline entries "
                      "per contact")
        manager = users["bench_manager"]
        client = Client(HTTP_AUTHORIZATION=f"Bearer {listing.mint_token(manager)}", HTTP_ACCEPT="application/json")

        def count(url):
            # The list cache off: the queries of building the page are what must stay constant.
            with override_settings(ALLOWED_HOSTS=["*"], SECURE_SSL_REDIRECT=False, CONTACT_LIST_CACHE_SECONDS=0):
                client.get(url)  # warm-up: per-process caches in their steady state
                with CaptureQueriesContext(connection) as ctx:
                    response = client.get(url)
            if response.status_code != 200:
                raise load.LoadError(f"{url}: HTTP {response.status_code} {response.content[:300]!r}")
            return len(ctx.captured_queries)

        page = list(Contact.objects.live().order_by("-created_at", "-id")[:20])
        list_url, detail_url = f"{CONTACTS_URL}?limit=20", f"{CONTACTS_URL}/{page[0].pk}"
        before = (count(list_url), count(detail_url))
        suffix = uuid.uuid4().hex[:6]
        companies = [services.company_create(user=None, name=f"Bench Co {suffix}-{i}") for i in range(5)]
        self.created_companies += [c.pk for c in companies]
        extra_tags = [f"bench-extra-{suffix}-{i}" for i in range(5)]
        for contact in page:
            for company in companies:
                services.contact_link_company(contact=contact, company=company, user=None, role="bench")
            services.contact_update(contact=contact, user=None, tags=[t.name for t in contact.tags.all()] + extra_tags)
            for _ in range(10):
                services.interaction_add(user=None, kind="call", contact=contact)
        after = (count(list_url), count(detail_url))
        self.extra_tags = extra_tags
        table.check("list first page: SQL queries before → after", f"{before[0]} → {after[0]}",
                    before[0] == after[0], "same")
        table.check("detail: SQL queries before → after", f"{before[1]} → {after[1]}", before[1] == after[1], "same")
        table.notes.append("in-process (test client, second request of a warm process), as the manager; the 20 "
                           "newest contacts gained the companies, tags and entries through contacts.services")
        return table

    def _cleanup(self) -> None:
        """Delete what the benchmark created (bulk contacts, their links, tags and entries, the
        extra companies and tags) and rebuild the rollups, so the next run reads the same data."""
        if not self.created_contacts and not self.created_companies:
            return
        self.log("Removing the contacts and companies the benchmark created…")
        ids = self.created_contacts
        for at in range(0, len(ids), 1000):
            Contact.objects.filter(pk__in=ids[at:at + 1000]).delete()
        Interaction.objects.filter(company_id__in=self.created_companies).delete()
        Company.objects.filter(pk__in=self.created_companies).delete()
        Tag.objects.filter(name__in=[*getattr(self, "extra_tags", []), "bulk-bench",
                                     *(f"wave-{i}" for i in range(7))]).delete()
        self.created_contacts, self.created_companies = [], []
        services.contact_counts_rebuild()

    # -- the list under load --------------------------------------------------------------------

    def _bench_list(self, server, tokens: dict, users: dict, opts) -> list[Table]:
        visible = {key: visible_contacts(users[key]) for key in ("bench_manager", "bench_sales")}
        cases = contact_scenarios(visible, busiest_company())
        lead_cases = []
        for key, label in (("bench_manager", "manager"), ("bench_sales", "sales")):
            offset = listing.deep_offset(listing.visible_count(users[key]))
            lead_cases += [
                listing.Scenario(f"{label}: lead list first page", key, "limit=20"),
                listing.Scenario(f"{label}: lead list first page, built every time", key, "limit=20",
                                 uncached=True),
                listing.Scenario(f"{label}: lead list deep page (offset {offset:,})", key,
                                 f"limit=20&offset={offset}", uncached=True),
                listing.Scenario(f"{label}: lead list search '{data.COMMON_PREFIX}'", key,
                                 f"search={data.COMMON_PREFIX}&limit=20", uncached=True),
            ]
        self.log("Counting SQL queries per request (in-process)…")
        minted = {key: listing.mint_token(users[key]) for key in visible}
        for case in [*cases, *lead_cases]:
            listing.count_queries(case, minted[case.username])
        for case in [*cases, *lead_cases]:  # every URL answers 200 before any load is put on it
            status, body = load.http_get(server.url(case.path), {"Authorization": f"Bearer {tokens[case.username]}"})
            if status != 200:
                raise load.LoadError(f"{case.path} as {case.username} answered {status}: {body[:300]!r}")
        wrk_opts = {"duration": opts["duration"], "threads": opts["threads"], "connections": opts["connections"]}

        def measure(url, headers=None, script=None):
            if opts["warmup"] > 0:
                load.run_wrk(url, headers=headers, script=script, **{**wrk_opts, "duration": opts["warmup"]})
            return load.run_wrk(url, headers=headers, script=script, **wrk_opts)

        ceilings = {"ping": [], "raw": []}

        def run_ceilings():
            self.log("  ceilings: /_bench/ping, /_bench/leads-raw")
            ceilings["ping"].append(measure(server.url("/_bench/ping")))
            ceilings["raw"].append(measure(server.url("/_bench/leads-raw")))

        results = {}
        run_ceilings()
        for case in [*lead_cases, *cases]:
            self.log(f"  {case.name}")
            headers = {"Authorization": f"Bearer {tokens[case.username]}", "Accept": "application/json"}
            results[case.name] = measure(server.url(case.path), headers, case.wrk_script())
        run_ceilings()
        return [self._list_table(cases, lead_cases, results, ceilings, visible, opts["explain"])]

    def _list_table(self, cases, lead_cases, results, ceilings, visible, explain: bool) -> Table:
        ping = max(ceilings["ping"], key=lambda r: r.rps)
        raw = max(ceilings["raw"], key=lambda r: r.rps)
        table = Table("Contact list under load — req/s · p50 · p99 · SQL queries/request "
                      f"(visible: manager {visible['bench_manager']:,}, sales {visible['bench_sales']:,})")
        ceiling = f"{fmt_num(ping.rps)} · {fmt_num(raw.rps)} req/s"
        table.add("ceiling: JSON view, no DB (/_bench/ping)",
                  f"{fmt_num(ping.rps)} · {fmt_ms(ping.p50_ms)} · {fmt_ms(ping.p99_ms)} · 0")
        table.add("ceiling: raw indexed SELECT … LIMIT 20 (/_bench/leads-raw)",
                  f"{fmt_num(raw.rps)} · {fmt_ms(raw.p50_ms)} · {fmt_ms(raw.p99_ms)} · 1")
        for label, runs in (("ping", ceilings["ping"]), ("leads-raw", ceilings["raw"])):
            table.notes.append(f"{label} req/s before and after the scenarios: "
                               + ", ".join(fmt_num(r.rps) for r in runs) + " (the best is shown)")
        lead_rps = {}
        for case in [*lead_cases, *cases]:
            result = results[case.name]
            p99 = result.p99_ms if not result.timeouts else max(result.p99_ms, load.WRK_TIMEOUT_S * 1000.0)
            value = (f"{fmt_num(result.rps)} · {fmt_ms(result.p50_ms)} · {fmt_ms(p99)} · {case.n_queries}"
                     + (f" ({result.errors:,} failed)" if result.errors else ""))
            table.add(case.name, value, ceiling, P99_TARGET, p99)
            who, page = case.name.split(": ", 1)
            if page.startswith("lead list first page"):
                lead_rps[who, page.removeprefix("lead list ")] = result.rps
            elif page.startswith("first page"):
                lead = lead_rps.get((who, page))
                ratio = result.rps / lead if lead else 0
                table.check(f"{who}: contact {page} req/s ÷ lead {page} req/s", f"{ratio:.2f}",
                            ratio >= 0.8, "≥ 0.8 (same order)")
            sql_ms = ", ".join(f"{t * 1000:.1f}" for _, t in case.queries)
            table.notes.append(f"{case.name}: count={case.count}, rows={case.results}; in-process "
                               f"{case.inprocess_ms:.1f} ms, SQL (ms): {sql_ms}")
            if explain:
                for sql, seconds in case.queries:
                    if not sql.lstrip().upper().startswith("SELECT"):
                        continue
                    plan = "; ".join(f"{row.get('table')}: type={row.get('type')} key={row.get('key')} "
                                     f"rows={row.get('rows')} extra={row.get('Extra')}"
                                     for row in listing.explain(sql))
                    table.notes.append(f"  {seconds * 1000:.1f} ms `{sql[:300]}` → {plan}")
        return table
