"""Sign-in and sign-out pages, on Django's auth views."""

from django.contrib.auth import views as auth_views

from crm.forms import LoginForm


class LoginView(auth_views.LoginView):
    """``/login/``: username or email plus password; a signed-in visitor goes straight on to
    ``next`` or the leads list (``LOGIN_REDIRECT_URL``)."""

    template_name = "crm/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """``/logout/`` (POST only, as Django 5 requires): ends the session, back to the login page."""
