"""Campaign endpoints (seed 001 D) and the sync runs. Thin: parse the range, call services."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from campaigns import services
from campaigns.api.serializers import (
    CampaignDetailSerializer,
    CampaignSerializer,
    MetaSyncRunSerializer,
    SyncRequestSerializer,
    campaign_to_dict,
    day_to_dict,
    totals_to_dict,
)
from campaigns.filters import campaign_query, date_range
from campaigns.models import Campaign, MetaSyncRun
from crm.api.lookups import get_by_uuid_or_404

RANGE_PARAMS = [
    OpenApiParameter("startDate", OpenApiTypes.DATE, description="First day (inclusive); also start_date. "
                     "Default: 30 days before endDate."),
    OpenApiParameter("endDate", OpenApiTypes.DATE, description="Last day (inclusive); also end_date. Default: today."),
    OpenApiParameter("start_date", OpenApiTypes.DATE, description="Alias of startDate."),
    OpenApiParameter("end_date", OpenApiTypes.DATE, description="Alias of endDate."),
]
LIST_PARAMS = RANGE_PARAMS + [
    OpenApiParameter("search", str, description="Name contains, or the Meta campaign id; also q."),
    OpenApiParameter("status", str, description="Effective status(es), comma-separated: active, paused, …"),
    OpenApiParameter("objective", str, description="Objective(s): leads, sales, OUTCOME_TRAFFIC, …"),
    OpenApiParameter("ordering", str, description="spend, impressions, clicks, link_clicks, leads, cpl, roas, "
                     "meta_roas, revenue, name, status, objective, created_at; '-' for descending. "
                     "Default -spend. Null CPL/ROAS sort last."),
]


class CampaignViewSet(viewsets.GenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """``/api/v1/campaigns``: seed 001's campaign rows summed over ``startDate``..``endDate``
    (CPL = spend / leads, ROAS = closed attributed revenue / spend, ``meta_roas`` = Meta's purchase
    value / spend; null where the divisor is 0), with a ``totals`` row; ``/{id}`` adds ``daily``."""

    serializer_class = CampaignSerializer
    filterset_class = None  # CampaignFilterSet is applied by hand after the range annotations
    lookup_value_regex = "[^/]+"
    queryset = Campaign.objects.all()

    @extend_schema(parameters=LIST_PARAMS, responses=CampaignSerializer(many=True))
    def list(self, request, *args, **kwargs):
        query = campaign_query(request.query_params)
        self._filtered = query.filtered
        rows = services.campaign_metrics(query.filtered, query.since, query.until).order_by(*query.ordering)
        page = self.paginate_queryset(rows)
        response = self.get_paginated_response([campaign_to_dict(c) for c in page])
        response.data["start_date"] = query.since.isoformat()
        response.data["end_date"] = query.until.isoformat()
        response.data["totals"] = totals_to_dict(services.campaign_totals(query.filtered, query.since, query.until))
        return response

    def count_rows(self, queryset):
        """Count the filtered campaigns, not the annotated GROUP BY (same rows, no sums)."""
        return self._filtered.order_by().count(), True

    @extend_schema(parameters=RANGE_PARAMS, responses=CampaignDetailSerializer)
    def retrieve(self, request, *args, **kwargs):
        since, until = date_range(request.query_params)
        base = get_by_uuid_or_404(Campaign.objects.all(), kwargs["pk"])
        campaign = services.campaign_metrics(Campaign.objects.filter(pk=base.pk), since, until).get()
        body = campaign_to_dict(campaign)
        body["start_date"], body["end_date"] = since.isoformat(), until.isoformat()
        body["daily"] = [day_to_dict(d) for d in services.campaign_daily(campaign, since, until)]
        return Response(body)


SyncQueued = inline_serializer("MetaSyncQueued", {"detail": serializers.CharField(), "code": serializers.CharField()})


class MetaSyncRunViewSet(viewsets.GenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """``/api/v1/meta/sync-runs``: the sync history, newest first; POST (admins) queues a sync now
    (optional ``since``/``until``; default the trailing window)."""

    serializer_class = MetaSyncRunSerializer
    filterset_class = None
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return MetaSyncRun.objects.order_by("-started_at", "-id")

    def get_object(self):
        return get_by_uuid_or_404(self.get_queryset(), self.kwargs["pk"])

    @extend_schema(request=SyncRequestSerializer, responses={202: SyncQueued})
    def create(self, request, *args, **kwargs):
        data = SyncRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.meta_sync_request(user=request.user, **data.validated_data)
        return Response({"detail": "Meta sync queued.", "code": "sync_queued"}, status=status.HTTP_202_ACCEPTED)
