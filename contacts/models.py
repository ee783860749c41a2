"""Contacts and companies, linked many-to-many with the contact's role at each (seed 003), plus
the tags both carry. Seed 001's Contact (``name``, ``role``, ``company``, ``last_contacted``) is
served from the same rows.
"""

from typing import NamedTuple

import phonenumbers
from django.conf import settings
from django.db import connection, models
from django.db.models import Q
from django.utils import timezone

from crm.ids import uuid7
from crm.phones import InvalidPhoneNumber, normalize_phone


class Tag(models.Model):
    """A label on contacts and companies; ``name`` is stored lower-cased and unique."""

    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def _visible(qs, user):
    """Decision 8 for contacts and companies: live rows; all for managers/admins, own and
    unassigned for sales users, none for anonymous callers."""
    qs = qs.filter(deleted_at__isnull=True)
    if user is None or not user.is_authenticated:
        return qs.none()
    if user.sees_all:
        return qs
    return qs.filter(Q(owner=user) | Q(owner__isnull=True))


class CompanyQuerySet(models.QuerySet):
    """Read fragments only (STYLE.md 3)."""

    def live(self):
        return self.filter(deleted_at__isnull=True)

    def visible_to(self, user):
        """Live companies ``user`` may read and change (DESIGN.md decision 8)."""
        return _visible(self, user)

    def with_list_related(self):
        """Owner in the same query, tags in one more."""
        return self.select_related("owner").prefetch_related("tags")

    def search(self, text: str):
        """Every word must prefix-match the name or the domain (index range scans)."""
        qs = self
        for word in text.split()[:5]:
            qs = qs.filter(Q(name__istartswith=word) | Q(domain__istartswith=word.lower()))
        return qs


class Company(models.Model):
    """An account. ``domain`` is the bare host (``acme.com``); ``live_domain`` is that domain
    while the company is live and NULL once deleted, so its unique index enforces "one live
    company per domain" on MySQL, which has no partial unique indexes. ``phone`` is E.164."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, blank=True, default="")
    live_domain = models.CharField(max_length=253, null=True, blank=True, unique=True, editable=False)
    website = models.URLField(max_length=300, blank=True, default="")
    industry = models.CharField(max_length=100, blank=True, default="")
    size = models.CharField(max_length=20, blank=True, default="", help_text="Head-count band, e.g. 11-50")
    phone = models.CharField(max_length=20, blank=True, default="")
    address = models.TextField(blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="companies"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="companies")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = CompanyQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "companies"
        indexes = [
            models.Index(fields=["deleted_at", "name"], name="company_live_name"),
            models.Index(fields=["deleted_at", "created_at"], name="company_live_created"),
            models.Index(fields=["owner", "deleted_at"], name="company_owner"),
            models.Index(fields=["domain"], name="company_domain"),
            models.Index(fields=["industry", "deleted_at", "name"], name="company_industry"),
        ]

    def __str__(self) -> str:
        return self.name

    def sync_live_domain(self) -> None:
        domain = (self.domain or "").strip().lower()
        self.live_domain = domain if domain and self.deleted_at is None else None

    def save(self, *args, **kwargs):
        self.sync_live_domain()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "live_domain", "updated_at"}
        super().save(*args, **kwargs)


class ContactQuerySet(models.QuerySet):
    """Read fragments only (STYLE.md 3): scoping, prefetching, search, a capped count."""

    def live(self):
        return self.filter(deleted_at__isnull=True)

    def visible_to(self, user):
        """Live contacts ``user`` may read and change (DESIGN.md decision 8)."""
        return _visible(self, user)

    def with_list_related(self):
        """What a list row shows, in a constant number of queries whatever the number of
        companies and tags: owner and primary company joined, then one query each for the
        company links (with their companies) and the tags."""
        return self.select_related("owner", "primary_company").prefetch_related(
            models.Prefetch("company_links", queryset=ContactCompany.objects.select_related("company")
                            .order_by("company__name", "company_id")),
            "tags",
        )

    def search(self, text: str):
        """Prefix search: every word (at most five) must prefix-match the first name, last name,
        email, a phone (digits, with or without the country code) or the primary company's name.

        As the lead search does: a rare word (at most :func:`search_id_cap` matching contacts)
        is resolved to ids — one statement per word, each branch an index range scan
        (:func:`search_ids`) — which stays fast at any table size; a word more common than that
        is applied as an OR filter, which the ordered index scan satisfies quickly because
        matches are dense. ``search_capped`` on the returned queryset's query tells whether every
        word was that common (the total is then "more than search_id_cap()", see
        :meth:`fast_count`).
        """
        ids: set | None = None
        common: list[Q] = []
        for word in text.split()[:5]:
            branches = search_branches(word)
            found = search_ids(branches)
            if found is None:
                match = Q()
                for branch in branches:
                    match |= branch.q
                common.append(match)
            else:
                ids = found if ids is None else ids & found
        qs = self
        if ids is not None:
            qs = qs.filter(pk__in=ids)
        for match in common:
            qs = qs.filter(match)
        qs.query.search_capped = ids is None and bool(common)
        return qs

    def fast_count(self) -> tuple[int, bool]:
        """``(count, exact)``: counts at most ``settings.CONTACT_COUNT_CAP + 1`` rows. After a
        search whose every word was common, counting would scan the table: the answer is then
        "more than :func:`search_id_cap`" without a query."""
        if getattr(self.query, "search_capped", False):
            return search_id_cap(), False
        cap = settings.CONTACT_COUNT_CAP
        capped = self.order_by().values("pk")[: cap + 1].count()
        return (capped, True) if capped <= cap else (cap, False)


def search_id_cap() -> int:
    """A search word with more matching contacts than this (setting ``CONTACT_SEARCH_ID_CAP``,
    default 1,000) is filtered in the ordered scan instead of by ids."""
    return settings.CONTACT_SEARCH_ID_CAP


class SearchBranch(NamedTuple):
    """One way a search word may match: ``column`` (of the contacts table, or ``company`` for
    the primary company's name) prefix-matching ``prefix``; ``q`` is the same as an ORM filter."""

    column: str
    prefix: str
    q: Q


def search_branches(word: str) -> list[SearchBranch]:
    """The index-backed prefix conditions one search word may match (any of them): first name,
    last name, email, phone prefixes (E.164 digits as typed, after the default country code,
    and the word parsed as a national number), and the live primary company's name."""
    branches = [SearchBranch(column, word, Q(**{f"{column}__istartswith": word}))
                for column in ("first_name", "last_name", "email")]
    digits = "".join(ch for ch in word if ch.isdigit())
    if len(digits) >= 3 and len(digits) >= len(word.strip("+()-. ")) - 2:
        prefixes = {f"+{digits}"}
        if not word.startswith(("+", "00")):  # national digits after the default country code
            code = phonenumbers.country_code_for_region(settings.DEFAULT_PHONE_REGION or "US")
            if code:
                prefixes.add(f"+{code}{digits.lstrip('0')}")
        try:  # a national number: its E.164 form in the default region
            prefixes.add(normalize_phone(word).e164)
        except InvalidPhoneNumber:
            pass
        branches += [SearchBranch("phone", prefix, Q(phone__startswith=prefix)) for prefix in sorted(prefixes)]
    branches.append(SearchBranch("company", word, Q(primary_company__name__istartswith=word,
                                                     primary_company__deleted_at__isnull=True)))
    return branches


def search_ids(branches: list[SearchBranch]) -> set | None:
    """The ids of the contacts (live or not; the caller scopes) any of ``branches`` matches, or
    None when there are more than :func:`search_id_cap`. One statement: a UNION of one
    ``LIMIT cap + 1`` range scan per branch on that column's own index (the company branch
    from the company-name index through the primary-company index). Raw SQL because the list
    runs it for every search word, and the ORM would build a query per branch."""
    cap = search_id_cap()
    qn = connection.ops.quote_name
    like = connection.operators["istartswith"]  # "LIKE %s" (MySQL), with ESCAPE on SQLite
    contacts, companies = qn(Contact._meta.db_table), qn(Company._meta.db_table)
    parts, params = [], []
    for number, branch in enumerate(branches):
        if branch.column == "company":
            inner = (f"SELECT c.id FROM {contacts} c INNER JOIN {companies} co ON co.id = c.primary_company_id "
                     f"WHERE co.deleted_at IS NULL AND co.name {like}")
        else:
            inner = f"SELECT id FROM {contacts} WHERE {qn(branch.column)} {like}"
        parts.append(f"SELECT id FROM ({inner} LIMIT {cap + 1}) b{number}")
        params.append(connection.ops.prep_for_like_query(branch.prefix) + "%")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM ({' UNION '.join(parts)}) u LIMIT {cap + 1}", params)
        found = {row[0] for row in cursor.fetchall()}
    return None if len(found) > cap else found


class Contact(models.Model):
    """A person the team works with. ``phone`` is E.164 with ``phone_extension`` apart;
    ``last_contacted`` follows the newest timeline entry; ``primary_company`` is one of
    ``companies`` (the many-to-many through :class:`ContactCompany`, which holds the role).
    Email is not unique: a duplicate warns and may be created anyway (issue 3), so it is an index.
    ``merged_into`` points at the survivor once this contact has been merged away."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        ACTIVE = "active", "Active"
        QUALIFIED = "qualified", "Qualified"
        CUSTOMER = "customer", "Customer"
        INACTIVE = "inactive", "Inactive"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150, blank=True, default="")
    email = models.EmailField(blank=True, default="")
    phone = models.CharField(max_length=20, blank=True, default="")
    phone_extension = models.CharField(max_length=10, blank=True, default="")
    job_title = models.CharField(max_length=150, blank=True, default="")
    role = models.CharField(max_length=100, blank=True, default="", help_text="e.g. decision maker")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    notes = models.TextField(blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    primary_company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="primary_contacts"
    )
    companies = models.ManyToManyField(Company, through="ContactCompany", blank=True, related_name="contacts")
    tags = models.ManyToManyField(Tag, through="ContactTag", blank=True, related_name="contacts")
    last_contacted = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # id then owner after created_at: the default order scans this index alone, and a sales
            # user's scope (own + unassigned) filters from it without row lookups (deep pages).
            models.Index(fields=["deleted_at", "created_at", "id", "owner"], name="contact_live_created_owner"),
            models.Index(fields=["deleted_at", "last_name", "first_name"], name="contact_live_name"),
            models.Index(fields=["deleted_at", "last_contacted"], name="contact_live_contacted"),
            models.Index(fields=["status", "deleted_at", "created_at"], name="contact_status_created"),
            models.Index(fields=["owner", "deleted_at", "created_at"], name="contact_owner_created"),
            models.Index(fields=["primary_company", "deleted_at"], name="contact_primary_company"),
            # Led by the value, then deleted_at: duplicate lookups and the duplicates page's
            # GROUP BY read these indexes alone.
            models.Index(fields=["email", "deleted_at"], name="contact_email_live"),
            models.Index(fields=["phone", "deleted_at"], name="contact_phone_live"),
            models.Index(fields=["deleted_at", "updated_at"], name="contact_live_updated"),
            models.Index(fields=["first_name"], name="contact_first_name"),
            models.Index(fields=["last_name"], name="contact_last_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def _contact_created_at(link) -> None:
    """Copy the contact's ``created_at`` onto a link row being saved (bulk writers and the
    related managers' ``add``/``set`` must pass it themselves: ``through_defaults``)."""
    if link.contact_created_at is None and link.contact_id is not None:
        link.contact_created_at = link.contact.created_at


class ContactCompany(models.Model):
    """A contact's link to a company, with their ``role`` there. One row per pair.

    ``contact_created_at`` is the contact's own ``created_at`` (which never changes), copied
    here so a company's contacts are listed newest first straight from the (company,
    contact_created_at, contact) index instead of reading and sorting all of them."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="company_links")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="contact_links")
    role = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    contact_created_at = models.DateTimeField(editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "company"], name="contact_company_unique"),
        ]
        indexes = [models.Index(fields=["company", "contact_created_at", "contact"], name="company_contact_newest")]

    def __str__(self) -> str:
        return f"{self.contact} @ {self.company}"

    def save(self, *args, **kwargs):
        _contact_created_at(self)
        super().save(*args, **kwargs)


class ContactTag(models.Model):
    """A tag on a contact (the ``Contact.tags`` link table). ``contact_created_at`` is the
    contact's ``created_at``, copied as on :class:`ContactCompany`, so a tag's contacts are
    listed newest first from the (tag, contact_created_at, contact) index: a tag may be on a
    quarter of a million contacts."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="contact_links")
    contact_created_at = models.DateTimeField(editable=False)

    class Meta:
        db_table = "contacts_contact_tags"  # the table the automatic many-to-many table had
        unique_together = [("contact", "tag")]
        indexes = [models.Index(fields=["tag", "contact_created_at", "contact"], name="contact_tag_newest")]

    def __str__(self) -> str:
        return f"{self.contact_id} #{self.tag_id}"

    def save(self, *args, **kwargs):
        _contact_created_at(self)
        super().save(*args, **kwargs)


class ContactStatusCount(models.Model):
    """Live contacts per (owner, status), kept exact by ``contacts.services`` on every write.

    The contact list reads its total here instead of ``COUNT(*)`` over a million rows (as the
    lead list reads ``leads.LeadStageCount``). ``owner_id`` 0 means unassigned (a NULL would
    defeat the unique key on MySQL). ``manage.py rebuild_contact_counts`` recomputes it.
    """

    owner_id = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Contact.Status.choices)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner_id", "status"], name="contactstatuscount_owner_status")]

    def __str__(self) -> str:
        return f"owner {self.owner_id or '-'} / {self.status}: {self.n}"


class ContactTagCount(models.Model):
    """Live contacts per (tag, owner), kept exact by ``contacts.services``: the total of a
    ``?tag=`` list (one tag) without counting through the tag links. ``owner_id`` 0 = unassigned."""

    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")
    owner_id = models.BigIntegerField()
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tag", "owner_id"], name="contacttagcount_tag_owner")]

    def __str__(self) -> str:
        return f"{self.tag_id} / owner {self.owner_id or '-'}: {self.n}"


class ContactDayCount(models.Model):
    """Live contacts per (owner, status, UTC day of ``created_at``), kept exact beside
    :class:`ContactStatusCount` by the same writes.

    For deep pages of the list in its default order: summing these rows newest day first gives
    the day that holds row ``offset`` and how many rows come before it, so the page is read
    from that day on with an OFFSET smaller than one day's contacts (``OFFSET 100000`` walks a
    hundred thousand index entries). The same idea as ``leads.LeadStageDayCount``."""

    owner_id = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Contact.Status.choices)
    day = models.DateField()
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner_id", "status", "day"],
                                               name="contactdaycount_owner_status_day")]
        # The page lookup (per-day sums for some owners and statuses, newest or oldest day
        # first, a chunk of days at a time) reads this index alone, in order, without sorting.
        indexes = [models.Index(fields=["day", "owner_id", "status", "n"], name="contactdaycount_cover")]

    def __str__(self) -> str:
        return f"owner {self.owner_id or '-'} / {self.status} / {self.day}: {self.n}"


class ContactCompanyCount(models.Model):
    """Live contacts linked to a company, per owner (0 = unassigned), kept exact by
    ``contacts.services``: the total of a ``?company_id=`` list without counting its links."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    owner_id = models.BigIntegerField()
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "owner_id"],
                                               name="contactcompanycount_company_owner")]

    def __str__(self) -> str:
        return f"{self.company_id} / owner {self.owner_id or '-'}: {self.n}"
