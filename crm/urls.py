"""Sign in, sign out, and ``/`` (which sends people to ``LOGIN_REDIRECT_URL``, the dashboard)."""

from django.urls import path

from crm import views

app_name = "crm"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
]
