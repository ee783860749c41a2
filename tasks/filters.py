"""Filters shared by the API lists and the pages (STYLE.md 1).

``TaskFilterSet``: ``completed`` (true/false), ``priority`` (comma-separated allowed),
``assignee`` (a user id, ``me`` or ``none``; ``assignee_id`` alias), ``related_to_type`` with
``related_to_id``, ``due_before``/``due_after`` (date or date-time; a bare ``due_before`` day
includes that whole day), ``overdue=true`` (open and past due), ``search``/``q`` (title), and
``ordering``: ``due_date`` (no due date last), ``priority`` (rank: ``-priority`` is high, medium,
low), ``created_at``, ``title`` — seed-style ``sort=due_date_desc`` and ``sort_by``/``sort_order``
are translated.

``ProcessFilterSet``: ``status``, ``channel``, ``lead_id``, ``due=true`` (active and past its
next follow-up), ``search``, ``ordering`` (``next_followup_datetime``, ``created_at``, ``name``).
"""

import datetime as dt

import django_filters
from django import forms
from django.db.models import F, Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from crm.filters import CSVChoiceFilter, DateBoundFilter, OwnerFilter, normalize_ordering
from tasks.models import Process, Task


class BooleanWordField(forms.NullBooleanField):
    """``true``/``false`` (also 1/0, yes/no); anything else is a 400, not silently ignored."""

    widget = forms.TextInput

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise forms.ValidationError(f'Use "true" or "false", not {value!r}.')

    def validate(self, value):
        return None


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanWordFilter(django_filters.Filter):
    field_class = BooleanWordField


class OrderedFilterSet(django_filters.FilterSet):
    """Seed sort parameters become ``ordering``; a stable tie-breaker keeps pages from
    repeating rows; without ``ordering`` the model set's default order applies."""

    default_order: tuple = ()

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        if data is not None:
            data = data.copy()
            ordering = normalize_ordering(data)
            if ordering:
                data["ordering"] = ordering
        super().__init__(data, queryset, request=request, prefix=prefix)

    @property
    def qs(self):
        qs = super().qs
        if not self.form.cleaned_data.get("ordering"):
            return qs.order_by(*self.default_order)
        return qs.order_by(*qs.query.order_by, "-id")


class NullsLastOrderingFilter(django_filters.OrderingFilter):
    """Orders by ``due_at`` with tasks without a due date last, whichever direction."""

    def get_ordering_value(self, param):
        value = super().get_ordering_value(param)
        name = value.lstrip("-")
        if name in ("due_at", "next_followup_at"):
            return F(name).desc(nulls_last=True) if value.startswith("-") else F(name).asc(nulls_last=True)
        return value


class TaskFilterSet(OrderedFilterSet):
    search = django_filters.CharFilter(field_name="title", lookup_expr="icontains", label="Search in titles")
    q = django_filters.CharFilter(field_name="title", lookup_expr="icontains", label="Search (alias)")
    completed = BooleanWordFilter(field_name="completed")
    priority = CSVChoiceFilter(choices=Task.Priority.choices)
    assignee = OwnerFilter(method="filter_assignee", label="Assignee: a user id, me or none")
    assignee_id = OwnerFilter(method="filter_assignee", label="Assignee (alias)")
    related_to_type = django_filters.ChoiceFilter(choices=Task.RelatedType.choices, method="filter_related_type")
    related_to_id = django_filters.UUIDFilter(method="filter_related_id")
    due_after = DateBoundFilter(method="filter_due", label="Due on or after (date or date-time)")
    due_before = DateBoundFilter(method="filter_due", label="Due on or before (date or date-time)")
    overdue = BooleanWordFilter(method="filter_overdue", label="Open and past due (true) or not (false)")
    ordering = NullsLastOrderingFilter(
        fields=(("due_at", "due_date"), ("priority_rank", "priority"), ("created_at", "created_at"),
                ("title", "title")),
    )

    default_order = (F("due_at").asc(nulls_last=True), "-priority_rank", "-created_at", "-id")

    class Meta:
        model = Task
        fields = []

    def filter_assignee(self, queryset, name, value):
        if value in ("", None):
            return queryset
        if value == "me":
            return queryset.filter(assignee=self.request.user if self.request else None)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee_id=value)

    def filter_related_type(self, queryset, name, value):
        field = {"lead": "lead", "contact": "contact", "campaign": "campaign"}.get(value)
        if field:
            return queryset.filter(**{f"{field}__isnull": False})
        if value == Task.RelatedType.GENERAL:
            return queryset.filter(lead__isnull=True, contact__isnull=True, campaign__isnull=True)
        return queryset

    def filter_related_id(self, queryset, name, value):
        kind = self.form.cleaned_data.get("related_to_type")
        if kind in ("lead", "contact", "campaign"):
            return queryset.filter(**{f"{kind}_id": value})
        return queryset.filter(Q(lead_id=value) | Q(contact_id=value) | Q(campaign_id=value))

    def filter_due(self, queryset, name, value):
        if not value:
            return queryset
        moment, date_only = value
        if name == "due_after":
            return queryset.filter(due_at__gte=moment)
        if date_only:
            return queryset.filter(due_at__lt=moment + dt.timedelta(days=1))
        return queryset.filter(due_at__lte=moment)

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        now = timezone.now()
        if value:
            return queryset.filter(completed=False, overdue_at__lte=now)
        return queryset.exclude(Q(completed=False, overdue_at__lte=now))


class ProcessFilterSet(OrderedFilterSet):
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Search in names")
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Search (alias)")
    status = CSVChoiceFilter(choices=Process.Status.choices)
    channel = CSVChoiceFilter(choices=Process.Channel.choices)
    lead_id = django_filters.UUIDFilter(field_name="lead_id")
    due = BooleanWordFilter(method="filter_due", label="Active and past its next follow-up")
    ordering = NullsLastOrderingFilter(
        fields=(("next_followup_at", "next_followup_datetime"), ("created_at", "created_at"), ("name", "name")),
    )

    default_order = ("-created_at", "-id")

    class Meta:
        model = Process
        fields = []

    def filter_due(self, queryset, name, value):
        if value is None:
            return queryset
        due = Process.objects.due().values("pk")
        return queryset.filter(pk__in=due) if value else queryset.exclude(pk__in=due)
