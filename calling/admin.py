"""Admin for agents and calls. Agents are validated and saved through ``calling.services``
(the form shows a refused field on that field); calls are history, read-only here."""

from django import forms
from django.contrib import admin

from calling import services
from calling.models import Agent, Call, CallWebhookEvent
from crm.errors import ServiceError


class AgentAdminForm(forms.ModelForm):
    class Meta:
        model = Agent
        fields = services.AGENT_FIELDS

    def clean(self):
        cleaned = super().clean()
        try:
            self.service_data = services.clean_agent_fields(
                {k: cleaned[k] for k in services.AGENT_FIELDS if k in cleaned},
                agent=self.instance if self.instance.pk and not self.instance._state.adding else None)
        except ServiceError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.detail)
        return cleaned


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    form = AgentAdminForm
    list_display = ("name", "active", "provider", "time_zone", "max_attempts", "retry_delay_minutes", "created_at")
    list_filter = ("active", "provider")
    search_fields = ("name", "assistant_id", "caller_number")

    def save_model(self, request, obj, form, change):
        data = {k: form.cleaned_data[k] for k in services.AGENT_FIELDS if k in form.cleaned_data}
        if change:
            saved = services.agent_update(agent=Agent.objects.get(pk=obj.pk), user=request.user, **data)
        else:
            saved = services.agent_create(user=request.user, **data)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.agent_delete(agent=obj, user=request.user)


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ("created_at", "lead", "agent", "status", "outcome", "disposition", "duration_seconds", "attempt")
    list_filter = ("status", "outcome", "provider", "agent")
    list_select_related = ("lead", "agent")
    search_fields = ("provider_call_id", "idempotency_key", "to_number")
    date_hierarchy = "created_at"
    raw_id_fields = ("lead",)

    def has_add_permission(self, request):
        return False  # calls are placed by the scheduler or "call now", never typed in

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CallWebhookEvent)
class CallWebhookEventAdmin(admin.ModelAdmin):
    list_display = ("received_at", "provider", "dedupe_key", "kind", "call")
    list_filter = ("provider", "kind")
    search_fields = ("dedupe_key",)
    raw_id_fields = ("call",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
