"""CSV import endpoints (seed 004 section 6). Placeholder until the import work lands."""

from rest_framework import viewsets

urlpatterns = []


class LeadImportViewSet(viewsets.ViewSet):
    pass
