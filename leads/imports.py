"""CSV lead import: one upload becomes a job row that a worker streams into leads in batches.

Seed 004 section 6 (``POST /leads/csv-import``: ``first_name``, ``phone``, ``schedule_at``, any
other column into ``custom_fields``; ``{success_count, error_count, errors: [{row, error}],
total_processed}`` with the header as row 1); DESIGN.md decisions 10 and 12; STYLE.md 6 and 7.

The flow, shared by the API, the import page and ``manage.py import_leads``:

* :func:`import_create` checks the upload (a CSV with a usable header, not too big, an owner the
  user may assign) and records a :class:`~leads.models.LeadImport`; nothing is created for a bad
  file. It enqueues ``leads.import_leads_csv`` once the job row is committed.
* :func:`import_run` claims the job with a conditional UPDATE (two workers never run one job),
  counts the rows in a quick first pass, then streams the stored file: each batch of
  :data:`BATCH_SIZE` rows costs one query for existing emails and one for existing phones, then
  one multi-row INSERT of leads (:class:`_LeadWriter`) and a ``bulk_create`` of row errors, the
  lead rollups and one UPDATE of the job's counters, all in one transaction. A re-run
  (task retry, :func:`import_resume_stalled`) skips the rows already counted in
  ``processed_rows``. No timeline entry is written per imported lead.
* Rows that cannot become a lead (no name, unusable phone, bad date/score/value, a duplicate of
  a live lead or of an earlier row) are reported with their row number and reason; every other
  row still imports. Importing the same file twice therefore creates nothing the second time.

Memory stays flat whatever the file size: the file is read as a stream, and only a few batches
of rows (plus their lookups) are held at a time. On MySQL/MariaDB the batches are written by a
second thread while the next one is parsed (:class:`_BatchSink`).
"""

from __future__ import annotations

import codecs
import collections
import csv
import io
import itertools
import logging
import operator
import queue
import re
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import PurePath
from types import SimpleNamespace

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    DataError,
    IntegrityError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from crm.api.formats import uuid_text
from crm.errors import ServiceError
from crm.ids import uuid7
from crm.models import User
from crm.phones import InvalidPhoneNumber, normalize_phone
from leads import order_buckets
from leads.models import Lead, LeadImport, LeadImportError, with_index
from leads.services import AGENT_CHECKS, created_day, split_name, stage_counts_bump

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
# The first batch is smaller: the writer waits for it idle (at ~80 µs of parsing a row, 160 ms
# for a whole batch), while every later one is parsed as the previous one is written.
FIRST_BATCH_SIZE = 400
# Overlap parsing with database writes on MySQL/MariaDB (see _BatchSink).
PIPELINE = True
# While pipelining, the GIL is handed over every 0.5 ms instead of 5 ms: the writer thread makes
# ~10 short round trips per batch, and each would otherwise wait up to 5 ms for the parsing
# thread to let go of the GIL, which costs more than the overlap gains. Restored afterwards.
SWITCH_INTERVAL = 0.0005
# Longest multi-row INSERT sent to MySQL/MariaDB (max_allowed_packet defaults to 16-64 MB).
MYSQL_STATEMENT_BYTES = 1024 * 1024
# MySQL/MariaDB errors for a LOAD DATA LOCAL the server or client does not allow.
LOAD_DATA_REFUSED = {1148, 2068, 3948, 4166}
# ``?wait=true`` processes the file inside the request only up to this many rows.
WAIT_MAX_ROWS = 5000
# The job's JSON and page show this many row errors; the CSV download has them all.
ERRORS_SHOWN = 100
# A RUNNING job whose heartbeat is older than this lost its worker; a QUEUED one this old lost
# its message. Either is queued again by the ``leads.resume_stalled_imports`` beat job.
STALL_AFTER = timedelta(minutes=2)
# Enough of the file to recognise binaries and read the header.
SNIFF_BYTES = 64 * 1024
# Raw values echoed in an error message are cut to this length (the column holds 500).
ECHO_CHARS = 80

# The owner argument's default: the uploading user owns the leads (as in ``lead_create``).
UPLOADER = object()

_csv_field_limit_set = False


class ImportFileError(ServiceError):
    """The upload (or the stored file) is not a CSV this import can read; nothing was created."""

    default_code = "invalid_file"

    def __init__(self, detail: str, *, code: str | None = None):
        super().__init__(detail, code=code, field="file")


class _LostClaim(Exception):
    """Another worker took the job over (its heartbeat looked stale); this one stops quietly."""


# --- Reading: encodings, binaries, delimiters ------------------------------------------------

# Bytes that are not UTF-8 are read as Windows-1252 (what Excel writes on Western machines, a
# superset of Latin-1's printable range); its five undefined bytes map as Latin-1 does.
_CP1252 = []
for _byte in range(256):
    try:
        _CP1252.append(bytes([_byte]).decode("cp1252"))
    except UnicodeDecodeError:
        _CP1252.append(chr(_byte))
_FALLBACK = "crm_import_cp1252"


def _cp1252_fallback(exc: UnicodeError):
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return "".join(_CP1252[b] for b in exc.object[exc.start : exc.end]), exc.end


codecs.register_error(_FALLBACK, _cp1252_fallback)

# Leading bytes of formats people upload by mistake, and what to tell them.
_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive or an Excel workbook (.xlsx); save the sheet as CSV and upload that"),
    (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook (.xls); save the sheet as CSV and upload that"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _encoding_for(head: bytes) -> tuple[str, str]:
    """``(encoding, errors)`` for a file starting with ``head``: UTF-16 when it has that BOM,
    else UTF-8 (BOM or not) with the Windows-1252 fallback for bytes that are not UTF-8."""
    if head.startswith(_UTF16_BOMS):
        return "utf-16", "strict"
    return "utf-8-sig", _FALLBACK


def _check_bytes(head: bytes) -> None:
    """Refuse binaries (known signatures, NUL bytes) with a message that says what the file is."""
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise ImportFileError("The file is empty. Upload a CSV with a header row and at least one lead.",
                              code="empty_file")
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise ImportFileError(f"This is not a CSV file: it looks like {what}.", code="not_csv")
    if not head.startswith(_UTF16_BOMS) and b"\x00" in head:
        raise ImportFileError("This is not a CSV file: it contains binary data.", code="not_csv")


def _sniff_delimiter(first_line: str) -> str:
    """``,``, ``;`` or tab, read from the header line by csv.Sniffer (counting as a fallback)."""
    candidates = ",;\t"
    try:
        delimiter = csv.Sniffer().sniff(first_line, delimiters=candidates).delimiter
    except csv.Error:
        delimiter = ""
    counts = {c: first_line.count(c) for c in candidates}
    if not counts.get(delimiter):
        # The sniffer guesses poorly on one line with quoted commas or a single column.
        delimiter = max(candidates, key=lambda c: counts[c]) if any(counts.values()) else ","
    return delimiter


def _allow_large_fields() -> None:
    # Notes columns can exceed csv's default 128 KiB per field; the upload limit bounds them.
    global _csv_field_limit_set
    if not _csv_field_limit_set:
        csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))
        _csv_field_limit_set = True


@contextmanager
def _open_rows(fileobj) -> Iterator[Iterator[list[str]]]:
    """Yield a csv reader over a binary file object, streamed (decoded and split as it is read).

    The first record is the header. Raises ImportFileError for a binary or empty file.
    """
    _allow_large_fields()
    head = fileobj.read(SNIFF_BYTES)
    _check_bytes(head)
    fileobj.seek(0)
    encoding, errors = _encoding_for(head)
    text = io.TextIOWrapper(fileobj, encoding=encoding, errors=errors, newline="")
    try:
        first = text.readline(1024 * 1024)  # bounded even for a "CSV" without line breaks
        if _CONTROL.search(first):
            raise ImportFileError("This is not a CSV file: it contains binary data.", code="not_csv")
        reader = csv.reader(itertools.chain([first], text), delimiter=_sniff_delimiter(first), strict=False)
        yield reader
    except UnicodeError:
        raise ImportFileError("The file is not valid UTF-16 text.", code="bad_encoding") from None
    finally:
        text.detach()


# --- Columns ---------------------------------------------------------------------------------


def _norm(header: str) -> str:
    """``"E-mail"``, ``"e_mail"``, ``" EMAIL "`` -> ``"email"``: case, spaces, ``_``, ``-`` (and
    other punctuation) do not matter when matching a header to a lead field."""
    return "".join(ch for ch in header.casefold() if ch.isalnum())


# Lead field -> the headers real exports use for it, best first. ``name`` is a full name split
# into first/last when a row has no first name. Whatever matches nothing is a custom field
# under its original header (seed 004), which is why ``position`` and ``notes`` stay custom.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "first_name": ("first_name", "firstname", "first", "given_name", "forename"),
    "last_name": ("last_name", "lastname", "last", "surname", "family_name"),
    "name": ("name", "full_name", "fullname", "contact_name", "lead_name"),
    "email": ("email", "e-mail", "email_address", "e-mail_address", "mail", "work_email", "email_1"),
    "phone": ("phone", "phone_e164", "phone_1", "phone_number", "mobile", "mobile_phone", "mobile_number",
              "cell", "cell_phone", "telephone", "tel", "work_phone", "phone_no"),
    "company": ("company", "company_name", "organization", "organisation", "account_name", "business"),
    "job_title": ("job_title", "title"),
    "source": ("source", "lead_source"),
    "status": ("status", "lead_status", "stage"),
    "score": ("score", "lead_score"),
    "value": ("value", "deal_value", "amount", "deal_amount"),
    "schedule_at": ("schedule_at", "scheduled_at", "schedule", "call_at", "call_time"),
}
_ALIAS_RANK = {
    _norm(alias): (field_name, rank)
    for field_name, aliases in FIELD_ALIASES.items()
    for rank, alias in enumerate(aliases)
}
MAX_LENGTHS = {"first_name": 150, "last_name": 150, "email": 254, "company": 200, "job_title": 150,
               "source": 50}


@dataclass
class ColumnMap:
    """Where each lead field sits in a row (``-1``: absent) and which columns are custom fields.

    Built once per file from the header, so each row costs only list indexing.
    """

    header: list[str]
    index: dict[str, int]
    custom: list[tuple[int, str]] = field(default_factory=list)

    def has(self, name: str) -> bool:
        return self.index.get(name, -1) >= 0


def map_columns(header: list[str]) -> ColumnMap:
    """Match a header row to lead fields, ignoring case, spaces, ``_`` and ``-``.

    Returns a :class:`ColumnMap`. Raises ImportFileError when the header has no name column or
    neither a phone nor an email column: then it is most likely not a header at all (seed 004
    requires ``first_name`` and ``phone``; an email alone also reaches a lead).
    """
    best: dict[str, tuple[int, int]] = {}  # field -> (rank, column)
    for col, title in enumerate(header):
        hit = _ALIAS_RANK.get(_norm(title))
        if hit and (hit[0] not in best or hit[1] < best[hit[0]][0]):
            best[hit[0]] = (hit[1], col)
    used = {col for _, col in best.values()}
    custom, seen = [], set()
    for col, title in enumerate(header):
        if col in used:
            continue
        key = title.strip() or f"column_{col + 1}"
        base, n = key, 2
        while key in seen:  # two columns called "Notes" both survive
            key, n = f"{base} ({n})", n + 1
        seen.add(key)
        custom.append((col, key))
    columns = ColumnMap(header=header, index={name: col for name, (_, col) in best.items()}, custom=custom)
    if not (columns.has("first_name") or columns.has("name")) or not (columns.has("phone") or columns.has("email")):
        found = ", ".join(h.strip() for h in header[:12] if h.strip()) or "nothing"
        raise ImportFileError(
            "The first row must be a header naming the columns, with a name column (first_name, "
            "First Name, Name or Full Name) and a phone or email column (phone, Phone 1, Mobile, "
            f"Email…). Found: {found}.",
            code="missing_columns",
        )
    return columns


def _is_blank(row: list[str]) -> bool:
    # Rows of empty cells (",,,," lines spreadsheets leave) are skipped, not reported.
    return not any(row)


# --- Checking an upload ----------------------------------------------------------------------


def inspect_file(fileobj) -> ColumnMap:
    """Check that ``fileobj`` (binary, seekable) is a CSV with a usable header and a data row.

    Reads only the first :data:`SNIFF_BYTES` and rewinds. Returns the :class:`ColumnMap`.
    Raises ImportFileError (``empty_file``, ``not_csv``, ``missing_columns``, ``no_rows``,
    ``malformed_csv``).
    """
    fileobj.seek(0)
    head = fileobj.read(SNIFF_BYTES)
    fileobj.seek(0)
    with _open_rows(io.BytesIO(head)) as reader:
        try:
            header = next(reader, None)
            if header is None or _is_blank(header):
                raise ImportFileError("The first row must be a header naming the columns; it is empty.",
                                      code="missing_columns")
            columns = map_columns(header)
            try:
                has_rows = any(not _is_blank(row) for row in itertools.islice(reader, 1000))
            except UnicodeDecodeError:
                # Only the first SNIFF_BYTES were read: a UTF-16 character may be cut in two.
                if len(head) < SNIFF_BYTES:
                    raise
                has_rows = True
        except csv.Error as exc:
            raise ImportFileError(f"The file is not a readable CSV: {exc}.", code="malformed_csv") from None
    if not has_rows and len(head) < SNIFF_BYTES:
        raise ImportFileError("The CSV has a header but no rows to import.", code="no_rows")
    return columns


# --- Creating a job --------------------------------------------------------------------------


def parse_owner(raw) -> object:
    """An owner as given in a query string or form: blank -> :data:`UPLOADER` (the default),
    ``none``/``null``/``unassigned`` -> ``None``, anything else is passed on as a user id."""
    if raw is None:
        return UPLOADER
    if isinstance(raw, User | int):
        return raw
    text = str(raw).strip()
    if not text:
        return UPLOADER
    if text.lower() in ("none", "null", "unassigned"):
        return None
    return text


def _resolve_owner(user: User | None, owner) -> User | None:
    """Turn the owner argument into a User; a sales user may name only themselves (or nobody).

    Raises ServiceError ``unknown_owner`` / ``forbidden_owner`` (DESIGN.md decision 8).
    """
    acting = user if user is not None and user.is_authenticated else None
    if owner is UPLOADER:
        return acting
    if owner is None:
        return None
    if not isinstance(owner, User):
        text = str(owner).strip()
        is_id = text.isascii() and text.isdigit() and len(text) < 19  # fits a BIGINT
        found = User.objects.filter(pk=int(text), is_active=True).first() if is_id else None
        if found is None:
            raise ServiceError(f"Unknown owner: {text[:ECHO_CHARS]!r} is not the id of an active user.",
                               code="unknown_owner", field="owner")
        owner = found
    if acting is not None and not acting.sees_all and owner.pk != acting.pk:
        raise ServiceError("Sales users can import leads only for themselves (or unassigned).",
                           code="forbidden_owner", field="owner")
    return owner


def _clean_options(agent_id, source: str | None, region: str | None) -> tuple[uuid.UUID | None, str, str]:
    if agent_id in (None, ""):
        agent = None
    elif isinstance(agent_id, uuid.UUID):
        agent = agent_id
    else:
        try:
            agent = uuid.UUID(str(agent_id).strip())
        except ValueError:
            raise ServiceError(f"agent_id must be a UUID, not {str(agent_id)[:ECHO_CHARS]!r}.",
                               code="invalid_agent_id", field="agent_id") from None
    # The same agent checks as lead_create (calling: the agent exists and is active), before any job.
    if agent is not None:
        for check in AGENT_CHECKS:
            check(agent)
    source = (source or "").strip()
    if len(source) > MAX_LENGTHS["source"]:
        raise ServiceError(f"source is too long (at most {MAX_LENGTHS['source']} characters).",
                           code="invalid_source", field="source")
    region = (region or "").strip().upper()
    if region and region not in phonenumbers.SUPPORTED_REGIONS:
        raise ServiceError(f"region must be a two-letter country code such as US or GB, not {region[:10]!r}.",
                           code="invalid_region", field="region")
    return agent, source, region


def import_create(*, user: User | None, file, name: str | None = None, owner=UPLOADER, agent_id=None,
                  source: str | None = "", region: str | None = "", enqueue: bool = True) -> LeadImport:
    """Record a CSV import job for ``file`` (an UploadedFile or a Django File) and queue it.

    ``owner``: :data:`UPLOADER` (default: the user), ``None`` (unassigned), a User or a user id;
    ``agent_id``: the calling agent's UUID; ``source``: the leads' source where a row has none;
    ``region``: ISO country for phones written without a country code (default
    ``settings.DEFAULT_PHONE_REGION``). With ``enqueue`` the ``leads.import_leads_csv`` task is
    sent once the job row is committed; otherwise call :func:`import_run` yourself.

    Raises ImportFileError (not a CSV, empty, no header, too big) or ServiceError (bad owner,
    agent_id, source, region); in every case no job is created.
    """
    if file is None:
        raise ImportFileError("Upload a CSV file in the 'file' field.", code="file_required")
    size = getattr(file, "size", None) or 0
    limit = settings.CSV_IMPORT_MAX_BYTES
    if size > limit:
        raise ImportFileError(
            f"The file is too big ({size / 1_048_576:.1f} MB); the limit is {limit / 1_048_576:.0f} MB. "
            "Split it into smaller files.", code="file_too_large")
    agent, source, region = _clean_options(agent_id, source, region)
    owner_user = _resolve_owner(user, owner)
    inspect_file(file)
    file.seek(0)
    # Browsers on Windows may send a full path (C:\fakepath\leads.csv): keep the file name.
    original = re.split(r"[\\/]", name or getattr(file, "name", "") or "leads.csv")[-1][:255] or "leads.csv"
    job = LeadImport(
        original_name=original, created_by=user if user is not None and user.is_authenticated else None,
        owner=owner_user, agent_id=agent, source=source, region=region,
    )
    stored = re.sub(r"[^\w.-]+", "_", PurePath(original).stem)[:80] or "leads"
    job.file.save(f"{stored}.csv", file, save=False)
    with transaction.atomic():
        job.save()
        if enqueue:
            import_enqueue(job)
    return job


def import_enqueue(job: LeadImport) -> None:
    """Send ``leads.import_leads_csv`` for ``job`` once the current transaction commits."""
    from leads.tasks import import_leads_csv

    job_id = str(job.pk)
    transaction.on_commit(lambda: import_leads_csv.delay(job_id))


# --- Reading jobs ----------------------------------------------------------------------------


def imports_visible_to(user: User | None) -> QuerySet[LeadImport]:
    """The import jobs ``user`` may see: their own; every job for managers and admins."""
    if user is None or not user.is_authenticated:
        return LeadImport.objects.none()
    if user.sees_all:
        return LeadImport.objects.all()
    return LeadImport.objects.filter(created_by=user)


def import_errors(job: LeadImport, limit: int | None = ERRORS_SHOWN) -> list[dict]:
    """The job's row errors in row order as ``[{"row": 4, "error": "..."}]`` (first ``limit``)."""
    qs = LeadImportError.objects.filter(job=job).order_by("row", "id").values_list("row", "error")
    if limit is not None:
        qs = qs[:limit]
    return [{"row": row, "error": error} for row, error in qs]


def import_errors_csv(job: LeadImport) -> Iterator[str]:
    """Every row error of ``job`` as CSV text lines (``row,error`` header first), streamed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(["row", "error"])
    yield flush()
    rows = LeadImportError.objects.filter(job=job).order_by("row", "id").values_list("row", "error")
    for n, (row, error) in enumerate(rows.iterator(chunk_size=2000), start=1):
        writer.writerow([row, error])
        if n % 500 == 0:
            yield flush()
    yield flush()


# --- Running a job ---------------------------------------------------------------------------


@dataclass
class ImportProgress:
    """Counters handed to a progress callback after each committed batch."""

    job_id: uuid.UUID
    total_rows: int
    processed_rows: int
    success_count: int
    error_count: int


@dataclass
class _Context:
    """What every row of one job shares, computed once: the column positions as attributes
    (``ix.phone`` is -1 when absent, which reads the row's trailing ``""``), the header width,
    the phone region, owner, agent, default source and the lead writer."""

    job: LeadImport
    columns: ColumnMap
    region: str
    owner_id: int | None
    agent_id: uuid.UUID | None
    source: str
    writer: _LeadWriter
    default_schedule: datetime | None = None
    ix: SimpleNamespace = field(init=False)
    width: int = field(init=False)

    def __post_init__(self):
        self.ix = SimpleNamespace(**{name: self.columns.index.get(name, -1) for name in FIELD_ALIASES})
        self.width = len(self.columns.header)
        self.restamp()

    def restamp(self) -> None:
        """Seed 004 (as ``lead_create``): a lead given to an agent without a time is due now."""
        self.default_schedule = timezone.now() if self.agent_id else None


_email_validator = EmailValidator()
# Plain ASCII addresses (nearly all of them) pass this cheaper check, a subset of what Django's
# EmailValidator accepts; anything else goes through the validator itself.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_STATUS_WORDS = {
    **{value: value for value in Lead.Status.values},
    **{str(label).lower(): value for value, label in Lead.Status.choices},
    "won": Lead.Status.CLOSED, "closed won": Lead.Status.CLOSED, "closed - won": Lead.Status.CLOSED,
    "closed lost": Lead.Status.LOST, "closed - lost": Lead.Status.LOST,
}
_MONEY_NOISE = re.compile(r"[\s$€£¥']")
_MAX_VALUE = Decimal("1e12")  # Lead.value is max_digits=14, decimal_places=2
_ZERO = Decimal("0.00")


def _echo(text: str) -> str:
    return text if len(text) <= ECHO_CHARS else text[: ECHO_CHARS - 1] + "…"


def _parse_schedule(text: str) -> datetime:
    """ISO 8601 (``2025-06-24T14:00:00Z``, ``2025-06-24 14:00``, ``2025-06-24``); naive is UTC."""
    try:
        moment = parse_datetime(text)
        if moment is None:
            day = parse_date(text)
            moment = datetime.combine(day, time()) if day else None
    except ValueError:
        moment = None
    if moment is None or not 1900 <= moment.year <= 2200:  # beyond that it is a typo (and MySQL refuses year 1)
        raise ValueError(f"Invalid schedule_at: {_echo(text)} (expected ISO 8601, e.g. 2025-06-24T14:00:00Z)")
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return moment


def _parse_score(text: str) -> int:
    try:
        number = Decimal(text)
        if number != number.to_integral_value() or not 0 <= number <= 100:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise ValueError(f"Invalid score: {_echo(text)} (expected a whole number from 0 to 100)") from None
    return int(number)


def _parse_value(text: str) -> Decimal:
    """``1200.50``, ``$1,200.50``, ``1.200,50`` and ``1200,5`` (decimal comma, as semicolon
    files from Europe write it) -> ``Decimal("1200.50")``."""
    digits = _MONEY_NOISE.sub("", text)
    if "," in digits and "." in digits:
        # Whichever separator comes last is the decimal one.
        if digits.rfind(",") > digits.rfind("."):
            digits = digits.replace(".", "").replace(",", ".")
        else:
            digits = digits.replace(",", "")
    elif "," in digits:
        head, _, tail = digits.rpartition(",")
        digits = f"{head}.{tail}" if digits.count(",") == 1 and len(tail) in (1, 2) else digits.replace(",", "")
    try:
        number = Decimal(digits).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if not number.is_finite() or number < 0 or number >= _MAX_VALUE:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise ValueError(f"Invalid value: {_echo(text)} (expected an amount such as 1200.50)") from None
    return number


def _build_lead(row: list[str], ctx: _Context) -> dict:
    """One CSV row -> the lead's row-specific values (a dict keyed by Lead field name); raises
    ValueError whose text is the row's error.

    ``row`` is padded to the header's width plus one trailing ``""`` that absent columns
    (index -1) read. Seed 004: ``first_name`` and ``phone`` (stored E.164); ``schedule_at`` ISO
    8601; other columns are custom fields. ``live_email`` is set here, as ``Lead.save()`` would.
    """
    ix = ctx.ix
    first = row[ix.first_name].strip()
    last = row[ix.last_name].strip()
    if not first:
        first, rest = split_name(row[ix.name])
        last = last or rest
    if not first:
        raise ValueError("Missing name: first_name (or name) is empty")

    email = row[ix.email].strip()
    if email and not _PLAIN_EMAIL.fullmatch(email):
        try:
            _email_validator(email)
        except ValidationError:
            raise ValueError(f"Invalid email address: {_echo(email)}") from None

    raw_phone = row[ix.phone].strip()
    if raw_phone:
        try:
            phone = normalize_phone(raw_phone, ctx.region)
        except InvalidPhoneNumber as exc:
            raise ValueError(_echo(str(exc))) from None
        e164, extension, verified = phone.e164, phone.extension, phone.verified
        if len(extension) > 10:
            raise ValueError(f"Invalid phone number format: {_echo(raw_phone)} (extension too long)")
    elif email:
        e164, extension, verified = "", "", False
    else:
        raise ValueError("Missing phone: a lead needs a phone number (or at least an email)")

    values = {
        "first_name": first, "last_name": last, "email": email,
        "company": row[ix.company].strip(),
        "job_title": row[ix.job_title].strip(),
        "source": row[ix.source].strip() or ctx.source,
    }
    for key, text in values.items():
        if len(text) > MAX_LENGTHS[key]:
            raise ValueError(f"{key} is too long ({len(text)} characters; at most {MAX_LENGTHS[key]})")

    status = row[ix.status].strip()
    if status:
        found = _STATUS_WORDS.get(status.lower())
        if found is None:
            raise ValueError(f"Invalid status: {_echo(status)} (expected one of {', '.join(Lead.Status.values)})")
        status = found
    else:
        status = Lead.Status.NEW
    score = row[ix.score].strip()
    value = row[ix.value].strip()
    when = row[ix.schedule_at].strip()

    custom = {key: cell for col, key in ctx.columns.custom if (cell := row[col].strip())}
    width = ctx.width
    if len(row) > width + 1:  # more cells than headers: keep them rather than drop data
        for col in range(width, len(row) - 1):
            if row[col].strip():
                custom[f"column_{col + 1}"] = row[col].strip()

    values.update(
        name_key=order_buckets.name_key(last, first), live_email=email.lower() or None,
        phone=e164, phone_extension=extension, phone_verified=verified,
        status=status, score=_parse_score(score) if score else 0,
        value=_parse_value(value) if value else _ZERO,
        schedule_at=_parse_schedule(when) if when else ctx.default_schedule, custom_fields=custom,
    )
    return values


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": "\\0"})


# What a row's text must not hold to go into its line as it is (_tsv_line), besides a tab or a
# backslash (counted).
_TSV_SPECIAL = re.compile("[\n\r\x00]")


def _tsv_field(value) -> str:
    """One value as ``LOAD DATA`` reads it with ``ESCAPED BY '\\'``: ``\\N`` for NULL, 1/0 for
    booleans, text with its backslashes, tabs and line breaks escaped. The rule :func:`_tsv_line`
    applies inline, a row at a time; the tests hold the two to the same lines."""
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "1" if value else "0"
    return str(value).translate(_TSV_ESCAPES)


def _tsv_line(values) -> str:
    """``values`` as one tab-separated ``LOAD DATA`` line (without its line break), each as
    :func:`_tsv_field` writes it. Most rows hold nothing to escape: their values are joined as
    they are and the line checked once (a few scans in C), where a call per value cost 13.6-15.0
    µs a row, now 4.1; a line with a backslash (beyond its NULLs' ``\\N``: custom fields with
    accents, which JSON writes as ``\\u00e9``), a line break, a NUL or a tab in a value has
    each text escaped (inline: a call per value cost half the reading thread's time on it)."""
    line = "\t".join(["\\N" if value is None else ("1" if value else "0") if value.__class__ is bool
                      else value if value.__class__ is str else str(value) for value in values])
    if (line.count("\t") != len(values) - 1 or line.count("\\") != values.count(None)
            or _TSV_SPECIAL.search(line)):
        return "\t".join(["\\N" if value is None else ("1" if value else "0") if value.__class__ is bool
                          else (value if value.__class__ is str else str(value)).translate(_TSV_ESCAPES)
                          for value in values])
    return line


class _LeadWriter:
    """Inserts a batch of leads with one statement.

    ``Lead.objects.bulk_create`` costs ~100 µs of Python per row here (it runs all 30 fields of
    every object through the generic compiler), more than the database needs to insert the row;
    at 10,000+ rows/s that was the bottleneck. This writer builds the column list from
    ``Lead._meta`` once and adapts the per-job constants once (owner, agent, import job, and the
    default of every other field, so a field added later is still filled from its default);
    per row it adapts only the values that vary, with the backend's own adapters
    (``connection.ops.adapt_*``), so the database receives what ``bulk_create`` would send.
    Columns are ordered row values first, then the id, the batch's timestamps and constants,
    so a row's parameters are three tuple slices joined.

    On MySQL/MariaDB the batch goes in as ``LOAD DATA LOCAL INFILE`` of a tab-separated file
    when ``load_data`` (twice the rows per second of a multi-row INSERT: no SQL to parse);
    else as one multi-row ``INSERT`` (elsewhere: ``executemany``). ``LOAD DATA LOCAL`` skips a
    row it cannot store instead of failing, so a batch that stored fewer rows than it sent, or
    raised warnings, is rolled back and retried row by row with plain INSERTs
    (:func:`_insert_one_by_one`).
    """

    # Row values that reach the database as they are (str, bool, int or None), in this order.
    PLAIN = ("first_name", "last_name", "name_key", "email", "live_email", "phone", "phone_extension", "phone_verified",
             "company", "job_title", "source", "status", "score")
    # Set to the batch's "now", as their defaults (timezone.now, auto_now) would.
    STAMPS = ("created_at", "updated_at", "status_changed_at")

    def __init__(self, connection, *, owner_id, agent_id, import_job_id, load_data: bool = False):
        self.connection = connection
        self.load_data = load_data and connection.vendor == "mysql"
        meta = Lead._meta
        given = {"owner": owner_id, "agent_id": agent_id, "import_job": import_job_id, "deleted_at": None}
        named = {*self.PLAIN, *self.STAMPS, "value", "custom_fields", "schedule_at"}
        constant_fields = [f for f in meta.concrete_fields if not f.primary_key and f.name not in named]
        self.constants = tuple(
            f.get_db_prep_save(given[f.name] if f.name in given else f.get_default(), connection=connection)
            for f in constant_fields
        )
        columns = [meta.get_field(name) for name in (*self.PLAIN, "value", "custom_fields", "schedule_at")]
        columns += [meta.pk, *(meta.get_field(name) for name in self.STAMPS), *constant_fields]
        assert len(columns) == len(meta.concrete_fields)
        qn = connection.ops.quote_name
        column_list = ", ".join(qn(f.column) for f in columns)
        self.sql = "INSERT INTO {} ({}) VALUES ({})".format(qn(meta.db_table), column_list,
                                                           ", ".join(["%s"] * len(columns)))
        self.sql_head = self.sql[: self.sql.index(" VALUES ") + 8].encode()
        self.load_sql = (f"LOAD DATA LOCAL INFILE %s INTO TABLE {qn(meta.db_table)} CHARACTER SET utf8mb4 "
                         f"FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({column_list})")
        self.plain = operator.itemgetter(*self.PLAIN)
        value_field = meta.get_field("value")
        self.digits = (value_field.max_digits, value_field.decimal_places)
        self.json_encoder = meta.get_field("custom_fields").encoder
        self.native_uuid = connection.features.has_native_uuid_field

    def _rows(self, leads: list[dict], now: datetime, *, new_ids: bool) -> tuple[list[tuple], tuple]:
        """Each lead's varying values in column order, and the batch's tail (stamps, constants)."""
        ops = self.connection.ops
        stamp = ops.adapt_datetimefield_value(now)
        plain, native_uuid, digits, encoder = self.plain, self.native_uuid, self.digits, self.json_encoder
        adapt_decimal, adapt_json, adapt_datetime = (ops.adapt_decimalfield_value, ops.adapt_json_value,
                                                     ops.adapt_datetimefield_value)
        rows = []
        for values in leads:
            if new_ids:
                values["id"] = uuid7()
            pk, when = values["id"], values["schedule_at"]
            rows.append(plain(values) + (
                adapt_decimal(values["value"], *digits),
                adapt_json(values["custom_fields"], encoder),
                None if when is None else adapt_datetime(when),
                str(pk) if native_uuid else pk.hex,
            ))
        return rows, (stamp, stamp, stamp, *self.constants)

    def prepare(self, leads: list[dict], now: datetime) -> list:
        """One payload per lead (dicts from :func:`_build_lead`), in column order, with the
        batch's timestamps ``now``; gives each lead its UUIDv7 ``id``.

        A payload is a tab-separated line (``load_data``), or on MySQL the row's ``(…)`` SQL
        values already escaped by the driver (``literal``, as executemany does), or elsewhere
        the parameter tuple — so the writer thread only joins and sends them. Call from the
        reading thread: it is pure CPU.
        """
        rows, tail = self._rows(leads, now, new_ids=True)
        if self.load_data:
            tail_tsv = "\t" + _tsv_line(tail) + "\n"
            return [(_tsv_line(row) + tail_tsv).encode() for row in rows]
        return self._literal(rows, tail)

    def insert_payloads(self, leads: list[dict], now: datetime) -> list:
        """Plain INSERT payloads for leads :meth:`prepare` already gave ids (the row-by-row retry)."""
        return self._literal(*self._rows(leads, now, new_ids=False))

    def _literal(self, rows: list[tuple], tail: tuple) -> list:
        connection = self.connection
        if connection.vendor != "mysql":
            return [row + tail for row in rows]
        # The tail (timestamps, constants) is escaped once per batch instead of once per row.
        connection.ensure_connection()
        literal = connection.connection.literal
        tail_sql = b"," + b",".join([literal(v) for v in tail]) + b")"
        return [b"(" + b",".join([literal(v) for v in row]) + tail_sql for row in rows]

    def insert(self, payloads: list) -> None:
        """Store the leads whose :meth:`prepare` (or :meth:`insert_payloads`) payloads are given.
        Raises IntegrityError when ``LOAD DATA`` stored fewer rows than it was given, or warned."""
        connection = self.connection
        with connection.cursor() as cursor:
            if connection.vendor != "mysql":
                cursor.executemany(self.sql, payloads)
                return
            if payloads and payloads[0][:1] != b"(":
                self._load(cursor, payloads)
                return
            # The multi-row INSERT mysqlclient's executemany would build, cut at 1 MB instead
            # of 64 KB (fewer round trips; max_allowed_packet is 16 MB or more).
            head, chunk, size = self.sql_head, [], 0
            for part in payloads:
                chunk.append(part)
                size += len(part)
                if size >= MYSQL_STATEMENT_BYTES:
                    self._execute(cursor, head, chunk)
                    chunk, size = [], 0
            if chunk:
                self._execute(cursor, head, chunk)

    def _load(self, cursor, lines: list[bytes]) -> None:
        with tempfile.NamedTemporaryFile(prefix="lead-import-", suffix=".tsv") as handle:
            handle.write(b"".join(lines))
            handle.flush()
            try:
                cursor.execute(self.load_sql, [handle.name])
            except OperationalError as exc:
                if exc.args[0] not in LOAD_DATA_REFUSED:
                    raise
                # The server or the client library does not allow it after all: plain INSERTs
                # from the next batch on, and this one row by row.
                logger.warning("LOAD DATA LOCAL refused (%s); importing with INSERT", exc)
                self.load_data = False
                raise IntegrityError("LOAD DATA LOCAL refused") from exc
        stored, warnings = cursor.rowcount, self.connection.connection.warning_count()
        if stored != len(lines) or warnings:
            raise IntegrityError(f"LOAD DATA stored {stored} of {len(lines)} rows with {warnings} warnings")

    def _execute(self, cursor, head: bytes, parts: list[bytes]) -> None:
        # As text: execute wrappers (query counters, tracing) expect str statements.
        cursor.execute((head + b",".join(parts)).decode())
        log = self.connection.queries_log
        if self.connection.queries_logged and log:
            # With DEBUG on, keep the logged statement short (the full one is ~1 MB).
            log[-1]["sql"] = f"{head.decode()}… ({len(parts)} rows)"


class _Batch:
    """Up to BATCH_SIZE rows: candidate leads with their row numbers, their INSERT payloads
    (``payloads[i]`` for ``leads[i]``), and the rows already rejected."""

    __slots__ = ("leads", "payloads", "errors", "size", "stamped_at", "created_day", "order_deltas")

    def __init__(self):
        self.leads: list[tuple[int, dict]] = []
        self.payloads: list = []
        self.errors: list[tuple[int, str]] = []
        self.size = 0
        self.stamped_at = None  # the leads' created_at (set with the payloads)
        self.created_day = None  # its UTC day
        self.order_deltas = None  # its leads' bucket counts (order_buckets.created_deltas)


def _duplicate_note(existing_id, existing_job_id, job: LeadImport) -> str:
    """The existing lead's id for a duplicate's row error; the ids as :func:`_existing` gives them."""
    if uuid_text(existing_job_id) == uuid_text(job.pk):
        return f"{uuid_text(existing_id)}, imported earlier from this file"
    return uuid_text(existing_id)


_ANY_AGENT = object()


def _existing(column: str, values: set[str], index: str, *, agent_id=_ANY_AGENT) -> list[tuple]:
    """``[(value, pk, import_job_id)]``, unsorted, of the live leads whose ``column`` holds one
    of ``values`` and, when ``agent_id`` is given, whose calling agent it is (None: leads
    without one); the ids as the driver gives them.

    Raw SQL: the ORM spent ~3 ms a batch compiling each ``IN`` of 2,000 values (9 % of the
    reading thread's time). On MySQL/MariaDB it reads from ``index``: mid-import the table grows
    faster than its statistics, and MariaDB then chose a full scan for a batch's 2,000 phones
    (76-186 ms a batch at 100,000 leads, where the index answers in 6-10 ms)."""
    meta = Lead._meta
    qn = connection.ops.quote_name
    where = [f"{qn(meta.get_field(column).column)} IN ({', '.join(['%s'] * len(values))})",
             f"{qn(meta.get_field('deleted_at').column)} IS NULL"]
    params = list(values)
    if agent_id is not _ANY_AGENT:
        agent = meta.get_field("agent_id")
        if agent_id is None:
            where.append(f"{qn(agent.column)} IS NULL")
        else:
            where.append(f"{qn(agent.column)} = %s")
            params.append(agent.get_db_prep_value(agent_id, connection))
    sql = (f"SELECT {qn(meta.get_field(column).column)}, {qn(meta.pk.column)}, "
           f"{qn(meta.get_field('import_job').column)} FROM {qn(meta.db_table)} WHERE {' AND '.join(where)}")
    if connection.vendor == "mysql":
        sql = with_index(sql, index)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _dedupe(batch: _Batch, ctx: _Context, in_flight: list[tuple[dict, dict]]) -> list[tuple[int, dict]]:
    """Keep the batch's leads that duplicate nothing; the others become row errors.

    A duplicate is a live lead with the same email, or the same phone in the job's agent group
    (``agent_id`` NULL is one group of its own, so re-imports are idempotent) — two queries
    whatever the batch size — or an earlier row of the file. Earlier batches that have committed
    are found by the queries; those still on their way to the database are ``in_flight``
    (``[({email: row}, {phone: row})]``, see :class:`_BatchSink`).
    """
    emails = {lead["live_email"] for _, lead in batch.leads if lead["live_email"]}
    phones = {lead["phone"] for _, lead in batch.leads if lead["phone"]}
    taken_emails = {}
    if emails:
        taken_emails = {email.lower(): (pk, job_id) for email, pk, job_id in _existing(
            "live_email", emails, "lead_search_email")}
    taken_phones = {}
    if phones:
        taken_phones = {phone: (pk, job_id) for phone, pk, job_id in _existing(
            "phone", phones, "lead_phone", agent_id=ctx.agent_id)}
    phone_scope = " for this agent" if ctx.agent_id else ""
    seen_emails: dict[str, int] = {}
    seen_phones: dict[str, int] = {}
    for earlier_emails, earlier_phones in in_flight:
        seen_emails.update(earlier_emails)
        seen_phones.update(earlier_phones)
    keep = []
    for row_no, lead in batch.leads:
        email, phone = lead["live_email"], lead["phone"]
        if email and email in taken_emails:
            note = _duplicate_note(*taken_emails[email], ctx.job)
            batch.errors.append((row_no, f"Duplicate: a lead with this email already exists ({note})"))
        elif email and email in seen_emails:
            batch.errors.append((row_no, f"Duplicate: same email as row {seen_emails[email]} of this file"))
        elif phone and phone in taken_phones:
            note = _duplicate_note(*taken_phones[phone], ctx.job)
            batch.errors.append(
                (row_no, f"Duplicate: a lead with this phone number already exists{phone_scope} ({note})"))
        elif phone and phone in seen_phones:
            batch.errors.append((row_no, f"Duplicate: same phone number as row {seen_phones[phone]} of this file"))
        else:
            if email:
                seen_emails[email] = row_no
            if phone:
                seen_phones[phone] = row_no
            keep.append((row_no, lead))
    return keep


def _insert_one_by_one(writer: _LeadWriter, rows: list[tuple[int, dict, object]],
                       errors: list[tuple[int, str]], now: datetime) -> list[dict]:
    """After a batch insert failed (a concurrent writer took an email first), insert each lead
    with a plain INSERT in its own savepoint so only the offending rows become errors."""
    created = []
    for row_no, lead, _ in rows:
        try:
            with transaction.atomic():
                writer.insert(writer.insert_payloads([lead], now))
            created.append(lead)
        except IntegrityError:
            other = Lead.objects.filter(live_email=lead["live_email"]).values_list("pk", flat=True).first() \
                if lead["live_email"] else None
            if other:
                errors.append((row_no, f"Duplicate: a lead with this email already exists ({other})"))
            else:
                errors.append((row_no, "Could not be saved: it conflicts with an existing lead"))
        except DataError as exc:
            errors.append((row_no, _echo(f"Could not be saved: {exc}")))
    return created


def _commit_batch(batch: _Batch, ctx: _Context, expected: int) -> tuple[int, int]:
    """Write one batch and advance the job's counters, in one transaction; ``(ok, errors)``.

    The batch's leads are checked already (:func:`_dedupe`, by the reading thread). The first
    statement re-checks the claim (``processed_rows`` still ``expected``) and locks the job
    row, so if another worker took the job over, this batch rolls back (_LostClaim) instead of
    importing the same rows twice. Then: one multi-row INSERT of leads, one of row errors, the
    lead rollups, and the job's counters.
    """
    job = ctx.job
    now = timezone.now()
    with transaction.atomic():
        claimed = LeadImport.objects.filter(
            pk=job.pk, status=LeadImport.Status.RUNNING, processed_rows=expected
        ).update(heartbeat_at=now)
        if not claimed:
            raise _LostClaim
        rows = [(row_no, lead, payload) for (row_no, lead), payload in zip(batch.leads, batch.payloads, strict=True)]
        leads = [lead for _, lead, _ in rows]
        if leads:
            try:
                with transaction.atomic():
                    ctx.writer.insert([payload for _, _, payload in rows])
            except (IntegrityError, DataError):
                leads = _insert_one_by_one(ctx.writer, rows, batch.errors, batch.stamped_at)
        if batch.errors:
            LeadImportError.objects.bulk_create(
                [LeadImportError(job_id=job.pk, row=row_no, error=error[:500]) for row_no, error in batch.errors],
                batch_size=BATCH_SIZE,
            )
        if leads:
            deltas: dict[tuple, int] = {}
            for lead in leads:
                key = (ctx.owner_id, lead["status"], batch.created_day)
                deltas[key] = deltas.get(key, 0) + 1
            stage_counts_bump(deltas)
            if len(leads) != len(batch.leads) or batch.order_deltas is None:  # some rows failed on insert
                batch.order_deltas = order_buckets.created_deltas(leads, ctx.owner_id, batch.stamped_at)
            order_buckets.bump(batch.order_deltas)
        LeadImport.objects.filter(pk=job.pk).update(
            processed_rows=F("processed_rows") + batch.size,
            success_count=F("success_count") + len(leads),
            error_count=F("error_count") + len(batch.errors),
            heartbeat_at=now,
        )
    return len(leads), len(batch.errors)


def _claim(import_id) -> bool:
    """Take the job if it is queued, or running with a stale heartbeat (STYLE.md 7)."""
    now = timezone.now()
    claimable = Q(status=LeadImport.Status.QUEUED) | Q(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - STALL_AFTER), status=LeadImport.Status.RUNNING
    )
    taken = LeadImport.objects.filter(claimable, pk=import_id).update(status=LeadImport.Status.RUNNING,
                                                                       heartbeat_at=now)
    if taken:
        LeadImport.objects.filter(pk=import_id, started_at__isnull=True).update(started_at=now)
    return bool(taken)


def _fail(job: LeadImport, reason: str) -> None:
    now = timezone.now()
    LeadImport.objects.filter(pk=job.pk, status=LeadImport.Status.RUNNING).update(
        status=LeadImport.Status.FAILED, failure_reason=reason[:2000], finished_at=now, heartbeat_at=now
    )


def _release(job: LeadImport) -> None:
    """Put a job that hit a database error back in the queue so a retry can claim it at once."""
    try:
        LeadImport.objects.filter(pk=job.pk, status=LeadImport.Status.RUNNING).update(
            status=LeadImport.Status.QUEUED, heartbeat_at=timezone.now()
        )
    except DatabaseError:  # the connection itself is gone: the stall sweep will requeue it
        logger.warning("Could not release import %s after a database error", job.pk)


COUNT_CHUNK_BYTES = 1024 * 1024


def _count_lines_quickly(fileobj) -> int | None:
    """The data rows of a CSV whose records are exactly its lines, counted a megabyte at a time
    with byte-level searches (~10x quicker than parsing it); None when that may not hold — a
    quote (a field may hold a line break), a carriage return without a line feed, UTF-16, a
    blank first line, a line longer than the upload limit — and the caller parses instead.
    Rows of nothing but delimiters are not counted, as :func:`import_count_rows` skips them."""
    head = fileobj.read(SNIFF_BYTES)
    if head.startswith(_UTF16_BOMS):
        return None
    first = head.split(b"\n", 1)[0].removeprefix(codecs.BOM_UTF8).decode("utf-8", "replace")
    delimiter = _sniff_delimiter(first)
    if not first.strip("\r" + delimiter):
        return None
    delimiter_bytes = delimiter.encode()
    # A blank line (nothing but delimiters and carriage returns): one at the start of a chunk's
    # lines, then each line feed followed by one. Searching from the line feeds takes 8 ms for
    # 17 MB where trying every position (``(?m)^…``) took 67.
    blank_line = rb"[" + re.escape(delimiter_bytes) + rb"\r]*\n"
    first_blank, next_blanks = re.compile(blank_line), re.compile(rb"\n(?=" + blank_line + rb")")

    def blanks(lines: bytes) -> int:
        return bool(first_blank.match(lines)) + len(next_blanks.findall(lines))

    def plain(text: bytes) -> bool:
        return b'"' not in text and text.count(b"\r") == text.count(b"\r\n")

    rows, carry, chunk = -1, b"", head  # -1: the header line is not a data row
    while chunk:
        data = carry + chunk
        cut = data.rfind(b"\n") + 1
        lines, carry = data[:cut], data[cut:]
        if not plain(lines) or len(carry) > COUNT_CHUNK_BYTES * 16:
            return None
        rows += lines.count(b"\n") - blanks(lines)
        chunk = fileobj.read(COUNT_CHUNK_BYTES)
    if carry:  # the last line, without a line break
        if not plain(carry):
            return None
        rows += bool(carry.strip(b"\r" + delimiter_bytes))
    return max(rows, 0)


def import_count_rows(job: LeadImport, *, limit: int | None = None) -> int:
    """The data rows of the job's file (blank lines excluded), counting at most ``limit + 1``.

    The quick first pass that gives the progress bar its total: line breaks counted as bytes
    when every line is one record (:func:`_count_lines_quickly`), else the file is parsed.
    Raises ImportFileError.
    """
    with job.file.open("rb") as fileobj:
        quick = _count_lines_quickly(fileobj)
    if quick is not None:
        return quick if limit is None else min(quick, limit + 1)
    with job.file.open("rb") as fileobj, _open_rows(fileobj) as reader:
        next(reader, None)
        try:
            rows = (row for row in reader if any(row))
            if limit is not None:
                rows = itertools.islice(rows, limit + 1)
            return sum(1 for _ in rows)
        except csv.Error as exc:
            raise ImportFileError(f"The file is not a readable CSV: {exc}.", code="malformed_csv") from None


def import_run(import_id, *, progress: Callable[[ImportProgress], None] | None = None) -> LeadImport | None:
    """Claim and process import job ``import_id``; returns the job as it ends, or ``None`` when
    another worker holds it, it has finished, or it does not exist.

    Resumes after ``processed_rows``. ``progress`` is called after each committed batch. A file
    that cannot be read marks the job FAILED with ``failure_reason``; a database error
    (OperationalError) puts it back in the queue and is re-raised for the task to retry.
    """
    if not _claim(import_id):
        return None
    job = LeadImport.objects.get(pk=import_id)
    try:
        _process(job, progress)
    except _LostClaim:
        logger.info("Import %s was taken over by another worker; stopping", job.pk)
        return None
    except ImportFileError as exc:
        _fail(job, exc.detail)
    except (FileNotFoundError, PermissionError) as exc:
        _fail(job, f"The uploaded file can no longer be read ({exc.__class__.__name__}).")
    except OperationalError:
        _release(job)
        raise
    except Exception as exc:
        logger.exception("Import %s failed", job.pk)
        _fail(job, f"Internal error: {exc.__class__.__name__}: {exc}")
    job.refresh_from_db()
    return job


class _GilSwitching:
    """Lowers the interpreter's switch interval to SWITCH_INTERVAL while any pipelined import
    runs in this process, and restores it when the last one ends (imports may run side by side
    in a threaded web server)."""

    _lock = threading.Lock()
    _users = 0
    _saved = 0.0

    @classmethod
    def enter(cls) -> None:
        with cls._lock:
            if cls._users == 0:
                cls._saved = sys.getswitchinterval()
                sys.setswitchinterval(min(SWITCH_INTERVAL, cls._saved))
            cls._users += 1

    @classmethod
    def leave(cls) -> None:
        with cls._lock:
            cls._users -= 1
            if cls._users == 0:
                sys.setswitchinterval(cls._saved)


class _BatchSink:
    """Commits batches in order, and keeps the job's running totals.

    On MySQL/MariaDB (outside a transaction) the commits run in one writer thread with its own
    connection, so the database inserts batch N while this thread parses and checks batch N+1
    (the driver releases the GIL while it waits): the import then costs about the larger of
    the two instead of their sum. At most two batches wait in between, so memory stays flat.
    Inside a transaction (tests) and on SQLite (one writer anyway) commits run inline.
    """

    def __init__(self, ctx: _Context, progress: Callable[[ImportProgress], None] | None, total: int):
        job = ctx.job
        self.ctx, self.progress, self.total = ctx, progress, total
        self.expected, self.success, self.failed = job.processed_rows, job.success_count, job.error_count
        self.error: BaseException | None = None
        # Batches handed on but maybe not committed yet, as (number, {email: row}, {phone: row}):
        # the duplicate check of the next batch cannot see them in the database. At most the
        # queue's two plus the one being written, so memory stays flat.
        self.sent = 0
        self.committed = 0  # batches committed so far (set by the writer)
        self.in_flight: collections.deque[tuple[int, dict, dict]] = collections.deque()
        self.threaded = PIPELINE and connection.vendor != "sqlite" and not connection.in_atomic_block
        if self.threaded:
            self.queue: queue.Queue[_Batch | None] = queue.Queue(maxsize=2)
            self.thread = threading.Thread(target=self._loop, name=f"import-{job.pk}", daemon=True)
            _GilSwitching.enter()
            self.thread.start()

    def _commit(self, batch: _Batch) -> None:
        ok, bad = _commit_batch(batch, self.ctx, self.expected)
        self.expected, self.success, self.failed = self.expected + batch.size, self.success + ok, self.failed + bad
        self.committed += 1
        if self.progress:
            self.progress(ImportProgress(self.ctx.job.pk, self.total, self.expected, self.success, self.failed))

    def _loop(self) -> None:
        if self.ctx.writer.load_data:
            # LOAD DATA LOCAL on this thread's own connection only (opened on first use below):
            # the client then sends the files the server asks for, so no other connection has it.
            db = connections[DEFAULT_DB_ALIAS]
            db.settings_dict = {**db.settings_dict,
                                "OPTIONS": {**db.settings_dict.get("OPTIONS", {}), "local_infile": 1}}
        try:
            while (batch := self.queue.get()) is not None:
                if self.error is None:  # after a failure, drain without writing
                    try:
                        self._commit(batch)
                    except BaseException as exc:  # handed to the reading thread
                        self.error = exc
        finally:
            connections.close_all()  # this thread's own connection

    def put(self, batch: _Batch) -> None:
        """Check ``batch`` for duplicates (here, on this thread's connection, while the writer
        inserts the previous batch), build its INSERT payloads and hand it to the writer."""
        committed = self.committed  # read before the queries: later commits are still in flight
        while self.in_flight and self.in_flight[0][0] <= committed:
            self.in_flight.popleft()
        if batch.leads:
            batch.leads = _dedupe(batch, self.ctx, [(emails, phones) for _, emails, phones in self.in_flight])
        self.sent += 1
        self.in_flight.append((
            self.sent,
            {lead["live_email"]: row_no for row_no, lead in batch.leads if lead["live_email"]},
            {lead["phone"]: row_no for row_no, lead in batch.leads if lead["phone"]},
        ))
        batch.stamped_at = now = timezone.now()
        batch.payloads = self.ctx.writer.prepare([lead for _, lead in batch.leads], now)
        batch.created_day = created_day(now)
        # Counted here, while the writer thread waits on the database for the previous batch.
        batch.order_deltas = order_buckets.created_deltas([lead for _, lead in batch.leads], self.ctx.owner_id, now)
        if not self.threaded:
            self._commit(batch)
            return
        if self.error is not None:
            raise self.error
        self.queue.put(batch)

    def close(self, *, raise_error: bool = True) -> None:
        """Wait for the pending batches; re-raise what the writer thread hit."""
        if self.threaded:
            self.queue.put(None)
            self.thread.join()
            _GilSwitching.leave()
        if raise_error and self.error is not None:
            raise self.error


def _load_data_allowed() -> bool:
    """Whether batches may go in as ``LOAD DATA LOCAL INFILE``: MySQL/MariaDB with the writer
    thread (see :class:`_BatchSink`), the ``LEAD_IMPORT_LOAD_DATA`` setting on, and the server's
    ``local_infile`` on (MariaDB's default; MySQL 8 needs ``--local-infile=1``)."""
    if not (settings.LEAD_IMPORT_LOAD_DATA and PIPELINE and connection.vendor == "mysql"
            and not connection.in_atomic_block):
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@GLOBAL.local_infile")
        return bool(cursor.fetchone()[0])


def _process(job: LeadImport, progress: Callable[[ImportProgress], None] | None) -> None:
    total = import_count_rows(job)
    LeadImport.objects.filter(pk=job.pk).update(total_rows=total, heartbeat_at=timezone.now())
    job.total_rows = total
    owner_id = job.owner_id
    if owner_id is not None and not User.objects.filter(pk=owner_id, is_active=True).exists():
        owner_id = None

    with job.file.open("rb") as fileobj, _open_rows(fileobj) as reader:
        header = next(reader, None)
        if header is None:
            raise ImportFileError("The file is empty.", code="empty_file")
        columns = map_columns(header)
        writer = _LeadWriter(connection, owner_id=owner_id, agent_id=job.agent_id, import_job_id=job.pk,
                             load_data=_load_data_allowed())
        ctx = _Context(job=job, columns=columns, region=job.region or settings.DEFAULT_PHONE_REGION,
                       owner_id=owner_id, agent_id=job.agent_id, source=job.source, writer=writer)
        sink = _BatchSink(ctx, progress, total)
        try:
            _read_batches(reader, ctx, sink, skip=job.processed_rows)
        except BaseException:
            sink.close(raise_error=False)
            raise
        sink.close()

    now = timezone.now()
    done = LeadImport.objects.filter(
        pk=job.pk, status=LeadImport.Status.RUNNING, processed_rows=sink.expected
    ).update(status=LeadImport.Status.COMPLETED, finished_at=now, heartbeat_at=now, total_rows=sink.expected)
    if not done:
        raise _LostClaim
    if progress:
        progress(ImportProgress(job.pk, sink.expected, sink.expected, sink.success, sink.failed))


def _read_batches(reader, ctx: _Context, sink: _BatchSink, *, skip: int) -> None:
    """Turn the data rows into batches of checked leads and row errors, and hand them to ``sink``.

    ``skip`` rows (those a previous run committed) are passed over. Row numbers count every CSV
    record, blank ones included, with the header as row 1 (seed 004's example).
    """
    width = ctx.width
    padding = [""] * (width + 1)
    batch = _Batch()
    batch_size = FIRST_BATCH_SIZE
    row_no = 1
    try:
        for row in reader:
            row_no += 1
            if not any(row):
                continue
            if skip:
                skip -= 1
                continue
            if len(row) < width:
                row.extend(padding[: width - len(row) + 1])
            else:
                row.append("")
            batch.size += 1
            try:
                batch.leads.append((row_no, _build_lead(row, ctx)))
            except ValueError as exc:
                batch.errors.append((row_no, str(exc)))
            if batch.size >= batch_size:
                sink.put(batch)
                batch, batch_size = _Batch(), BATCH_SIZE
                ctx.restamp()
    except csv.Error as exc:
        raise ImportFileError(f"The CSV is malformed near row {row_no}: {exc}.", code="malformed_csv") from None
    if batch.size:
        sink.put(batch)


def import_resume_stalled(*, now: datetime | None = None) -> list[str]:
    """Queue again the jobs whose worker died (RUNNING, heartbeat older than
    :data:`STALL_AFTER`) or whose message was lost (QUEUED that long); returns their ids.

    Each is first moved to QUEUED with a fresh heartbeat by a conditional UPDATE, so two beat
    ticks (or two beat processes) send it once, and a slow-but-alive worker loses its claim at
    its next batch instead of importing rows twice.
    """
    now = now or timezone.now()
    stale = now - STALL_AFTER
    old = Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=stale)
    candidates = LeadImport.objects.filter(
        Q(status=LeadImport.Status.RUNNING) & old
        | Q(status=LeadImport.Status.QUEUED, created_at__lt=stale) & old
    ).values_list("pk", "status")[:100]
    requeued = []
    for pk, status in candidates:
        moved = LeadImport.objects.filter(old, pk=pk, status=status).update(
            status=LeadImport.Status.QUEUED, heartbeat_at=now
        )
        if moved:
            job = LeadImport(pk=pk)
            import_enqueue(job)
            requeued.append(str(pk))
    if requeued:
        logger.info("Re-queued stalled imports: %s", ", ".join(requeued))
    return requeued
