"""Dashboard and settings pages. (The "coming soon" placeholders are gone: every area they stood
for has its own pages now.)"""

from django.urls import path, re_path

from dashboard import views

app_name = "dashboard"
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
]
