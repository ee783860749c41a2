"""The CSV import pages, included by ``leads.urls`` at ``/leads/import/`` (``leads:`` namespace)."""

from django.urls import path

from leads import import_views

urlpatterns = [
    path("", import_views.ImportNewView.as_view(), name="import_new"),
    path("<uuid:pk>/", import_views.ImportDetailView.as_view(), name="import_detail"),
    path("<uuid:pk>/progress/", import_views.ImportProgressView.as_view(), name="import_progress"),
    path("<uuid:pk>/errors.csv", import_views.ImportErrorsCSVView.as_view(), name="import_errors_csv"),
]
