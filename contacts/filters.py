"""ContactFilterSet and CompanyFilterSet: the one set of filters behind each API list and page
(STYLE.md 1), so a page URL doubles as an API query.

Contacts: ``search`` (or ``q``), ``company_id`` (linked to that company, primary or not),
``status`` (comma-separated allowed), ``tag`` (names, comma-separated: any of them), ``owner``
(a user id, ``me`` or ``none``), ``ordering`` (``-created_at`` style; seed 003's
``sort_by``/``sort_order`` and ``sort=created_at_desc`` translated).
Companies: ``search``/``q`` (name or domain), ``industry``, ``tag``, ``owner``, ``ordering``.

The shared field helpers (sort parameters, comma lists, owner ``me``/``none``) live in ``crm.filters``.

Every ordering ends with ``id`` in the same direction as its first column, so each one is a
plain forward or backward scan of an index led by ``deleted_at`` (InnoDB appends the primary key
to every secondary index); a mixed direction would sort the whole table.
"""

import datetime as dt

import django_filters
from django import forms
from django.conf import settings
from django.db import connection
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from contacts.models import (
    Company,
    Contact,
    ContactCompanyCount,
    ContactDayCount,
    ContactStatusCount,
    ContactTagCount,
    Tag,
)
from crm.filters import CSVChoiceFilter, LeanFilterSet, OwnerFilter

# Public name -> the columns it sorts by (the index that serves it).
CONTACT_ORDERING = {
    "created_at": ("created_at",),  # contact_live_created_owner
    "updated_at": ("updated_at",),  # contact_live_updated
    "last_contacted": ("last_contacted",),  # contact_live_contacted
    "name": ("last_name", "first_name"),  # contact_live_name
}
COMPANY_ORDERING = {"name": ("name",), "created_at": ("created_at",)}


class CSVTextField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        return [part.strip().lower() for part in (value or "").split(",") if part.strip()]


@extend_schema_field(OpenApiTypes.STR)
class TagFilter(django_filters.Filter):
    """Records carrying any of the named tags (no duplicates). A contact list with one tag joins
    that tag's links (one row per contact: the pair is unique), which ContactFilterSet then
    reads in order from the (tag, contact_created_at, contact) index; several tags, or
    companies, are a semi-join."""

    field_class = CSVTextField

    def filter(self, qs, value):
        if not value:
            return qs
        if qs.model is Contact and len(value) == 1:
            return qs.filter(tag_links__tag__name=value[0])
        through = qs.model.tags.through
        column = "contact_id" if qs.model is Contact else "company_id"
        return qs.filter(pk__in=through.objects.filter(tag__name__in=value).values(column))


class _OrderedFilterSet(LeanFilterSet):
    """Contacts' and companies' lists: :class:`crm.filters.LeanFilterSet` with their search."""

    def filter_search(self, queryset, name, value):
        return queryset.search(value) if value.strip() else queryset


class ContactFilterSet(_OrderedFilterSet):
    search = django_filters.CharFilter(method="filter_search", label="Search")
    q = django_filters.CharFilter(method="filter_search", label="Search (alias)")
    company_id = django_filters.UUIDFilter(method="filter_company", label="Company")
    status = CSVChoiceFilter(choices=Contact.Status.choices)
    tag = TagFilter(label="Tag (names, comma-separated)")
    owner = OwnerFilter(label="Owner (user id, me or none)")
    owner_id = OwnerFilter(label="Owner (alias)")
    ordering = django_filters.OrderingFilter(fields=tuple((k, k) for k in CONTACT_ORDERING),
                                             method="filter_ordering")

    default_ordering = ("-created_at", "-id")
    ordering_columns = CONTACT_ORDERING

    class Meta:
        model = Contact
        fields = []

    def filter_company(self, queryset, name, value):
        # The primary company is always one of the linked ones (contacts.services keeps it so),
        # so the links alone answer: a join on the unique (contact, company) pairs, read in order
        # from the (company, contact_created_at, contact) index. An OR with primary_company_id
        # would scan the contacts.
        if not value:
            return queryset
        return queryset.filter(company_links__company_id=value)

    def _driving_link(self) -> str | None:
        """The link relation whose index can give this list's rows in creation order: the
        company's links with ``company_id``, else the tag's links with exactly one tag."""
        data = self.cleaned
        if data.get("company_id"):
            return "company_links"
        if len(data.get("tag") or []) == 1:
            return "tag_links"
        return None

    @property
    def qs(self):
        qs = super().qs
        first = qs.query.order_by[0] if qs.query.order_by else ""
        link = self._driving_link() if first.lstrip("-") == "created_at" else None
        if link is None:
            return qs
        # The link row carries its contact's created_at: order by the link's columns so the
        # database reads one company's or tag's index backwards and stops after a page,
        # instead of reading all its contacts and sorting them.
        sign = "-" if first.startswith("-") else ""
        return qs.order_by(f"{sign}{link}__contact_created_at", f"{sign}{link}__contact_id")

    # Filters the rollups can answer (one of status, tag, company at a time, with owner
    # filters); anything else needs a (capped) count of matching rows.
    ROLLUP_FILTERS = {"status", "owner", "owner_id", "ordering", "tag", "company_id"}

    def rollup_scope(self) -> tuple[str | None, object, list[int] | None, list[str] | None] | None:
        """``(tag name, company id, owner ids, statuses)`` whose rollup rows hold exactly this
        list's contacts (owner 0 = unassigned; None = any), or None when the rollups cannot
        answer it. The sales scope (own + unassigned, DESIGN.md decision 8) and an ``owner``
        filter (``me``, ``none`` or an id) intersect: a seller asking for another's gets []."""
        data = self.cleaned
        tags = data.get("tag") or []
        narrowing = [bool(tags), bool(data.get("company_id")), bool(data.get("status"))]
        if set(data) - self.ROLLUP_FILTERS or len(tags) > 1 or sum(narrowing) > 1:
            return None
        user = getattr(self.request, "user", None)
        if user is None or not user.is_authenticated:
            return None, None, [], None
        owners = None if user.sees_all else [user.pk, 0]
        owner = data.get("owner") or data.get("owner_id")
        if owner:
            wanted = {"me": user.pk, "none": 0}.get(owner, owner)
            owners = [wanted] if owners is None or wanted in owners else []
        return (tags[0] if tags else None), data.get("company_id"), owners, (data.get("status") or None)

    def count(self, queryset=None, *, offset: int = 0) -> tuple[int, bool]:
        """``(total, exact)`` of the filtered list without ``COUNT(*)`` over the table: one
        rollup sum — :class:`ContactTagCount` for one tag, :class:`ContactCompanyCount` for a
        company, else :class:`ContactStatusCount`. Anything else (search, several tags, a tag
        with a status…) counts at most ``CONTACT_COUNT_CAP + 1`` matching rows (``fast_count``).
        ``offset`` is accepted for symmetry with the lead list and not used."""
        queryset = queryset if queryset is not None else self.qs
        scope = self.rollup_scope()
        if scope is None:
            return queryset.fast_count()
        tag, company, owners, statuses = scope
        if owners == []:
            return 0, True
        if tag:
            table = ContactTagCount._meta.db_table
            where, params = [f"tag_id = (SELECT id FROM {Tag._meta.db_table} WHERE name = %s)"], [tag]
        elif company:
            table = ContactCompanyCount._meta.db_table
            where, params = ["company_id = %s"], [Company._meta.pk.get_db_prep_value(company, connection)]
        else:
            table, where, params = ContactStatusCount._meta.db_table, [], []
        sql_where, more = _owner_status_where(owners, statuses)
        # Raw SQL: a rollup sum on every list request, where the ORM's aggregate() machinery
        # costs more than the query.
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT SUM(n) FROM {table}" + _where([*where, *sql_where]), params + more)
            return int(cursor.fetchone()[0] or 0), True

    def seek(self, queryset, offset: int, limit: int):
        """``(queryset, offset)`` for reading ``limit`` rows from row ``offset`` on.

        For a deep page (from ``CONTACT_DAY_SEEK_OFFSET``, default 10,000) in creation order with
        at most status and owner filters, :class:`ContactDayCount` is walked newest (or oldest)
        day first — 240 days in the first query, twice as many in each next one — to find the
        UTC day that holds row ``offset`` and the rows before it. The queryset is then bounded
        to the days that hold the page (both ends: with one open end MariaDB prefers a ``ref``
        scan of the whole (status, deleted_at) or (deleted_at) prefix over the range), and the
        offset is the one within those days, smaller than a day's contacts: the database skips
        at most one day's index entries instead of ``offset`` of them. Otherwise both unchanged.
        """
        first = tuple(queryset.query.order_by)[:1]
        direction = {("-created_at",): "DESC", ("created_at",): "ASC"}.get(first)
        scope = self.rollup_scope()
        if (direction is None or scope is None or scope[0] or scope[1] or scope[2] == []
                or offset < settings.CONTACT_DAY_SEEK_OFFSET):
            return queryset, offset
        where, params = _owner_status_where(scope[2], scope[3])
        table = ContactDayCount._meta.db_table
        days: list[tuple[dt.date, int]] = []
        found, size, done = None, DAYS_PER_QUERY, False
        with connection.cursor() as cursor:
            while not done:
                bound = [f"day {'<' if direction == 'DESC' else '>'} %s"] if days else []
                cursor.execute(f"SELECT day, SUM(n) FROM {table}{_where([*where, *bound])} GROUP BY day "
                               f"ORDER BY day {direction} LIMIT {size}", params + ([days[-1][0]] if days else []))
                rows = [(_as_date(day), int(n)) for day, n in cursor.fetchall()]
                days += rows
                done = len(rows) < size
                if found is None:
                    found = _locate(days, offset)
                if found is not None and _locate(days, offset + limit - 1) is not None:
                    break  # the page's last row is in a day read already
                size *= 2
        if found is None:
            return queryset.none(), 0  # past the end
        index, before = found
        last = _locate(days, offset + limit - 1)
        first_day, last_day = days[index][0], days[last[0]][0] if last else None
        start = dt.datetime.combine(first_day, dt.time.min, tzinfo=dt.UTC)
        if direction == "DESC":  # the later days hold the `before` rows
            queryset = queryset.filter(created_at__lt=start + dt.timedelta(days=1))
            if last_day is not None:
                queryset = queryset.filter(created_at__gte=dt.datetime.combine(last_day, dt.time.min, tzinfo=dt.UTC))
        else:
            queryset = queryset.filter(created_at__gte=start)
            if last_day is not None:
                queryset = queryset.filter(created_at__lt=dt.datetime.combine(last_day, dt.time.min, tzinfo=dt.UTC)
                                           + dt.timedelta(days=1))
        return queryset, offset - before


def _as_date(value) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value  # SQLite returns text


def _locate(days: list[tuple[dt.date, int]], row: int) -> tuple[int, int] | None:
    """``(index of the day that holds row number ``row``, rows in the days before it)`` in
    ``days`` (``[(day, n)]`` in list order), or None when they end before that row."""
    before = 0
    for index, (_, n) in enumerate(days):
        if before + n > row:
            return index, before
        before += n
    return None


# Days of ContactDayCount the first query of ContactFilterSet.seek sums (two thirds of a year: an
# offset a third into two years of contacts needs one query; each next query reads twice as many).
DAYS_PER_QUERY = 240


def _where(conditions: list[str]) -> str:
    return (" WHERE " + " AND ".join(conditions)) if conditions else ""


def _owner_status_where(owners: list | None, statuses: list | None) -> tuple[list[str], list]:
    """SQL conditions and parameters restricting a rollup to ``owners`` and ``statuses`` (None: any)."""
    where, params = [], []
    if statuses:
        where.append(f"status IN ({', '.join(['%s'] * len(statuses))})")
        params += statuses
    if owners is not None:
        where.append(f"owner_id IN ({', '.join(['%s'] * len(owners))})")
        params += owners
    return where, params


class CompanyFilterSet(_OrderedFilterSet):
    search = django_filters.CharFilter(method="filter_search", label="Search")
    q = django_filters.CharFilter(method="filter_search", label="Search (alias)")
    industry = django_filters.CharFilter(field_name="industry", lookup_expr="iexact")
    tag = TagFilter(label="Tag (names, comma-separated)")
    owner = OwnerFilter(label="Owner (user id, me or none)")
    owner_id = OwnerFilter(label="Owner (alias)")
    ordering = django_filters.OrderingFilter(fields=tuple((k, k) for k in COMPANY_ORDERING),
                                             method="filter_ordering")

    default_ordering = ("name", "id")
    ordering_columns = COMPANY_ORDERING

    class Meta:
        model = Company
        fields = []
