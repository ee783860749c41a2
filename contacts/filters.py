"""ContactFilterSet and CompanyFilterSet: the one set of filters behind each API list and page
(STYLE.md 1), so a page URL doubles as an API query.

Contacts: ``search`` (or ``q``), ``company_id`` (linked to that company, primary or not),
``status`` (comma-separated allowed), ``tag`` (names, comma-separated: any of them), ``owner``
(a user id, ``me`` or ``none``), ``ordering`` (``-created_at`` style; seed 003's
``sort_by``/``sort_order`` and ``sort=created_at_desc`` translated).
Companies: ``search``/``q`` (name or domain), ``industry``, ``tag``, ``owner``, ``ordering``.

The shared field helpers (sort parameters, comma lists, owner ``me``/``none``) live in ``crm.filters``.
"""

import django_filters
from django import forms
from django.db.models import Q

from contacts.models import Company, Contact, ContactCompany
from crm.filters import CSVChoiceFilter, OwnerFilter, normalize_ordering

CONTACT_ORDERING = {
    "created_at": "created_at",
    "updated_at": "updated_at",
    "last_contacted": "last_contacted",
    "name": "last_name",
}
COMPANY_ORDERING = {"name": "name", "created_at": "created_at"}


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
    """Translates the seeds' sort parameters and adds a stable ``-id`` tie-breaker."""

    default_ordering: tuple = ()

    def __init__(self, data=None, *args, **kwargs):
        if data is not None:
            data = data.copy()
            ordering = normalize_ordering(data)
            if ordering:
                data["ordering"] = ordering
        super().__init__(data, *args, **kwargs)

    @property
    def qs(self):
        qs = super().qs
        if self.is_bound and self.form.is_valid() and self.form.cleaned_data.get("ordering"):
            return qs.order_by(*qs.query.order_by, "-id")
        return qs.order_by(*self.default_ordering)

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
    ordering = django_filters.OrderingFilter(fields=tuple((v, k) for k, v in CONTACT_ORDERING.items()))

    default_ordering = ("-created_at", "-id")

    class Meta:
        model = Contact
        fields = []

    def filter_company(self, queryset, name, value):
        if not value:
            return queryset
        linked = ContactCompany.objects.filter(company_id=value).values("contact_id")
        return queryset.filter(Q(pk__in=linked) | Q(primary_company_id=value))


class CompanyFilterSet(_OrderedFilterSet):
    search = django_filters.CharFilter(method="filter_search", label="Search")
    q = django_filters.CharFilter(method="filter_search", label="Search (alias)")
    industry = django_filters.CharFilter(field_name="industry", lookup_expr="iexact")
    tag = TagFilter(label="Tag (names, comma-separated)")
    owner = OwnerFilter(label="Owner (user id, me or none)")
    owner_id = OwnerFilter(label="Owner (alias)")
    ordering = django_filters.OrderingFilter(fields=tuple((v, k) for k, v in COMPANY_ORDERING.items()))

    default_ordering = ("name", "id")

    class Meta:
        model = Company
        fields = []
