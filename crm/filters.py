"""Filter pieces every app's FilterSets share (DESIGN.md decision 6): the seeds' sort parameters,
comma-separated choices, owner/assignee as ``me``/``none``/an id, and date-or-date-time bounds.
"""

import datetime as dt

import django_filters
from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime


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


class CSVChoiceField(forms.MultipleChoiceField):
    """Accepts ``?status=new,contacted`` as well as repeated ``?status=new&status=contacted``."""

    def to_python(self, value):
        values = super().to_python(value)
        return [part.strip() for item in values for part in str(item).split(",") if part.strip()]


class CSVChoiceFilter(django_filters.MultipleChoiceFilter):
    field_class = CSVChoiceField

    def __init__(self, *args, **kwargs):
        # A single-valued column needs no DISTINCT (which costs a temporary table in MySQL).
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)


class OwnerField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if value in ("", None, "me", "none"):
            return value
        try:
            user_id = int(value)
        except (TypeError, ValueError):
            user_id = 0
        if not 0 < user_id < 2**63:  # a number past the id column's range is as wrong as a word
            raise forms.ValidationError('Give a user id, "me" or "none".')
        return user_id


class DateOrDateTimeField(forms.Field):
    """``2026-11-01`` or ``2026-11-01T10:00:00Z`` -> ``(aware datetime, date_only)``."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip()
        message = f"Enter a date (YYYY-MM-DD) or an ISO 8601 date-time, not {text!r}."
        try:
            # A bare date first: parse_datetime() also reads "2026-11-01" (as midnight), and then
            # an end date would drop the rest of its day.
            day = parse_date(text) if len(text) == 10 else None
            parsed = None if day else parse_datetime(text)
        except ValueError:  # well formed but impossible, like 2026-13-45
            raise forms.ValidationError(message) from None
        date_only = day is not None
        if date_only:
            parsed = dt.datetime.combine(day, dt.time.min)
        elif parsed is None:
            raise forms.ValidationError(message)
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, dt.UTC)
        return parsed, date_only


class OwnerFilter(django_filters.Filter):
    """``owner``: a user id, ``me`` (the requesting user) or ``none`` (unassigned). FilterSets with
    their own rule (e.g. leads' sales scope) pass ``method=``; otherwise it filters ``owner``."""

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


class DateBoundFilter(django_filters.Filter):
    field_class = DateOrDateTimeField
