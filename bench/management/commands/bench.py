"""``manage.py bench``: seed a large lead table on MariaDB/MySQL and measure, in one run, the lead
list API and the CSV import, each figure beside this machine's own ceiling.

    DATABASE_URL=mysql://root@127.0.0.1:3306/crm_bench make bench
    DATABASE_URL=… .venv/bin/python manage.py bench --leads 100000 --markdown

Steps (see ``docs/benchmarks.md`` for what each figure means):

1. Preflight: MySQL/MariaDB only, every migration applied, ``wrk`` installed; raise the InnoDB
   buffer pool to 2 GiB (DESIGN.md, Versions) and the redo log to 1 GiB (docker-compose.yml).
2. Seed ``--leads`` leads with timelines by raw multi-row INSERTs (skipped when the table already
   holds that many, or with ``--skip-seed``), then ``ANALYZE TABLE``.
3. List: count each scenario's SQL queries in-process, then serve the app with gunicorn
   (2 sync workers, DEBUG off) and load each scenario with ``wrk --latency``; the ceilings are
   a no-DB JSON view and one raw indexed SELECT served by the same gunicorn, measured before
   and after the scenarios. gunicorn is always stopped.
4. Import: generate an ``--import-rows`` CSV like the real customer export and run
   ``manage.py import_leads`` on it in a child process, sampling its memory; the ceiling is
   plain multi-row INSERTs of the same number of leads. The imported leads are removed again
   after each of ``--import-runs`` runs; the run of median rows/s is reported, beside all.
5. Print a ``figure | value | ceiling | target`` table per scenario (and Markdown with
   ``--markdown``). Progress goes to stderr, tables to stdout.
"""

import os
import time
from datetime import UTC, datetime

from django.core.management import get_commands
from django.db import connection

from bench import csvimport, listing, load, seed
from bench.command import BenchCommand
from bench.report import Table, Target, fmt_ms, fmt_num

IMPORT_RSS_GROWTH = Target("<", 25, "MB")
IMPORT_RATE = Target(">=", 10_000, "rows/s")




class Command(BenchCommand):
    help = ("Seed N leads on MariaDB/MySQL and measure the lead list API (wrk against gunicorn) and the CSV "
            "import, beside this machine's ceilings.")

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=1_000_000, help="leads to seed (default 1,000,000)")
        parser.add_argument("--import-rows", type=int, default=100_000, help="CSV rows to import (default 100,000)")
        parser.add_argument("--duration", type=float, default=10, help="seconds of load per scenario (default 10)")
        parser.add_argument("--warmup", type=float, default=2, help="seconds of discarded load before each (2)")
        parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
        parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
        parser.add_argument("--skip-seed", action="store_true", help="use the leads already in the database")
        parser.add_argument("--only", choices=("list", "import"), help="run only one part")
        parser.add_argument("--batch", type=int, default=2000, help="rows per INSERT statement when seeding")
        parser.add_argument("--import-runs", type=int, default=3,
                            help="imports of the same CSV; the median run is reported (default 3)")
        parser.add_argument("--import-timeout", type=float, default=1800, help="kill the import after this (s)")
        parser.add_argument("--keep-imported", action="store_true", help="leave the imported leads in place")
        parser.add_argument("--explain", action="store_true", help="add EXPLAIN of every list query to the notes")
        parser.add_argument("--markdown", action="store_true", help="also print the tables as Markdown")

    # -- plumbing ---------------------------------------------------------------------------

    def _run(self, opts):
        started = time.monotonic()
        version = seed.preflight()
        only = opts["only"]
        if only != "import":
            load.wrk_binary()
        self.database_url = os.environ.get("DATABASE_URL", "")
        if not self.database_url.startswith(("mysql", "mariadb")):
            raise seed.BenchError("Set DATABASE_URL in the environment (the child processes need it): "
                                  "DATABASE_URL=mysql://root@127.0.0.1:3306/crm_bench make bench")
        db_name = connection.settings_dict["NAME"]
        self.log(f"Database {db_name} on {version}; raising innodb_buffer_pool_size and the redo log…")
        pool = seed.raise_buffer_pool()
        redo = seed.raise_redo_log()
        users = seed.ensure_users()
        tables: list[Table] = []

        if opts["skip_seed"]:
            self.log("Seeding skipped (--skip-seed).")
            tables.append(self._seed_table(None, opts["leads"]))
        else:
            self.log(f"Seeding up to {opts['leads']:,} leads…")
            result = seed.seed(opts["leads"], users=users, batch=opts["batch"], log=self.log)
            tables.append(self._seed_table(result, opts["leads"]))
        self.log("ANALYZE TABLE…")
        seed.analyze()
        total = seed.lead_count()
        load_before = os.getloadavg()[0]
        probe_before = load.cpu_probe()

        if only in (None, "list"):
            tables += self._bench_list(users, opts)
        if only in (None, "import"):
            tables.append(self._bench_import(users, opts))

        elapsed = time.monotonic() - started
        header = (
            f"bench {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {total:,} leads in {db_name} ({version}, buffer pool "
            f"{pool / 1024**3:.1f} GiB, redo log {f'{redo / 1024**3:.1f} GiB' if redo else 'as configured'}); "
            f"{os.cpu_count()} CPUs, load average {load_before:.1f} → "
            f"{os.getloadavg()[0]:.1f}; CPU probe ({load.CPU_PROBE_STEPS / 1e6:g}M-step Python loop, best of 3) "
            f"{probe_before:.2f} s → {load.cpu_probe():.2f} s; gunicorn {opts['workers']} sync workers; "
            f"wrk -t{opts['threads']} -c{opts['connections']} -d{opts['duration']:g}s; run time {elapsed / 60:.1f} min"
        )
        misses = [m for t in tables for m in t.misses]
        self.stdout.write("\n" + header + "\n")
        for table in tables:
            self.stdout.write("\n" + table.text() + "\n")
        self.stdout.write(f"\nTargets missed: {len(misses)}" + "".join(f"\n  - {m}" for m in misses) + "\n")
        if total < 1_000_000:
            self.stdout.write("(The targets are stated for 1,000,000 leads; this run had fewer.)\n")
        if opts["markdown"]:
            self.stdout.write("\n<!-- bench --markdown -->\n")
            self.stdout.write(f"_{header}_\n")
            for table in tables:
                self.stdout.write("\n" + table.markdown() + "\n")
            self.stdout.write(f"\nTargets missed: {len(misses)}" + "".join(f"\n- {m}" for m in misses) + "\n")

    # -- seeding ----------------------------------------------------------------------------

    def _seed_table(self, result, target: int) -> Table:
        table = Table(f"Seeding — {target:,} leads with timelines (raw multi-row INSERTs)")
        if result is None:
            table.add("leads already in the table", f"{seed.lead_count():,}")
            table.notes.append(f"seeding skipped: the table already holds ≥ {target:,} leads")
            return table
        table.add("leads inserted", f"{result.leads:,}")
        table.add("timeline entries inserted", f"{result.interactions:,}")
        table.add("time", f"{result.seconds:,.1f} s")
        table.add("leads/s", fmt_num(result.leads_per_s))
        table.add("rows/s (leads + entries)", fmt_num(result.rows_per_s))
        return table

    # -- the lead list ------------------------------------------------------------------------

    def _bench_list(self, users: dict, opts) -> list[Table]:
        visible = {key: listing.visible_count(users[key]) for key in ("bench_manager", "bench_sales")}
        cases = listing.scenarios(users, visible)
        self.log("Counting SQL queries per request (in-process)…")
        minted = {key: listing.mint_token(users[key]) for key in visible}
        for case in cases:
            listing.count_queries(case, minted[case.username])
        # The last page of each list, counted only: a page's queries must not grow with its depth.
        self.last_pages = {}
        for key, label in (("bench_manager", "manager"), ("bench_sales", "sales")):
            last = listing.Scenario(f"{label}: last page", key, f"limit=20&offset={max(visible[key] - 20, 0)}")
            listing.count_queries(last, minted[key])
            self.last_pages[label] = last

        wrk_opts = {"duration": opts["duration"], "threads": opts["threads"], "connections": opts["connections"]}
        results, ceilings = {}, {"ping": [], "raw": []}
        self.log(f"Starting gunicorn ({opts['workers']} workers)…")
        with load.Gunicorn(self.database_url, workers=opts["workers"]) as server:
            tokens = {key: load.login(server.url(""), key, seed.PASSWORDS[key]) for key in visible}
            for case in cases:  # every URL answers 200 before any load is put on it
                auth = {"Authorization": f"Bearer {tokens[case.username]}"}
                status, body = load.http_get(server.url(case.path), auth)
                if status != 200:
                    raise load.LoadError(f"{case.path} as {case.username} answered {status}: {body[:300]!r}")

            def measure(url, headers=None, script=None):
                if opts["warmup"] > 0:
                    load.run_wrk(url, headers=headers, script=script, **{**wrk_opts, "duration": opts["warmup"]})
                return load.run_wrk(url, headers=headers, script=script, **wrk_opts)

            def run_ceilings():
                self.log("  ceilings: /_bench/ping, /_bench/leads-raw")
                ceilings["ping"].append(measure(server.url("/_bench/ping")))
                ceilings["raw"].append(measure(server.url("/_bench/leads-raw")))

            run_ceilings()
            for case in cases:
                self.log(f"  {case.name}")
                headers = {"Authorization": f"Bearer {tokens[case.username]}", "Accept": "application/json"}
                results[case.name] = measure(server.url(case.path), headers, case.wrk_script())
            run_ceilings()
        self.log("gunicorn stopped.")
        return [self._ceiling_table(ceilings)] + [
            self._case_table(case, results[case.name], ceilings, opts["explain"]) for case in cases
        ] + [self._summary_table(cases, results)]

    @staticmethod
    def _best(runs):
        return max(runs, key=lambda r: r.rps)

    def _ceiling_table(self, ceilings) -> Table:
        table = Table("Ceilings — the same gunicorn, without the application's work")
        for key, label, queries in (("ping", "JSON view, no DB (/_bench/ping)", 0),
                                    ("raw", "raw indexed SELECT … LIMIT 20 as JSON (/_bench/leads-raw)", 1)):
            best = self._best(ceilings[key])
            table.add(f"{label}: requests/s", fmt_num(best.rps))
            table.add(f"{label}: p50", fmt_ms(best.p50_ms))
            table.add(f"{label}: p99", fmt_ms(best.p99_ms))
            table.add(f"{label}: SQL queries/request", str(queries))
            runs = ", ".join(fmt_num(r.rps) for r in ceilings[key])
            table.notes.append(f"{label}: requests/s before and after the scenarios: {runs} (the best is used)")
        return table

    def _case_table(self, case, result, ceilings, explain: bool) -> Table:
        ping, raw = self._best(ceilings["ping"]), self._best(ceilings["raw"])
        table = Table(f"Lead list — {case.name}: GET {case.path}")
        table.add("requests/s", fmt_num(result.rps), f"{fmt_num(ping.rps)} · {fmt_num(raw.rps)}",
                  case.rps_target, result.rps)
        table.add("p50", fmt_ms(result.p50_ms) if result.requests else "—",
                  f"{fmt_ms(ping.p50_ms)} · {fmt_ms(raw.p50_ms)}")
        if not result.requests:  # nothing finished within the run: there are no percentiles
            floor = result.seconds * 1000
            table.add("p99", f"≥ {fmt_ms(floor)} (no request finished)",
                      f"{fmt_ms(ping.p99_ms)} · {fmt_ms(raw.p99_ms)}", case.p99_target, floor)
        elif result.timeouts:  # timed-out requests are missing from wrk's percentiles
            p99 = max(result.p99_ms, load.WRK_TIMEOUT_S * 1000.0)
            table.add("p99", f"≥ {fmt_ms(p99)} ({result.timeouts} timed out)",
                      f"{fmt_ms(ping.p99_ms)} · {fmt_ms(raw.p99_ms)}", case.p99_target, p99)
        else:
            table.add("p99", fmt_ms(result.p99_ms), f"{fmt_ms(ping.p99_ms)} · {fmt_ms(raw.p99_ms)}",
                      case.p99_target, result.p99_ms)
        # The load repeats one URL, so a search's memos answer it; alone and with nothing cached
        # a request is held to the same 50 ms (the "any page and any search").
        table.add("one request alone, nothing cached (in-process, median of 3)", fmt_ms(case.inprocess_ms), "—",
                  listing.ANY_PAGE_TARGET, case.inprocess_ms)
        if case.random_alone_ms:  # the slowest of the random pages is held to the same line
            times = case.random_alone_ms
            table.add(f"{len(times)} random pages alone, nothing cached (in-process): median · slowest",
                      f"{fmt_ms(times[len(times) // 2])} · {fmt_ms(times[-1])}", "—",
                      listing.ANY_PAGE_TARGET, times[-1])
        table.add("SQL queries/request", str(case.n_queries), "0 · 1")
        if result.errors:
            table.add("failed requests (non-2xx, socket errors, timeouts)", f"{result.errors:,}", "0",
                      Target("<", 1), result.errors)
        table.notes.append(f"{result.requests:,} requests in {result.seconds:.1f} s")
        table.notes.append("ceiling = JSON view without DB · raw indexed SELECT (both through the same gunicorn)")
        sql_ms = ", ".join(f"{t * 1000:.1f}" for _, t in case.queries)
        table.notes.append(f"response count={case.count}, rows={case.results}; SQL times (ms): {sql_ms}")
        if explain:
            for sql, seconds in case.queries:
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                plan = "; ".join(
                    f"{row.get('table')}: type={row.get('type')} key={row.get('key')} rows={row.get('rows')} "
                    f"extra={row.get('Extra')}" for row in listing.explain(sql)
                )
                table.notes.append(f"{seconds * 1000:.1f} ms `{sql[:300]}` → {plan}")
        return table

    def _summary_table(self, cases, results) -> Table:
        table = Table("Lead list — query counts")
        by_name = {c.name: c for c in cases}
        for prefix in ("manager", "sales"):
            first = by_name[f"{prefix}: first page"]
            deep = next(c for c in cases if c.name.startswith(f"{prefix}: deep page"))
            last = self.last_pages[prefix]
            table.check(f"{prefix}: SQL queries, first page / deep page / last page",
                        f"{first.n_queries} / {deep.n_queries} / {last.n_queries}",
                        deep.n_queries == last.n_queries and first.n_queries <= deep.n_queries <= first.n_queries + 1,
                        "constant")
        for case in cases:
            table.add(f"{case.name}: SQL queries", str(case.n_queries))
        table.notes.append("measured in-process with CaptureQueriesContext on a warm process (the second request); "
                           "a page past LEAD_DAY_SEEK_OFFSET adds one query (the month rollup gives the total, "
                           "the day rollup the position), whatever its depth")
        return table

    # -- the CSV import -----------------------------------------------------------------------

    def _bench_import(self, users: dict, opts) -> Table:
        rows = opts["import_rows"]
        table = Table(f"CSV import — {rows:,} rows through manage.py import_leads (child process)")
        if "import_leads" not in get_commands():
            table.notes.append("skipped: there is no import_leads command yet (leads/imports.py and "
                               "leads/management/commands/import_leads.py)")
            self.log("Import skipped: no import_leads command.")
            return table
        self.log(f"Writing a {rows:,}-row CSV…")
        csv_file = csvimport.write_csv(rows)
        self.log("Measuring the raw INSERT ceiling…")
        ceiling = seed.raw_insert_ceiling(users, rows=min(rows, 20_000))
        csvimport.compile_bytecode()
        runs, wanted = [], max(1, opts["import_runs"])
        for number in range(1, wanted + 1):
            self.log(f"Importing {csv_file.path} (run {number} of {wanted})…")
            last = number == wanted
            try:
                runs.append(csvimport.run_import(csv_file, self.database_url, timeout=opts["import_timeout"]))
            finally:
                if not (last and opts["keep_imported"]):
                    removed = csvimport.cleanup(csv_file)
                    seed.rebuild_rollups(self.log)
                    self.log(f"Removed the {removed:,} imported leads.")
            if runs[-1].returncode != 0 or runs[-1].timed_out:
                break  # a failed run is reported as it is, not retried
        result = runs[-1]  # a failed run is the one reported
        if result.returncode == 0 and not result.timed_out:
            # The median run by rows/s: one run on a shared VM moves by ±20 % (docs/benchmarks.md).
            result = sorted(runs, key=lambda r: r.rows_per_s)[(len(runs) - 1) // 2]
        if len(runs) > 1:
            table.notes.append("rows/s end to end of each run: " + ", ".join(fmt_num(r.rows_per_s) for r in runs)
                               + f"; peak RSS of each: {', '.join(f'{r.peak_rss_mb:.0f}' for r in runs)} MB "
                               "(the table shows the median run)")
        if result.returncode != 0 or result.timed_out:
            table.notes.append(f"import_leads exited with {result.returncode}"
                               f"{' (timed out)' if result.timed_out else ''}: …{result.output[-800:]}")
        expected = rows - csv_file.bad_rows
        table.add("rows/s end to end (process start to exit)", fmt_num(result.rows_per_s),
                  f"{fmt_num(ceiling)} (raw INSERT)", IMPORT_RATE, result.rows_per_s)
        if result.reported_rows_per_s is not None:
            table.add("rows/s as import_leads reports it (no process start-up)", fmt_num(result.reported_rows_per_s),
                      f"{fmt_num(ceiling)} (raw INSERT)")
        if result.at_10k:
            seconds, rss, leads = result.at_10k
            table.add(f"rows/s up to {leads:,} leads committed (from process start)", fmt_num(leads / seconds), "—")
            table.add(f"RSS at {leads:,} leads committed", f"{rss:.0f} MB", f"{result.baseline_rss_mb:.0f} MB (bare)")
            if result.last and result.last[2] > leads:
                table.add(f"RSS at {result.last[2]:,} leads committed (last sample)", f"{result.last[1]:.0f} MB",
                          f"{result.baseline_rss_mb:.0f} MB (bare)")
            table.add("peak RSS", f"{result.peak_rss_mb:.0f} MB", f"{result.baseline_rss_mb:.0f} MB (bare)")
            growth = result.peak_rss_mb - rss
            table.add("RSS growth from 10k rows to the end (peak − RSS at 10k)", f"{growth:.0f} MB", "0 MB",
                      IMPORT_RSS_GROWTH, growth)
        else:
            table.add("peak RSS", f"{result.peak_rss_mb:.0f} MB", f"{result.baseline_rss_mb:.0f} MB (bare)")
            table.notes.append("no sample saw ≥ 10,000 committed leads (does the import commit in batches?)")
        table.add("leads imported", f"{result.imported:,}", f"{expected:,} (good rows)", Target(">=", expected),
                  result.imported)
        table.add("wall time", f"{result.seconds:.1f} s")
        table.notes.append(f"{csv_file.bad_rows} deliberately broken rows; ceiling RSS = peak of a bare "
                           "`manage.py check`; the imported leads are deleted afterwards; the project's "
                           "bytecode written first, as an installed app has it")
        return table

