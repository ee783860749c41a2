"""A shared cache of lead-list API responses, invalidated by a version that every lead write bumps.

The list's first pages are what every user opens all day; at 1M leads building one costs a few
indexed queries and the serialisation of 20 rows (~2 ms), while the answer changes only when a
lead (or an owner's name) changes. So a response is cached under its request (path, query
string, host) and the reader's scope (``all`` for managers/admins, the user id for sales), with
the lead-table version it was built at; a write bumps the version and every cached page misses.

* The version lives in the cache (``leads:list-version``, no expiry), so all web processes and
  Celery workers share it — which is why the cache is on only when the cache backend is shared
  (``LEAD_LIST_CACHE_SECONDS``, default 10 with Redis, 0 = off otherwise).
* Writers bump twice: at once (so a test or the same request sees its write) and again when
  the transaction commits (so a page read between the two, from not-yet-committed data, is
  dropped). ``Lead.save``, ``LeadQuerySet.update/bulk_create/delete``, lead deletes, the stage
  rollup (which the CSV import's raw INSERTs go through) and user saves (owner names) all bump.
* ``LEAD_LIST_CACHE_SECONDS`` also bounds how stale a page can be after a write that bypasses
  all of these (raw SQL by hand).
* The cache being down never fails a list: errors are logged and the page is built as usual.
"""

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

log = logging.getLogger(__name__)

VERSION_KEY = "leads:list-version"


def enabled() -> bool:
    return settings.LEAD_LIST_CACHE_SECONDS > 0


def bump() -> None:
    """Invalidate every cached lead list, now and once the current transaction commits."""
    if not enabled():
        return
    _incr()
    transaction.on_commit(_incr)


def _incr() -> None:
    try:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:  # no version yet (first write, or the cache was flushed)
            cache.add(VERSION_KEY, 1, timeout=None)
            cache.incr(VERSION_KEY)
    except Exception:  # the cache is an optimisation; a write never fails because of it
        log.warning("lead list cache: could not bump the version", exc_info=True)


def page_key(request) -> str:
    """The cache key of one list request: scope (``all`` or ``u<user id>``) and a digest of
    host, path and query string (next/previous links are absolute, so the host matters)."""
    user = request.user
    scope = "all" if user.sees_all else f"u{user.pk}"
    digest = hashlib.sha1(f"{request.get_host()}{request.get_full_path()}".encode()).hexdigest()
    return f"leads:list:{scope}:{digest}"


def lookup(key: str):
    """``(content, version)``: the cached response body for ``key`` if it was built at the current
    version (else None), and that version — read before the page's queries run, so a write
    landing meanwhile makes a stored page stale rather than wrong. The version is None when the
    cache cannot be read (the page is then built and not stored)."""
    try:
        found = cache.get_many([VERSION_KEY, key])
        version = found.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, 1, timeout=None)
            return None, cache.get(VERSION_KEY)
    except Exception:
        log.warning("lead list cache: read failed", exc_info=True)
        return None, None
    entry = found.get(key)
    if entry is None or entry[0] != version:
        return None, version
    return entry[1], version


def put(key: str, content: bytes, version) -> None:
    """Store ``content`` (the rendered response body) as built at ``version``."""
    if version is None:
        return
    try:
        cache.set(key, (version, content), timeout=settings.LEAD_LIST_CACHE_SECONDS)
    except Exception:
        log.warning("lead list cache: write failed", exc_info=True)
