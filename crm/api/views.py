"""Auth endpoints: ``/auth/login`` (JWT from username or email), ``/auth/refresh``, ``/auth/me``."""

from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularRedocView
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenRefreshView

from crm.api.serializers import LoginSerializer, UserSerializer

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
        serializer = LoginSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
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
