"""A thin Graph API client for the Marketing API and Lead Ads (DESIGN.md decision 14).

Base URL and version come from settings (``META_GRAPH_URL``, default https://graph.facebook.com;
``META_GRAPH_VERSION``), the token and ad account from the environment, so tests point it at a
local server that replays Meta's documented payloads.

What it does for every call:

* sends ``access_token`` (and ``appsecret_proof`` = HMAC-SHA256(app secret, token) when an app
  secret is set, as "Require App Secret" demands);
* reads the usage headers (``X-Business-Use-Case-Usage``, ``X-App-Usage``, ``X-Ad-Account-Usage``)
  and slows down before any counter reaches 100 % (Meta: "stop making API calls" at the limit);
* retries rate limits (codes 4, 17, 32, 613, the 80000 range), transient errors (1, 2,
  ``is_transient``), 5xx answers and timeouts with exponential backoff, waiting at least
  ``estimated_time_to_regain_access`` (minutes) when Meta gives one;
* never retries a token error (190, 102): it raises :class:`MetaTokenError` at once.

A wait longer than ``META_MAX_WAIT_SECONDS`` is not slept in a worker: :class:`MetaRateLimited`
is raised with ``retry_after`` (seconds) so the caller ends the run and tries again later.
"""

import hashlib
import hmac
import json
import logging
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
from django.conf import settings

log = logging.getLogger(__name__)

RATE_LIMIT_CODES = {4, 17, 32, 613}
TRANSIENT_CODES = {1, 2}
TOKEN_CODES = {190, 102}
VERSIONED_PATH = re.compile(r"^.*?/v\d+(?:\.\d+)?/(.+)$")
USAGE_HEADERS = ("x-business-use-case-usage", "x-app-usage", "x-ad-account-usage", "x-fb-ads-insights-throttle")


class MetaError(Exception):
    """A Graph API call failed. ``code``/``subcode`` are Graph's (None for network or non-JSON
    failures), ``http_status`` the HTTP status, ``fbtrace_id`` Meta's trace id for support."""

    def __init__(self, message: str, *, code: int | None = None, subcode: int | None = None,
                 http_status: int | None = None, fbtrace_id: str = "", transient: bool = False,
                 retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.http_status = http_status
        self.fbtrace_id = fbtrace_id
        self.transient = transient
        self.retry_after = retry_after

    @property
    def is_rate_limit(self) -> bool:
        return self.code in RATE_LIMIT_CODES or (self.code is not None and 80000 <= self.code < 81000)

    @property
    def retryable(self) -> bool:
        return self.transient or self.is_rate_limit or self.code in TRANSIENT_CODES or (
            self.http_status is not None and self.http_status >= 500
        )

    def __str__(self) -> str:
        parts = [self.message]
        if self.code is not None:
            parts.append(f"(code {self.code}{f'/{self.subcode}' if self.subcode else ''})")
        return " ".join(parts)


class MetaTokenError(MetaError):
    """The access token is expired, revoked or invalid (code 190/102): no retry helps; someone
    has to put a new token in ``META_ACCESS_TOKEN``."""


class MetaRateLimited(MetaError):
    """Meta asked us to wait longer than we will block a worker; ``retry_after`` is in seconds."""


class MetaNotConfigured(MetaError):
    """``META_ACCESS_TOKEN`` or ``META_AD_ACCOUNT_ID`` is not set."""


@dataclass
class Usage:
    """The highest usage percentage any header reported and the longest wait Meta asked for."""

    percent: float = 0.0
    regain_seconds: float = 0.0
    raw: dict = field(default_factory=dict)


def _json_header(value: str | None):
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def parse_usage(headers) -> Usage:
    """Read Meta's usage headers into one :class:`Usage`.

    ``X-Business-Use-Case-Usage``: ``{business_id: [{type, call_count, total_cputime, total_time,
    estimated_time_to_regain_access (minutes)}]}``; ``X-App-Usage``: ``{call_count, total_cputime,
    total_time}``; ``X-Ad-Account-Usage``: ``{acc_id_util_pct, reset_time_duration (seconds)}``.
    Malformed headers are ignored.
    """
    usage = Usage()

    def take(entry: dict) -> None:
        for key in ("call_count", "total_cputime", "total_time", "acc_id_util_pct", "app_id_util_pct"):
            try:
                usage.percent = max(usage.percent, float(entry.get(key) or 0))
            except (TypeError, ValueError):
                pass
        try:
            minutes = float(entry.get("estimated_time_to_regain_access") or 0)
            usage.regain_seconds = max(usage.regain_seconds, minutes * 60)
        except (TypeError, ValueError):
            pass

    for name in USAGE_HEADERS:
        data = _json_header(headers.get(name))
        if data is None:
            continue
        usage.raw[name] = data
        if name == "x-business-use-case-usage" and isinstance(data, dict):
            for entries in data.values():
                for entry in entries if isinstance(entries, list) else []:
                    if isinstance(entry, dict):
                        take(entry)
        elif isinstance(data, dict):
            take(data)
            if name == "x-ad-account-usage" and usage.percent >= 100:
                try:
                    usage.regain_seconds = max(usage.regain_seconds, float(data.get("reset_time_duration") or 0))
                except (TypeError, ValueError):
                    pass
    return usage


def error_from_response(response: httpx.Response) -> MetaError:
    """The :class:`MetaError` (or subclass) for a non-2xx Graph answer (``{"error": {...}}``)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        text = response.text[:200].strip() or response.reason_phrase
        return MetaError(f"Meta answered HTTP {response.status_code}: {text}", http_status=response.status_code)
    code = err.get("code")
    code = int(code) if isinstance(code, int | str) and str(code).isdigit() else None
    subcode = err.get("error_subcode")
    subcode = int(subcode) if isinstance(subcode, int | str) and str(subcode).isdigit() else None
    kwargs = dict(code=code, subcode=subcode, http_status=response.status_code,
                  fbtrace_id=str(err.get("fbtrace_id") or ""), transient=bool(err.get("is_transient")))
    message = str(err.get("error_user_msg") or err.get("message") or "Unknown Graph API error")
    if code in TOKEN_CODES:
        return MetaTokenError(message, **kwargs)
    return MetaError(message, **kwargs)


class GraphClient:
    """Calls ``{base_url}/{version}/{path}`` with retries; one HTTP connection pool per client.

    ``get(path, params)`` returns the decoded JSON object; ``pages(path, params)`` yields each
    page's ``data`` list, following ``paging.next`` until it is absent (a short page is not the
    end). Raises :class:`MetaTokenError`, :class:`MetaRateLimited` or :class:`MetaError`.
    ``requests`` counts HTTP requests made (retries included).
    """

    def __init__(self, *, access_token: str, app_secret: str = "", base_url: str | None = None,
                 version: str | None = None, timeout: float | None = None, max_retries: int | None = None):
        self.access_token = access_token
        self.app_secret = app_secret
        self.base_url = (base_url or settings.META_GRAPH_URL).rstrip("/")
        self.version = (version or settings.META_GRAPH_VERSION).strip("/")
        self.max_retries = settings.META_MAX_RETRIES if max_retries is None else max_retries
        self.backoff = settings.META_RETRY_BASE_SECONDS
        self.max_wait = settings.META_MAX_WAIT_SECONDS
        self.throttle_pct = settings.META_USAGE_THROTTLE_PCT
        self.requests = 0
        self.last_usage = Usage()
        self._http = httpx.Client(timeout=timeout or settings.META_HTTP_TIMEOUT, follow_redirects=False)

    @classmethod
    def from_settings(cls) -> "GraphClient":
        """A client with ``META_ACCESS_TOKEN``/``META_APP_SECRET``; raises MetaNotConfigured without a token."""
        if not settings.META_ACCESS_TOKEN:
            raise MetaNotConfigured("Meta is not configured: set META_ACCESS_TOKEN (and META_AD_ACCOUNT_ID).")
        return cls(access_token=settings.META_ACCESS_TOKEN, app_secret=settings.META_APP_SECRET)

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def url(self, path: str) -> str:
        return f"{self.base_url}/{self.version}/{path.lstrip('/')}"

    def _auth_params(self) -> dict:
        params = {"access_token": self.access_token}
        if self.app_secret:
            params["appsecret_proof"] = hmac.new(
                self.app_secret.encode(), self.access_token.encode(), hashlib.sha256
            ).hexdigest()
        return params

    def _sleep_for(self, attempt: int, wait_hint: float) -> float:
        """Seconds to wait before retry ``attempt`` (1-based): exponential with jitter, at least
        what Meta asked for (``estimated_time_to_regain_access``)."""
        delay = self.backoff * (2 ** (attempt - 1)) * (1 + random.random() / 4)
        return max(delay, wait_hint)

    def _request(self, url: str, params: dict | None) -> dict:
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            try:
                response = self._http.get(url, params=params)
            except httpx.TimeoutException as exc:
                error = MetaError(f"Meta did not answer in time ({exc.__class__.__name__}).", transient=True)
                usage = Usage()
            except httpx.TransportError as exc:
                error = MetaError(f"Could not reach Meta: {exc}", transient=True)
                usage = Usage()
            else:
                usage = parse_usage(response.headers)
                self.last_usage = usage
                if response.is_success:
                    try:
                        data = response.json()
                    except ValueError:
                        error = MetaError("Meta answered with something that is not JSON.", transient=True,
                                          http_status=response.status_code)
                    else:
                        if not isinstance(data, dict):
                            raise MetaError("Meta answered with JSON that is not an object.")
                        self._throttle(usage)
                        return data
                else:
                    error = error_from_response(response)
            if isinstance(error, MetaTokenError) or not error.retryable:
                raise error
            wait = self._sleep_for(attempt, usage.regain_seconds)
            if wait > self.max_wait:
                raise MetaRateLimited(
                    f"{error.message} Meta asks to wait about {max(1, round(wait / 60))} min; trying again later.",
                    code=error.code, subcode=error.subcode, http_status=error.http_status,
                    fbtrace_id=error.fbtrace_id, retry_after=wait,
                )
            if attempt > self.max_retries:
                error.retry_after = wait
                raise error
            log.warning("Meta %s; retry %d/%d in %.1fs", error, attempt, self.max_retries, wait)
            time.sleep(wait)

    def _throttle(self, usage: Usage) -> None:
        """Slow down while a usage counter is near 100 %, before Meta starts refusing."""
        if usage.percent < self.throttle_pct:
            return
        wait = max(usage.regain_seconds, self.backoff * 4)
        if wait > self.max_wait:
            raise MetaRateLimited(
                f"Meta usage is at {usage.percent:.0f}% of its limit; pausing the sync for about "
                f"{max(1, round(wait / 60))} min.", retry_after=wait,
            )
        log.info("Meta usage at %.0f%%; waiting %.1fs", usage.percent, wait)
        time.sleep(wait)

    def get(self, path: str, params: dict | None = None) -> dict:
        """GET one Graph object or edge page: ``{...}`` as Meta sent it."""
        return self._request(self.url(path), {**(params or {}), **self._auth_params()})

    def pages(self, path: str, params: dict | None = None) -> Iterator[list]:
        """Yield the ``data`` list of each page of an edge, following ``paging.next``.

        ``next`` URLs carry Meta's own host and token; only their query (the cursor) is reused,
        against our base URL, so a replay server and a rotated token both keep working.
        """
        url = self.url(path)
        query: dict = {**(params or {})}
        while True:
            body = self._request(url, {**query, **self._auth_params()})
            data = body.get("data")
            yield data if isinstance(data, list) else []
            next_url = (body.get("paging") or {}).get("next") if isinstance(body.get("paging"), dict) else None
            if not next_url:
                return
            parsed = httpx.URL(next_url)
            query = {k: v for k, v in parsed.params.multi_items() if k not in ("access_token", "appsecret_proof")}
            # Keep our base URL and version; take the edge path from the next link.
            match = VERSIONED_PATH.match(parsed.path)
            if match:
                url = self.url(match.group(1))
