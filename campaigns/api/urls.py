"""Campaigns API routes under /api/v1/: campaigns, Meta sync runs and the Lead Ads webhook."""

from django.urls import re_path

from campaigns.api import views, webhooks
from crm.api.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("campaigns", views.CampaignViewSet, basename="campaign")
router.register("meta/sync-runs", views.MetaSyncRunViewSet, basename="meta-sync-run")

urlpatterns = [
    re_path(r"^webhooks/meta/leadgen/?$", webhooks.leadgen_webhook, name="meta_leadgen_webhook"),
    *router.urls,
]
