"""Lead and timeline endpoints. Thin: scope the queryset, validate, call a service."""

import uuid

from django.db.models import Q
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from contacts.models import Company, Contact
from crm.api.lookups import get_by_uuid_or_404
from crm.api.pagination import CRMPagination, check_list_query, count_rows, slice_page
from crm.errors import NotFound
from crm.models import Interaction
from leads import listcache, services
from leads.api.serializers import (
    ActionSerializer,
    ActivitySerializer,
    InteractionSerializer,
    LeadConversionSerializer,
    LeadInteractionSerializer,
    LeadSerializer,
    lead_rows,
)
from leads.filters import LeadFilterSet
from leads.models import Lead

Message = inline_serializer("Message", {"message": serializers.CharField()})


class TimelinePagination(CRMPagination):
    """Seed 000 lists a lead's interactions 50 at a time by default."""

    default_limit = 50


class LeadViewSet(viewsets.GenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """``/api/v1/leads``: list (search, filters, ordering, pagination), create, read, update (PUT
    and PATCH both partial, as seeds 000 and 004 describe PUT), soft delete, and the lead's
    timeline as seed 000 interactions and seed 001 activity."""

    serializer_class = LeadSerializer
    filterset_class = LeadFilterSet
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return Lead.objects.visible_to(self.request.user).with_list_related()

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        self.filterset = LeadFilterSet(self.request.query_params, queryset=queryset, request=self.request)
        check_list_query(self.request, self.filterset)
        return self.filterset.qs

    def list(self, request, *args, **kwargs):
        # Cached as rendered JSON (leads/listcache.py); the browsable API renders afresh.
        return listcache.LEADS.respond(self, request, lambda: self.get_paginated_response(
            self.paginate_queryset(self.filter_queryset(Lead.objects.visible_to(request.user)))))

    def count_rows(self, queryset) -> tuple[int, bool]:
        """The list's total from the stage rollups (see LeadFilterSet.count); the timeline
        actions (interactions, activity) page a lead's entries and count them plainly."""
        if self.action != "list":
            return count_rows(queryset)
        return self.filterset.count(queryset, offset=self.paginator.offset)

    def page_rows(self, queryset, limit: int, offset: int, total: int, exact: bool) -> "list[dict]":
        """The list's page as lead dicts: ids from an index (LeadFilterSet.page_ids), then the
        rows in one raw query (lead_rows) — three queries a page, whatever its depth."""
        if self.action != "list":
            return slice_page(queryset, limit, offset)
        return lead_rows(self.filterset.page_ids(queryset, limit, offset, total, exact), using=queryset.db)

    def get_object(self):
        return get_by_uuid_or_404(self.get_queryset(), self.kwargs["pk"])

    @staticmethod
    def _service_kwargs(data: dict) -> dict:
        data = dict(data)
        data.pop("owner_id", None)
        data["allow_duplicate"] = data.get("allow_duplicate") is True  # PATCH skips the default
        return data

    @extend_schema(responses={201: LeadSerializer, 409: OpenApiResponse(description="Possible duplicate")})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lead = services.lead_create(user=request.user, **self._service_kwargs(serializer.validated_data))
        return Response(LeadSerializer(lead).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: LeadSerializer, 409: OpenApiResponse(description="Possible duplicate")})
    def update(self, request, *args, **kwargs):
        lead = self.get_object()
        serializer = self.get_serializer(lead, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        lead = services.lead_update(lead=lead, user=request.user, **self._service_kwargs(serializer.validated_data))
        lead = self.get_queryset().get(pk=lead.pk)
        return Response(LeadSerializer(lead).data)

    @extend_schema(responses={200: LeadSerializer, 409: OpenApiResponse(description="Possible duplicate")})
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    @extend_schema(responses={200: Message})
    def destroy(self, request, *args, **kwargs):
        services.lead_delete(lead=self.get_object(), user=request.user)
        return Response({"message": "Lead deleted"})

    @extend_schema(methods=["GET"], responses=LeadInteractionSerializer(many=True))
    @extend_schema(methods=["POST"], request=LeadInteractionSerializer,
                   responses={201: LeadInteractionSerializer, 404: OpenApiResponse(description="Lead not found")})
    @action(detail=True, methods=["get", "post"], pagination_class=TimelinePagination,
            serializer_class=LeadInteractionSerializer, filterset_class=None)
    def interactions(self, request, pk=None):
        """Seed 000: a lead's interactions, latest first; POST adds one."""
        lead = self.get_object()
        if request.method == "POST":
            serializer = LeadInteractionSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            entry = services.lead_add_interaction(lead=lead, user=request.user, **serializer.validated_data)
            return Response(LeadInteractionSerializer(entry).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(lead.interactions.latest_first())
        return self.get_paginated_response(LeadInteractionSerializer(page, many=True).data)

    @extend_schema(responses=ActivitySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=TimelinePagination,
            serializer_class=ActivitySerializer, filterset_class=None)
    def activity(self, request, pk=None):
        """Seed 001: the lead's activity timeline, latest first."""
        lead = self.get_object()
        page = self.paginate_queryset(lead.interactions.latest_first())
        return self.get_paginated_response(ActivitySerializer(page, many=True).data)

    @extend_schema(request=None, responses={200: LeadConversionSerializer,
                                            409: OpenApiResponse(description="Already converted")})
    @action(detail=True, methods=["post"], serializer_class=LeadConversionSerializer, filterset_class=None)
    def convert(self, request, pk=None):
        """Issue 3: turn the lead into a contact, linked to a matched or new company; a second
        conversion answers 409 ``lead_already_converted``."""
        result = services.lead_convert(lead=self.get_object(), user=request.user)
        return Response(LeadConversionSerializer(result).data)


class TimelineScopeMixin:
    """Timeline entries of leads the user may see (and, with ``include_contacts``, of the
    contacts and companies they may see)."""

    include_contacts = False

    def get_queryset(self):
        user = self.request.user
        scope = Q(lead_id__in=Lead.objects.visible_to(user).values("pk"))
        if self.include_contacts:
            scope |= Q(contact_id__in=Contact.objects.visible_to(user).values("pk"))
            scope |= Q(company_id__in=Company.objects.visible_to(user).values("pk"))
        qs = Interaction.objects.filter(scope).latest_first()
        params = self.request.query_params
        for key in ("contact_id", "company_id") if self.include_contacts else ():
            if params.get(key):
                try:
                    qs = qs.filter(**{key: uuid.UUID(params[key])})
                except ValueError:
                    raise ValidationError({key: [f"Not a valid id: {params[key]!r}."]}) from None
        # A filter value that cannot match anything is a 400, as on the lead list.
        lead_id = params.get("lead_id")
        if lead_id:
            try:
                qs = qs.filter(lead_id=uuid.UUID(lead_id))
            except ValueError:
                raise ValidationError({"lead_id": [f"Not a valid lead id: {lead_id!r}."]}) from None
        kind_param = "kind" if params.get("kind") else "action_type"
        kind = params.get(kind_param)
        if kind:
            kind = kind.strip().lower().replace("-", "_")
            if kind not in Interaction.Kind.values:
                raise ValidationError({kind_param: [f'"{kind}" is not a type. Choose one of: '
                                                    f'{", ".join(Interaction.Kind.values)}.']})
            qs = qs.filter(kind=kind)
        direction = params.get("direction")
        if direction:
            if direction not in Interaction.Direction.values:
                raise ValidationError({"direction": ['Choose "inbound" or "outbound".']})
            qs = qs.filter(direction=direction)
        return qs

    def get_object(self):
        return get_by_uuid_or_404(self.get_queryset(), self.kwargs["pk"])

    def _lead_for(self, lead_id) -> Lead:
        lead = Lead.objects.visible_to(self.request.user).filter(pk=lead_id).first()
        if lead is None:
            raise NotFound("Lead not found", code="lead_not_found")
        return lead


class InteractionViewSet(TimelineScopeMixin, viewsets.GenericViewSet, mixins.ListModelMixin,
                         mixins.RetrieveModelMixin):
    """Seed 003's ``/api/v1/interactions``: the shared timeline, filterable by ``lead_id``,
    ``kind`` and ``direction``; POST adds an entry to a lead."""

    serializer_class = InteractionSerializer
    filterset_class = None
    lookup_value_regex = "[^/]+"

    include_contacts = True

    def create(self, request, *args, **kwargs):
        serializer = InteractionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        lead_id, contact_id, company_id = (data.pop(key, None) for key in ("lead_id", "contact_id", "company_id"))
        user = request.user
        # Each named record must be one the caller may see (else 404, as if it did not exist).
        lead = self._lead_for(lead_id) if lead_id else None
        contact = Contact.objects.visible_to(user).filter(pk=contact_id).first() if contact_id else None
        if contact_id and contact is None:
            raise NotFound("Contact not found", code="contact_not_found")
        company = Company.objects.visible_to(user).filter(pk=company_id).first() if company_id else None
        if company_id and company is None:
            raise NotFound("Company not found", code="company_not_found")
        entry = services.interaction_add(user=user, lead=lead, contact=contact, company=company, **data)
        return Response(InteractionSerializer(entry).data, status=status.HTTP_201_CREATED)


class ActionViewSet(TimelineScopeMixin, viewsets.ModelViewSet):
    """Seed 002's ``/api/v1/actions``: timeline entries as actions, with full CRUD."""

    serializer_class = ActionSerializer
    filterset_class = None
    lookup_value_regex = "[^/]+"

    def create(self, request, *args, **kwargs):
        serializer = ActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        lead = self._lead_for(data.pop("lead_id"))
        entry = services.lead_add_interaction(lead=lead, user=request.user, **data)
        return Response(ActionSerializer(entry).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        entry = self.get_object()
        serializer = ActionSerializer(entry, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("lead_id", None)
        entry = services.interaction_update(entry=entry, user=request.user, **data)
        return Response(ActionSerializer(entry).data)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        services.interaction_delete(entry=self.get_object(), user=request.user)
        return Response({"message": "Action deleted"})
