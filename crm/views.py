"""Sign-in and sign-out pages, on Django's auth views."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms.utils import ErrorDict
from django.shortcuts import redirect

from crm.forms import LoginForm
from crm.throttling import LoginGuard


class LoginView(auth_views.LoginView):
    """``/login/``: username or email plus password; a signed-in visitor goes straight on to
    ``next`` or the dashboard (``LOGIN_REDIRECT_URL``).

    Repeated failures from one client or for one account are slowed, then blocked for a while
    (crm.throttling.LoginGuard): the form answers 429 with Retry-After and a message, without
    checking the password.
    """

    template_name = "crm/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        self.guard = LoginGuard(request, request.POST.get("username", ""))
        wait = self.guard.blocked_for()
        if wait is None:
            return super().post(request, *args, **kwargs)
        # An unbound form: nothing is validated, so the password is not checked while blocked.
        form = self.get_form_class()(request, initial={"username": request.POST.get("username", "")})
        message = f"Too many failed sign-ins. Try again in {wait} second{'s' if wait != 1 else ''}."
        form._errors = ErrorDict({NON_FIELD_ERRORS: form.error_class([message], error_class="nonfield")})
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(wait)
        return response

    def form_valid(self, form):
        self.guard.succeeded()
        return super().form_valid(form)

    def form_invalid(self, form):
        if form.data.get("username") and form.data.get("password"):
            self.guard.failed()
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    """``/logout/`` (POST only, as Django 5 requires): ends the session, back to the login page."""


def home(request):
    """``/``: on to ``LOGIN_REDIRECT_URL`` (the dashboard), which asks for a login when needed."""
    return redirect(settings.LOGIN_REDIRECT_URL)
