"""Forms of the contact and company pages. They check types, lengths and choices; the rules
(phones, duplicates, owners, company matching, links) stay in ``contacts.services``, which the
views call with ``form.service_kwargs()``. A ServiceError lands on its field through
``form.add_service_error()``."""

from django import forms

from contacts.models import Company, Contact
from contacts.services import MERGE_FIELDS, SYSTEM_KINDS
from crm.errors import ServiceError
from crm.models import Interaction, User

_SERVICE_FIELD_ALIASES = {"owner_id": "owner", "name": "first_name", "primary_company_id": "company",
                          "kind": "kind", "type": "kind", "other_id": None, "fields": None}


def assignable_owners(user: User):
    """Users ``user`` may make an owner (decision 8: a sales user only themselves), by name."""
    owners = User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")
    if user is None or not user.is_authenticated:
        return owners.none()
    return owners if user.sees_all else owners.filter(pk=user.pk)


class ServiceErrorMixin:
    def add_service_error(self, exc: ServiceError) -> None:
        """Show ``exc.detail`` on the field it names, or above the form."""
        field = _SERVICE_FIELD_ALIASES.get(exc.field, exc.field)
        self.add_error(field if field in self.fields else None, exc.detail)


class TagsField(forms.CharField):
    """Comma-separated tag names -> a list."""

    def to_python(self, value):
        return [part.strip() for part in (super().to_python(value) or "").split(",") if part.strip()]


class OwnerMixin:
    def _owner_choices(self, user: User) -> None:
        self.fields["owner"].queryset = assignable_owners(user)
        self.fields["owner"].label_from_instance = lambda u: u.full_name


class ContactForm(OwnerMixin, ServiceErrorMixin, forms.Form):
    """Create or edit a contact. ``company`` is a company name: the matching company is linked,
    or a new one created (seed 001's text company). ``allow_duplicate`` is the "create anyway"
    box shown after a duplicate warning."""

    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(max_length=254, required=False)
    phone = forms.CharField(max_length=40, required=False, help_text="Any notation; saved as +14155552671.")
    company = forms.CharField(max_length=200, required=False, label="Primary company",
                              help_text="An existing company's name, or a new one to create.")
    job_title = forms.CharField(max_length=150, required=False)
    role = forms.CharField(max_length=100, required=False, help_text="e.g. decision maker, champion")
    status = forms.ChoiceField(choices=Contact.Status.choices, initial=Contact.Status.NEW)
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Unassigned")
    tags = TagsField(required=False, help_text="Comma-separated, e.g. enterprise, uk")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    allow_duplicate = forms.BooleanField(required=False, label="Create anyway (I know a contact like this exists)")

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self._owner_choices(user)

    @staticmethod
    def initial_for(contact: Contact) -> dict:
        data = {name: getattr(contact, name) for name in ("first_name", "last_name", "email", "job_title", "role",
                                                           "status", "notes")}
        data["phone"] = f"{contact.phone} x{contact.phone_extension}" if contact.phone_extension else contact.phone
        data["owner"] = contact.owner_id
        data["company"] = contact.primary_company.name if contact.primary_company_id else ""
        data["tags"] = ", ".join(sorted(t.name for t in contact.tags.all()))
        return data

    def service_kwargs(self, *, changed_only: bool = False) -> dict:
        names = self.changed_data if changed_only else list(self.fields)
        data = {}
        for name in names:
            if name not in self.cleaned_data or name == "allow_duplicate":
                continue
            value = self.cleaned_data[name]
            if name == "owner":
                data["owner_id"] = value
            elif name == "company":
                if value.strip():
                    data["company"] = value.strip()
                else:
                    data["primary_company_id"] = None
            else:
                data[name] = value.strip() if isinstance(value, str) else value
        return data


class CompanyForm(OwnerMixin, ServiceErrorMixin, forms.Form):
    """Create or edit a company; ``domain`` may be pasted as a URL."""

    name = forms.CharField(max_length=200)
    domain = forms.CharField(max_length=300, required=False, help_text="acme.com (a URL works too)")
    website = forms.URLField(max_length=300, required=False, assume_scheme="https")
    industry = forms.CharField(max_length=100, required=False)
    size = forms.CharField(max_length=20, required=False, help_text="Head-count band, e.g. 11-50")
    phone = forms.CharField(max_length=40, required=False)
    address = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Unassigned")
    tags = TagsField(required=False, help_text="Comma-separated")

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self._owner_choices(user)

    @staticmethod
    def initial_for(company: Company) -> dict:
        data = {name: getattr(company, name) for name in ("name", "domain", "website", "industry", "size", "phone",
                                                           "address")}
        data["owner"] = company.owner_id
        data["tags"] = ", ".join(sorted(t.name for t in company.tags.all()))
        return data

    def service_kwargs(self, *, changed_only: bool = False) -> dict:
        names = self.changed_data if changed_only else list(self.fields)
        data = {}
        for name in names:
            if name not in self.cleaned_data:
                continue
            value = self.cleaned_data[name]
            data["owner_id" if name == "owner" else name] = value
        return data


class TimelineForm(ServiceErrorMixin, forms.Form):
    """Add an entry to a contact's or company's timeline (kind, direction, subject, notes)."""

    kind = forms.ChoiceField(label="Type", initial=Interaction.Kind.CALL,
                             choices=[(k, label) for k, label in Interaction.Kind.choices if k not in SYSTEM_KINDS])
    direction = forms.ChoiceField(choices=[("", "—"), *Interaction.Direction.choices], required=False)
    subject = forms.CharField(max_length=255, required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("subject") or "").strip() and not (cleaned.get("notes") or "").strip():
            raise forms.ValidationError("Write a subject or some notes.")
        return cleaned

    def service_kwargs(self) -> dict:
        return {"kind": self.cleaned_data["kind"], "direction": self.cleaned_data["direction"],
                "subject": self.cleaned_data["subject"].strip(), "body": self.cleaned_data["notes"].strip()}


class LinkCompanyForm(ServiceErrorMixin, forms.Form):
    """Link a contact to a company named exactly (case-insensitively) as typed, with a role."""

    company = forms.CharField(max_length=200, label="Company")
    role = forms.CharField(max_length=100, required=False, label="Role there")


def merge_form_class(contact: Contact, other: Contact) -> type[forms.Form]:
    """A form with one radio per mergeable field where the two contacts differ ("this" or
    "other"), preselected like the service's default (this one's value unless it is blank)."""

    def show(c: Contact, name: str) -> str:
        if name == "owner":
            return c.owner.full_name if c.owner_id else "Unassigned"
        if name == "primary_company":
            return c.primary_company.name if c.primary_company_id else "—"
        if name == "status":
            return c.get_status_display()
        return getattr(c, name) or "—"

    fields = {}
    for name in MERGE_FIELDS:
        attname = Contact._meta.get_field(name).attname
        mine, theirs = getattr(contact, attname), getattr(other, attname)
        if mine == theirs:
            continue
        default = "other" if mine in ("", None) else "this"
        fields[name] = forms.ChoiceField(
            label=Contact._meta.get_field(name).verbose_name.capitalize(), widget=forms.RadioSelect, initial=default,
            required=False,  # not sent: the service's default (this one's value unless blank)
            choices=[("this", show(contact, name)), ("other", show(other, name))],
        )
    return type("MergeForm", (forms.Form,), fields)
