"""Database side of the benchmark: preflight checks, MariaDB settings, users and fast seeding.

Seeding bypasses the ORM and ``leads.services`` on purpose: a million leads through ``save()``
would take an hour. Rows go in as multi-row ``INSERT … VALUES (…), (…)`` statements of
``batch`` rows on the raw MySQLdb connection, with ``unique_checks`` and ``foreign_key_checks``
off for the session. The rows respect every invariant the services keep (``live_email`` is the
lower-cased email of a live lead, phones in E.164, a ``status_change`` entry for every stage a
lead left ``new`` for, ``last_interaction_at`` = its latest entry), and rollups maintained by
the services are rebuilt afterwards with ``manage.py rebuild_lead_counts`` when it exists.
"""

import json
import queue
import random
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.management import call_command, get_commands
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor

from bench import data
from leads.order_buckets import name_key

REDO_LOG_BYTES = 1024**3
BUFFER_POOL_BYTES = 2 * 1024**3

# (username, password, role): the manager and the first sales user are the benchmark's callers.
USERS = (
    ("bench_manager", "bench-manager-pw-1", "manager"),
    ("bench_sales", "bench-sales-pw-1", "sales"),
    ("bench_sales2", "bench-sales-pw-2", "sales"),
    ("bench_sales3", "bench-sales-pw-3", "sales"),
    ("bench_sales4", "bench-sales-pw-4", "sales"),
    ("bench_admin", "bench-admin-pw-1", "admin"),
)
PASSWORDS = {name: password for name, password, _ in USERS}

LEAD_COLUMNS = (
    "id", "first_name", "last_name", "email", "live_email", "phone", "phone_extension", "phone_verified",
    "company", "job_title", "status", "source", "score", "value", "agent_id", "custom_fields", "ai_summary",
    "schedule_at", "attempts_count", "call_status", "disposition", "last_interaction_at", "status_changed_at",
    "created_at", "updated_at", "deleted_at", "owner_id", "import_job_id", "name_key",
)
INTERACTION_COLUMNS = (
    "id", "kind", "direction", "subject", "body", "occurred_at", "metadata", "created_at", "lead_id", "user_id",
)


class BenchError(Exception):
    """A precondition failed; the message says what to do."""


def preflight() -> str:
    """Refuse anything but MySQL/MariaDB with every migration applied; return the server version."""
    if connection.vendor != "mysql":
        raise BenchError(
            f"The benchmark needs MySQL/MariaDB, but DATABASE_URL points at {connection.vendor}. Run it as\n"
            "  DATABASE_URL=mysql://root@127.0.0.1:3306/crm_bench make bench\n"
            "(create the scratch database first: mysql -uroot -h127.0.0.1 -e "
            "\"CREATE DATABASE IF NOT EXISTS crm_bench CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci\")"
        )
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in pending[:5])
        raise BenchError(
            f"{len(pending)} migration(s) not applied to {connection.settings_dict['NAME']} ({names}…). "
            "Run: DATABASE_URL=… .venv/bin/python manage.py migrate"
        )
    with connection.cursor() as cur:
        cur.execute("SELECT VERSION()")
        return cur.fetchone()[0]


def raise_buffer_pool(timeout: float = 60.0) -> int:
    """``SET GLOBAL innodb_buffer_pool_size`` to 2 GiB unless already that large (DESIGN.md,
    Versions); waits (bounded) for the online resize and returns the size in bytes."""
    with connection.cursor() as cur:
        cur.execute("SELECT @@innodb_buffer_pool_size")
        size = int(cur.fetchone()[0])
        if size >= BUFFER_POOL_BYTES:
            return size
        cur.execute(f"SET GLOBAL innodb_buffer_pool_size = {BUFFER_POOL_BYTES}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            cur.execute("SELECT @@innodb_buffer_pool_size")
            size = int(cur.fetchone()[0])
            if size >= BUFFER_POOL_BYTES:
                break
            time.sleep(0.5)
        return size


def raise_redo_log() -> int | None:
    """Give InnoDB a 1 GiB redo log unless it has one that large (MariaDB ≥ 10.9 resizes it
    online; MySQL 8.0.30+ calls it ``innodb_redo_log_capacity``): a 100,000-row import writes
    more redo than the 96-100 MB default holds, and the checkpoints that forces cost the import
    ~8 %. The production setting is in docker-compose.yml. Returns the size in bytes, or None
    where the server cannot change it at run time."""
    with connection.cursor() as cur:
        for variable in ("innodb_log_file_size", "innodb_redo_log_capacity"):
            try:
                cur.execute(f"SELECT @@{variable}")
            except DatabaseError:
                continue
            size = int(cur.fetchone()[0])
            if size >= REDO_LOG_BYTES:
                return size
            try:
                cur.execute(f"SET GLOBAL {variable} = {REDO_LOG_BYTES}")
            except DatabaseError:  # read-only on this server version
                return None
            cur.execute(f"SELECT @@{variable}")
            return int(cur.fetchone()[0])
    return None


def analyze() -> None:
    """Refresh the optimizer's statistics for the tables the benchmark reads."""
    with connection.cursor() as cur:
        cur.execute("ANALYZE TABLE leads_lead, crm_interaction, crm_user")
        cur.fetchall()


def ensure_users() -> dict:
    """Create (or repair) the benchmark users with known passwords; ``{username: User}``."""
    from crm.models import User

    users = {}
    for username, password, role in USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"role": role, "email": f"{username}@bench.example", "first_name": username.split("_")[1].title(),
                      "last_name": "Bench", "is_staff": role == "admin"},
        )
        if created or user.role != role or not user.is_active or not user.check_password(password):
            user.role, user.is_active = role, True
            user.set_password(password)
            user.save()
        users[username] = user
    return users


def lead_count() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM leads_lead")
        return int(cur.fetchone()[0])


def _uuid_sql(native: bool):
    """How this server stores a UUIDField: MariaDB ≥ 10.7 has a native ``uuid`` type (Django uses
    it), MySQL a ``char(32)`` of hex digits."""
    return str if native else (lambda u: u.hex)


def _ts(moment: datetime) -> str:
    # Django stores aware datetimes as naive UTC on MySQL.
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass
class SeedResult:
    leads: int
    interactions: int
    seconds: float

    @property
    def rows_per_s(self) -> float:
        return (self.leads + self.interactions) / self.seconds if self.seconds else 0.0

    @property
    def leads_per_s(self) -> float:
        return self.leads / self.seconds if self.seconds else 0.0


class LeadRows:
    """Builds lead and timeline rows (tuples in column order) for lead indexes ``start…``."""

    def __init__(self, users: dict, rng: random.Random, *, native_uuid: bool, email_tag: str = ""):
        from crm.ids import uuid7

        self.rng = rng
        self.people = data.PersonMaker(rng)
        self.uuid7 = uuid7
        self.as_sql = _uuid_sql(native_uuid)
        self.email_tag = email_tag
        sales = [users[n].pk for n in ("bench_sales", "bench_sales2", "bench_sales3", "bench_sales4")]
        # 20 % unassigned, 17.5 % per sales user, 10 % the manager's own.
        self.owners = rng.choices([None, *sales, users["bench_manager"].pk], weights=[20, 17.5, 17.5, 17.5, 17.5, 10],
                                  k=4096)
        self.statuses = rng.choices(data.STATUSES, weights=data.STATUS_WEIGHTS, k=4096)
        self.sources = rng.choices(data.SOURCES, weights=data.SOURCE_WEIGHTS, k=4096)
        self.now = datetime.now(UTC)

    def build(self, index: int, created: datetime) -> tuple[tuple, list[tuple]]:
        """One lead and its 1-2 timeline entries (a note, and a status change unless still new)."""
        rng = self.rng
        first, last, email, company = self.people.person(index, self.email_tag)
        lead_id = self.as_sql(self.uuid7())
        owner = self.owners[rng.getrandbits(12)]
        if last == data.RARE_LAST:
            owner = None  # the planted rare name is unassigned: every user's search finds it
        status = self.statuses[rng.getrandbits(12)]
        note_at = min(created + timedelta(hours=rng.random() * 72), self.now)
        entries = [(
            self.as_sql(self.uuid7()), "note", "", "", data.NOTES[rng.randrange(len(data.NOTES))], _ts(note_at), "{}",
            _ts(note_at), lead_id, owner,
        )]
        changed = created
        if status != "new":
            changed = min(created + timedelta(days=rng.random() * 30), self.now)
            entries.append((
                self.as_sql(self.uuid7()), "status_change", "", "", "", _ts(changed),
                json.dumps({"from": "new", "to": status}), _ts(changed), lead_id, owner,
            ))
        last_at = max(note_at, changed)
        deleted = _ts(last_at) if rng.random() < 0.01 else None  # 1 % soft-deleted
        called = rng.random() < 0.15
        lead = (
            lead_id, first, last, email, None if deleted else email, data.phone_e164(index), "", 1,
            company, data.TITLES[rng.randrange(len(data.TITLES))], status, self.sources[rng.getrandbits(12)],
            rng.randrange(101), f"{rng.randrange(0, 5_000_000) / 100:.2f}", None, "{}", "",
            None, rng.randrange(1, 4) if called else 0, "done" if called else "new",
            rng.choice(("completed", "no_answer", "not_interested", "hung_up")) if called else "",
            _ts(last_at), _ts(changed), _ts(created), _ts(last_at), deleted, owner, None, name_key(last, first),
        )
        return lead, entries


def _insert_sql(table: str, columns: tuple) -> str:
    cols = ", ".join(f"`{c}`" for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO `{table}` ({cols}) VALUES ({marks})"


def raw_cursor():
    """A MySQLdb cursor on Django's connection that sends up to 16 MB per multi-row statement."""
    connection.ensure_connection()
    cur = connection.connection.cursor()
    cur.max_stmt_length = 15 * 1024 * 1024  # below max_allowed_packet (16 MB by default)
    return cur


@contextmanager
def bulk_cursor():
    """:func:`raw_cursor` with ``unique_checks`` and ``foreign_key_checks`` off for the session
    (the seeders write rows that already satisfy both); restored and closed on exit."""
    cur = raw_cursor()
    try:
        cur.execute("SET SESSION unique_checks = 0, foreign_key_checks = 0")
        yield cur
    finally:
        cur.execute("SET SESSION unique_checks = 1, foreign_key_checks = 1")
        cur.close()


def run_batches(produce, consume, *, name: str = "bench-producer") -> None:
    """Build batches on a second thread while this one writes them (mysqlclient releases the
    GIL during a query, so the two overlap on two cores). ``produce(put)`` calls ``put(batch)``
    for each batch and stops when it returns False; ``consume(batch)`` writes one. An
    exception on either side stops both and is raised here."""
    batches: queue.Queue = queue.Queue(maxsize=4)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                batches.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def run():
        try:
            produce(put)
            put(None)
        except BaseException as exc:  # noqa: BLE001 - re-raised by the consumer
            put(exc)

    producer = threading.Thread(target=run, name=name, daemon=True)
    producer.start()
    try:
        while True:
            item = batches.get(timeout=600)
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            consume(item)
    finally:
        stop.set()
        producer.join(timeout=10)


def seed(target: int, *, users: dict, batch: int = 2000, log=print, rng_seed: int = 20240101) -> SeedResult | None:
    """Insert leads (with timelines) until ``leads_lead`` holds ``target`` rows.

    Returns None when nothing was needed. ``created_at`` is spread evenly over the last two
    years, in increasing order, so ids (UUIDv7) and the ``(…, created_at)`` indexes both grow at
    their ends. Progress goes to ``log`` about every 5 seconds.
    """
    existing = lead_count()
    todo = target - existing
    if todo <= 0:
        return None
    rng = random.Random(rng_seed + existing)
    rows = LeadRows(users, rng, native_uuid=connection.features.has_native_uuid_field)
    now = datetime.now(UTC) - timedelta(minutes=5)
    times = data.spread(todo, now - timedelta(days=730), now, rng)
    lead_sql = _insert_sql("leads_lead", LEAD_COLUMNS)
    entry_sql = _insert_sql("crm_interaction", INTERACTION_COLUMNS)

    def produce(put):
        for at in range(0, todo, batch):
            leads, entries = [], []
            for i in range(existing + at, existing + min(at + batch, todo)):
                lead, lead_entries = rows.build(i, next(times))
                leads.append(lead)
                entries.extend(lead_entries)
            if not put((leads, entries)):
                return

    started = last_log = time.monotonic()
    done = n_entries = 0

    def consume(item):
        nonlocal done, n_entries, last_log
        leads, entries = item
        cur.executemany(lead_sql, leads)
        cur.executemany(entry_sql, entries)
        done += len(leads)
        n_entries += len(entries)
        if time.monotonic() - last_log > 5:
            last_log = time.monotonic()
            rate = done / (last_log - started)
            log(f"  seeded {existing + done:,}/{target:,} leads ({rate:,.0f} leads/s, "
                f"~{(todo - done) / rate:,.0f}s left)")

    with bulk_cursor() as cur:  # `consume` writes through it
        run_batches(produce, consume, name="bench-seed-producer")
    seconds = time.monotonic() - started
    rebuild_rollups(log)
    return SeedResult(leads=todo, interactions=n_entries, seconds=seconds)


def rebuild_rollups(log=print) -> None:
    """Recompute counters the services maintain (if the project has any) after raw inserts."""
    if "rebuild_lead_counts" in get_commands():
        started = time.monotonic()
        call_command("rebuild_lead_counts", stdout=_Null())
        log(f"  rebuilt the lead count rollup in {time.monotonic() - started:.1f}s")


class _Null:
    def write(self, *_args, **_kwargs):
        pass

    def flush(self):
        pass


def raw_insert_ceiling(users: dict, rows: int = 20_000, batch: int = 2000) -> float:
    """Rows/s of plain multi-row INSERTs of leads with every check on, rolled back: what an
    importer could reach if parsing, validation and the ORM cost nothing."""
    rng = random.Random(7)
    tag = "c" + data.base36(int(time.time()))
    maker = LeadRows(users, rng, native_uuid=connection.features.has_native_uuid_field, email_tag=tag)
    now = datetime.now(UTC)
    lead_sql = _insert_sql("leads_lead", LEAD_COLUMNS)
    built = [maker.build(i, now)[0] for i in range(rows)]
    cur = raw_cursor()
    try:
        cur.execute("START TRANSACTION")
        started = time.monotonic()
        for at in range(0, rows, batch):
            cur.executemany(lead_sql, built[at : at + batch])
        seconds = time.monotonic() - started
    finally:
        cur.execute("ROLLBACK")
        cur.close()
    return rows / seconds


def explain(sql: str, params=()) -> list[tuple]:
    """``EXPLAIN`` rows for ``sql`` (for the notes printed under a slow scenario)."""
    with connection.cursor() as cur:
        cur.execute("EXPLAIN " + sql, params)
        return cur.fetchall()
