"""Forms of the calling pages. They check types and shapes; the rules (time zone, business
hours, attempts, provider, caller number) stay in :mod:`calling.services`."""

from django import forms

from calling import providers
from calling.models import WEEKDAYS, Agent
from crm.errors import ServiceError

DAY_LABELS = dict(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
                      strict=True))


def hours_to_text(windows) -> str:
    """``[["09:00", "12:00"], ["13:00", "17:30"]]`` -> ``"09:00-12:00, 13:00-17:30"``."""
    return ", ".join(f"{start}-{end}" for start, end in windows or [])


def text_to_hours(text: str) -> list[list[str]]:
    """``"09:00-12:00, 13:00-17:30"`` -> windows; raises ValidationError for a malformed part."""
    windows = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        pieces = [p.strip() for p in part.replace("–", "-").split("-")]
        if len(pieces) != 2 or not all(pieces):
            raise forms.ValidationError(f"Write windows as HH:MM-HH:MM, separated by commas (not {part!r}).")
        windows.append(pieces)
    return windows


class AgentForm(forms.Form):
    """Create or edit an agent; business hours are one text box per weekday
    (``09:00-12:00, 13:00-17:30``; empty = closed)."""

    name = forms.CharField(max_length=120)
    active = forms.BooleanField(required=False, initial=True)
    time_zone = forms.CharField(max_length=64, initial="UTC", help_text="IANA name, e.g. Europe/Berlin.")
    max_attempts = forms.IntegerField(min_value=1, max_value=100, initial=3)
    retry_delay_minutes = forms.IntegerField(min_value=0, max_value=43200, initial=60, label="Retry delay (minutes)")
    provider = forms.ChoiceField(choices=())
    assistant_id = forms.CharField(max_length=128, required=False, label="Assistant / agent id at the provider")
    caller_number = forms.CharField(max_length=40, required=False, help_text="E.164, e.g. +14155552671.")
    phone_number_id = forms.CharField(max_length=128, required=False, label="Provider phone number id (Vapi)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [(name, providers.get(name).label) for name in providers.names()]
        for day in WEEKDAYS:
            self.fields[f"hours_{day}"] = forms.CharField(
                required=False, label=DAY_LABELS[day],
                widget=forms.TextInput(attrs={"placeholder": "closed", "class": "hours-input"}))

    @property
    def hour_fields(self):
        return [self[f"hours_{day}"] for day in WEEKDAYS]

    @staticmethod
    def initial_for(agent: Agent) -> dict:
        data = {name: getattr(agent, name) for name in AgentForm.declared_fields}
        for day in WEEKDAYS:
            data[f"hours_{day}"] = hours_to_text((agent.business_hours or {}).get(day))
        return data

    def clean(self):
        data = super().clean()
        hours = {}
        for day in WEEKDAYS:
            try:
                hours[day] = text_to_hours(data.get(f"hours_{day}", ""))
            except forms.ValidationError as exc:
                self.add_error(f"hours_{day}", exc)
        data["business_hours"] = hours
        return data

    def service_kwargs(self) -> dict:
        keys = ("name", "active", "time_zone", "max_attempts", "retry_delay_minutes", "provider", "assistant_id",
                "caller_number", "phone_number_id", "business_hours")
        return {key: self.cleaned_data[key] for key in keys}

    def add_service_error(self, exc: ServiceError) -> None:
        """Show the service's message on its field; a business-hours message names its day."""
        field = exc.field
        if field == "business_hours":
            day = exc.detail.split(":", 1)[0].strip().lower()[:3]
            field = f"hours_{day}" if day in WEEKDAYS else None
        self.add_error(field if field in self.fields else None, exc.detail)
