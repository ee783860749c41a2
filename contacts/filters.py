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

import copy

import django_filters
from django import forms
from django.db import connection
from django.http import QueryDict

from contacts.models import Company, Contact, ContactCompany, ContactStatusCount, ContactTagCount, Tag
from crm.filters import CSVChoiceFilter, OwnerFilter, normalize_ordering

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


class TagFilter(django_filters.Filter):
    """Records carrying any of the named tags (one semi-join, no duplicates)."""

    field_class = CSVTextField

    def filter(self, qs, value):
        if not value:
            return qs
        through = qs.model.tags.through
        column = "contact_id" if qs.model is Contact else "company_id"
        return qs.filter(pk__in=through.objects.filter(tag__name__in=value).values(column))


class _OrderedFilterSet(django_filters.FilterSet):
    """Translates the seeds' sort parameters and orders by the chosen columns then ``id`` in the
    same direction (a stable order one index serves).

    Lean per request (the list runs at a thousand requests a second): the form class is built
    once per FilterSet class, filters are copied shallowly (they keep no state but their
    parent), and a request without any of the set's parameters builds no form at all.
    """

    default_ordering: tuple = ()
    ordering_columns: dict = {}

    @classmethod
    def _cached_form_class(cls):
        if "_form_class" not in cls.__dict__:
            cls._form_class = super(_OrderedFilterSet, cls(None, queryset=cls._meta.model.objects.none())
                                    ).get_form_class()
        return cls._form_class

    def get_form_class(self):
        return type(self)._cached_form_class()

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        if data is not None:
            data = data.copy()
            ordering = normalize_ordering(data)
            if ordering:
                data["ordering"] = ordering
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {name: copy.copy(filter_) for name, filter_ in self.base_filters.items()}
        for filter_ in self.filters.values():
            filter_.model = queryset.model
            filter_.parent = self
            if filter_.method:
                filter_.method = filter_.method  # rebind the FilterMethod to this copy

    @property
    def has_filters(self) -> bool:
        """Whether the request names any of this set's parameters (else no form is built)."""
        return any(name in self.data for name in self.filters)

    def is_valid(self) -> bool:
        return not self.has_filters or super().is_valid()

    @property
    def errors(self):
        return super().errors if self.has_filters else {}

    @property
    def cleaned(self) -> dict:
        """The valid parameters that carry a value (``{}`` without any)."""
        if not self.has_filters or not self.form.is_valid():
            return {}
        return {name: value for name, value in self.form.cleaned_data.items() if value not in (None, "", [], ())}

    @property
    def qs(self):
        if not self.has_filters:
            return self.queryset.order_by(*self.default_ordering)
        qs = super().qs
        ordering = self.form.cleaned_data.get("ordering") if self.form.is_valid() else None
        if not ordering:
            return qs.order_by(*self.default_ordering)
        columns = []
        for name in ordering:  # e.g. ["-name"]
            sign = "-" if name.startswith("-") else ""
            columns += [f"{sign}{column}" for column in self.ordering_columns[name.lstrip("-")]]
        return qs.order_by(*columns, f"{'-' if columns[0].startswith('-') else ''}id")

    def filter_search(self, queryset, name, value):
        return queryset.search(value) if value.strip() else queryset

    def filter_ordering(self, queryset, name, value):
        return queryset  # applied in qs, with the tie-breaker


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
        # so the links alone answer: one semi-join on the (company, contact) index. An OR with
        # primary_company_id would defeat the semi-join and scan the contacts.
        if not value:
            return queryset
        return queryset.filter(pk__in=ContactCompany.objects.filter(company_id=value).values("contact_id"))

    # Filters the rollups can answer; any other one needs a (capped) count of matching rows.
    ROLLUP_FILTERS = {"status", "owner", "owner_id", "ordering", "tag"}

    def count(self, queryset=None) -> tuple[int, bool]:
        """``(total, exact)`` of the filtered list without ``COUNT(*)`` over the table.

        Status and owner filters (and the sales scope: own + unassigned, DESIGN.md decision 8)
        are summed from :class:`ContactStatusCount`; one tag with owner filters from
        :class:`ContactTagCount`; anything else (search, company, several tags, a tag with a
        status) counts at most ``CONTACT_COUNT_CAP + 1`` matching rows (``fast_count``).
        """
        data = self.cleaned
        tags = data.get("tag") or []
        if set(data) - self.ROLLUP_FILTERS or len(tags) > 1 or (tags and data.get("status")):
            return (queryset if queryset is not None else self.qs).fast_count()
        user = getattr(self.request, "user", None)
        if user is None or not user.is_authenticated:
            return 0, True
        where: list[str] = []
        params: list = []
        if tags:
            table = ContactTagCount._meta.db_table
            where.append(f"tag_id = (SELECT id FROM {Tag._meta.db_table} WHERE name = %s)")
            params.append(tags[0])
        else:
            table = ContactStatusCount._meta.db_table
            if data.get("status"):
                where.append(f"status IN ({', '.join(['%s'] * len(data['status']))})")
                params += data["status"]
        if not user.sees_all:
            where.append("owner_id IN (%s, 0)")
            params.append(user.pk)
        owner = data.get("owner") or data.get("owner_id")
        if owner:
            where.append("owner_id = %s")
            params.append({"me": user.pk, "none": 0}.get(owner, owner))
        # Raw SQL: a rollup sum on every list request, where the ORM's aggregate() machinery
        # costs more than the query.
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT SUM(n) FROM {table}" + (" WHERE " + " AND ".join(where) if where else ""), params)
            return int(cursor.fetchone()[0] or 0), True


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
