"""Dashboard and settings pages, and placeholder pages (``dashboard:coming_soon`` with an area
slug) for areas whose issues have not landed."""

from django.urls import path, re_path

from dashboard import views

app_name = "dashboard"
# Only the known slugs match, so this never swallows other top-level URLs.
_areas = "|".join(views.AREAS)
urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/api-keys/new/", views.api_key_create, name="api_key_create"),
    path("settings/api-keys/<str:pk>/regenerate/", views.api_key_regenerate, name="api_key_regenerate"),
    path("settings/api-keys/<str:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("settings/webhooks/new/", views.webhook_create, name="webhook_create"),
    re_path(r"^settings/webhooks/(?P<pk>[^/]+)/(?P<op>toggle|rotate|delete)/$", views.webhook_action,
            name="webhook_action"),
    path("settings/deliveries/<str:pk>/redeliver/", views.delivery_redeliver, name="delivery_redeliver"),
    re_path(rf"^(?P<area>{_areas})/$", views.coming_soon, name="coming_soon"),
]
