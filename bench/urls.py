"""``/_bench/`` (only when ``settings.BENCH_ENDPOINTS``): the two ceilings the benchmark measures."""

from django.urls import path

from bench import views

app_name = "bench"

urlpatterns = [
    path("ping", views.ping, name="ping"),
    path("leads-raw", views.leads_raw, name="leads-raw"),
]
