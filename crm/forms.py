"""Forms of the shared kernel's pages."""

from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    """Django's login form, labelled for what the auth backend accepts: a username or an email
    (``crm.auth.UsernameOrEmailBackend`` does the matching)."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "Username or email"
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
