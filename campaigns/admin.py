"""Admin for campaigns, daily insights, sync runs, Lead Ads events and attributions.

Campaigns and insights come from Meta (the sync overwrites them), so they are read-only here;
"Sync now" and "Process again" go through ``campaigns.services`` like the pages and the API.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied

from campaigns import services
from campaigns.models import Campaign, CampaignInsight, LeadAttribution, LeadgenEvent, MetaSyncRun
from crm.errors import ServiceError


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ("name", "meta_id", "status", "effective_status", "objective", "ad_account_id", "updated_at")
    list_filter = ("effective_status", "objective")
    search_fields = ("name", "meta_id")


@admin.register(CampaignInsight)
class CampaignInsightAdmin(ReadOnlyAdmin):
    list_display = ("campaign", "date", "spend", "impressions", "clicks", "link_clicks", "leads", "purchase_value")
    list_select_related = ("campaign",)
    date_hierarchy = "date"
    search_fields = ("campaign__name", "campaign__meta_id")


@admin.register(MetaSyncRun)
class MetaSyncRunAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "status", "trigger", "since", "until", "campaigns_fetched", "rows_fetched",
                    "requests", "error_code", "short_error")
    list_filter = ("status", "trigger")
    actions = ["sync_now"]

    @admin.display(description="error")
    def short_error(self, run):
        return run.error[:80]

    @admin.action(description="Sync now (queue a Meta sync of the trailing window)")
    def sync_now(self, request, queryset):
        try:
            services.meta_sync_request(user=request.user)
        except PermissionDenied as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, "Meta sync queued.", messages.SUCCESS)


@admin.register(LeadgenEvent)
class LeadgenEventAdmin(ReadOnlyAdmin):
    list_display = ("leadgen_id", "status", "received_at", "processed_at", "attempts", "duplicate", "lead", "form_id",
                    "ad_id")
    list_filter = ("status", "duplicate")
    search_fields = ("leadgen_id", "form_id", "ad_id")
    list_select_related = ("lead",)
    actions = ["process_again"]

    @admin.action(description="Process again (fetch the lead from Meta)")
    def process_again(self, request, queryset):
        ids = services.leadgen_retry(leadgen_ids=list(queryset.values_list("leadgen_id", flat=True)[:1000]))
        self.message_user(request, f"{len(ids)} event(s) queued; processed ones are skipped.", messages.SUCCESS)


@admin.register(LeadAttribution)
class LeadAttributionAdmin(admin.ModelAdmin):
    list_display = ("lead", "campaign", "leadgen_id", "ad_id", "form_id", "created_at")
    list_select_related = ("lead", "campaign")
    search_fields = ("leadgen_id", "meta_campaign_id", "lead__email", "lead__last_name")
    raw_id_fields = ("lead",)
    autocomplete_fields = ("campaign",)
    fields = ("lead", "campaign", "leadgen_id", "ad_id", "adset_id", "form_id", "page_id")

    def has_change_permission(self, request, obj=None):
        return obj is None  # first touch stays: attributions are added, not edited

    def save_model(self, request, obj, form, change):
        try:
            created = services.lead_attribute(
                lead=obj.lead, campaign=obj.campaign, leadgen_id=obj.leadgen_id, ad_id=obj.ad_id,
                adset_id=obj.adset_id, form_id=obj.form_id, page_id=obj.page_id,
            )
        except ServiceError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
            return
        obj.pk = created.pk
