"""Forms of the task pages and panels. They check types and choices; the rules (due date
parsing, who may see the related record, priorities, channels) stay in ``tasks.services``, which
the views call; a ServiceError comes back onto its field through ``add_service_error``."""

import datetime as dt

from django import forms

from crm.errors import ServiceError
from crm.models import User
from tasks.models import Process, Task

_SERVICE_FIELD_ALIASES = {"due_date": "due_day", "assignee_id": "assignee", "next_followup_datetime": "next_followup",
                          "related_to_id": None, "related_to_type": None, "action_type": None, "lead_id": None}


class ServiceErrorMixin:
    def add_service_error(self, exc: ServiceError) -> None:
        """Show ``exc.detail`` on the field it names, or above the form."""
        field = _SERVICE_FIELD_ALIASES.get(exc.field, exc.field)
        self.add_error(field if field in self.fields else None, exc.detail)


class TaskForm(ServiceErrorMixin, forms.Form):
    """Create or edit a task. A due day without a time is an all-day task; with a time it is
    due at that moment (UTC). The assignee defaults to the person filling it in."""

    title = forms.CharField(max_length=255)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    due_day = forms.DateField(required=False, label="Due date", widget=forms.DateInput(attrs={"type": "date"}))
    due_time = forms.TimeField(required=False, label="Time (UTC, optional)",
                               widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    priority = forms.ChoiceField(choices=Task.Priority.choices, initial=Task.Priority.MEDIUM)
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Unassigned")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        users = User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")
        self.fields["assignee"].queryset = users.only("pk", "username", "first_name", "last_name")
        self.fields["assignee"].label_from_instance = lambda u: u.full_name

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("due_time") and not cleaned.get("due_day"):
            self.add_error("due_day", "Pick a day for the time.")
        return cleaned

    @staticmethod
    def initial_for(task: Task) -> dict:
        local = task.due_at and task.due_at.astimezone(dt.UTC)
        return {
            "title": task.title, "description": task.description, "priority": task.priority,
            "assignee": task.assignee_id,
            "due_day": local.date() if local else None,
            "due_time": None if task.due_all_day or not local else local.time().replace(second=0, microsecond=0),
        }

    def due_value(self):
        """What ``tasks.services.parse_due`` takes: a date (all day), an aware datetime, or None."""
        day, time = self.cleaned_data.get("due_day"), self.cleaned_data.get("due_time")
        if not day:
            return None
        if time is None:
            return day
        return dt.datetime.combine(day, time, tzinfo=dt.UTC)

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"title": data["title"], "description": data.get("description", ""), "due_date": self.due_value(),
                "priority": data["priority"], "assignee": data.get("assignee")}


class QuickTaskForm(ServiceErrorMixin, forms.Form):
    """The panel's one-line add: a title, an optional due day and the priority."""

    title = forms.CharField(max_length=255, widget=forms.TextInput(attrs={"placeholder": "New task…"}))
    due_day = forms.DateField(required=False, label="Due", widget=forms.DateInput(attrs={"type": "date"}))
    priority = forms.ChoiceField(choices=Task.Priority.choices, initial=Task.Priority.MEDIUM)


class ProcessForm(ServiceErrorMixin, forms.Form):
    """Start a follow-up process on a lead: its next follow-up (UTC) and, optionally, a repeat."""

    name = forms.CharField(max_length=200, initial="Follow-up")
    channel = forms.ChoiceField(choices=Process.Channel.choices, initial=Process.Channel.EMAIL)
    next_followup = forms.DateTimeField(
        label="Next follow-up (UTC)", required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    interval_days = forms.IntegerField(label="Repeat every (days)", required=False, min_value=1, max_value=365)
