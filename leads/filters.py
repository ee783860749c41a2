"""LeadFilterSet: the one set of filters behind the API list and the leads page (STYLE.md 1).

Parameters: ``search`` (or ``q``), ``status`` (comma-separated allowed), ``call_status``
(or seed 004's ``status_filter``), ``owner`` (a user id, ``me`` or ``none``), ``source``,
``agent_id``, ``created_after``/``created_before`` (date or date-time), and ``ordering``
(``-created_at`` style; seed 000's ``sort=created_at_desc`` and seed 003's
``sort_by``/``sort_order`` are translated).
"""

import copy
import datetime as dt

import django_filters
from django.db.models import Sum
from django.http import QueryDict

from crm.filters import (
    CSVChoiceFilter,
    DateBoundFilter,
    OwnerFilter,
    normalize_ordering,
)
from leads.models import Lead, LeadStageCount

ORDERING_FIELDS = {
    "created_at": "created_at",
    "updated_at": "updated_at",
    "last_interaction_at": "last_interaction_at",
    "score": "score",
    "value": "value",
    "name": "last_name",
    "last_name": "last_name",
}
DEFAULT_ORDERING = "-created_at"


class LeadFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", label="Search")
    q = django_filters.CharFilter(method="filter_search", label="Search (alias)")
    status = CSVChoiceFilter(choices=Lead.Status.choices)
    call_status = CSVChoiceFilter(choices=Lead.CallStatus.choices)
    status_filter = CSVChoiceFilter(field_name="call_status", choices=Lead.CallStatus.choices,
                                    label="Call status (seed 004)")
    owner = OwnerFilter(method="filter_owner", label="Owner")
    owner_id = OwnerFilter(method="filter_owner", label="Owner (alias)")
    source = django_filters.CharFilter(field_name="source", lookup_expr="iexact")
    agent_id = django_filters.UUIDFilter(field_name="agent_id")
    created_after = DateBoundFilter(method="filter_created",
                                          label="Created on or after (date or date-time)")
    created_before = DateBoundFilter(method="filter_created",
                                           label="Created on or before (date or date-time)")
    ordering = django_filters.OrderingFilter(fields=tuple((v, k) for k, v in ORDERING_FIELDS.items()))

    class Meta:
        model = Lead
        fields = []

    @classmethod
    def _cached_form_class(cls):
        # django-filter builds a new Form class per request; the fields carry no request state.
        if "_form_class" not in cls.__dict__:
            cls._form_class = super(LeadFilterSet, cls(None)).get_form_class()
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
            queryset = Lead.objects.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        # django-filter deep-copies every filter per request, a third of a list request's
        # Python time here; these filters keep no state but their parent, so a shallow copy does.
        self.filters = {name: copy.copy(filter_) for name, filter_ in self.base_filters.items()}
        for filter_ in self.filters.values():
            filter_.model = queryset.model
            filter_.parent = self
            if filter_.method:
                filter_.method = filter_.method  # rebind the FilterMethod to this copy

    @property
    def has_filters(self) -> bool:
        """Whether the request names any of this set's parameters (else the form is skipped)."""
        return any(name in self.data for name in self.filters) or "ordering" in self.data

    def filter_search(self, queryset, name, value):
        return queryset.search(value) if value.strip() else queryset

    def filter_owner(self, queryset, name, value):
        if value in ("", None):
            return queryset
        if value == "me":
            return queryset.filter(owner=self.request.user if self.request else None)
        if value == "none":
            return queryset.filter(owner__isnull=True)
        return queryset.filter(owner_id=value)

    def filter_created(self, queryset, name, value):
        if not value:
            return queryset
        moment, date_only = value
        if name == "created_after":
            return queryset.filter(created_at__gte=moment)
        if date_only:  # a bare end date includes that whole day
            return queryset.filter(created_at__lt=moment + dt.timedelta(days=1))
        return queryset.filter(created_at__lte=moment)

    # Filters the (owner, status) rollup can answer; any other filter needs a (capped) count.
    ROLLUP_FILTERS = {"status", "owner", "owner_id", "ordering"}

    def count(self, queryset=None) -> tuple[int, bool]:
        """``(total, exact)`` for the filtered list without ``COUNT(*)`` over the table.

        Status/owner filters (and the sales scope: own + unassigned) are summed from
        :class:`LeadStageCount`; anything else counts at most ``LEAD_COUNT_CAP + 1`` matching rows.
        """
        data = self.form.cleaned_data if self.has_filters and self.form.is_valid() else {}
        active = {name for name, value in data.items() if value not in (None, "", [], ())}
        if active - self.ROLLUP_FILTERS:
            return (queryset if queryset is not None else self.qs).fast_count()
        counts = LeadStageCount.objects.all()
        if data.get("status"):
            counts = counts.filter(status__in=data["status"])
        user = getattr(self.request, "user", None)
        if user is None or not user.is_authenticated:
            return 0, True
        if not user.sees_all:
            counts = counts.filter(owner_id__in=[user.pk, 0])
        owner = data.get("owner") or data.get("owner_id")
        if owner == "me":
            counts = counts.filter(owner_id=user.pk)
        elif owner == "none":
            counts = counts.filter(owner_id=0)
        elif owner:
            counts = counts.filter(owner_id=owner)
        return int(counts.aggregate(total=Sum("n"))["total"] or 0), True

    @property
    def qs(self):
        if not self.has_filters:
            # No parameter at all (the plain first page): no form to build and validate.
            return self.queryset.order_by("-created_at", "-id")
        qs = super().qs
        if not self.form.cleaned_data.get("ordering"):
            qs = qs.order_by("-created_at", "-id")
        else:
            # A stable tie-breaker so pages never repeat or skip rows.
            qs = qs.order_by(*qs.query.order_by, "-id")
        return qs
