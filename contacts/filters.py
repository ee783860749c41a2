"""ContactFilterSet and CompanyFilterSet: the one set of filters behind each API list and page
(STYLE.md 1), so a page URL doubles as an API query.

Contacts: ``search`` (or ``q``), ``company_id`` (linked to that company, primary or not),
``status`` (comma-separated allowed), ``tag`` (names, comma-separated: any of them), ``owner``
(a user id, ``me`` or ``none``), ``ordering`` (``-created_at`` style; seed 003's
``sort_by``/``sort_order`` and ``sort=created_at_desc`` translated).
Companies: ``search``/``q`` (name or domain), ``industry``, ``tag``, ``owner``, ``ordering``.

The small field helpers mirror ``leads.filters`` (contacts sits left of leads and may not
import it).
"""

import django_filters
from django import forms
from django.db.models import Q

from contacts.models import Company, Contact, ContactCompany

CONTACT_ORDERING = {
    "created_at": "created_at",
    "updated_at": "updated_at",
    "last_contacted": "last_contacted",
    "name": "last_name",
}
COMPANY_ORDERING = {"name": "name", "created_at": "created_at"}


def normalize_ordering(params) -> str:
    """The ``ordering`` value from any seed's sort parameters; '' when none was given."""
    if params.get("ordering"):
        return params["ordering"]
    sort = params.get("sort", "")
    if sort:
        for suffix, sign in (("_desc", "-"), ("_asc", "")):
            if sort.endswith(suffix):
                return sign + sort[: -len(suffix)]
        return sort
    if params.get("sort_by"):
        return ("-" if params.get("sort_order", "asc").lower() == "desc" else "") + params["sort_by"]
    return ""


class CSVField(forms.MultipleChoiceField):
    """``?status=new,active`` as well as repeated ``?status=new&status=active``."""

    def to_python(self, value):
        values = super().to_python(value)
        return [part.strip() for item in values for part in str(item).split(",") if part.strip()]


class CSVChoiceFilter(django_filters.MultipleChoiceFilter):
    field_class = CSVField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)


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


class OwnerField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if value in ("", None, "me", "none"):
            return value
        try:
            user_id = int(value)
        except (TypeError, ValueError):
            user_id = 0
        if not 0 < user_id < 2**63:
            raise forms.ValidationError('Give a user id, "me" or "none".')
        return user_id


class OwnerFilter(django_filters.Filter):
    field_class = OwnerField

    def filter(self, qs, value):
        if value in ("", None):
            return qs
        if value == "me":
            request = self.parent.request
            return qs.filter(owner=request.user if request else None)
        if value == "none":
            return qs.filter(owner__isnull=True)
        return qs.filter(owner_id=value)


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
