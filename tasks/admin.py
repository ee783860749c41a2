"""Admin for tasks, follow-up processes and notifications. Saves and actions go through
``tasks.services`` / ``crm.notifications`` so the admin keeps the same rules as the API; a
ServiceError shows on its field instead of a 500."""

from django import forms
from django.contrib import admin
from django.utils import timezone

from crm.errors import ServiceError
from crm.models import Notification
from crm.notifications import notification_mark_read
from tasks import services
from tasks.models import Process, Task

_FIELD_ALIASES = {"due_date": "due_at", "assignee_id": "assignee", "related_to_id": None, "related_to_type": None,
                  "next_followup_datetime": "next_followup_at", "lead_id": "lead", "last_action_id": "last_action"}


def _add_service_error(form, exc: ServiceError) -> None:
    field = _FIELD_ALIASES.get(exc.field, exc.field)
    form.add_error(field if field in form.fields else None, exc.detail)


class TaskAdminForm(forms.ModelForm):
    class Meta:
        model = Task
        fields = ("title", "description", "due_at", "due_all_day", "priority", "completed", "assignee", "lead",
                  "contact", "campaign")

    def clean(self):
        cleaned = super().clean()
        related = [name for name in ("lead", "contact", "campaign") if cleaned.get(name)]
        if len(related) > 1:
            raise forms.ValidationError("A task relates to one lead, contact or campaign at most.")
        if cleaned.get("due_all_day") and not cleaned.get("due_at"):
            self.add_error("due_at", "An all-day task needs a due date.")
        if not self.errors:
            try:
                self.service_call = self._service_kwargs(cleaned, related[0] if related else None)
                services.parse_due(self.service_call["due_date"])
            except ServiceError as exc:
                _add_service_error(self, exc)
        return cleaned

    @staticmethod
    def _service_kwargs(cleaned, kind):
        due = cleaned.get("due_at")
        if due is not None and cleaned.get("due_all_day"):
            due = timezone.localtime(due).date()
        return {
            "title": cleaned["title"], "description": cleaned.get("description", ""), "due_date": due,
            "priority": cleaned["priority"], "assignee": cleaned.get("assignee"),
            "related_to_type": kind or "general", "related_to_id": cleaned[kind].pk if kind else None,
            "completed": cleaned.get("completed", False),
        }


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    form = TaskAdminForm
    list_display = ("title", "priority", "due_at", "due_all_day", "completed", "assignee", "related", "created_at")
    list_filter = ("completed", "priority", "due_all_day")
    list_select_related = ("assignee", "lead", "contact", "campaign")
    search_fields = ("title",)
    autocomplete_fields = ("assignee",)
    raw_id_fields = ("lead", "contact", "campaign")
    readonly_fields = ("completed_at", "created_by", "process", "overdue_at", "due_notified_at",
                       "overdue_notified_at", "created_at", "updated_at")
    date_hierarchy = "due_at"
    actions = ("mark_completed", "mark_open")

    @admin.display(description="Related to")
    def related(self, obj):
        item = obj.related_object
        return f"{obj.related_to_type}: {item}" if item is not None else "—"

    def save_model(self, request, obj, form, change):
        # user=None: staff act as the system here (any live record may be related).
        kwargs = form.service_call
        if change:
            saved = services.task_update(task=obj, user=None, **kwargs)
        else:
            saved = services.task_create(user=None, **kwargs)
            Task.objects.filter(pk=saved.pk).update(created_by=request.user)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.task_delete(task=obj, user=request.user)

    @admin.action(description="Mark selected tasks completed")
    def mark_completed(self, request, queryset):
        for task in queryset:
            services.task_set_completed(task=task, user=request.user, completed=True)

    @admin.action(description="Reopen selected tasks")
    def mark_open(self, request, queryset):
        for task in queryset:
            services.task_set_completed(task=task, user=request.user, completed=False)


class ProcessAdminForm(forms.ModelForm):
    class Meta:
        model = Process
        fields = ("name", "lead", "channel", "status", "next_followup_at", "interval_days", "last_action")

    def clean(self):
        cleaned = super().clean()
        action, lead = cleaned.get("last_action"), cleaned.get("lead")
        if action is not None and (lead is None or action.lead_id != lead.pk):
            self.add_error("last_action", "Pick a timeline entry of this process's lead.")
        return cleaned


@admin.register(Process)
class ProcessAdmin(admin.ModelAdmin):
    form = ProcessAdminForm
    list_display = ("name", "lead", "channel", "status", "next_followup_at", "interval_days", "last_fired_at")
    list_filter = ("status", "channel")
    list_select_related = ("lead",)
    search_fields = ("name",)
    raw_id_fields = ("lead", "last_action")
    readonly_fields = ("created_by", "last_fired_at", "created_at", "updated_at")
    actions = ("pause", "resume", "complete", "run_due_now")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        kwargs = {
            "name": data["name"], "lead_id": data["lead"].pk if data.get("lead") else None,
            "channel": data["channel"], "status": data["status"],
            "next_followup_datetime": data.get("next_followup_at"), "interval_days": data.get("interval_days"),
            "last_action_id": data["last_action"].pk if data.get("last_action") else None,
        }
        if change:
            saved = services.process_update(process=obj, user=None, **kwargs)
        else:
            saved = services.process_create(user=None, **kwargs)
            Process.objects.filter(pk=saved.pk).update(created_by=request.user)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.process_delete(process=obj, user=request.user)

    def _set_status(self, request, queryset, status):
        for process in queryset:
            services.process_update(process=process, user=request.user, status=status)

    @admin.action(description="Pause selected processes")
    def pause(self, request, queryset):
        self._set_status(request, queryset, Process.Status.PAUSED)

    @admin.action(description="Resume (activate) selected processes")
    def resume(self, request, queryset):
        self._set_status(request, queryset, Process.Status.ACTIVE)

    @admin.action(description="Complete selected processes")
    def complete(self, request, queryset):
        self._set_status(request, queryset, Process.Status.COMPLETED)

    @admin.action(description="Run every due follow-up now (as the scheduler would)")
    def run_due_now(self, request, queryset):
        created = services.processes_run_due()
        self.message_user(request, f"{len(created)} follow-up task(s) created.")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "kind", "read_at", "created_at")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter))
    list_select_related = ("user",)
    search_fields = ("title", "key", "user__username")
    readonly_fields = ("user", "kind", "title", "body", "url", "key", "created_at")
    fields = ("user", "kind", "title", "body", "url", "key", "read_at", "created_at")
    actions = ("mark_read",)

    def has_add_permission(self, request):
        return False  # raised by the system through crm.notifications.notify

    @admin.action(description="Mark selected notifications read")
    def mark_read(self, request, queryset):
        for note in queryset.select_related("user"):
            notification_mark_read(user=note.user, notification=note)
