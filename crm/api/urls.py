from django.urls import re_path

from crm.api import views

urlpatterns = [
    re_path(r"^auth/login/?$", views.LoginView.as_view(), name="auth-login"),
    re_path(r"^auth/refresh/?$", views.RefreshView.as_view(), name="auth-refresh"),
    re_path(r"^auth/me/?$", views.MeView.as_view(), name="auth-me"),
]
