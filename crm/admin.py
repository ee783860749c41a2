"""Admin for the shared kernel: users with their role, and the one timeline."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from crm.models import Interaction, User


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
