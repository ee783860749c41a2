"""CSV import endpoints (seed 004 section 6; DESIGN.md decision 12).

* ``POST /api/v1/leads/csv-import`` (multipart ``file``; ``agent_id``, ``owner``, ``source``,
  ``region`` as query parameters or form fields) records a job and answers 202 with it; the
  ``leads.import_leads_csv`` task does the work. With ``?wait=true`` a file of at most
  :data:`~leads.imports.WAIT_MAX_ROWS` rows is imported inside the request and the answer is 200
  with seed 004's body (``success_count``, ``error_count``, ``errors``, ``total_processed``)
  plus the job's other fields; a bigger file is queued as without ``wait``.
* ``GET /api/v1/imports`` lists the user's jobs (managers and admins: everyone's), newest first.
* ``GET /api/v1/imports/{id}`` gives status, progress, counts and the first 100 row errors.
* ``GET /api/v1/imports/{id}/errors.csv`` downloads every row error as ``row,error``.

``urlpatterns`` is mounted before the router so ``leads/csv-import`` is not read as a lead id.
"""

from django.db import OperationalError
from django.http import StreamingHttpResponse
from django.urls import re_path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, parsers, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.formats import iso_utc
from crm.api.lookups import get_by_uuid_or_404
from leads import imports
from leads.models import LeadImport


def import_to_dict(job: LeadImport, request=None, *, errors: list[dict] | None = None) -> dict:
    """A job as JSON-ready data: seed 004's four fields, progress, options and timestamps.

    ``errors`` (the first 100 row errors) is included only when given: the list leaves it out
    to stay one query per page.
    """
    errors_url = reverse("api:import-errors-csv", kwargs={"pk": job.pk})
    detail_url = reverse("api:import-detail", kwargs={"pk": job.pk})
    if request is not None:
        errors_url, detail_url = request.build_absolute_uri(errors_url), request.build_absolute_uri(detail_url)
    body = {
        "id": str(job.pk),
        "url": detail_url,
        "status": job.status,
        "file_name": job.original_name,
        "progress": {"rows_done": job.processed_rows, "rows_total": job.total_rows, "percent": job.progress},
        "total_rows": job.total_rows,
        "processed_rows": job.processed_rows,
        "success_count": job.success_count,
        "error_count": job.error_count,
        "total_processed": job.success_count + job.error_count,
    }
    if errors is not None:
        body["errors"] = errors
    body.update({
        "errors_url": errors_url,
        "failure_reason": job.failure_reason or None,
        "owner_id": job.owner_id,
        "agent_id": str(job.agent_id) if job.agent_id else None,
        "source": job.source,
        "region": job.region or None,
        "created_by_id": job.created_by_id,
        "created_at": iso_utc(job.created_at),
        "started_at": iso_utc(job.started_at),
        "finished_at": iso_utc(job.finished_at),
    })
    return body


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="1-based CSV row; the header is row 1.")
    error = serializers.CharField()


class ImportProgressSerializer(serializers.Serializer):
    rows_done = serializers.IntegerField()
    rows_total = serializers.IntegerField()
    percent = serializers.FloatField()


class LeadImportSerializer(serializers.Serializer):
    """Read-only shape of an import job (documentation; rendering is :func:`import_to_dict`)."""

    id = serializers.UUIDField()
    url = serializers.URLField()
    status = serializers.ChoiceField(choices=LeadImport.Status.choices)
    file_name = serializers.CharField()
    progress = ImportProgressSerializer()
    total_rows = serializers.IntegerField()
    processed_rows = serializers.IntegerField()
    success_count = serializers.IntegerField()
    error_count = serializers.IntegerField()
    total_processed = serializers.IntegerField()
    errors = ImportErrorSerializer(many=True, required=False, help_text="First 100 row errors (detail only).")
    errors_url = serializers.URLField(help_text="CSV of every row error.")
    failure_reason = serializers.CharField(allow_null=True)
    owner_id = serializers.IntegerField(allow_null=True)
    agent_id = serializers.UUIDField(allow_null=True)
    source = serializers.CharField()
    region = serializers.CharField(allow_null=True)
    created_by_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, instance):
        return import_to_dict(instance, self.context.get("request"))


class ImportUploadSerializer(serializers.Serializer):
    """The multipart body of ``POST /leads/csv-import`` (documentation only)."""

    file = serializers.FileField(help_text="The CSV: UTF-8 (with or without BOM) or Windows-1252; , ; or tab.")
    agent_id = serializers.UUIDField(required=False, help_text="Calling agent for every imported lead.")
    owner = serializers.CharField(required=False, help_text="User id owning the leads (default: you; "
                                  "'unassigned' for nobody). Sales users may name only themselves.")
    source = serializers.CharField(required=False, help_text="Source for rows without one.")
    region = serializers.CharField(required=False, help_text="Country for phones without a country code.")


class CSVRenderer(renderers.BaseRenderer):
    """Lets ``Accept: text/csv`` reach the errors download; error bodies are sent as JSON text."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, str | bytes):
            return data
        return renderers.JSONRenderer().render(data)


_FLAG_TRUE = ("1", "true", "yes", "on")
_OPTION_PARAMS = [
    OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY, required=False, description=desc)
    for name, desc in (
        ("agent_id", "Calling agent (UUID) for every imported lead."),
        ("owner", "Owner user id (default: you; 'unassigned' for nobody)."),
        ("source", "Source for rows that have none."),
        ("region", "ISO country code for phones written without a country code."),
        ("wait", f"true: import a file of at most {imports.WAIT_MAX_ROWS} rows in the request (200)."),
    )
]


class LeadCSVImportView(APIView):
    """``POST /api/v1/leads/csv-import``: upload a CSV of leads (seed 004 section 6)."""

    parser_classes = [parsers.MultiPartParser, parsers.FormParser]

    def _option(self, request, *names):
        for name in names:
            value = request.query_params.get(name)
            if value in (None, ""):
                value = request.data.get(name)
            if value not in (None, ""):
                return value
        return None

    @extend_schema(
        operation_id="leads_csv_import",
        request={"multipart/form-data": ImportUploadSerializer},
        parameters=_OPTION_PARAMS,
        responses={
            202: OpenApiResponse(LeadImportSerializer, description="Queued; poll the job's url."),
            200: OpenApiResponse(LeadImportSerializer, description="With wait=true: imported in the request."),
            400: OpenApiResponse(description="Not a CSV, no header, too big, bad owner/agent_id/region."),
        },
    )
    def post(self, request):
        upload = request.FILES.get("file")
        wait = str(request.query_params.get("wait") or request.data.get("wait") or "").lower() in _FLAG_TRUE
        job = imports.import_create(
            user=request.user,
            file=upload,
            owner=imports.parse_owner(self._option(request, "owner", "owner_id")),
            agent_id=self._option(request, "agent_id"),
            source=self._option(request, "source"),
            region=self._option(request, "region"),
            enqueue=not wait,
        )
        if wait:
            try:
                rows = imports.import_count_rows(job, limit=imports.WAIT_MAX_ROWS)
            except imports.ImportFileError:
                rows = imports.WAIT_MAX_ROWS + 1  # unreadable further on: the worker records why
            if rows <= imports.WAIT_MAX_ROWS:
                try:
                    finished = imports.import_run(job.pk)
                except OperationalError:
                    finished = None  # the job went back to the queue: a worker finishes it
                if finished is not None and finished.is_finished:
                    body = import_to_dict(finished, request, errors=imports.import_errors(finished))
                    return Response(body, status=status.HTTP_200_OK)
            imports.import_enqueue(job)
            job.refresh_from_db()
        return Response(import_to_dict(job, request), status=status.HTTP_202_ACCEPTED)


class LeadImportViewSet(viewsets.GenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """``/api/v1/imports``: the user's CSV import jobs (managers and admins see all).

    ``?status=queued|running|completed|failed`` filters the list.
    """

    serializer_class = LeadImportSerializer
    filterset_class = None
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        qs = imports.imports_visible_to(self.request.user).order_by("-created_at", "-id")
        wanted = self.request.query_params.get("status")
        if wanted:
            qs = qs.filter(status__in=[s.strip() for s in wanted.split(",")])
        return qs

    def get_object(self):
        return get_by_uuid_or_404(imports.imports_visible_to(self.request.user), self.kwargs["pk"])

    @extend_schema(parameters=[OpenApiParameter("status", OpenApiTypes.STR, OpenApiParameter.QUERY,
                                                description="queued, running, completed or failed")])
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([import_to_dict(job, request) for job in page])

    def retrieve(self, request, *args, **kwargs):
        job = self.get_object()
        return Response(import_to_dict(job, request, errors=imports.import_errors(job)))

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"], url_path=r"errors\.csv", url_name="errors-csv",
            renderer_classes=[renderers.JSONRenderer, CSVRenderer])
    def errors_csv(self, request, pk=None):
        """Every row error of the job as CSV (``row,error``), in row order."""
        job = self.get_object()
        response = StreamingHttpResponse(imports.import_errors_csv(job), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
        return response


urlpatterns = [
    re_path(r"^leads/csv-import/?$", LeadCSVImportView.as_view(), name="lead-csv-import"),
]
