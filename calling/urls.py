"""Calling pages (``calling:*``): call history with metrics, the queue, a call's transcript,
agents, and the lead page's calls panel."""

from django.urls import path

from calling import views

app_name = "calling"
urlpatterns = [
    path("calls/", views.CallHistoryView.as_view(), name="call_history"),
    path("calls/queue/", views.CallQueueView.as_view(), name="call_queue"),
    path("calls/<uuid:pk>/", views.CallDetailView.as_view(), name="call_detail"),
    path("calls/agents/", views.AgentListView.as_view(), name="agent_list"),
    path("calls/agents/new/", views.AgentCreateView.as_view(), name="agent_create"),
    path("calls/agents/<uuid:pk>/edit/", views.AgentEditView.as_view(), name="agent_edit"),
    path("calls/lead/<uuid:pk>/panel/", views.LeadCallsPanelView.as_view(), name="lead_panel"),
    path("calls/lead/<uuid:pk>/call-now/", views.LeadCallNowView.as_view(), name="lead_call_now"),
]
