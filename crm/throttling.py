"""Rate limits (seed 003 "rate limiting", Redis-backed in production via the cache).

* API requests: DRF throttles counting in the cache per user (``user`` scope), per API key
  (``api_key`` scope) and per client IP for anonymous calls (``anon`` scope). Rates come from
  ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (env ``THROTTLE_USER``, ``THROTTLE_API_KEY``,
  ``THROTTLE_ANON``) and are read per request, so a changed setting takes effect at once.
  Over the limit: 429 ``throttled`` with ``Retry-After``.
* Logins (:class:`LoginGuard`): failed logins are counted per client IP and per account name.
  From ``LOGIN_SLOWDOWN_AFTER`` failures on (``LOGIN_IP_SLOWDOWN_AFTER`` for an IP), each further
  failure blocks that key for a delay doubling from 1 s; at ``LOGIN_LOCKOUT_AFTER``
  (``LOGIN_IP_LOCKOUT_AFTER``) failures it is blocked for
  ``LOGIN_LOCKOUT_SECONDS``. A blocked key answers 429 with ``Retry-After`` without checking the
  password. Every block expires (never a permanent lockout), counters forget after
  ``LOGIN_FAILURE_WINDOW_SECONDS``, and a successful login clears the account's counter.
"""

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, BaseThrottle, SimpleRateThrottle, UserRateThrottle


def _rate(scope: str) -> str | None:
    # DRF binds THROTTLE_RATES when the class is defined; read the live settings instead.
    return api_settings.DEFAULT_THROTTLE_RATES.get(scope) or None


def _is_api_key(request) -> bool:
    from crm.models import ApiKey

    return isinstance(getattr(request, "auth", None), ApiKey)


class UserThrottle(UserRateThrottle):
    """Per signed-in user (JWT or session); anonymous calls and API keys are counted elsewhere."""

    scope = "user"

    def get_rate(self):
        return _rate(self.scope)

    def get_cache_key(self, request, view):
        user = request.user
        if not (user and user.is_authenticated) or _is_api_key(request):
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}


class ApiKeyThrottle(SimpleRateThrottle):
    """Per API key (``X-API-Key`` / ``Authorization: Api-Key``)."""

    scope = "api_key"

    def get_rate(self):
        return _rate(self.scope)

    def get_cache_key(self, request, view):
        if not _is_api_key(request):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class AnonThrottle(AnonRateThrottle):
    """Per client IP for requests without credentials (login, webhooks, schema)."""

    scope = "anon"

    def get_rate(self):
        return _rate(self.scope)


def client_ip(request) -> str:
    """The client's address as DRF's throttles see it (honours ``NUM_PROXIES``)."""
    return BaseThrottle().get_ident(request)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class LoginGuard:
    """Slows and then blocks repeated failed logins per client IP and per account name.

    Use: ``wait = guard.blocked_for()`` before checking a password (answer 429 with
    ``Retry-After: wait`` when it is not None), then ``guard.failed()`` or ``guard.succeeded()``.
    """

    def __init__(self, request, login: str):
        # (cache key, failures before slowing, failures before the lockout). An IP may be an
        # office behind one NAT, so it gets more room than a single account.
        self.limits = [(f"login:ip:{_digest(client_ip(request) or '-')}",
                        settings.LOGIN_IP_SLOWDOWN_AFTER, settings.LOGIN_IP_LOCKOUT_AFTER)]
        self.account_key = f"login:acct:{_digest(login.strip().lower())}" if login else None
        if self.account_key:
            self.limits.append((self.account_key, settings.LOGIN_SLOWDOWN_AFTER, settings.LOGIN_LOCKOUT_AFTER))
        self.keys = [key for key, _, _ in self.limits]

    def blocked_for(self) -> int | None:
        """Seconds until a new attempt is allowed, or None when it is allowed now."""
        now = time.time()
        until = [v for v in cache.get_many([f"{k}:until" for k in self.keys]).values() if v]
        wait = max(until, default=0) - now
        return math.ceil(wait) if wait > 0 else None

    def failed(self) -> None:
        """Count a failed attempt; block a key that has failed too often (doubling delay, then a lockout)."""
        lockout, window = settings.LOGIN_LOCKOUT_SECONDS, settings.LOGIN_FAILURE_WINDOW_SECONDS
        for key, soft, hard in self.limits:
            cache.add(f"{key}:n", 0, timeout=max(window, lockout))
            try:
                n = cache.incr(f"{key}:n")
            except ValueError:  # expired between add and incr
                cache.set(f"{key}:n", 1, timeout=max(window, lockout))
                n = 1
            if n >= hard:
                delay = lockout
            elif n >= soft:
                delay = min(2 ** (n - soft), lockout)
            else:
                continue
            cache.set(f"{key}:until", time.time() + delay, timeout=math.ceil(delay))

    def succeeded(self) -> None:
        """The real user got in: forget the account's failures (the IP's stay, so one valid
        account cannot be used to reset guessing at others)."""
        if self.account_key:
            cache.delete_many([f"{self.account_key}:n", f"{self.account_key}:until"])
