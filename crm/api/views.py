"""Auth endpoints: ``/auth/login`` (JWT from username or email), ``/auth/refresh``, ``/auth/me``."""

from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularRedocView
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenRefreshView

from crm.api.serializers import LoginSerializer, UserSerializer
from crm.throttling import LoginGuard

TokenPair = inline_serializer(
    "TokenPair",
    {
        "access": serializers.CharField(),
        "refresh": serializers.CharField(),
        "access_token": serializers.CharField(),
        "token_type": serializers.CharField(),
    },
)


class LoginView(APIView):
    """Exchange credentials for a JWT pair."""

    permission_classes = [AllowAny]
    authentication_classes = []

    def get_authenticate_header(self, request):
        # Wrong credentials are a 401 with a challenge; without one DRF would turn them into 403.
        return 'Bearer realm="api"'

    @extend_schema(request=LoginSerializer, responses={200: TokenPair})
    def post(self, request):
        """Repeated failures from one client or for one account are slowed, then blocked for
        a while (429 with Retry-After; crm.throttling.LoginGuard); the password is not checked
        while blocked."""
        data = request.data if hasattr(request.data, "get") else {}
        login = data.get("username_or_email") or data.get("username") or data.get("email") or ""
        guard = LoginGuard(request, str(login))
        wait = guard.blocked_for()
        if wait is not None:
            raise exceptions.Throttled(wait, detail="Too many failed logins; try again later.")
        serializer = LoginSerializer(data=request.data, context={"request": request})
        try:
            serializer.is_valid(raise_exception=True)
        except exceptions.AuthenticationFailed:
            guard.failed()
            raise
        guard.succeeded()
        return Response(serializer.tokens())


class RefreshView(TokenRefreshView):
    """Exchange a refresh token for a new access token."""


class MeView(APIView):
    """The authenticated user."""

    @extend_schema(responses=UserSerializer)
    def get(self, request):
        return Response(UserSerializer(request.user).data)


class RedocView(SpectacularRedocView):
    """ReDoc at ``/redoc`` from the vendored sidecar files only (no web fonts from a CDN)."""

    template_name = "crm/redoc.html"
