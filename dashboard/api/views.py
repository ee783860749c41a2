"""Dashboard KPIs and charts (seed 001 A) and settings: API keys, integrations, outgoing
webhooks and their delivery log (seed 001 F). Thin: parse, call ``dashboard.services`` or the
kernel's ``crm.apikeys`` / ``crm.webhooks``, render."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from crm import apikeys, webhooks
from crm.api.lookups import get_by_uuid_or_404
from crm.api.permissions import IsAdminRole
from crm.models import ApiKey, WebhookDelivery, WebhookSubscription
from dashboard import services
from dashboard.api.serializers import (
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    IssuedKeySerializer,
    RegenerateKeySerializer,
    WebhookDeliverySerializer,
    WebhookSubscriptionSecretSerializer,
    WebhookSubscriptionSerializer,
)
from dashboard.filters import WebhookDeliveryFilterSet

RANGE_PARAMETERS = [
    OpenApiParameter("startDate", OpenApiTypes.DATE, description="First day (YYYY-MM-DD); default 29 days "
                     "before endDate"),
    OpenApiParameter("endDate", OpenApiTypes.DATE, description="Last day, inclusive; default today"),
    OpenApiParameter("start_date", OpenApiTypes.DATE, description="Same as startDate"),
    OpenApiParameter("end_date", OpenApiTypes.DATE, description="Same as endDate"),
]
Kpi = inline_serializer("Kpi", {
    "value": serializers.FloatField(), "previous": serializers.FloatField(),
    "change": serializers.FloatField(allow_null=True, help_text="% vs the previous period; null when it was 0"),
    "trend": serializers.ChoiceField(choices=["up", "down", "flat"]),
})
Stats = inline_serializer("DashboardStats", {
    "range": serializers.DictField(),
    "revenue": Kpi, "active_leads": Kpi, "conversion_rate": Kpi, "new_leads": Kpi, "link_clicks": Kpi,
    "calls": Kpi, "answered_calls": Kpi, "pickup_rate": Kpi,
    "pipeline": inline_serializer("PipelineStage", {
        "status": serializers.CharField(), "label": serializers.CharField(), "count": serializers.IntegerField(),
    }, many=True),
})
RevenuePoints = inline_serializer("RevenuePoint", many=True, fields={
    "date": serializers.CharField(help_text="Bucket label (day, week or month)"),
    "value": serializers.FloatField(), "start": serializers.DateField(), "end": serializers.DateField(),
})
SourcePoints = inline_serializer("SourcePoint", many=True,
                                fields={"name": serializers.CharField(), "value": serializers.IntegerField()})


class DashboardStatsView(APIView):
    """``GET /dashboard/stats``: revenue, active leads, conversion rate, link clicks, new leads,
    calls and pickup rate for the range, each with its change against the previous period of
    the same length, and the pipeline by status (definitions in ``dashboard.services``).
    A sales user's figures cover their own and unassigned leads."""

    @extend_schema(parameters=RANGE_PARAMETERS, responses=Stats)
    def get(self, request):
        rng = services.parse_range(request.query_params)
        return Response(services.dashboard_stats(request.user, rng))


class RevenueChartView(APIView):
    """``GET /dashboard/charts/revenue``: revenue per day, week or month of the range, zero-filled."""

    @extend_schema(parameters=RANGE_PARAMETERS, responses=RevenuePoints)
    def get(self, request):
        return Response(services.revenue_series(request.user, services.parse_range(request.query_params)))


class SourcesChartView(APIView):
    """``GET /dashboard/charts/sources``: leads created in the range per source, most first."""

    @extend_schema(parameters=RANGE_PARAMETERS, responses=SourcePoints)
    def get(self, request):
        return Response(services.sources_series(request.user, services.parse_range(request.query_params)))


class SettingsConfigView(APIView):
    """``GET /settings/config`` (admins): masked API keys, the Meta and call-provider webhook
    URLs, the Meta verify-token hint, integration status, outgoing webhooks, rate limits."""

    permission_classes = [IsAdminRole]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(services.settings_config(request.build_absolute_uri))


def _issued(issued, revoked_id=None) -> dict:
    data = IssuedKeySerializer(issued.api_key).data
    data.update(key=issued.key, revoked_key_id=str(revoked_id) if revoked_id else None)
    return data


class RegenerateKeyView(APIView):
    """``POST /settings/regenerate-key`` (admins): a new key, shown in this answer only, replacing
    the key ``id`` (default: the newest active one), which is revoked at once."""

    permission_classes = [IsAdminRole]

    @extend_schema(request=RegenerateKeySerializer, responses={201: IssuedKeySerializer})
    def post(self, request):
        body = RegenerateKeySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        old = None
        if body.validated_data.get("id"):
            old = get_by_uuid_or_404(ApiKey.objects.all(), body.validated_data["id"])
        else:
            old = ApiKey.objects.active().first()
        issued = apikeys.api_key_regenerate(api_key=old, by=request.user, name=body.validated_data.get("name"),
                                            role=body.validated_data.get("role"))
        return Response(_issued(issued, old.pk if old else None), status=status.HTTP_201_CREATED)


class ApiKeyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """``/settings/api-keys`` (admins): list (``?include_revoked=true`` for all), create (the
    key is in the answer once), ``DELETE`` revokes."""

    permission_classes = [IsAdminRole]
    serializer_class = ApiKeySerializer

    def get_queryset(self):
        qs = ApiKey.objects.select_related("created_by")
        if self.action == "list" and self.request.query_params.get("include_revoked") not in ("1", "true"):
            qs = qs.active()
        return qs

    def get_object(self):
        return get_by_uuid_or_404(self.get_queryset(), self.kwargs["pk"])

    @extend_schema(request=ApiKeyCreateSerializer, responses={201: IssuedKeySerializer})
    def create(self, request):
        body = ApiKeyCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        issued = apikeys.api_key_create(**body.validated_data, created_by=request.user)
        return Response(_issued(issued), status=status.HTTP_201_CREATED)

    @extend_schema(responses=ApiKeySerializer)
    def destroy(self, request, pk=None):
        api_key = apikeys.api_key_revoke(api_key=self.get_object(), by=request.user)
        return Response(ApiKeySerializer(api_key).data)


class WebhookSubscriptionViewSet(viewsets.ModelViewSet):
    """``/settings/webhooks`` (admins): outgoing webhook subscriptions. The secret is in the
    answer to create, to an update with ``rotate_secret``, and to ``GET …/{id}/secret``."""

    permission_classes = [IsAdminRole]
    serializer_class = WebhookSubscriptionSerializer
    queryset = WebhookSubscription.objects.all()

    def get_object(self):
        return get_by_uuid_or_404(self.get_queryset(), self.kwargs["pk"])

    @extend_schema(responses={201: WebhookSubscriptionSecretSerializer})
    def create(self, request):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = {k: v for k, v in body.validated_data.items() if k != "rotate_secret"}
        sub = webhooks.webhook_subscription_create(**data, by=request.user)
        return Response(WebhookSubscriptionSecretSerializer(sub).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=WebhookSubscriptionSecretSerializer)
    def update(self, request, pk=None, partial=False):
        sub = self.get_object()
        body = self.get_serializer(sub, data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        sub = webhooks.webhook_subscription_update(subscription=sub, by=request.user, **body.validated_data)
        out = WebhookSubscriptionSecretSerializer if body.validated_data.get("rotate_secret") else self.serializer_class
        return Response(out(sub).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    def destroy(self, request, pk=None):
        webhooks.webhook_subscription_delete(subscription=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=WebhookSubscriptionSecretSerializer)
    @action(detail=True, methods=["get"])
    def secret(self, request, pk=None):
        return Response(WebhookSubscriptionSecretSerializer(self.get_object()).data)


class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """``/settings/webhook-deliveries`` (admins): the delivery log, newest first, filtered by
    ``subscription``, ``status`` and ``event``; ``POST …/{id}/redeliver`` sends one again."""

    permission_classes = [IsAdminRole]
    serializer_class = WebhookDeliverySerializer
    filterset_class = WebhookDeliveryFilterSet
    queryset = WebhookDelivery.objects.select_related("subscription").order_by("-created_at", "-id")

    def get_object(self):
        return get_by_uuid_or_404(self.get_queryset(), self.kwargs["pk"])

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        delivery = webhooks.webhook_redeliver(delivery=self.get_object(), by=request.user)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
