"""Calling endpoints (seed 004). Thin: scope the queryset, validate, call a service.

* ``/api/v1/agents`` — agent CRUD (reads: anyone signed in; writes: managers and admins);
* ``/api/v1/calls`` and ``/api/v1/calls/history`` — call history with seed 004's filters;
  ``/api/v1/calls/{id}`` one call;
* ``/api/v1/calls/metrics`` — seed 004's aggregate numbers, same filters;
* ``/api/v1/calls/schedule`` — call a lead now;
* ``/api/v1/leads/{id}/calls`` — one lead's calls;
* ``/api/v1/calls/webhooks/{provider}`` — provider callbacks, verified by signature (403 if not).
"""

import json
import logging

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from calling import providers, services
from calling.api.serializers import AgentSerializer, CallSerializer, MetricsSerializer, ScheduleSerializer
from calling.filters import AgentFilterSet, CallFilterSet
from calling.models import Agent, Call
from crm.api.lookups import get_by_uuid_or_404
from crm.api.pagination import CRMPagination, check_list_query
from crm.api.permissions import IsManagerOrAdmin
from crm.errors import NotFound
from leads.models import Lead

log = logging.getLogger(__name__)

Message = inline_serializer("ScheduleAnswer", {"message": serializers.CharField(),
                                               "call_id": serializers.UUIDField(),
                                               "lead_id": serializers.UUIDField()})
WebhookAnswer = inline_serializer("WebhookAnswer", {"received": serializers.IntegerField(),
                                                    "applied": serializers.IntegerField()})


class AgentViewSet(viewsets.GenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """``/api/v1/agents``: list (``active``, ``provider``, ``search``), create, read, update (PUT
    and PATCH both partial), delete (only an agent without leads or calls)."""

    serializer_class = AgentSerializer
    filterset_class = AgentFilterSet
    queryset = Agent.objects.all()
    lookup_value_regex = "[^/]+"

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [IsAuthenticated()]
        return [IsAuthenticated(), IsManagerOrAdmin()]

    def get_object(self):
        return get_by_uuid_or_404(self.get_queryset(), self.kwargs["pk"])

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        agent = services.agent_create(user=request.user, **serializer.validated_data)
        return Response(AgentSerializer(agent).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        agent = self.get_object()
        serializer = self.get_serializer(agent, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        agent = services.agent_update(agent=agent, user=request.user, **serializer.validated_data)
        return Response(AgentSerializer(agent).data)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    @extend_schema(responses={200: inline_serializer("AgentDeleted", {"message": serializers.CharField()})})
    def destroy(self, request, *args, **kwargs):
        services.agent_delete(agent=self.get_object(), user=request.user)
        return Response({"message": "Agent deleted"})


def filtered_calls(request, queryset, *, paged: bool = True):
    """``queryset`` through :class:`CallFilterSet`, newest first. One 400 names every bad
    filter and, for a ``paged`` list, every bad pagination parameter (check_list_query)."""
    filterset = CallFilterSet(request.query_params, queryset=queryset, request=request)
    if paged:
        check_list_query(request, filterset)
    elif not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.ordered_qs


class CallViewSet(viewsets.GenericViewSet, mixins.RetrieveModelMixin):
    """Calls the user may see (of leads they may see)."""

    serializer_class = CallSerializer
    filterset_class = CallFilterSet
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return Call.objects.visible_to(self.request.user).with_list_related()

    def filter_queryset(self, queryset):
        return queryset  # the actions filter explicitly

    def get_object(self):
        return get_by_uuid_or_404(self.get_queryset(), self.kwargs["pk"])

    def _history(self, request):
        page = self.paginate_queryset(filtered_calls(request, self.get_queryset()))
        return self.get_paginated_response(CallSerializer(page, many=True, context={"request": request}).data)

    def list(self, request, *args, **kwargs):
        """Seed 004's call history (same as ``/calls/history``)."""
        return self._history(request)

    @extend_schema(responses=CallSerializer(many=True))
    @action(detail=False, methods=["get"])
    def history(self, request):
        """Seed 004's ``/calls/history``: filters ``agent_id``, ``outcome``, ``start_date``,
        ``end_date``, ``search``; ``page``/``per_page`` or ``limit``/``offset``."""
        return self._history(request)

    @extend_schema(responses=MetricsSerializer, filters=True)
    @action(detail=False, methods=["get"], pagination_class=None)
    def metrics(self, request):
        """Seed 004's ``/calls/metrics``: filters ``agent_id``, ``start_date``, ``end_date``."""
        calls = filtered_calls(request, Call.objects.visible_to(request.user), paged=False)
        return Response(services.call_metrics(calls, agent_id=request.query_params.get("agent_id") or None))

    @extend_schema(request=ScheduleSerializer,
                   responses={200: Message, 400: OpenApiResponse(description="No agent, call under way"),
                              404: OpenApiResponse(description="Lead not found")})
    @action(detail=False, methods=["post"], pagination_class=None, filterset_class=None,
            serializer_class=ScheduleSerializer)
    def schedule(self, request):
        """Seed 004's ``/calls/schedule``: call the lead now, bypassing its schedule_at, the
        agent's business hours and the attempts limit (not an inactive agent, nor a call
        already under way)."""
        serializer = ScheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lead = Lead.objects.visible_to(request.user).filter(pk=serializer.validated_data["lead_id"]).first()
        if lead is None:
            raise NotFound("Lead not found", code="lead_not_found")
        call = services.call_schedule_now(lead=lead, user=request.user)
        return Response({"message": "Lead scheduled successfully", "call_id": str(call.pk),
                         "lead_id": str(lead.pk)})


class LeadCallsView(APIView):
    """``/api/v1/leads/{id}/calls``: the lead's calls, newest first (same filters as history)."""

    @extend_schema(responses=CallSerializer(many=True))
    def get(self, request, lead_id):
        lead = get_by_uuid_or_404(Lead.objects.visible_to(request.user), lead_id)
        paginator = CRMPagination()
        calls = filtered_calls(request, Call.objects.filter(lead=lead).select_related("lead", "agent"))
        page = paginator.paginate_queryset(calls, request, view=self)
        return paginator.get_paginated_response(CallSerializer(page, many=True, context={"request": request}).data)


class WebhookView(APIView):
    """``POST /api/v1/calls/webhooks/{provider}``: a provider's call events.

    The signature is checked over the raw body before anything is parsed: missing or wrong →
    403 and nothing changes. Each event is applied once (a repeat answers 200 and does
    nothing). Unknown provider → 404; a signed body that is not JSON → 400.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    # Signed by the provider, and a burst of call endings must not be refused: no IP throttle.
    throttle_classes: list = []

    @extend_schema(request=None, responses={200: WebhookAnswer, 403: OpenApiResponse(description="Bad signature")})
    def post(self, request, provider):
        adapter = providers.get(provider)
        if adapter is None or not adapter.uses_webhooks:
            raise NotFound(f"Unknown calling provider {provider!r}.", code="unknown_provider")
        raw = request._request.body
        if not adapter.verify_webhook(raw, request.headers):
            return Response({"detail": "Missing or invalid webhook signature.", "code": "invalid_signature"},
                            status=status.HTTP_403_FORBIDDEN)
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            return Response({"detail": "The body is not JSON.", "code": "invalid_json"},
                            status=status.HTTP_400_BAD_REQUEST)
        events = adapter.parse_webhook(payload)
        applied = sum(1 for event in events if services.call_apply_event(event) is not None)
        return Response({"received": len(events), "applied": applied})
