"""Shared caches of list API responses, each invalidated by a version its writers bump.

A list's first pages are what every user opens all day; at a million rows building one costs a
few indexed queries and the serialisation of 20 rows (~2–3 ms), while the answer changes only
when a row it shows changes. So a response is cached under its request (path, query string,
host) and the reader's scope (``all`` for managers/admins, the user id for sales), with the
version of its list it was built at; a write bumps the version and every cached page misses.

* The version lives in the cache (``<name>:list-version``, no expiry), so all web processes and
  Celery workers share it — which is why a cache is on only when the cache backend is shared
  (its seconds setting, default 10 with Redis, 0 = off otherwise).
* Writers bump twice: at once (so a test or the same request sees its write) and again when the
  transaction commits (so a page read between the two, from not-yet-committed data, is dropped).
* The seconds setting also bounds how stale a page can be after a write no bump saw.
* The cache being down never fails a list: errors are logged and the page is built as usual.

Users: ``leads.listcache`` (bumped by the lead model, querysets and services) and
``contacts.listcache`` (bumped by every SQL write to the contacts tables).
"""

import hashlib
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse

log = logging.getLogger(__name__)


class ListCache:
    """One list's response cache: ``name`` prefixes its keys (``leads`` → ``leads:list:…``),
    ``seconds_setting`` names the setting with the entries' lifetime (0 = off)."""

    def __init__(self, name: str, seconds_setting: str):
        self.name = name
        self.seconds_setting = seconds_setting
        self.version_key = f"{name}:list-version"

    def seconds(self) -> int:
        return getattr(settings, self.seconds_setting)

    def enabled(self) -> bool:
        return self.seconds() > 0

    def bump(self) -> None:
        """Invalidate every cached page of this list, now and once the current transaction
        commits."""
        if not self.enabled():
            return
        self._incr()
        transaction.on_commit(self._incr)

    def _incr(self) -> None:
        try:
            try:
                cache.incr(self.version_key)
            except ValueError:  # no version yet (first write, or the cache was flushed)
                cache.add(self.version_key, 1, timeout=None)
                cache.incr(self.version_key)
        except Exception:  # the cache is an optimisation; a write never fails because of it
            log.warning("%s list cache: could not bump the version", self.name, exc_info=True)

    def page_key(self, request) -> str:
        """The cache key of one list request: scope (``all`` or ``u<user id>``) and a digest of
        host, path and query string (next/previous links are absolute, so the host matters)."""
        user = request.user
        scope = "all" if user.sees_all else f"u{user.pk}"
        digest = hashlib.sha1(f"{request.get_host()}{request.get_full_path()}".encode()).hexdigest()
        return f"{self.name}:list:{scope}:{digest}"

    def lookup(self, key: str):
        """``(content, version)``: the cached response body for ``key`` if it was built at the
        current version (else None), and that version — read before the page's queries run, so
        a write landing meanwhile makes a stored page stale rather than wrong. The version is
        None when the cache cannot be read (the page is then built and not stored)."""
        found, version = self.lookup_many([key])
        return found.get(key), version

    def lookup_many(self, keys: list[str]) -> tuple[dict, object]:
        """``({key: value}, version)``: those of ``keys`` stored at the current version, and
        that version, in one cache round trip; as :meth:`lookup` for each key."""
        try:
            found = cache.get_many([self.version_key, *keys])
            version = found.get(self.version_key)
            if version is None:
                cache.add(self.version_key, 1, timeout=None)
                return {}, cache.get(self.version_key)
        except Exception:
            log.warning("%s list cache: read failed", self.name, exc_info=True)
            return {}, None
        return {key: entry[1] for key in keys if (entry := found.get(key)) is not None and entry[0] == version}, version

    def put(self, key: str, content: bytes, version) -> None:
        """Store ``content`` (the rendered response body) as built at ``version``."""
        if version is None:
            return
        try:
            cache.set(key, (version, content), timeout=self.seconds())
        except Exception:
            log.warning("%s list cache: write failed", self.name, exc_info=True)

    def memo_key(self, key: str) -> str:
        """The cache key :meth:`memo` stores ``key`` under (``leads`` → ``leads:memo:<key>``),
        for values read and stored at the version by hand (:meth:`lookup_many`, :meth:`put`)."""
        return f"{self.name}:memo:{key}"

    def memo(self, key: str, compute: Callable, enough: Callable | None = None):
        """``compute()``, or the value it gave when stored under ``key`` at the current version:
        for what the list's writes change and many pages read (rollup sums a deep page is found
        with). A stored value ``enough(value)`` rejects is computed again and replaces it (a
        prefix of a result, grown as deeper pages ask for more). Off when the page cache is; the
        value must pickle."""
        if not self.enabled():
            return compute()
        full_key = self.memo_key(key)
        value, version = self.lookup(full_key)
        if value is None or (enough is not None and not enough(value)):
            value = compute()
            self.put(full_key, value, version)
        return value

    def respond(self, view, request, build: Callable):
        """The list response of ``view`` for ``request``: the cached JSON bytes when this page
        was stored at the current version, else ``build()`` (a DRF Response), rendered and
        stored. Other renderers (the browsable API) always build afresh."""
        renderer = request.accepted_renderer
        key = self.page_key(request) if self.enabled() and renderer.format == "json" else None
        if key:
            content, version = self.lookup(key)
            if content is not None:
                return HttpResponse(content, content_type=renderer.media_type)
        response = build()
        if not key:
            return response
        content = renderer.render(response.data, renderer.media_type, view.get_renderer_context())
        self.put(key, content, version)
        return HttpResponse(content, content_type=renderer.media_type)
