"""The Celery application.

Broker: ``CELERY_BROKER_URL`` (or ``REDIS_URL``) when set; otherwise the kombu filesystem
transport under ``var/celery``, so the embedded default runs a real worker and beat with no server.
Every periodic job is declared in ``config/schedule.py``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
