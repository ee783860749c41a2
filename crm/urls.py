"""Sign in, sign out, and ``/`` (which sends people to the leads list)."""

from django.urls import path
from django.views.generic import RedirectView

from crm import views

app_name = "crm"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="leads:lead_list", permanent=False), name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
]
