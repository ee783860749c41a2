"""Filter pieces every app's FilterSets share (DESIGN.md decision 6): the seeds' sort parameters,
comma-separated choices, owner/assignee as ``me``/``none``/an id, date-or-date-time bounds, and
:class:`LeanFilterSet`, the base of the lists that must answer a thousand requests a second.
"""

import copy
import datetime as dt

import django_filters
from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import extend_schema_field


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


@extend_schema_field({"type": "string", "example": "2026-11-30",
                      "description": "A date (YYYY-MM-DD) or an ISO 8601 date-time."})
class DateBoundFilter(django_filters.Filter):
    """A date-range bound taking a date or a date-time (:class:`DateOrDateTimeField`)."""

    field_class = DateOrDateTimeField


class _ShallowCopiedFields(dict):
    """A filter form class's ``base_fields``, whose deep copy (what every form instance makes in
    ``BaseForm.__init__``) copies each field shallowly: a new field object per form sharing its
    widget, choices and messages. No filter form sets those per request, and the deep copy of a
    dozen fields with their choices was ~0.6 ms of every filtered or sorted list request under
    cProfile (docs/benchmarks.md, 2026-12-07 mid-morning)."""

    def __deepcopy__(self, memo):
        return {name: copy.copy(field) for name, field in self.items()}


class LeanFilterSet(django_filters.FilterSet):
    """A FilterSet that costs little per request, with the seeds' sort parameters and a stable
    ordering one index serves.

    * The form class is built once per FilterSet class (django-filter builds one per request),
      its fields are copied shallowly into each form (:class:`_ShallowCopiedFields`), filters
      are copied shallowly (they keep no state but their parent; django-filter deep-
      copies them: a third of a list request's Python time), and a request that names none of
      the set's parameters builds no form at all.
    * ``ordering`` (``-created_at`` style; seed 000's ``sort=created_at_desc`` and seed 003's
      ``sort_by``/``sort_order`` translated, names in ``ordering_aliases`` replaced) sorts by
      ``ordering_columns[name]`` then ``id``, in the direction of the last column: a mixed
      direction ("score ASC, id DESC") makes MySQL sort the whole table instead of reading the
      index in order. Without one, ``default_ordering``.

    Subclasses declare ``ordering = django_filters.OrderingFilter(fields=…, method="filter_ordering")``.
    """

    default_ordering: tuple = ()
    ordering_columns: dict[str, tuple[str, ...]] = {}
    ordering_aliases: dict[str, str] = {}

    @classmethod
    def _cached_form_class(cls):
        if "_form_class" not in cls.__dict__:
            form_class = super(LeanFilterSet, cls(None, queryset=cls._meta.model.objects.none())).get_form_class()
            form_class.base_fields = _ShallowCopiedFields(form_class.base_fields)
            cls._form_class = form_class
        return cls._form_class

    def get_form_class(self):
        return type(self)._cached_form_class()

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        if data is not None:
            data = data.copy()
            ordering = normalize_ordering(data)
            if ordering:
                data["ordering"] = self._aliased(ordering)
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

    def _aliased(self, ordering: str) -> str:
        keys = []
        for key in ordering.split(","):
            key = key.strip()
            sign, name = ("-", key[1:]) if key.startswith("-") else ("", key)
            keys.append(sign + self.ordering_aliases.get(name, name))
        return ",".join(keys)

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
        return qs.order_by(*columns, f"{'-' if columns[-1].startswith('-') else ''}id")

    def filter_ordering(self, queryset, name, value):
        return queryset  # applied in qs, with the tie-breaker
