"""Dashboard and settings routes under /api/v1/, with and without a trailing slash."""

from django.urls import re_path

from crm.api.routers import OptionalSlashRouter
from dashboard.api import views

router = OptionalSlashRouter()
router.register("settings/api-keys", views.ApiKeyViewSet, basename="api-key")
router.register("settings/webhooks", views.WebhookSubscriptionViewSet, basename="webhook-subscription")
router.register("settings/webhook-deliveries", views.WebhookDeliveryViewSet, basename="webhook-delivery")

urlpatterns = [
    re_path(r"^dashboard/stats/?$", views.DashboardStatsView.as_view(), name="dashboard-stats"),
    re_path(r"^dashboard/charts/revenue/?$", views.RevenueChartView.as_view(), name="dashboard-revenue"),
    re_path(r"^dashboard/charts/sources/?$", views.SourcesChartView.as_view(), name="dashboard-sources"),
    re_path(r"^settings/config/?$", views.SettingsConfigView.as_view(), name="settings-config"),
    re_path(r"^settings/regenerate-key/?$", views.RegenerateKeyView.as_view(), name="settings-regenerate-key"),
    *router.urls,
]
