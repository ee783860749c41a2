"""CallFilterSet and AgentFilterSet: the filters behind the API lists and the calling pages
(STYLE.md 1), with seed 004's parameter names.

Calls: ``agent_id``, ``outcome`` (comma-separated allowed), ``status``, ``lead_id``,
``start_date``/``end_date`` (``YYYY-MM-DD`` or an ISO date-time; a bare end date includes its
whole day, UTC), ``search`` (or ``q``: lead first/last name and phone prefixes, agent name) and
``ordering`` (``created_at``, ``duration_seconds``; default newest first).
"""

import datetime as dt

import django_filters
from django.db.models import Q

from calling.models import Agent, Call
from crm.filters import CSVChoiceFilter, DateBoundFilter
from leads.models import search_branches

CALL_ORDERING = {"created_at": "created_at", "duration_seconds": "duration_seconds", "ended_at": "ended_at"}


class CallFilterSet(django_filters.FilterSet):
    agent_id = django_filters.UUIDFilter(field_name="agent_id")
    lead_id = django_filters.UUIDFilter(field_name="lead_id")
    outcome = CSVChoiceFilter(choices=Call.Outcome.choices)
    status = CSVChoiceFilter(choices=Call.Status.choices)
    start_date = DateBoundFilter(method="filter_dates", label="From (date or date-time)")
    end_date = DateBoundFilter(method="filter_dates", label="To (date or date-time, inclusive)")
    search = django_filters.CharFilter(method="filter_search", label="Search lead name, phone or agent name")
    q = django_filters.CharFilter(method="filter_search", label="Search (alias)")
    ordering = django_filters.OrderingFilter(fields=tuple((v, k) for k, v in CALL_ORDERING.items()))

    class Meta:
        model = Call
        fields = []

    def filter_dates(self, queryset, name, value):
        if not value:
            return queryset
        moment, date_only = value
        if name == "start_date":
            return queryset.filter(created_at__gte=moment)
        if date_only:  # a bare end date includes that whole day
            return queryset.filter(created_at__lt=moment + dt.timedelta(days=1))
        return queryset.filter(created_at__lte=moment)

    def filter_search(self, queryset, name, value):
        """Every word must match the lead's first/last name or phone (prefix, as the lead
        search) or the agent's name (substring)."""
        for word in value.split()[:5]:
            match = Q(agent__name__icontains=word)
            for branch in search_branches(word):
                # Only the lead's own columns: names (the last name through name_key) and phones.
                terms = dict(branch.children)
                if any(key.split("__")[0] in ("first_name", "name_key", "phone") for key in terms):
                    match |= Q(**{f"lead__{key}": term for key, term in terms.items()})
            queryset = queryset.filter(match)
        return queryset

    @property
    def ordered_qs(self):
        qs = self.qs
        return qs if qs.query.order_by else qs.order_by("-created_at", "-id")


class AgentFilterSet(django_filters.FilterSet):
    active = django_filters.BooleanFilter()
    provider = django_filters.CharFilter(field_name="provider", lookup_expr="iexact")
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Search by name")
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Search (alias)")

    class Meta:
        model = Agent
        fields = []
