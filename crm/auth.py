"""Authentication backend: log in with a username or an email (DESIGN.md decision 8)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class UsernameOrEmailBackend(ModelBackend):
    """Accepts ``username`` that is either the account's username or its email (case-insensitive).

    An email shared by several accounts matches none, so a login is never ambiguous.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        username = username or kwargs.get(get_user_model().USERNAME_FIELD)
        if not username or password is None:
            return None
        users = get_user_model()._default_manager
        user = users.filter(username=username).first()
        if user is None and "@" in username:
            matches = list(users.filter(email__iexact=username)[:2])
            user = matches[0] if len(matches) == 1 else None
        if user is None:
            # Run the hasher anyway so a missing account takes as long as a wrong password.
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
