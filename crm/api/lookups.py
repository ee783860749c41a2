"""Object lookup shared by the viewsets: a malformed id is just another unknown record."""

import uuid

from django.http import Http404
from django.shortcuts import get_object_or_404


def get_by_uuid_or_404(queryset, pk):
    """``queryset.get(pk=pk)`` for a UUID primary key; Http404 (answered as
    ``<model>_not_found``) when ``pk`` is not a UUID or no visible row has it."""
    try:
        pk = uuid.UUID(str(pk))
    except ValueError:
        raise Http404 from None
    return get_object_or_404(queryset, pk=pk)
