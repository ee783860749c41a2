"""Forms of the dashboard and settings pages (validation only; the views call services)."""

from django import forms

from crm.events import EVENTS
from crm.models import User


class DateRangeForm(forms.Form):
    """The range picker; it uses the API's parameter names, so a page URL doubles as an API query."""

    start_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    end_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"placeholder": "e.g. Zapier"}))
    role = forms.ChoiceField(choices=User.Role.choices, initial=User.Role.MANAGER)


class WebhookSubscriptionForm(forms.Form):
    url = forms.URLField(max_length=500, assume_scheme="https",
                         widget=forms.URLInput(attrs={"placeholder": "https://example.com/crm-hook"}))
    name = forms.CharField(max_length=100, required=False)
    events = forms.MultipleChoiceField(choices=[(e, e) for e in EVENTS], widget=forms.CheckboxSelectMultiple,
                                       initial=["lead.created"])
