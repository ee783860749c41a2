"""Campaigns pages (seed 001 D): the table, a campaign's page, sync status and "Sync now",
and the live Lead Ads feed the leads list and board poll."""

from django.urls import path

from campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("campaigns/", views.CampaignListView.as_view(), name="campaign_list"),
    path("campaigns/sync/", views.SyncNowView.as_view(), name="sync_now"),
    path("campaigns/sync/status/", views.SyncStatusView.as_view(), name="sync_status"),
    path("campaigns/live/leads/", views.LiveLeadsView.as_view(), name="live_leads"),
    path("campaigns/<uuid:pk>/", views.CampaignDetailView.as_view(), name="campaign_detail"),
]
