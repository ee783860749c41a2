"""Forms of the lead pages. They validate types, lengths and choices; the business rules (phone
parsing, duplicates, who may own a lead, the timeline) stay in ``leads.services``, which the
views call with ``form.service_kwargs()``. A ServiceError comes back onto its field through
``form.add_service_error()``."""

from django import forms

from crm.errors import ServiceError
from crm.models import Interaction, User
from leads.models import Lead
from leads.services import assignable_owners

# ServiceError.field names that differ from the form's field names.
_SERVICE_FIELD_ALIASES = {"owner_id": "owner", "name": "first_name", "type": "kind", "phone_e164": "phone"}


class ServiceErrorMixin:
    def add_service_error(self, exc: ServiceError) -> None:
        """Show ``exc.detail`` on the field it names, or above the form when it names none."""
        field = _SERVICE_FIELD_ALIASES.get(exc.field, exc.field)
        self.add_error(field if field in self.fields else None, exc.detail)


class LeadForm(ServiceErrorMixin, forms.Form):
    """Create or edit a lead. Field names are the Lead's; ``phone`` takes any notation (with an
    ``x123`` extension) and the service stores E.164. ``owner`` offers a sales user only
    themselves or nobody, the same rule ``lead_create``/``lead_update`` enforce.
    ``allow_duplicate`` is the "create anyway" box shown after a duplicate-phone warning."""

    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(max_length=254, required=False)
    phone = forms.CharField(max_length=40, required=False, help_text="Any notation; saved as +14155552671.")
    company = forms.CharField(max_length=200, required=False)
    job_title = forms.CharField(max_length=150, required=False)
    status = forms.ChoiceField(choices=Lead.Status.choices, initial=Lead.Status.NEW)
    source = forms.CharField(max_length=50, required=False)
    score = forms.IntegerField(min_value=0, max_value=100, initial=0)
    value = forms.DecimalField(min_value=0, max_digits=14, decimal_places=2, initial=0, label="Deal value")
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Unassigned")
    call_status = forms.ChoiceField(choices=Lead.CallStatus.choices, initial=Lead.CallStatus.NEW)
    disposition = forms.ChoiceField(choices=[("", "—"), *Lead.Disposition.choices], required=False)
    schedule_at = forms.DateTimeField(
        required=False, label="Call scheduled at (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    ai_summary = forms.CharField(required=False, label="AI summary", widget=forms.Textarea(attrs={"rows": 3}))
    custom_fields = forms.JSONField(
        required=False, initial=dict, widget=forms.Textarea(attrs={"rows": 3}),
        help_text='A JSON object, e.g. {"budget": "50k", "industry": "retail"}.',
    )
    allow_duplicate = forms.BooleanField(required=False, label="Create anyway (I know a lead like this exists)")

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = assignable_owners(user)
        self.fields["owner"].label_from_instance = lambda u: u.full_name

    @staticmethod
    def initial_for(lead: Lead) -> dict:
        """The form's initial values for editing ``lead`` (phone with its extension)."""
        data = {name: getattr(lead, name) for name in LeadForm.declared_fields if hasattr(lead, name)}
        data["owner"] = lead.owner_id
        if lead.phone_extension:
            data["phone"] = f"{lead.phone} x{lead.phone_extension}"
        return data

    def clean_custom_fields(self):
        value = self.cleaned_data.get("custom_fields")
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise forms.ValidationError('Enter a JSON object, like {"key": "value"}.')
        return value

    def service_kwargs(self, *, changed_only: bool = False) -> dict:
        """Keyword arguments for ``lead_create`` (everything) or ``lead_update`` (only what changed)."""
        names = self.changed_data if changed_only else list(self.fields)
        data = {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}
        data["allow_duplicate"] = bool(self.cleaned_data.get("allow_duplicate"))
        if "phone" in data:
            data["phone"] = data["phone"].strip()
        return data


class InteractionForm(ServiceErrorMixin, forms.Form):
    """Add an entry to a lead's timeline (seed 000's ``type`` and ``notes``, plus a subject and
    direction); the view calls ``lead_add_interaction``. Status changes and "lead created" are
    written by the services themselves, so they are not offered here."""

    kind = forms.ChoiceField(
        label="Type",
        choices=[(k, label) for k, label in Interaction.Kind.choices
                 if k not in (Interaction.Kind.STATUS_CHANGE, Interaction.Kind.LEAD_CREATED)],
        initial=Interaction.Kind.NOTE,
    )
    direction = forms.ChoiceField(choices=[("", "—"), *Interaction.Direction.choices], required=False)
    subject = forms.CharField(max_length=255, required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("subject") or "").strip() and not (cleaned.get("notes") or "").strip():
            raise forms.ValidationError("Write a subject or some notes.")
        return cleaned
