"""Calling API routes under /api/v1/ (with and without trailing slash, DESIGN.md decision 2)."""

from django.urls import re_path

from calling.api import views
from crm.api.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("agents", views.AgentViewSet, basename="agent")
router.register("calls", views.CallViewSet, basename="call")

urlpatterns = [
    re_path(r"^calls/webhooks/(?P<provider>[^/]+)/?$", views.WebhookView.as_view(), name="call-webhook"),
    re_path(r"^leads/(?P<lead_id>[^/]+)/calls/?$", views.LeadCallsView.as_view(), name="lead-calls"),
    *router.urls,
]
