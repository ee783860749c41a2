"""Lead pages (``leads:*``). The CSV import pages come from ``leads.import_urls``."""

from django.urls import include, path

from leads import views

app_name = "leads"
urlpatterns = [
    path("", views.LeadListView.as_view(), name="lead_list"),
    path("board/", views.LeadBoardView.as_view(), name="lead_board"),
    path("new/", views.LeadCreateView.as_view(), name="lead_create"),
    path("import/", include("leads.import_urls")),
    path("<uuid:pk>/", views.LeadDetailView.as_view(), name="lead_detail"),
    path("<uuid:pk>/edit/", views.LeadEditView.as_view(), name="lead_edit"),
    path("<uuid:pk>/delete/", views.LeadDeleteView.as_view(), name="lead_delete"),
    path("<uuid:pk>/status/", views.LeadSetStatusView.as_view(), name="lead_set_status"),
    path("<uuid:pk>/interactions/", views.LeadAddInteractionView.as_view(), name="lead_add_interaction"),
    path("<uuid:pk>/convert/", views.LeadConvertView.as_view(), name="lead_convert"),
]
