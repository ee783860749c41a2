"""Every contact and company write with a business rule (STYLE.md 2). The API, the pages, the
admin, the demo and ``leads.services.lead_convert`` call these; none of them saves a Contact,
Company or ContactCompany itself.

Rules kept here:
* phones are stored in E.164 with the extension apart (DESIGN.md decision 10); emails and
  company domains lower-cased; a domain is the bare host (no scheme, ``www.``, path or port);
* a sales user owns only what they assign to themselves, and sees and links only their own and
  unassigned records (decision 8);
* one live company per domain (``Company.live_domain``'s unique index);
* a contact whose email or E.164 phone matches a live contact is refused with the match
  named (:class:`PossibleDuplicate`, 409) unless the caller says ``allow_duplicate``;
* bulk create/update are all or nothing, with errors keyed by item index;
* ``primary_company`` is always one of the contact's linked companies; linking twice is a no-op;
* ``last_contacted`` follows the newest timeline entry of a kind in :data:`CONTACTED_KINDS`;
* merging moves timeline, company links, tags and converted leads, sends ``contact_merged``
  (tasks follow) and retires the other contact (``deleted_at`` + ``merged_into``);
* the count rollups (per owner and status, per owner, status and day, per tag and owner, per
  company and owner; :class:`Counted`) change in the same transaction as the contacts they count;
* a tag link or company link row carries its contact's ``created_at`` (``contact_created_at``).
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import NamedTuple
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Count, Max, Q, Value
from django.db.models.functions import TruncDate
from django.utils import timezone

from contacts.models import (
    Company,
    Contact,
    ContactCompany,
    ContactCompanyCount,
    ContactDayCount,
    ContactStatusCount,
    ContactTag,
    ContactTagCount,
    Tag,
)
from contacts.signals import contact_merged
from crm.errors import DuplicateRecord, NotFound, ServiceError
from crm.models import Interaction, User
from crm.phones import InvalidPhoneNumber, normalize_phone

# Fields a caller sets as given (after type validation) on a contact.
CONTACT_PLAIN_FIELDS = ("first_name", "last_name", "email", "job_title", "role", "status", "notes")
# Everything contact_create/contact_update accept besides ``user``.
CONTACT_FIELDS = (*CONTACT_PLAIN_FIELDS, "name", "phone", "owner_id", "primary_company_id", "company", "tags")
COMPANY_FIELDS = ("name", "domain", "website", "industry", "size", "phone", "address", "owner_id", "tags")
# What a merge chooses per field ("this" keeps the survivor's value, "other" takes the merged one's).
MERGE_FIELDS = ("first_name", "last_name", "email", "phone", "job_title", "role", "status", "notes", "owner",
                "primary_company")
# Timeline kinds that count as the team being in touch with a contact (notes, page visits,
# opened emails and status changes do not).
CONTACTED_KINDS = frozenset({"call", "email", "sms", "meeting", "follow_up"})
# Kinds only the services write.
SYSTEM_KINDS = frozenset({"status_change", "lead_created"})
# Mailbox providers: an address there says nothing about the person's company.
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "ymail.com", "hotmail.com", "hotmail.co.uk",
    "outlook.com", "live.com", "msn.com", "aol.com", "icloud.com", "me.com", "mac.com", "proton.me",
    "protonmail.com", "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com", "yandex.com", "yandex.ru",
    "mail.ru", "zoho.com", "qq.com", "163.com", "126.com", "fastmail.com", "hey.com", "tutanota.com",
    "orange.fr", "free.fr", "laposte.net", "libero.it", "t-online.de", "comcast.net", "verizon.net",
    "att.net", "sbcglobal.net", "btinternet.com", "rediffmail.com",
})


# RFC 2606 / 6761 names: placeholders in test data and forms, never a company's domain.
RESERVED_DOMAINS = frozenset({"example.com", "example.net", "example.org"})
RESERVED_TLDS = frozenset({"test", "invalid", "localhost"})


class PossibleDuplicate(DuplicateRecord):
    """A live contact already has this email or phone. Answered 409 with ``existing``
    (``{id, name, email, phone}``) and ``existing_id``; resend with ``allow_duplicate``."""

    status_code = 409
    default_code = "duplicate_contact"


class BulkInvalid(ServiceError):
    """Some items of a bulk call were refused; nothing was written. ``extra["errors"]`` is
    ``{"<index>": {"<field>": ["<message>"]}}``."""

    default_code = "bulk_invalid"


def bulk_limit() -> int:
    """Most items one bulk call may carry (setting ``CONTACT_BULK_LIMIT``, default 1,000)."""
    return settings.CONTACT_BULK_LIMIT


# --- small normalisers ----------------------------------------------------------------------------


def normalize_domain(raw: str | None) -> str:
    """``"https://www.Acme.com/about"`` -> ``"acme.com"``; ``""`` for nothing usable.
    Raises ServiceError (``invalid_domain``) for text that is not a host name."""
    text = (raw or "").strip().lower()
    if not text:
        return ""
    if "@" in text:  # an email address: its domain
        text = text.rsplit("@", 1)[1]
    host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    host = host.strip(".")
    if host.startswith("www."):
        host = host[4:]
    labels = host.split(".")
    if len(labels) < 2 or not all(lbl and len(lbl) <= 63 and all(c.isalnum() or c == "-" for c in lbl)
                                  for lbl in labels) or len(host) > 253:
        raise ServiceError(f"{raw!r} is not a domain like acme.com.", code="invalid_domain", field="domain")
    return host


def email_domain(email: str | None) -> str:
    """The company domain an email address points at, or ``""`` for free-mail and no address."""
    email = (email or "").strip().lower()
    if "@" not in email:
        return ""
    domain = email.rsplit("@", 1)[1].strip(".")
    if not domain or domain in FREE_MAIL_DOMAINS or domain in RESERVED_DOMAINS \
            or domain.rsplit(".", 1)[-1] in RESERVED_TLDS:
        return ""
    try:
        return normalize_domain(domain)
    except ServiceError:
        return ""


def _parse_phone(raw: str, region: str | None) -> tuple[str, str]:
    """``(e164, extension)``; ``("", "")`` for an empty value. Raises ServiceError (``invalid_phone``)."""
    if not (raw or "").strip():
        return "", ""
    try:
        parsed = normalize_phone(raw, region)
    except InvalidPhoneNumber as exc:
        raise ServiceError(str(exc), code="invalid_phone", field="phone") from None
    return parsed.e164, parsed.extension


def _clean_tag_names(names: Iterable[str] | None) -> list[str]:
    seen: dict[str, None] = {}
    for name in names or ():
        name = str(name).strip().lower()
        if not name:
            continue
        if len(name) > 50:
            raise ServiceError(f"Tag {name[:20]!r}… is longer than 50 characters.", code="invalid_tag", field="tags")
        seen[name] = None
    return list(seen)


def tags_get_or_create(names: Iterable[str]) -> list[Tag]:
    """Tags by name (stripped, lower-cased, de-duplicated), creating missing ones; two queries
    at most whatever the number. Raises ServiceError (``invalid_tag``) for a name over 50 characters."""
    names = _clean_tag_names(names)
    if not names:
        return []
    found = {t.name: t for t in Tag.objects.filter(name__in=names)}
    missing = [n for n in names if n not in found]
    if missing:
        Tag.objects.bulk_create([Tag(name=n) for n in missing], ignore_conflicts=True)
        found.update({t.name: t for t in Tag.objects.filter(name__in=missing)})
    return [found[n] for n in names if n in found]


def check_owner(user: User | None, owner: User | None) -> None:
    """A sales user may make only themselves the owner, or leave it unassigned (decision 8).
    Raises ServiceError (``forbidden_owner``)."""
    if user is None or not user.is_authenticated or user.sees_all or owner is None:
        return
    if owner.pk != user.pk:
        raise ServiceError("Sales users can assign records only to themselves.", code="forbidden_owner",
                           field="owner_id")


def _actor(user: User | None) -> User | None:
    return user if user is not None and user.is_authenticated else None


# --- count rollups --------------------------------------------------------------------------------


class Counted(NamedTuple):
    """What one live contact adds to the rollups: a row of :class:`ContactStatusCount` (owner,
    status), of :class:`ContactDayCount` (owner, status, day), one of :class:`ContactTagCount`
    per tag and one of :class:`ContactCompanyCount` per linked company. ``owner`` 0 = unassigned."""

    owner: int
    status: str
    day: date
    tag_ids: frozenset
    company_ids: frozenset


def counted(contact: Contact, tag_ids=(), company_ids=()) -> Counted:
    """:class:`Counted` for a contact held in memory (its tags and company links given)."""
    return Counted(contact.owner_id or 0, contact.status, contact.created_at.astimezone(UTC).date(),
                   frozenset(tag_ids), frozenset(company_ids))


def _count_state(pks: Iterable) -> dict:
    """``{pk: Counted}`` for the live contacts among ``pks``, read from the database with three
    locking reads (contacts, tag links, company links): the rows are about to change in this
    transaction, and nobody else may change them meanwhile."""
    pks = list(pks)
    if not pks:
        return {}
    rows = list(Contact.objects.select_for_update().filter(pk__in=pks, deleted_at__isnull=True).order_by()
                .values_list("pk", "owner_id", "status", "created_at"))
    if not rows:
        return {}
    live = [row[0] for row in rows]
    tags: dict = defaultdict(set)
    for contact_id, tag_id in (ContactTag.objects.select_for_update().filter(contact_id__in=live).order_by()
                               .values_list("contact_id", "tag_id")):
        tags[contact_id].add(tag_id)
    companies: dict = defaultdict(set)
    for contact_id, company_id in (ContactCompany.objects.select_for_update().filter(contact_id__in=live).order_by()
                                   .values_list("contact_id", "company_id")):
        companies[contact_id].add(company_id)
    return {pk: Counted(owner_id or 0, status, created_at.astimezone(UTC).date(), frozenset(tags.get(pk, ())),
                        frozenset(companies.get(pk, ())))
            for pk, owner_id, status, created_at in rows}


def _add_counts(model, keys: tuple[str, ...], deltas: Counter) -> None:
    """Add ``deltas`` (``{key tuple: n}``) to a rollup table in one upsert. Rows go in key
    order, so two writers lock counter rows in the same order (no deadlock)."""
    rows = sorted((key, n) for key, n in deltas.items() if n)
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    columns = ", ".join(qn(c) for c in (*keys, "n"))
    values = ", ".join(["(" + ", ".join(["%s"] * (len(keys) + 1)) + ")"] * len(rows))
    params = [value for key, n in rows for value in (*key, n)]
    if connection.vendor == "mysql":
        tail = "ON DUPLICATE KEY UPDATE n = n + VALUES(n)"
    else:  # SQLite and PostgreSQL
        tail = f"ON CONFLICT ({', '.join(qn(k) for k in keys)}) DO UPDATE SET n = {table}.n + excluded.n"
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values} {tail}", params)


def contact_counts_apply(*, before: dict, after: dict) -> None:
    """Move the four rollups from the contacts' ``before`` state to their ``after`` state (each
    ``{pk: Counted}``; a contact missing from one side is not live there). Call it inside the
    transaction that changes the contacts, so counts and rows commit together."""
    by_status: Counter = Counter()
    by_day: Counter = Counter()
    by_tag: Counter = Counter()
    by_company: Counter = Counter()
    for sign, state in ((-1, before), (1, after)):
        for c in state.values():
            by_status[(c.owner, c.status)] += sign
            by_day[(c.owner, c.status, c.day)] += sign
            for tag_id in c.tag_ids:
                by_tag[(tag_id, c.owner)] += sign
            for company_id in c.company_ids:
                by_company[(Company._meta.pk.get_db_prep_value(company_id, connection), c.owner)] += sign
    _add_counts(ContactStatusCount, ("owner_id", "status"), by_status)
    _add_counts(ContactDayCount, ("owner_id", "status", "day"), by_day)
    _add_counts(ContactTagCount, ("tag_id", "owner_id"), by_tag)
    _add_counts(ContactCompanyCount, ("company_id", "owner_id"), by_company)


@contextmanager
def _counts_follow(pks: Iterable) -> Iterator[None]:
    """Keep the rollups exact across a change to the contacts ``pks`` made inside the block."""
    pks = list(pks)
    before = _count_state(pks)
    yield
    contact_counts_apply(before=before, after=_count_state(pks))


@transaction.atomic
def contact_counts_rebuild() -> int:
    """Recompute the four rollups from the live contacts and their links (four GROUP BYs, a few
    seconds at a million contacts); returns the live total. For data written outside the
    services (bulk loads, benchmark seeding, admin edits of raw link rows) and as a nightly
    reconciliation (``manage.py rebuild_contact_counts``, task ``contacts.rebuild_counts``)."""
    live = Contact.objects.live().order_by()
    ContactStatusCount.objects.all().delete()
    ContactStatusCount.objects.bulk_create(
        ContactStatusCount(owner_id=row["owner_id"] or 0, status=row["status"], n=row["c"])
        for row in live.values("owner_id", "status").annotate(c=Count("pk")))
    ContactDayCount.objects.all().delete()
    ContactDayCount.objects.bulk_create(
        (ContactDayCount(owner_id=row["owner_id"] or 0, status=row["status"], day=row["day"], n=row["c"])
         for row in live.annotate(day=TruncDate("created_at", tzinfo=UTC)).values("owner_id", "status", "day")
         .annotate(c=Count("pk"))), batch_size=2000)
    ContactTagCount.objects.all().delete()
    ContactTagCount.objects.bulk_create(
        ContactTagCount(tag_id=row["tag_id"], owner_id=row["contact__owner_id"] or 0, n=row["c"])
        for row in ContactTag.objects.filter(contact__deleted_at__isnull=True).order_by()
        .values("tag_id", "contact__owner_id").annotate(c=Count("pk")))
    ContactCompanyCount.objects.all().delete()
    ContactCompanyCount.objects.bulk_create(
        (ContactCompanyCount(company_id=row["company_id"], owner_id=row["contact__owner_id"] or 0, n=row["c"])
         for row in ContactCompany.objects.filter(contact__deleted_at__isnull=True).order_by()
         .values("company_id", "contact__owner_id").annotate(c=Count("pk"))), batch_size=2000)
    return sum(ContactStatusCount.objects.values_list("n", flat=True))


# --- companies ------------------------------------------------------------------------------------


def _company_duplicate(domain: str, exclude_pk=None) -> None:
    if not domain:
        return
    other = Company.objects.filter(live_domain=domain).exclude(pk=exclude_pk).only("id", "name").first()
    if other:
        raise DuplicateRecord(
            f"A company with the domain {domain} already exists: {other.name} ({other.pk})",
            code="duplicate_company", field="domain",
            extra={"existing_id": str(other.pk), "existing": {"id": str(other.pk), "name": other.name}},
        )


def _save_company(company: Company) -> None:
    try:
        with transaction.atomic():
            company.save()
    except IntegrityError:  # lost a race on the live-domain unique index
        _company_duplicate(company.live_domain or "", exclude_pk=company.pk)
        raise


def _apply_company(company: Company, user: User | None, data: dict, region: str | None) -> list[Tag] | None:
    for key in ("name", "industry", "size", "address", "website"):
        if key in data:
            setattr(company, key, (data[key] or "").strip())
    if "name" in data and not company.name:
        raise ServiceError("A company needs a name.", code="name_required", field="name")
    if "domain" in data:
        company.domain = normalize_domain(data["domain"])
    if not company.domain and company.website and "domain" not in data:
        try:
            company.domain = normalize_domain(company.website)
        except ServiceError:
            pass
    if "phone" in data:
        company.phone, _ = _parse_phone(data["phone"] or "", region)
    if "owner_id" in data:
        owner = _owner(data["owner_id"])
        check_owner(user, owner)
        company.owner = owner
    return tags_get_or_create(data["tags"]) if data.get("tags") is not None else None


def _owner(owner_id) -> User | None:
    if owner_id in (None, ""):
        return None
    if isinstance(owner_id, User):
        return owner_id
    owner = User.objects.filter(pk=owner_id, is_active=True).first()
    if owner is None:
        raise ServiceError(f"No active user has the id {owner_id}.", code="unknown_owner", field="owner_id")
    return owner


@transaction.atomic
def company_create(*, user: User | None, region: str | None = None, **data) -> Company:
    """Create a company from :data:`COMPANY_FIELDS` (``owner_id`` defaults to ``user``;
    ``domain`` is normalised, or taken from ``website`` when absent; ``phone`` any notation,
    stored E.164; ``tags`` names). Raises ServiceError (name, domain, phone, owner) or
    DuplicateRecord (``duplicate_company``: a live company has the domain; ``existing`` names it)."""
    unknown = set(data) - set(COMPANY_FIELDS)
    if unknown:
        raise TypeError(f"company_create() got unexpected fields: {sorted(unknown)}")
    data.setdefault("name", "")
    if "owner_id" not in data and _actor(user):
        data["owner_id"] = user
    company = Company()
    tags = _apply_company(company, user, data, region)
    _company_duplicate(company.domain)
    _save_company(company)
    if tags:
        company.tags.set(tags)
    return company


@transaction.atomic
def company_update(*, company: Company, user: User | None, region: str | None = None, **data) -> Company:
    """Change the given :data:`COMPANY_FIELDS` (absent keys stay; ``tags`` replaces the set).
    Raises as :func:`company_create`."""
    unknown = set(data) - set(COMPANY_FIELDS)
    if unknown:
        raise TypeError(f"company_update() got unexpected fields: {sorted(unknown)}")
    company = Company.objects.select_for_update().get(pk=company.pk)
    tags = _apply_company(company, user, data, region)
    if "domain" in data or "website" in data:
        _company_duplicate(company.domain, exclude_pk=company.pk)
    _save_company(company)
    if tags is not None:
        company.tags.set(tags)
    return company


@transaction.atomic
def company_delete(*, company: Company, user: User | None) -> None:
    """Soft-delete: the company leaves lists and frees its domain; links and timeline stay."""
    company = Company.objects.select_for_update().get(pk=company.pk)
    if company.deleted_at is None:
        company.deleted_at = timezone.now()
        company.save()


def company_match(*, name: str = "", email: str = "", domain: str = "") -> Company | None:
    """The live company a lead or contact belongs to, without creating one: first by domain
    (``domain``, else the email's unless it is a free-mail provider), then by ``name``
    case-insensitively. Two queries at most."""
    try:
        domain = normalize_domain(domain) if domain else email_domain(email)
    except ServiceError:
        domain = ""
    if domain:
        company = Company.objects.filter(live_domain=domain).first()
        if company:
            return company
    name = (name or "").strip()
    if name:
        return Company.objects.live().filter(name__iexact=name).order_by("created_at", "id").first()
    return None


@transaction.atomic
def company_find_or_create(*, user: User | None, name: str = "", email: str = "",
                           owner: User | None = None) -> tuple[Company | None, bool]:
    """``(company, created)`` for a lead's or contact's company name and email: the match
    from :func:`company_match`, else a new company (named ``name``, or after the email's
    domain: ``acme.com`` -> ``Acme``) owned by ``owner``. ``(None, False)`` when there is
    neither a name nor a company email domain."""
    company = company_match(name=name, email=email)
    if company is not None:
        return company, False
    domain = email_domain(email)
    name = (name or "").strip() or (domain.split(".")[0].capitalize() if domain else "")
    if not name:
        return None, False
    if domain and Company.objects.filter(live_domain=domain).exists():  # pragma: no cover - matched above
        domain = ""
    company = Company(name=name[:200], domain=domain, owner=owner)
    _save_company(company)
    return company, True


# --- contacts: create and update ------------------------------------------------------------------


class _Lookups:
    """The owners and companies a batch names, read in one query each (bulk calls stay at a
    constant number of queries)."""

    def __init__(self, user: User | None, items: Sequence[dict]):
        owner_ids = {i["owner_id"] for i in items if isinstance(i.get("owner_id"), int)}
        company_ids = {i["primary_company_id"] for i in items
                       if i.get("primary_company_id") not in (None, "")
                       and not isinstance(i["primary_company_id"], Company)}
        self.owners = {u.pk: u for u in User.objects.filter(pk__in=owner_ids, is_active=True)} if owner_ids else {}
        self.companies = (
            {c.pk: c for c in Company.objects.visible_to(user).filter(pk__in=company_ids)} if company_ids else {}
        )
        self.by_name: dict[str, Company | None] = {}


def _apply_contact(contact: Contact, data: dict, *, user: User | None, lookups: _Lookups,
                   region: str | None) -> list[str] | None:
    """Set ``data`` on ``contact`` (not saved). Returns the tag names to set (None: leave the
    tags). Raises ServiceError naming the field."""
    for key in CONTACT_PLAIN_FIELDS:
        if key in data:
            setattr(contact, key, (data[key] or "").strip() if isinstance(data[key], str | None) else data[key])
    if data.get("name") and not data.get("first_name"):
        parts = data["name"].strip().split(None, 1)
        contact.first_name = parts[0] if parts else ""
        contact.last_name = parts[1] if len(parts) > 1 else ""
    if not (contact.first_name or "").strip():
        raise ServiceError("A contact needs a name.", code="name_required", field="first_name")
    if len(contact.first_name) > 150 or len(contact.last_name) > 150:
        raise ServiceError("First and last name may each have at most 150 characters.", code="invalid_name",
                           field="name")
    contact.email = (contact.email or "").strip().lower()
    if contact.status not in Contact.Status.values:
        raise ServiceError(f'"{contact.status}" is not a valid status. Choose one of: '
                           f'{", ".join(Contact.Status.values)}.', code="invalid_status", field="status")
    if "phone" in data:
        contact.phone, contact.phone_extension = _parse_phone(data["phone"] or "", region)
    if "owner_id" in data:
        owner_id = data["owner_id"]
        if isinstance(owner_id, User):
            owner = owner_id
        elif owner_id in (None, ""):
            owner = None
        else:
            owner = lookups.owners.get(owner_id)
            if owner is None:
                raise ServiceError(f"No active user has the id {owner_id}.", code="unknown_owner", field="owner_id")
        check_owner(user, owner)
        contact.owner = owner
    if "primary_company_id" in data:
        company_id = data["primary_company_id"]
        if company_id in (None, ""):
            contact.primary_company = None
        else:
            company = company_id if isinstance(company_id, Company) else lookups.companies.get(company_id)
            if company is None:
                raise ServiceError(f"Company {company_id} not found.", code="company_not_found",
                                   field="primary_company_id")
            contact.primary_company = company
    elif (data.get("company") or "").strip():
        # Seed 001 names the company as text: link the matching company, or create it.
        name = data["company"].strip()
        key = name.lower()
        if key not in lookups.by_name:
            lookups.by_name[key], _ = company_find_or_create(user=user, name=name, email=contact.email,
                                                             owner=contact.owner)
        contact.primary_company = lookups.by_name[key]
    return _clean_tag_names(data["tags"]) if data.get("tags") is not None else None


def _existing_summary(contact: Contact) -> dict:
    return {"id": str(contact.pk), "name": contact.name, "email": contact.email or None,
            "phone": contact.phone or None}


def _duplicate_error(existing: Contact, field: str) -> PossibleDuplicate:
    value = existing.email if field == "email" else existing.phone
    return PossibleDuplicate(
        f"A contact with this {field} ({value}) already exists: {existing.name} ({existing.pk}). "
        "Send allow_duplicate: true to create it anyway.",
        field=field, extra={"existing_id": str(existing.pk), "existing": _existing_summary(existing)},
    )


def contact_find_duplicate(*, email: str = "", phone: str = "", exclude_pk=None) -> tuple[Contact, str] | None:
    """``(existing live contact, "email"|"phone")`` sharing ``email`` (any case) or the E.164
    ``phone``, else None. Reads the (email, deleted_at) and (phone, deleted_at) indexes."""
    email = (email or "").strip().lower()
    live = Contact.objects.live().exclude(pk=exclude_pk).only("id", "first_name", "last_name", "email", "phone")
    if email:
        other = live.filter(email=email).order_by("created_at", "id").first()
        if other:
            return other, "email"
    if phone:
        other = live.filter(phone=phone).order_by("created_at", "id").first()
        if other:
            return other, "phone"
    return None


def contact_check_duplicate(*, contact: Contact) -> None:
    """Raise :class:`PossibleDuplicate` when a live contact other than ``contact`` has its
    email or phone (for forms that warn before calling :func:`contact_create`)."""
    found = contact_find_duplicate(email=contact.email, phone=contact.phone, exclude_pk=contact.pk)
    if found:
        raise _duplicate_error(*found)


def _ensure_primary_link(contact: Contact, role: str = "") -> None:
    if contact.primary_company_id:
        ContactCompany.objects.get_or_create(contact=contact, company_id=contact.primary_company_id,
                                             defaults={"role": role})


@transaction.atomic
def contact_create(*, user: User | None, allow_duplicate: bool = False, region: str | None = None,
                   **data) -> Contact:
    """Create a contact from :data:`CONTACT_FIELDS`; returns it saved.

    ``name`` splits into first/last name (seed 001); ``phone`` any notation, stored E.164;
    ``owner_id`` (a user id or User) defaults to ``user``; ``primary_company_id`` (an id of a
    company ``user`` may see, or a Company) is also linked; ``company`` (seed 001's company
    name) links the matching company or creates it; ``tags`` names. Raises ServiceError (name,
    phone, owner, company) or :class:`PossibleDuplicate` (409) unless ``allow_duplicate``.
    """
    unknown = set(data) - set(CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"contact_create() got unexpected fields: {sorted(unknown)}")
    if "owner_id" not in data and _actor(user):
        data["owner_id"] = user
    contact = Contact()
    tags = _apply_contact(contact, data, user=user, lookups=_Lookups(user, [data]), region=region)
    if not allow_duplicate:
        contact_check_duplicate(contact=contact)
    contact.save()
    _ensure_primary_link(contact)
    tag_objects = tags_get_or_create(tags) if tags else []
    if tag_objects:
        contact.tags.set(tag_objects, through_defaults={"contact_created_at": contact.created_at})
    contact_counts_apply(before={}, after={contact.pk: counted(
        contact, [t.pk for t in tag_objects], [contact.primary_company_id] if contact.primary_company_id else [])})
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, user: User | None, allow_duplicate: bool = False,
                   region: str | None = None, **data) -> Contact:
    """Change the given :data:`CONTACT_FIELDS` (PUT and PATCH alike: absent keys stay; ``tags``
    replaces the set). A new email or phone is checked for duplicates unless
    ``allow_duplicate``. Raises as :func:`contact_create`."""
    unknown = set(data) - set(CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"contact_update() got unexpected fields: {sorted(unknown)}")
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    before = (contact.email, contact.phone)
    tags = _apply_contact(contact, data, user=user, lookups=_Lookups(user, [data]), region=region)
    if not allow_duplicate and (contact.email, contact.phone) != before:
        found = contact_find_duplicate(email=contact.email if contact.email != before[0] else "",
                                       phone=contact.phone if contact.phone != before[1] else "",
                                       exclude_pk=contact.pk)
        if found:
            raise _duplicate_error(*found)
    # Only owner, status, tags and a new primary company (linked) move the rollups; other
    # edits skip their six reads.
    counted_fields = {"owner_id", "status", "tags", "primary_company_id", "company"}
    with _counts_follow([contact.pk] if counted_fields & set(data) else []):
        contact.save()
        _ensure_primary_link(contact)
        if tags is not None:
            contact.tags.set(tags_get_or_create(tags), through_defaults={"contact_created_at": contact.created_at})
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact, user: User | None) -> None:
    """Soft-delete: the contact leaves lists, duplicates checks and counts; its rows stay."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.deleted_at is None:
        with _counts_follow([contact.pk]):
            contact.deleted_at = timezone.now()
            contact.save(update_fields=["deleted_at", "updated_at"])


@transaction.atomic
def contacts_restore(*, user: User | None, pks: Iterable) -> int:
    """Bring soft-deleted contacts among ``pks`` back into lists and counts; returns how many.
    Contacts merged away stay retired (their survivor holds their timeline and links)."""
    pks = list(Contact.objects.select_for_update().filter(pk__in=list(pks), deleted_at__isnull=False,
                                                          merged_into__isnull=True).values_list("pk", flat=True))
    if pks:
        with _counts_follow(pks):
            Contact.objects.filter(pk__in=pks).update(deleted_at=None, updated_at=timezone.now())
    return len(pks)


def _check_bulk_items(items) -> None:
    if not isinstance(items, list) or not items:
        raise ServiceError("Send a non-empty list of contacts.", code="bulk_empty", field="contacts")
    if len(items) > bulk_limit():
        raise ServiceError(f"At most {bulk_limit():,} contacts per call; this one has {len(items):,}.",
                           code="bulk_too_large", field="contacts")


def _batch_duplicates(drafts: list[tuple[int, Contact]], errors: dict, *, exclude_pks=()) -> None:
    """Record a duplicate error for each draft whose email/phone matches a live contact (two
    queries) or an earlier draft of the same batch."""
    emails = {c.email for _, c in drafts if c.email}
    phones = {c.phone for _, c in drafts if c.phone}
    live = Contact.objects.live().exclude(pk__in=list(exclude_pks)).only(
        "id", "first_name", "last_name", "email", "phone").order_by("created_at", "id")
    by_email: dict[str, Contact] = {}
    by_phone: dict[str, Contact] = {}
    if emails:
        for c in live.filter(email__in=emails):
            by_email.setdefault(c.email, c)
    if phones:
        for c in live.filter(phone__in=phones):
            by_phone.setdefault(c.phone, c)
    seen_email: dict[str, int] = {}
    seen_phone: dict[str, int] = {}
    for index, c in drafts:
        if str(index) in errors:
            continue
        for field, value, existing, seen in (("email", c.email, by_email, seen_email),
                                             ("phone", c.phone, by_phone, seen_phone)):
            if not value:
                continue
            if value in existing:
                errors[str(index)] = {field: [_duplicate_error(existing[value], field).detail]}
                break
            if value in seen:
                errors[str(index)] = {field: [f"Same {field} as item {seen[value]} of this request."]}
                break
            seen[value] = index


def _set_tags_bulk(contacts_tags: list[tuple[Contact, list[str]]], *, replace: bool) -> dict:
    """Give each contact its tags (``replace``: instead of the ones it has); returns
    ``{contact pk: frozenset of tag ids}``."""
    names = {n for _, tags in contacts_tags for n in tags}
    tag_ids = {t.name: t.pk for t in tags_get_or_create(names)} if names else {}
    if replace:
        ContactTag.objects.filter(contact_id__in=[c.pk for c, _ in contacts_tags]).delete()
    rows = [ContactTag(contact_id=c.pk, tag_id=tag_ids[n], contact_created_at=c.created_at)
            for c, tags in contacts_tags for n in tags]
    ContactTag.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=not replace)
    return {c.pk: frozenset(tag_ids[n] for n in tags) for c, tags in contacts_tags}


@transaction.atomic
def contacts_bulk_create(*, user: User | None, items: list[dict], allow_duplicate: bool = False,
                         region: str | None = None) -> list[Contact]:
    """Create up to :func:`bulk_limit` contacts at once, all or nothing (seed 003's
    ``POST /contacts/bulk``). Each item takes :data:`CONTACT_FIELDS` plus its own
    ``allow_duplicate``. Returns the contacts in item order.

    Raises ServiceError (``bulk_empty``, ``bulk_too_large``) or :class:`BulkInvalid` with
    ``errors`` ``{"<index>": {"<field>": [message]}}`` naming every failing item; then nothing is
    written. A constant number of queries: owners, companies, duplicates (2), INSERTs in batches.
    """
    _check_bulk_items(items)
    lookups = _Lookups(user, items)
    errors: dict[str, dict] = {}
    drafts: list[tuple[int, Contact]] = []
    tags: dict[int, list[str]] = {}
    now = timezone.now()
    for index, item in enumerate(items):
        data = {k: v for k, v in item.items() if k != "allow_duplicate"}
        unknown = set(data) - set(CONTACT_FIELDS)
        if unknown:
            errors[str(index)] = {k: ["Unknown field."] for k in sorted(unknown)}
            continue
        if "owner_id" not in data and _actor(user):
            data["owner_id"] = user
        contact = Contact(created_at=now, updated_at=now)
        try:
            item_tags = _apply_contact(contact, data, user=user, lookups=lookups, region=region)
        except ServiceError as exc:
            errors[str(index)] = {exc.field or "non_field_errors": [exc.detail]}
            continue
        if item_tags:
            tags[index] = item_tags
        drafts.append((index, contact))
    checked = [(i, c) for i, c in drafts if not (allow_duplicate or items[i].get("allow_duplicate"))]
    _batch_duplicates(checked, errors)
    if errors:
        raise BulkInvalid(f"{len(errors)} of {len(items)} contacts are invalid; none were created.",
                          extra={"errors": dict(sorted(errors.items(), key=lambda kv: int(kv[0])))})
    contacts = [c for _, c in drafts]
    Contact.objects.bulk_create(contacts, batch_size=1000)
    links = [ContactCompany(contact=c, company_id=c.primary_company_id, created_at=now,
                            contact_created_at=c.created_at) for c in contacts if c.primary_company_id]
    if links:
        ContactCompany.objects.bulk_create(links, batch_size=1000, ignore_conflicts=True)
    tag_ids = _set_tags_bulk([(c, tags[i]) for i, c in drafts if i in tags], replace=False) if tags else {}
    contact_counts_apply(before={}, after={
        c.pk: counted(c, tag_ids.get(c.pk, ()), [c.primary_company_id] if c.primary_company_id else [])
        for c in contacts})
    return contacts


@transaction.atomic
def contacts_bulk_update(*, user: User | None, items: list[dict], allow_duplicate: bool = False,
                         region: str | None = None) -> list[Contact]:
    """Update up to :func:`bulk_limit` contacts by ``id``, all or nothing (seed 003's
    ``PATCH /contacts/bulk``). Each item is ``{"id": ..., <fields to change>}``; an id that is
    unknown or not visible to ``user`` is an error at its index. Raises like
    :func:`contacts_bulk_create`. Returns the updated contacts in item order."""
    _check_bulk_items(items)
    errors: dict[str, dict] = {}
    wanted = []
    for index, item in enumerate(items):
        if not item.get("id"):
            errors[str(index)] = {"id": ["This field is required."]}
        else:
            wanted.append(item["id"])
    found = {c.pk: c for c in Contact.objects.visible_to(user).select_for_update().filter(pk__in=wanted)}
    lookups = _Lookups(user, items)
    drafts: list[tuple[int, Contact]] = []
    changed_identity: list[tuple[int, Contact]] = []
    tags: dict[int, list[str]] = {}
    fields_touched: set[str] = set()
    seen_ids: set = set()
    now = timezone.now()
    for index, item in enumerate(items):
        if str(index) in errors:
            continue
        contact = found.get(item["id"])
        if contact is None:
            errors[str(index)] = {"id": [f"Contact {item['id']} not found."]}
            continue
        if contact.pk in seen_ids:
            errors[str(index)] = {"id": ["This contact appears more than once in the request."]}
            continue
        seen_ids.add(contact.pk)
        data = {k: v for k, v in item.items() if k not in ("id", "allow_duplicate")}
        unknown = set(data) - set(CONTACT_FIELDS)
        if unknown:
            errors[str(index)] = {k: ["Unknown field."] for k in sorted(unknown)}
            continue
        before = (contact.email, contact.phone)
        try:
            item_tags = _apply_contact(contact, data, user=user, lookups=lookups, region=region)
        except ServiceError as exc:
            errors[str(index)] = {exc.field or "non_field_errors": [exc.detail]}
            continue
        if item_tags is not None:
            tags[index] = item_tags
        fields_touched.update(_touched_columns(data))
        contact.updated_at = now
        drafts.append((index, contact))
        if (contact.email, contact.phone) != before and not (allow_duplicate or item.get("allow_duplicate")):
            probe = Contact(pk=contact.pk, email=contact.email if contact.email != before[0] else "",
                            phone=contact.phone if contact.phone != before[1] else "")
            changed_identity.append((index, probe))
    _batch_duplicates(changed_identity, errors, exclude_pks=[c.pk for _, c in drafts])
    if errors:
        raise BulkInvalid(f"{len(errors)} of {len(items)} contacts are invalid; none were changed.",
                          extra={"errors": dict(sorted(errors.items(), key=lambda kv: int(kv[0])))})
    contacts = [c for _, c in drafts]
    moves_counts = bool(tags) or bool({"owner", "status", "primary_company"} & fields_touched)
    with _counts_follow([c.pk for c in contacts] if moves_counts else []):
        if fields_touched:
            _write_bulk_update(contacts, sorted(fields_touched), now)
            with_company = [c for c in contacts if c.primary_company_id]
            if "primary_company" in fields_touched and with_company:
                ContactCompany.objects.bulk_create(
                    [ContactCompany(contact=c, company_id=c.primary_company_id, created_at=now,
                                    contact_created_at=c.created_at) for c in with_company],
                    batch_size=1000, ignore_conflicts=True)
        if tags:
            _set_tags_bulk([(c, tags[i]) for i, c in drafts if i in tags], replace=True)
    return contacts


def _write_bulk_update(contacts: list[Contact], fields: list[str], now: datetime) -> None:
    """Write ``fields`` of ``contacts``: one ``UPDATE … WHERE id IN (…)`` per distinct set of
    values (a bulk status change is one statement), or Django's CASE-per-row ``bulk_update``
    when the values are mostly different (MariaDB is slow on a 1,000-branch CASE)."""
    attnames = [Contact._meta.get_field(f).attname for f in fields]
    groups: dict[tuple, list] = {}
    for contact in contacts:
        groups.setdefault(tuple(getattr(contact, a) for a in attnames), []).append(contact.pk)
    if len(groups) > 50:
        Contact.objects.bulk_update(contacts, [*fields, "updated_at"], batch_size=500)
        return
    for values, pks in groups.items():
        Contact.objects.filter(pk__in=pks).update(**dict(zip(attnames, values, strict=True)), updated_at=now)


def _touched_columns(data: dict) -> set[str]:
    columns = {k for k in CONTACT_PLAIN_FIELDS if k in data}
    if data.get("name") and not data.get("first_name"):
        columns |= {"first_name", "last_name"}
    if "phone" in data:
        columns |= {"phone", "phone_extension"}
    if "owner_id" in data:
        columns.add("owner")
    if "primary_company_id" in data or (data.get("company") or "").strip():
        columns.add("primary_company")
    return columns


# --- contacts and companies: links ----------------------------------------------------------------


@transaction.atomic
def contact_link_company(*, contact: Contact, company: Company, user: User | None,
                         role: str | None = None) -> tuple[ContactCompany, bool]:
    """Link ``contact`` to ``company`` with ``role`` there; ``(link, created)``. Linking again
    is a no-op (a given ``role`` replaces the old one). The first company linked becomes the
    primary company. The caller checks that ``user`` may see both."""
    with _counts_follow([contact.pk]):  # a new link counts for the company
        link, created = ContactCompany.objects.get_or_create(contact=contact, company=company,
                                                             defaults={"role": (role or "").strip()[:100]})
    if not created and role is not None and link.role != role.strip()[:100]:
        link.role = role.strip()[:100]
        link.save(update_fields=["role"])
    if contact.primary_company_id is None:
        Contact.objects.filter(pk=contact.pk, primary_company__isnull=True).update(
            primary_company=company, updated_at=timezone.now())
        contact.primary_company = company
    return link, created


@transaction.atomic
def contact_unlink_company(*, contact: Contact, company: Company, user: User | None) -> bool:
    """Remove the link (True if there was one). If it was the primary company, the next
    linked company (by name) becomes primary, or none."""
    with _counts_follow([contact.pk]):
        deleted, _ = ContactCompany.objects.filter(contact=contact, company=company).delete()
    if contact.primary_company_id == company.pk:
        nxt = (ContactCompany.objects.filter(contact=contact).order_by("company__name", "company_id")
               .values_list("company_id", flat=True).first())
        Contact.objects.filter(pk=contact.pk).update(primary_company_id=nxt, updated_at=timezone.now())
        contact.primary_company_id = nxt
    return bool(deleted)


# --- the timeline ---------------------------------------------------------------------------------


def check_kind(kind: str, field: str = "kind") -> None:
    """Raise ServiceError (``invalid_type``) unless ``kind`` is a timeline kind a person may add."""
    if kind not in Interaction.Kind.values or kind in SYSTEM_KINDS:
        allowed = [k for k in Interaction.Kind.values if k not in SYSTEM_KINDS]
        raise ServiceError(f'"{kind}" is not a valid type. Choose one of: {", ".join(allowed)}.',
                           code="invalid_type", field=field)


def contact_touch(*, contact_id, at: datetime, kind: str) -> None:
    """The one ``last_contacted`` rule: an entry of a :data:`CONTACTED_KINDS` kind moves it
    forward to ``at`` (one conditional UPDATE; entries may arrive in any order)."""
    if kind not in CONTACTED_KINDS or contact_id is None:
        return
    Contact.objects.filter(pk=contact_id).filter(Q(last_contacted__isnull=True) | Q(last_contacted__lt=at)).update(
        last_contacted=at, updated_at=timezone.now())


def contact_refresh_last_contacted(*, contact: Contact) -> None:
    """Recompute ``last_contacted`` from the whole timeline (after entries moved to it)."""
    latest = contact.interactions.filter(kind__in=CONTACTED_KINDS).aggregate(m=Max("occurred_at"))["m"]
    Contact.objects.filter(pk=contact.pk).update(last_contacted=latest)
    contact.last_contacted = latest


@transaction.atomic
def interaction_add(*, user: User | None, kind: str, contact: Contact | None = None,
                    company: Company | None = None, lead=None, subject: str = "", body: str = "",
                    direction: str = "", occurred_at: datetime | None = None,
                    metadata: dict | None = None, system: bool = False) -> Interaction:
    """Add one timeline entry linked to ``contact``, ``company`` and/or ``lead`` (at least one;
    seed 003's interaction) and keep the contact's ``last_contacted`` current. ``system`` lets
    the services write their own kinds. Lead entries that must also move the lead's
    ``last_interaction_at`` go through ``leads.services.interaction_add``.
    Raises ServiceError (``invalid_type``, ``target_required``)."""
    if not system:
        check_kind(kind)
    if contact is None and company is None and lead is None:
        raise ServiceError("Name a lead, a contact or a company.", code="target_required", field="contact_id")
    entry = Interaction.objects.create(
        kind=kind, contact=contact, company=company, lead=lead, user=_actor(user), subject=subject or "",
        body=body or "", direction=direction or "", occurred_at=occurred_at or timezone.now(),
        metadata=metadata or {},
    )
    if contact is not None:
        contact_touch(contact_id=contact.pk, at=entry.occurred_at, kind=kind)
    return entry


@transaction.atomic
def interaction_link(*, entry: Interaction, contact: Contact | None = None, company: Company | None = None) -> None:
    """Also show an existing entry on ``contact``'s and/or ``company``'s timeline."""
    changes = {}
    if contact is not None:
        changes["contact"] = entry.contact = contact
    if company is not None:
        changes["company"] = entry.company = company
    if changes:
        Interaction.objects.filter(pk=entry.pk).update(**changes)
    if contact is not None:
        contact_touch(contact_id=contact.pk, at=entry.occurred_at, kind=entry.kind)


# --- duplicates and merge -------------------------------------------------------------------------


def duplicate_groups(*, user: User | None):
    """Values shared by more than one live contact ``user`` may see: a queryset of
    ``(field, value, n)`` rows, ``field`` ``"email"`` or ``"phone"``, ordered by field and value.
    Grouped in SQL over the (email, deleted_at) / (phone, deleted_at) indexes, so the caller
    slices a page without reading the table into Python."""
    base = Contact.objects.visible_to(user).order_by()
    by_email = (base.exclude(email="").values("email").annotate(n=Count("pk")).filter(n__gt=1)
                .annotate(field=Value("email", output_field=CharField())).values_list("field", "email", "n"))
    by_phone = (base.exclude(phone="").values("phone").annotate(n=Count("pk")).filter(n__gt=1)
                .annotate(field=Value("phone", output_field=CharField())).values_list("field", "phone", "n"))
    return by_email, by_phone


def duplicate_page(*, user: User | None, limit: int, offset: int) -> tuple[list[dict], int]:
    """One page of likely duplicates: ``([{"field", "value", "contacts": [Contact, ...]}], total)``.
    Groups come from :func:`duplicate_groups` (emails first, then phones); the page's contacts
    in one more query. Queries: two counts, up to two group pages, one for the contacts."""
    by_email, by_phone = duplicate_groups(user=user)
    n_email = by_email.count()
    total = n_email + by_phone.count()
    rows: list[tuple[str, str, int]] = []
    if offset < n_email:
        rows += list(by_email.order_by("email")[offset: offset + limit])
    if len(rows) < limit:
        start = max(offset - n_email, 0)
        rows += list(by_phone.order_by("phone")[start: start + limit - len(rows)])
    emails = [v for f, v, _ in rows if f == "email"]
    phones = [v for f, v, _ in rows if f == "phone"]
    members = (Contact.objects.visible_to(user).filter(Q(email__in=emails) | Q(phone__in=phones))
               .select_related("primary_company", "owner").order_by("created_at", "id")) if rows else []
    groups = []
    for field, value, _ in rows:
        groups.append({"field": field, "value": value,
                       "contacts": [c for c in members if getattr(c, field) == value]})
    return groups, total


def _merge_choice(fields: dict | None) -> dict[str, str]:
    fields = fields or {}
    if not isinstance(fields, dict):
        raise ServiceError('fields must be an object like {"email": "other"}.', code="invalid_merge_fields",
                           field="fields")
    choice = {}
    for key, value in fields.items():
        name = "owner" if key == "owner_id" else "primary_company" if key == "primary_company_id" else key
        if name not in MERGE_FIELDS:
            raise ServiceError(f'"{key}" cannot be merged. Choose among: {", ".join(MERGE_FIELDS)}.',
                               code="invalid_merge_fields", field="fields")
        if value not in ("this", "other"):
            raise ServiceError(f'Choose "this" or "other" for {key}, not {value!r}.', code="invalid_merge_fields",
                               field="fields")
        choice[name] = value
    return choice


@transaction.atomic
def contact_merge(*, contact: Contact, other: Contact, user: User | None, fields: dict | None = None) -> Contact:
    """Merge ``other`` into ``contact`` and return the survivor (``contact``).

    ``fields`` chooses per field of :data:`MERGE_FIELDS` (``owner_id``/``primary_company_id``
    accepted) ``"this"`` or ``"other"``; a field not named keeps this contact's value, or takes
    the other's where this one is blank. Then, in one transaction: the other's timeline moves
    here, its company links are added (a role fills a blank one), its tags are added, leads
    converted to it point here, ``contact_merged`` is sent (tasks follow), ``last_contacted``
    is recomputed, a note records the merge, and the other is retired (``deleted_at`` and
    ``merged_into``). Raises ServiceError (``merge_self``, ``invalid_merge_fields``) or
    NotFound (``contact_not_found``) when either is deleted or already merged.
    """
    if contact.pk == other.pk:
        raise ServiceError("A contact cannot be merged with itself.", code="merge_self", field="other_id")
    choice = _merge_choice(fields)
    # Lock both in primary-key order so two opposite merges cannot deadlock.
    locked = {c.pk: c for c in Contact.objects.select_for_update().filter(pk__in=sorted([contact.pk, other.pk]))
              .order_by("pk")}
    contact, other = locked.get(contact.pk), locked.get(other.pk)
    if contact is None or other is None or contact.deleted_at or other.deleted_at:
        raise NotFound("Contact not found (deleted or already merged).", code="contact_not_found")
    with _counts_follow([contact.pk, other.pk]):  # the other leaves the counts, its tags join this one
        contact = _merge_into(contact, other, user=user, choice=choice)
    contact.refresh_from_db()
    return contact


def _merge_into(contact: Contact, other: Contact, *, user: User | None, choice: dict[str, str]) -> Contact:
    for name in MERGE_FIELDS:
        attname = Contact._meta.get_field(name).attname
        mine, theirs = getattr(contact, attname), getattr(other, attname)
        take_other = choice.get(name) == "other" or (name not in choice and mine in ("", None)
                                                      and theirs not in ("", None))
        if take_other:
            setattr(contact, attname, theirs)
            if name == "phone":
                contact.phone_extension = other.phone_extension
    if choice.get("owner") == "other" and other.owner_id is not None:
        check_owner(user, other.owner)
    moved = Interaction.objects.filter(contact=other).update(contact=contact)
    have = dict(ContactCompany.objects.filter(contact=contact).values_list("company_id", "role"))
    for link in ContactCompany.objects.filter(contact=other):
        if link.company_id not in have:
            ContactCompany.objects.create(contact=contact, company_id=link.company_id, role=link.role,
                                          created_at=link.created_at)
        elif not have[link.company_id] and link.role:
            ContactCompany.objects.filter(contact=contact, company_id=link.company_id).update(role=link.role)
    ContactCompany.objects.filter(contact=other).delete()
    contact.tags.add(*other.tags.all(), through_defaults={"contact_created_at": contact.created_at})
    # Leads converted to the other contact (leads.Lead.converted_contact, reverse accessor:
    # no import of the leads app).
    other.converted_leads.update(converted_contact=contact)
    contact.save()
    _ensure_primary_link(contact)
    contact_merged.send(sender=Contact, source=other, target=contact)
    contact_refresh_last_contacted(contact=contact)
    now = timezone.now()
    other.deleted_at, other.merged_into = now, contact
    other.save(update_fields=["deleted_at", "merged_into", "updated_at"])
    interaction_add(user=user, kind=Interaction.Kind.NOTE, contact=contact, subject="Contacts merged",
                    body=f"Merged {other.name} ({other.email or other.phone or other.pk}) into this contact; "
                         f"{moved} timeline entries moved.",
                    metadata={"event": "merged", "merged_id": str(other.pk), "fields": choice})
    return contact
