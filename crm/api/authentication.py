"""JWT authentication that does not read the users table on every request, and API keys.

simplejwt loads the user by id for each call; at a thousand list requests a second that query
is a fifth of the work. Users are kept in a small per-process cache for ``TTL`` seconds, cleared
in this process whenever a user is saved or deleted, so a deactivated account or a role change
takes effect here at once and in other processes within ``TTL`` seconds. A verified access
token is remembered until its ``exp`` (a token cannot change; an expired one is checked again,
and refused).
"""

import time

from django.db.models.signals import post_delete, post_save
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework_simplejwt.authentication import JWTAuthentication

TTL = 30.0
_cache: dict[str, tuple[float, object]] = {}
# Access tokens already verified here, until they expire: a client sends the same token with
# every call, and checking its signature and claims again is a tenth of a list request.
_tokens: dict[bytes, tuple[float, object]] = {}


def _forget(sender, instance=None, **kwargs):
    _cache.clear()


class CachedJWTAuthentication(JWTAuthentication):
    """``Authorization: Bearer <access token>``; raises AuthenticationFailed (401) when invalid."""

    def get_validated_token(self, raw_token):
        hit = _tokens.get(raw_token)
        if hit and hit[0] > time.time():
            return hit[1]
        token = super().get_validated_token(raw_token)  # raises InvalidToken (401)
        if len(_tokens) > 10_000:
            _tokens.clear()
        _tokens[raw_token] = (float(token.get("exp", 0)), token)
        return token

    def get_user(self, validated_token):
        key = str(validated_token.get("user_id"))
        hit = _cache.get(key)
        now = time.monotonic()
        if hit and hit[0] > now:
            return hit[1]
        user = super().get_user(validated_token)
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[key] = (now + TTL, user)
        return user


def connect_signals(user_model) -> None:
    post_save.connect(_forget, sender=user_model, dispatch_uid="crm.jwt_cache_save")
    post_delete.connect(_forget, sender=user_model, dispatch_uid="crm.jwt_cache_delete")


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Api-Key <key>`` or ``X-API-Key: <key>`` (DESIGN.md decision 8).

    The request then acts as the key's service account (its role decides what it sees) and
    ``request.auth`` is the :class:`crm.models.ApiKey`. An unknown or revoked key is a 401;
    no key at all lets the next authentication class try.
    """

    keyword = "Api-Key"

    def authenticate(self, request):
        from crm.apikeys import api_key_authenticate

        raw = request.META.get("HTTP_X_API_KEY", "")
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not raw and header:
            parts = header.split()
            if len(parts) != 2 or parts[0].lower() != self.keyword.lower():
                return None  # a Bearer token or something else: not ours
            raw = parts[1]
        if not raw:
            return None
        api_key = api_key_authenticate(raw.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.", "invalid_api_key")
        return api_key.user, api_key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class CachedJWTScheme(SimpleJWTScheme):
    """OpenAPI: the cached JWT class is simplejwt's bearer scheme."""

    target_class = "crm.api.authentication.CachedJWTAuthentication"


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """OpenAPI: ``X-API-Key: <key>`` (``Authorization: Api-Key <key>`` works too)."""

    target_class = "crm.api.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-API-Key",
                "description": "An API key from Settings; also accepted as `Authorization: Api-Key <key>`."}
