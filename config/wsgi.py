"""WSGI entry point (gunicorn config.wsgi)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# What is loaded by now (settings, apps, models: ~110,000 objects) lives as long as the worker.
# Frozen, it is out of the cyclic collector's sight: a full collection of a list-serving worker
# took ~60 ms every ~1,000 requests (every few seconds under load, with requests queued behind
# it), ~6 ms after (docs/benchmarks.md, 2026-12-07 mid-morning). Python's own advice for servers
# (the gc module's documentation of freeze()).
gc.freeze()
