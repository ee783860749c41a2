"""Admin for leads and CSV import jobs.

The lead admin writes through ``leads.services`` like every other door (STYLE.md 2): the form
validates, then ``save_model`` calls ``lead_create``/``lead_update`` so phones are normalised,
duplicates refused and every status change lands on the timeline. It shows deleted leads too
(decision 9: an admin restores them); nothing is hard-deleted here, the purge command does that.
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import Q

from crm.admin_filters import DeletedFilter
from crm.errors import ServiceError
from crm.phones import InvalidPhoneNumber, normalize_phone
from leads import services
from leads.models import Lead, LeadImport, LeadImportError, LeadStageCount

# Fields the form edits; everything else on a lead is kept by the services (read-only here).
EDITABLE_FIELDS = ("first_name", "last_name", "email", "phone", "company", "job_title", "status", "source",
                   "score", "value", "owner", "agent_id", "custom_fields", "ai_summary", "schedule_at",
                   "attempts_count", "call_status", "disposition")
# Changing one of these can make the lead a duplicate of another live lead.
IDENTITY_FIELDS = {"email", "phone", "agent_id"}


class LeadAdminForm(forms.ModelForm):
    """Checks what the services would refuse, so the admin shows it on the field instead of a 500."""

    class Meta:
        model = Lead
        fields = EDITABLE_FIELDS

    request_user = None  # set per request by LeadAdmin.get_form

    def clean(self):
        cleaned = super().clean()
        if "owner" in self.changed_data:
            try:
                services.lead_check_owner(user=self.request_user, owner=cleaned.get("owner"))
            except ServiceError as exc:
                self.add_error("owner", exc.detail)
        changed = set(self.changed_data) if self.instance.pk and not self.instance._state.adding else None
        e164 = self.instance.phone
        if "phone" in cleaned and (changed is None or "phone" in changed):
            try:
                e164 = normalize_phone(cleaned["phone"]).e164 if cleaned["phone"] else ""
            except InvalidPhoneNumber as exc:
                self.add_error("phone", str(exc))
                return cleaned
        if changed is None or IDENTITY_FIELDS & changed:
            probe = Lead(pk=self.instance.pk, email=cleaned.get("email") or "", phone=e164,
                         agent_id=cleaned.get("agent_id"), deleted_at=self.instance.deleted_at)
            probe.sync_live_email()
            try:
                services.lead_check_duplicates(lead=probe)
            except ServiceError as exc:
                self.add_error(exc.field if exc.field in self.fields else None, exc.detail)
        return cleaned


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    form = LeadAdminForm
    list_display = ("name", "email", "phone", "status", "call_status", "owner", "source", "score", "value",
                    "created_at", "deleted")
    list_filter = ("status", "call_status", "source", "owner", DeletedFilter)
    search_fields = ("^first_name", "^last_name", "^email", "phone", "^company")
    list_select_related = ("owner",)
    autocomplete_fields = ("owner",)
    readonly_fields = ("phone_extension", "phone_verified", "live_email", "last_interaction_at",
                       "status_changed_at", "import_job", "deleted_at", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("first_name", "last_name", "email", "phone", "phone_extension", "phone_verified",
                           "company", "job_title")}),
        ("Pipeline", {"fields": ("status", "source", "score", "value", "owner", "ai_summary",
                                 "status_changed_at", "last_interaction_at")}),
        ("Calling", {"fields": ("agent_id", "call_status", "disposition", "schedule_at", "attempts_count",
                                "custom_fields")}),
        ("Record", {"fields": ("live_email", "import_job", "created_at", "updated_at", "deleted_at")}),
    )
    actions = ("restore_leads", "soft_delete_leads")
    ordering = ("-created_at", "-id")
    # A million rows: don't count the whole table under every filtered page.
    show_full_result_count = False

    def get_queryset(self, request):
        # All leads, deleted ones included (not visible_to(): the admin restores them).
        return Lead.objects.all()

    def has_delete_permission(self, request, obj=None):
        # Deleting is soft (the action below); purge_leads removes leads for good.
        return False

    @admin.display(description="Name", ordering="last_name")
    def name(self, obj):
        return obj.name

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.request_user = request.user
        return form

    @admin.display(description="Deleted", boolean=True, ordering="deleted_at")
    def deleted(self, obj):
        return obj.deleted_at is not None

    def save_model(self, request, obj, form, change):
        """Write through the services: lead_create for a new lead, lead_update with what changed."""
        data = form.cleaned_data
        if change:
            changed = {f: data[f] for f in form.changed_data if f in data}
            # allow_duplicate: the admin has no "create anyway" step; its form checks the hard rules.
            lead = services.lead_update(lead=obj, user=request.user, allow_duplicate=True, **changed)
        else:
            fields = {f: data[f] for f in services.PLAIN_FIELDS if f in data}
            lead = services.lead_create(user=request.user, status=data.get("status") or Lead.Status.NEW,
                                        phone=data.get("phone") or "", allow_duplicate=True, **fields)
            obj.pk = lead.pk
            obj._state.adding = False
        obj.refresh_from_db()

    @admin.action(description="Restore selected leads")
    def restore_leads(self, request, queryset):
        restored = 0
        for lead in queryset.filter(deleted_at__isnull=False):
            try:
                services.lead_restore(lead=lead, user=request.user)
                restored += 1
            except ServiceError as exc:
                self.message_user(request, f"{lead.name} was not restored: {exc.detail}", messages.ERROR)
        if restored:
            self.message_user(request, f"Restored {restored} lead(s).", messages.SUCCESS)

    @admin.action(description="Soft-delete selected leads")
    def soft_delete_leads(self, request, queryset):
        deleted = 0
        for lead in queryset.filter(deleted_at__isnull=True):
            services.lead_delete(lead=lead, user=request.user)
            deleted += 1
        self.message_user(request, f"Deleted {deleted} lead(s); they can be restored.", messages.SUCCESS)


class LimitedErrorFormSet(forms.BaseInlineFormSet):
    """Only the first rows of a job's errors: an import of a million bad rows must still open."""

    limit = 100

    def get_queryset(self):
        if not hasattr(self, "_limited"):
            self._limited = super().get_queryset().order_by("row")[: self.limit]
        return self._limited


class LeadImportErrorInline(admin.TabularInline):
    model = LeadImportError
    formset = LimitedErrorFormSet
    fields = ("row", "error")
    readonly_fields = ("row", "error")
    extra = 0
    can_delete = False
    verbose_name_plural = f"Row errors (first {LimitedErrorFormSet.limit})"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(LeadImport)
class LeadImportAdmin(admin.ModelAdmin):
    """Import jobs are started by an upload (page, API or command); the admin watches them."""

    list_display = ("__str__", "status", "progress_percent", "total_rows", "processed_rows", "success_count",
                    "error_count", "created_by", "created_at", "finished_at")
    list_filter = ("status",)
    search_fields = ("original_name",)
    list_select_related = ("created_by",)
    readonly_fields = ("progress_percent", "created_at", "started_at", "finished_at", "heartbeat_at",
                       "total_rows", "processed_rows", "success_count", "error_count")
    raw_id_fields = ("created_by", "owner")
    inlines = (LeadImportErrorInline,)
    date_hierarchy = "created_at"

    @admin.display(description="Progress")
    def progress_percent(self, obj):
        return f"{obj.progress:.1f}%"

    def has_add_permission(self, request):
        return False


@admin.register(LeadImportError)
class LeadImportErrorAdmin(admin.ModelAdmin):
    list_display = ("job", "row", "error")
    list_select_related = ("job",)
    search_fields = ("error",)
    raw_id_fields = ("job",)
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        # A row number finds that row; any other text searches the messages.
        if search_term.strip().isdigit():
            return queryset.filter(Q(row=int(search_term)) | Q(error__icontains=search_term)), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(LeadStageCount)
class LeadStageCountAdmin(admin.ModelAdmin):
    """Read-only view of the lead totals per owner and status (kept by the services; rebuilt
    by ``manage.py rebuild_lead_counts``)."""

    list_display = ("owner_id", "status", "n")
    list_filter = ("status",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
