"""Admin for the shared kernel: users with their role, the one timeline, API keys and outgoing webhooks."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from crm.errors import ServiceError
from crm.events import EVENTS
from crm.models import ApiKey, Interaction, User, WebhookDelivery, WebhookSubscription


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active", "is_staff")
    list_filter = ("role", "is_active", "is_staff", "is_superuser")
    search_fields = ("username", "email", "first_name", "last_name")
    ordering = ("username",)
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("CRM", {"fields": ("role",)}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "role", "password1", "password2")}),
    )


class InteractionAdminForm(forms.ModelForm):
    class Meta:
        model = Interaction
        fields = ("kind", "direction", "subject", "body", "occurred_at", "user", "lead", "metadata")

    def clean_kind(self):
        kind = self.cleaned_data["kind"]
        if kind == Interaction.Kind.STATUS_CHANGE:
            raise forms.ValidationError("Status changes are written by the lead's status, not by hand.")
        return kind


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    """The timeline. A million rows: no full count, related rows joined, lookups by autocomplete.

    Entries are added by the app (``leads.services`` moves the lead's ``last_interaction_at``,
    which this kernel app may not import), so the admin edits and removes them but does not add
    them; ``status_change`` entries are history and stay read-only.
    """

    form = InteractionAdminForm

    list_display = ("occurred_at", "kind", "direction", "subject", "lead", "user")
    list_filter = ("kind", "direction")
    search_fields = ("subject", "body")
    autocomplete_fields = ("lead", "user")
    list_select_related = ("lead", "user")
    date_hierarchy = "occurred_at"
    readonly_fields = ("created_at",)
    ordering = ("-occurred_at", "-id")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.kind == Interaction.Kind.STATUS_CHANGE:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.kind == Interaction.Kind.STATUS_CHANGE:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        # The bulk action too leaves status changes in place.
        queryset.exclude(kind=Interaction.Kind.STATUS_CHANGE).delete()


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made on the settings page (where the secret is shown once); here they are
    listed masked and revoked through ``crm.apikeys``."""

    list_display = ("name", "masked", "role", "created_by", "created_at", "last_used_at", "revoked_at")
    list_filter = ("role", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix")
    list_select_related = ("created_by",)
    readonly_fields = ("name", "prefix", "role", "user", "created_by", "created_at", "last_used_at", "revoked_at")
    exclude = ("key_hash",)
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        from crm.apikeys import api_key_revoke

        for api_key in queryset:
            api_key_revoke(api_key=api_key, by=request.user)


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(choices=[(e, e) for e in EVENTS], widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookSubscription
        fields = ("name", "url", "events", "active")


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    """Saved through ``crm.webhooks`` (URL and event checks, a generated secret)."""

    form = WebhookSubscriptionForm
    list_display = ("url", "name", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("url", "name")

    def save_model(self, request, obj, form, change):
        from crm import webhooks

        data = {k: form.cleaned_data[k] for k in ("name", "url", "events", "active")}
        try:
            if change:
                webhooks.webhook_subscription_update(subscription=obj, by=request.user, **data)
            else:
                created = webhooks.webhook_subscription_create(by=request.user, **data)
                obj.pk = created.pk
        except ServiceError as exc:
            self.message_user(request, exc.detail, level="error")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log, read-only; "Send again" re-queues through ``crm.webhooks``."""

    list_display = ("created_at", "event", "subscription", "status", "status_code", "attempts", "last_error")
    list_filter = ("status", "event")
    list_select_related = ("subscription",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Send the selected deliveries again")
    def redeliver(self, request, queryset):
        from crm.webhooks import webhook_redeliver

        for delivery in queryset:
            webhook_redeliver(delivery=delivery, by=request.user)
