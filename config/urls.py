"""URLs: the pages, ``/admin/``, ``/api/v1/`` (with and without trailing slashes), the OpenAPI
schema at ``/api/openapi.json`` with Swagger UI at ``/docs`` and ReDoc at ``/redoc``."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from crm.api.views import RedocView

# Each app serves its own routes; dependencies point one way (DESIGN.md "Layout").
API_APPS = ("crm", "contacts", "leads", "tasks", "campaigns", "calling", "dashboard")
api_v1 = [path("", include(f"{app}.api.urls")) for app in API_APPS]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    re_path(r"^api/openapi\.json$", SpectacularJSONAPIView.as_view(), name="openapi-schema"),
    re_path(r"^docs/?$", SpectacularSwaggerView.as_view(url_name="openapi-schema"), name="swagger-ui"),
    re_path(r"^redoc/?$", RedocView.as_view(url_name="openapi-schema"), name="redoc"),
    path("", include("crm.urls")),
    path("leads/", include("leads.urls")),
    path("", include("contacts.urls")),
    path("", include("tasks.urls")),
    path("", include("campaigns.urls")),
    path("", include("calling.urls")),
    path("", include("dashboard.urls")),
]

if settings.BENCH_ENDPOINTS:  # manage.py bench's ceiling views, off unless BENCH_ENDPOINTS=true
    urlpatterns.insert(0, path("_bench/", include("bench.urls")))
