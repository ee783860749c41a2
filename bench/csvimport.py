"""The CSV import benchmark: a generated export, ``manage.py import_leads`` in a child process,
its throughput and its memory.

:func:`write_csv` writes a file shaped like the real customer export
(``/work/shared/data/customers-10000.csv``: ``Index, Customer Id, First Name, Last Name,
Company, City, Country, Phone 1, Phone 2, Email, Subscription Date, Website``) with unique
emails and phones in the notations real exports mix (``(209)172-7124x3651``, ``915.112.1727``,
``001-…``), plus a few broken rows (0.2 %) so the row-error path runs too.

:func:`run_import` starts ``manage.py import_leads FILE`` and, until it exits (bounded by a
timeout), samples its resident memory from ``/proc`` and the number of leads it has committed.
The peak comes from ``/usr/bin/time -f %M`` (exact) when installed. :func:`cleanup`
removes what the run imported, so every run imports into the same data set.
"""

import csv
import os
import random
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection

from bench import data

CITIES = ("Springfield", "Riverside", "Lake Jeffborough", "Aaronville", "East Jordan", "Port Mary", "Newtown",
          "Bristol", "Hamburg", "Lyon", "Porto", "Kraków", "Malmö", "Zürich")
COUNTRIES = ("United States", "United States", "United States", "Canada", "United Kingdom", "Germany", "France",
             "Portugal", "Poland", "Sweden", "Switzerland", "Norway")
HEADER = ["Index", "Customer Id", "First Name", "Last Name", "Company", "City", "Country", "Phone 1", "Phone 2",
          "Email", "Subscription Date", "Website"]
BAD_EVERY = 500  # one broken row (no name, or an impossible phone and no email) per this many


@dataclass
class CsvFile:
    path: Path
    rows: int
    tag: str  # in every email of this file: how cleanup finds the imported leads
    bad_rows: int
    written_at: datetime  # no lead of this file was created before


def write_csv(rows: int, directory: Path | None = None, seed: int = 11) -> CsvFile:
    """Write a ``rows``-row export with a run tag in its emails; phones are unique too (they
    come from lead indexes far above any seeded lead's, shifted per run)."""
    directory = Path(directory or Path(settings.VAR_DIR) / "bench")
    directory.mkdir(parents=True, exist_ok=True)
    written_at = datetime.now(UTC) - timedelta(seconds=2)
    now = int(time.time())
    tag = "x" + data.base36(now)
    phone_base = 100_000_000 + (now % 150) * 1_000_000
    rng = random.Random(seed)
    people = data.PersonMaker(rng)
    path = directory / f"import-{rows}.csv"
    start = datetime(2020, 1, 1, tzinfo=UTC)
    bad = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for i in range(rows):
            first, last, email, company = people.person(i, tag)
            phone1 = data.phone_messy(phone_base + i, rng)
            phone2 = data.phone_messy(phone_base + rows + i, rng) if rng.random() < 0.5 else ""
            if i % BAD_EVERY == BAD_EVERY - 1:
                bad += 1
                if i % (2 * BAD_EVERY) == BAD_EVERY - 1:
                    first, last = "", ""
                else:
                    phone1, phone2, email = "12-34", "", ""
            website = f"https://www.{data.company_domain(company)}/" if company else ""
            out.writerow([
                i + 1, f"{rng.getrandbits(60):015X}", first, last, company, rng.choice(CITIES), rng.choice(COUNTRIES),
                phone1, phone2, email, (start + timedelta(days=rng.randrange(1800))).date().isoformat(), website,
            ])
    return CsvFile(path=path, rows=rows, tag=tag, bad_rows=bad, written_at=written_at)


@dataclass
class ProcessRun:
    """A finished child process: wall time, exit code, peak RSS (MB) and its output tail."""

    seconds: float
    returncode: int
    peak_rss_mb: float
    output: str
    samples: list = field(default_factory=list)  # (seconds, rss MB, leads committed)
    timed_out: bool = False


def _memory_mb(pid: int) -> tuple[float, float]:
    """``(VmRSS, VmHWM)`` of ``pid`` in MB from ``/proc`` (0 when it is gone). VmHWM is the
    peak RSS of the process's current program: it restarts at ``exec``."""
    rss = hwm = 0.0
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) / 1024
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return rss, hwm


def _child_of(parent: int) -> int | None:
    """The pid of a process whose parent is ``parent`` (scans ``/proc``), or None."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            return int(entry)
    return None


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _imported(tag_like: str, since: str) -> int:
    """The leads this file imported, counted from the table (a scan of every lead created since
    ``since``: ~120 ms at 100,000; once, after the run)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT COUNT(*) FROM leads_lead WHERE deleted_at IS NULL AND created_at >= %s AND email LIKE %s",
            [since, tag_like],
        )
        return int(cur.fetchone()[0])


def _committed(file_name: str, since: str) -> int:
    """The leads committed so far by the import of ``file_name`` started after ``since``: its
    job's ``success_count``, which each batch's transaction advances with its leads. One small
    read, so sampling it twice a second takes nothing measurable from the import it watches
    (counting the leads themselves took ~120 ms of the database's CPU each time, a tenth of
    the run on two cores)."""
    with connection.cursor() as cur:
        cur.execute("SELECT COALESCE(SUM(success_count), 0) FROM leads_leadimport WHERE original_name = %s "
                    "AND created_at >= %s", [file_name, since])
        return int(cur.fetchone()[0])


def child_env(database_url: str) -> dict:
    env = dict(os.environ)
    env.update({"DATABASE_URL": database_url, "DEBUG": "false", "SECURE_SSL_REDIRECT": "false",
                "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"})
    return env


def run_managepy(args: list[str], database_url: str, *, timeout: float, poll=None, interval: float = 0.25
                 ) -> ProcessRun:
    """Run ``manage.py <args>`` to completion (killed after ``timeout`` seconds).

    Every ``interval`` it records ``(elapsed, RSS MB, poll())``. The peak RSS comes from
    ``/usr/bin/time -f %M`` when installed (exact), else from the largest sampled VmHWM. It is
    never taken from this process's own ``wait4`` rusage: a child forked from a large parent
    starts with the parent's RSS in its ``ru_maxrss``.
    """
    log_path = Path(settings.VAR_DIR) / "bench" / f"{args[0]}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    peak_path = log_path.with_suffix(".maxrss")
    peak_path.unlink(missing_ok=True)
    command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args]
    timer = Path("/usr/bin/time")
    if timer.exists():
        command = [str(timer), "-f", "%M", "-o", str(peak_path), *command]
    with open(log_path, "w+") as log:
        started = time.monotonic()
        proc = subprocess.Popen(command, cwd=settings.BASE_DIR, env=child_env(database_url), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        target = None if timer.exists() else proc.pid  # the python process to sample
        samples, hwm_peak, timed_out = [], 0.0, False
        next_poll = 0.0
        try:
            while proc.poll() is None:
                elapsed = time.monotonic() - started
                if elapsed > timeout:
                    timed_out = True
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(10)
                    break
                if target is None:
                    target = _child_of(proc.pid)
                if elapsed >= next_poll and target is not None:
                    next_poll = elapsed + interval
                    rss, hwm = _memory_mb(target)
                    hwm_peak = max(hwm_peak, hwm)
                    samples.append((elapsed, rss, poll() if poll else None))
                time.sleep(0.05)
        finally:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(10)
        seconds = time.monotonic() - started
        log.seek(0)
        output = log.read()[-4000:]
    peak = hwm_peak
    try:
        peak = int(peak_path.read_text().strip().splitlines()[-1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return ProcessRun(seconds=seconds, returncode=proc.returncode, peak_rss_mb=peak, output=output,
                      samples=samples, timed_out=timed_out)


@dataclass
class ImportResult:
    rows: int
    imported: int
    seconds: float
    peak_rss_mb: float
    at_10k: tuple | None  # (seconds, RSS MB, leads) at the first sample with ≥ 10,000 leads
    rss_first_mb: float  # RSS at the first sample with leads committed (the import running)
    last: tuple | None  # the last sample with leads committed: (seconds, RSS MB, leads)
    baseline_rss_mb: float  # peak RSS of a bare ``manage.py check`` (Django loaded, no work)
    output: str
    returncode: int
    timed_out: bool

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    @property
    def reported_rows_per_s(self) -> float | None:
        """The rate ``import_leads`` prints itself (from the job's creation, without process start-up)."""
        match = re.search(r"rows processed in [\d.]+s \(([\d,]+) rows/s\)", self.output)
        return float(match.group(1).replace(",", "")) if match else None


def compile_bytecode() -> None:
    """Write the bytecode of the project's own modules, as an installed app has it: pip compiles
    the packages it installs, and the project's modules are compiled by their first run, except
    where ``PYTHONDONTWRITEBYTECODE`` is set, as on the VMs these figures come from. Without it
    every ``import_leads`` would start by compiling them again (~0.1 s of a 10 s run)."""
    import compileall

    for package in sorted(Path(settings.BASE_DIR).iterdir()):
        if package.name != "tests" and (package / "__init__.py").is_file():
            compileall.compile_dir(package, quiet=1)


def baseline_rss(database_url: str) -> float:
    """Peak RSS (MB) of ``manage.py check``: the memory floor of any management command."""
    return run_managepy(["check"], database_url, timeout=120).peak_rss_mb


def run_import(csv_file: CsvFile, database_url: str, *, timeout: float = 900) -> ImportResult:
    """``manage.py import_leads FILE`` in a child process, sampled while it runs."""
    since = _ts(csv_file.written_at)
    like = f"%{csv_file.tag}@%"
    baseline = baseline_rss(database_url)
    run = run_managepy(["import_leads", str(csv_file.path), "--no-progress"], database_url, timeout=timeout,
                       poll=lambda: _committed(csv_file.path.name, since), interval=0.5)
    imported = _imported(like, since)
    at_10k = next((s for s in run.samples if s[2] and s[2] >= 10_000), None)
    running = next((s for s in run.samples if s[2]), None)
    return ImportResult(
        rows=csv_file.rows, imported=imported, seconds=run.seconds, peak_rss_mb=run.peak_rss_mb, at_10k=at_10k,
        rss_first_mb=running[1] if running else 0.0,
        last=next((s for s in reversed(run.samples) if s[2]), None), baseline_rss_mb=baseline, output=run.output,
        returncode=run.returncode, timed_out=run.timed_out,
    )


def cleanup(csv_file: CsvFile, batch: int = 5000) -> int:
    """Delete the leads this file imported (found by the run tag in their emails), their
    timeline entries and the import jobs that point at the file; returns the leads removed.

    The deletes are raw SQL, past the services: the caller rebuilds the lead rollups after
    (``seed.rebuild_rollups``, as ``manage.py bench`` does), else the lists' deep pages find
    them out of step and read by ``OFFSET`` (correct, but ~0.8 s a page at 1M leads)."""
    like = f"%{csv_file.tag}@%"
    removed = 0
    with connection.cursor() as cur:
        # A full scan (about a second at 1M leads), so it works whatever created_at the import set.
        cur.execute("SELECT id FROM leads_lead WHERE email LIKE %s", [like])
        ids = [row[0] for row in cur.fetchall()]
        for at in range(0, len(ids), batch):
            chunk = ids[at : at + batch]
            marks = ", ".join(["%s"] * len(chunk))
            cur.execute(f"DELETE FROM crm_interaction WHERE lead_id IN ({marks})", chunk)
            cur.execute(f"DELETE FROM leads_lead WHERE id IN ({marks})", chunk)
            removed += len(chunk)
        cur.execute("SELECT id FROM leads_leadimport WHERE file LIKE %s OR original_name = %s",
                    [f"%{csv_file.path.stem}%", csv_file.path.name])
        jobs = [row[0] for row in cur.fetchall()]
        for job in jobs:
            cur.execute("UPDATE leads_lead SET import_job_id = NULL WHERE import_job_id = %s", [job])
            cur.execute("DELETE FROM leads_leadimporterror WHERE job_id = %s", [job])
            cur.execute("DELETE FROM leads_leadimport WHERE id = %s", [job])
    return removed
