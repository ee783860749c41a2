"""Seeding for ``manage.py bench_contacts``: companies, contacts, company links, tags and timeline
entries by raw multi-row INSERTs, on MariaDB/MySQL only.

It reuses ``bench.seed`` (preflight, buffer pool, benchmark users, the raw cursor, the INSERT
builder) and ``bench.data`` (names, unique emails and phones, time spread), and bypasses
``contacts.services`` on purpose, as the lead seeding does: a million contacts through the
services would take an hour. The rows keep every invariant the services keep — phones in E.164,
emails lower-cased, the primary company is one of the linked companies, ``last_contacted`` is the
newest call/email/meeting entry, ``live_domain`` is the domain of a live company — and the count
rollups are rebuilt afterwards (:func:`contacts.services.contact_counts_rebuild`).

Shape of a seeded data set of N contacts: ``N // 20`` companies (50,000 at 1M), 85 % of contacts
with a primary company (one in ten of them at one of the 100 largest companies, so a few
companies have thousands of contacts), 12 % of those with a second company, 0–3 tags each from
:data:`TAGS` (``vip`` on about 2 %), 30 % with one or two timeline entries, 1 % soft-deleted,
``created_at`` spread over the last two years, the owners spread like the leads' (20 %
unassigned, 17.5 % per sales user, 10 % the manager).
"""

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection

from bench import data
from bench.seed import _insert_sql, _ts, _uuid_sql, bulk_cursor, run_batches

COMPANY_COLUMNS = (
    "id", "name", "domain", "live_domain", "website", "industry", "size", "phone", "address", "owner_id",
    "created_at", "updated_at", "deleted_at",
)
CONTACT_COLUMNS = (
    "id", "first_name", "last_name", "email", "phone", "phone_extension", "job_title", "role", "status", "notes",
    "owner_id", "primary_company_id", "last_contacted", "merged_into_id", "created_at", "updated_at", "deleted_at",
)
LINK_COLUMNS = ("contact_id", "company_id", "role", "created_at", "contact_created_at")
TAG_LINK_COLUMNS = ("contact_id", "tag_id", "contact_created_at")
ENTRY_COLUMNS = (
    "id", "kind", "direction", "subject", "body", "occurred_at", "metadata", "created_at", "lead_id", "user_id",
    "contact_id", "company_id",
)
# (tag, share of contacts carrying it), drawn independently per contact.
TAGS = (
    ("newsletter", 0.25), ("decision-maker", 0.12), ("webinar", 0.10), ("event-2026", 0.08), ("partner", 0.05),
    ("upsell", 0.04), ("churn-risk", 0.03), ("vip", 0.02), ("beta", 0.01), ("reference", 0.005),
)
STATUSES = ("new", "active", "qualified", "customer", "inactive")
STATUS_WEIGHTS = (25, 35, 15, 15, 10)
ROLES = ("decision maker", "champion", "influencer", "user", "gatekeeper", "")
INDUSTRIES = ("Software", "Manufacturing", "Healthcare", "Retail", "Logistics", "Finance", "Energy", "Media",
              "Education", "Wholesale")
SIZES = ("1-10", "11-50", "51-200", "201-500", "501-1000", "1000+")
ENTRY_KINDS = ("call", "email", "meeting", "note")
BIG_COMPANIES = 100  # one in ten linked contacts works at one of these


def companies_for(contacts: int) -> int:
    """How many companies a data set of ``contacts`` contacts has (one per 20, at least 50)."""
    return max(50, contacts // 20)


def table_count(table: str) -> int:
    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM `{table}`")
        return int(cur.fetchone()[0])


def analyze() -> None:
    """Refresh the optimizer's statistics for the tables the contact list reads."""
    with connection.cursor() as cur:
        cur.execute("ANALYZE TABLE contacts_contact, contacts_company, contacts_contactcompany, "
                    "contacts_contact_tags, contacts_tag, crm_interaction")
        cur.fetchall()


@dataclass
class SeedResult:
    companies: int
    contacts: int
    links: int
    tag_links: int
    entries: int
    seconds: float

    @property
    def contacts_per_s(self) -> float:
        return self.contacts / self.seconds if self.seconds else 0.0

    @property
    def rows_per_s(self) -> float:
        rows = self.companies + self.contacts + self.links + self.tag_links + self.entries
        return rows / self.seconds if self.seconds else 0.0


def _owner_table(users: dict, rng: random.Random) -> list:
    sales = [users[n].pk for n in ("bench_sales", "bench_sales2", "bench_sales3", "bench_sales4")]
    return rng.choices([None, *sales, users["bench_manager"].pk], weights=[20, 17.5, 17.5, 17.5, 17.5, 10], k=4096)


def seed_companies(target: int, *, users: dict, batch: int = 2000, rng_seed: int = 20240202) -> int:
    """Insert companies until ``contacts_company`` holds ``target`` rows; returns how many were added."""
    existing = table_count("contacts_company")
    todo = target - existing
    if todo <= 0:
        return 0
    from crm.ids import uuid7

    rng = random.Random(rng_seed + existing)
    as_sql = _uuid_sql(connection.features.has_native_uuid_field)
    owners = _owner_table(users, rng)
    now = datetime.now(UTC) - timedelta(minutes=10)
    times = data.spread(todo, now - timedelta(days=900), now - timedelta(days=1), rng)
    sql = _insert_sql("contacts_company", COMPANY_COLUMNS)
    with bulk_cursor() as cur:
        rows = []
        for i in range(existing, target):
            a, b, c = rng.choice(data.COMPANY_A), rng.choice(data.COMPANY_B), rng.choice(data.COMPANY_C)
            domain = f"{a}-{b}-{data.base36(i)}.com".lower()
            created = _ts(next(times))
            rows.append((as_sql(uuid7()), f"{a} {b} {c}", domain, domain, f"https://www.{domain}",
                         rng.choice(INDUSTRIES), rng.choice(SIZES), data.phone_e164(9_000_000 + i), "",
                         owners[rng.getrandbits(12)], created, created, None))
            if len(rows) >= batch:
                cur.executemany(sql, rows)
                rows = []
        if rows:
            cur.executemany(sql, rows)
    return todo


def _company_ids() -> list:
    """Every company's id in creation order (50,000 at 1M contacts: the seeder's own lookup table)."""
    with connection.cursor() as cur:
        cur.execute("SELECT id FROM contacts_company ORDER BY created_at, id")
        return [row[0].decode() if isinstance(row[0], bytes) else str(row[0]) for row in cur.fetchall()]


def _tag_ids() -> dict[str, int]:
    from contacts.models import Tag

    for name, _ in TAGS:
        Tag.objects.get_or_create(name=name)
    return dict(Tag.objects.filter(name__in=[n for n, _ in TAGS]).values_list("name", "id"))


class ContactRows:
    """Builds a contact and its links, tag links and timeline entries (tuples in column order)."""

    def __init__(self, users: dict, rng: random.Random, company_ids: list, tag_ids: dict, *, native_uuid: bool):
        from crm.ids import uuid7

        self.rng = rng
        self.uuid7 = uuid7
        self.as_sql = _uuid_sql(native_uuid)
        self.people = data.PersonMaker(rng)
        self.owners = _owner_table(users, rng)
        self.statuses = rng.choices(STATUSES, weights=STATUS_WEIGHTS, k=4096)
        self.company_ids = company_ids
        self.big = company_ids[:BIG_COMPANIES]
        self.tags = [(tag_ids[name], share) for name, share in TAGS]
        self.domains: dict = {}
        self.now = datetime.now(UTC)

    def _company(self):
        rng = self.rng
        if rng.random() < 0.1:
            return self.big[rng.randrange(len(self.big))]
        return self.company_ids[rng.randrange(len(self.company_ids))]

    def build(self, index: int, created: datetime) -> tuple[tuple, list, list, list]:
        """``(contact, links, tag links, entries)`` for contact number ``index``."""
        rng = self.rng
        first, last, email, _ = self.people.person(index, "c")
        contact_id = self.as_sql(self.uuid7())
        owner = self.owners[rng.getrandbits(12)]
        if last == data.RARE_LAST:
            owner = None  # the planted rare name is unassigned: every user's search finds it
        company = self._company() if rng.random() < 0.85 else None
        links, tag_links, entries = [], [], []
        if company is not None:
            links.append((contact_id, company, rng.choice(ROLES), _ts(created), _ts(created)))
            if rng.random() < 0.12:
                second = self._company()
                if second != company:
                    links.append((contact_id, second, "advisor", _ts(created), _ts(created)))
        for tag_id, share in self.tags:
            if rng.random() < share:
                tag_links.append((contact_id, tag_id, _ts(created)))
        last_contacted = None
        if rng.random() < 0.3:
            for _ in range(rng.randrange(1, 3)):
                at = min(created + timedelta(hours=rng.random() * 24 * 60), self.now)
                kind = ENTRY_KINDS[rng.randrange(len(ENTRY_KINDS))]
                entries.append((self.as_sql(self.uuid7()), kind, "outbound" if kind != "note" else "", "",
                                data.NOTES[rng.randrange(len(data.NOTES))], _ts(at), "{}", _ts(at), None, owner,
                                contact_id, company))
                if kind != "note" and (last_contacted is None or at > last_contacted):
                    last_contacted = at
        updated = max(created, last_contacted or created)
        deleted = _ts(updated) if rng.random() < 0.01 else None  # 1 % soft-deleted
        contact = (
            contact_id, first, last, email, data.phone_e164(index), "", data.TITLES[rng.randrange(len(data.TITLES))],
            rng.choice(ROLES), self.statuses[rng.getrandbits(12)], "", owner, company,
            _ts(last_contacted) if last_contacted else None, None, _ts(created), _ts(updated), deleted,
        )
        return contact, links, tag_links, entries


def seed_contacts(target: int, *, users: dict, batch: int = 2000, log=print,
                  rng_seed: int = 20240303) -> SeedResult | None:
    """Insert companies, then contacts (with links, tags and entries) until ``contacts_contact``
    holds ``target`` rows. None when nothing was needed. Progress goes to ``log`` every ~5 s."""
    existing = table_count("contacts_contact")
    todo = target - existing
    if todo <= 0:
        return None
    started = time.monotonic()
    added_companies = seed_companies(companies_for(target), users=users, batch=batch)
    if added_companies:
        log(f"  seeded {added_companies:,} companies")
    native = connection.features.has_native_uuid_field
    rng = random.Random(rng_seed + existing)
    rows = ContactRows(users, rng, _company_ids(), _tag_ids(), native_uuid=native)
    now = datetime.now(UTC) - timedelta(minutes=5)
    times = data.spread(todo, now - timedelta(days=730), now, rng)
    sqls = [_insert_sql(t, c) for t, c in (("contacts_contact", CONTACT_COLUMNS),
                                            ("contacts_contactcompany", LINK_COLUMNS),
                                            ("contacts_contact_tags", TAG_LINK_COLUMNS),
                                            ("crm_interaction", ENTRY_COLUMNS))]
    totals = [0, 0, 0, 0]

    def produce(put):
        for at in range(0, todo, batch):
            parts: tuple[list, list, list, list] = ([], [], [], [])
            for i in range(existing + at, existing + min(at + batch, todo)):
                contact, links, tag_links, entries = rows.build(i, next(times))
                parts[0].append(contact)
                parts[1].extend(links)
                parts[2].extend(tag_links)
                parts[3].extend(entries)
            if not put(parts):
                return

    last_log = time.monotonic()

    def consume(parts):
        nonlocal last_log
        for k, (sql, part) in enumerate(zip(sqls, parts, strict=True)):
            if part:
                cur.executemany(sql, part)
                totals[k] += len(part)
        if time.monotonic() - last_log > 5:
            last_log = time.monotonic()
            rate = totals[0] / (last_log - started)
            log(f"  seeded {existing + totals[0]:,}/{target:,} contacts ({rate:,.0f} contacts/s, "
                f"~{(todo - totals[0]) / rate:,.0f}s left)")

    with bulk_cursor() as cur:  # `consume` writes through it
        run_batches(produce, consume, name="bench-contacts-producer")
    seconds = time.monotonic() - started
    from contacts.services import contact_counts_rebuild

    rebuild_started = time.monotonic()
    contact_counts_rebuild()
    log(f"  rebuilt the contact count rollups in {time.monotonic() - rebuild_started:.1f}s")
    return SeedResult(companies=added_companies, contacts=totals[0], links=totals[1], tag_links=totals[2],
                      entries=totals[3], seconds=seconds)
