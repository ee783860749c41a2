"""Rate limits (seed 003 "rate limiting", Redis-backed in production via the cache).

* API requests: DRF throttles counting in the cache per user (``user`` scope), per API key
  (``api_key`` scope) and per client IP for anonymous calls (``anon`` scope). Rates come from
  ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (env ``THROTTLE_USER``, ``THROTTLE_API_KEY``,
  ``THROTTLE_ANON``) and are read per request, so a changed setting takes effect at once.
  Over the limit: 429 ``throttled`` with ``Retry-After`` (seconds to the end of the window).
  Each scope counts requests in fixed windows of the rate's period (:class:`WindowThrottle`):
  one Redis round trip per request whatever the rate, where DRF's own throttles read and
  rewrite a list of every request's timestamp in the period (60,000 entries at 1,000/s).
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
from rest_framework.throttling import BaseThrottle

from crm.cache import incr_counter


def _is_api_key(request) -> bool:
    from crm.models import ApiKey

    return isinstance(getattr(request, "auth", None), ApiKey)


class WindowThrottle(BaseThrottle):
    """At most N requests per fixed window of the rate's period ("100/minute": windows start on
    the minute), counted with one atomic increment in the cache.

    A client may send up to 2N across a window boundary — the usual trade of a fixed window (as
    GitHub's API limits do) for O(1) work per request. Subclasses set ``scope`` and
    ``ident_for(request)`` (None: not counted by this scope). The rate is read from the live
    settings on every request (``DEFAULT_THROTTLE_RATES[scope]``; empty turns the scope off).
    """

    scope = ""
    periods = {"s": 1, "m": 60, "h": 3600, "d": 86400}

    def ident_for(self, request):
        """Who the request counts against in this scope (a user id, key id, IP), or None."""
        raise NotImplementedError

    def parse_rate(self) -> tuple[int, int] | None:
        """``(requests, period in seconds)`` for this scope, or None when it is off."""
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        if not rate:
            return None
        num, period = rate.split("/")
        return int(num), self.periods[period[0]]

    def allow_request(self, request, view):
        rate = self.parse_rate()
        ident = self.ident_for(request) if rate else None
        if ident is None:
            return True
        num, period = rate
        now = time.time()
        window = int(now // period)
        count = incr_counter(cache, f"throttle:{self.scope}:{ident}:{window}", period + 1)
        self.wait_seconds = (window + 1) * period - now
        return count <= num

    def wait(self):
        return self.wait_seconds


class UserThrottle(WindowThrottle):
    """Per signed-in user (JWT or session); anonymous calls and API keys are counted elsewhere."""

    scope = "user"

    def ident_for(self, request):
        user = request.user
        if not (user and user.is_authenticated) or _is_api_key(request):
            return None
        return user.pk


class ApiKeyThrottle(WindowThrottle):
    """Per API key (``X-API-Key`` / ``Authorization: Api-Key``)."""

    scope = "api_key"

    def ident_for(self, request):
        return request.auth.pk if _is_api_key(request) else None


class AnonThrottle(WindowThrottle):
    """Per client IP for requests without credentials (login, webhooks, schema)."""

    scope = "anon"

    def ident_for(self, request):
        user = request.user
        if user and user.is_authenticated:
            return None
        return client_ip(request)


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
