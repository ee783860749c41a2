"""Fixtures: a Graph API replay server wired into the META_* settings."""

import pytest
from celery.signals import before_task_publish
from django.core.cache import cache

from config.celery import app
from tests.campaigns.replay import GraphReplay

ACCOUNT = "act_1234567890"
VERSION = "v21.0"
APP_SECRET = "8d2b3f0c9e7a41d6b5c4a3f2e1d0c9b8"
VERIFY_TOKEN = "meatyhamhock"


@pytest.fixture
def meta_settings(settings):
    settings.META_GRAPH_VERSION = VERSION
    settings.META_ACCESS_TOKEN = "EAABsbCS1iHgBAOldTestToken"
    settings.META_AD_ACCOUNT_ID = "1234567890"
    settings.META_APP_SECRET = APP_SECRET
    settings.META_VERIFY_TOKEN = VERIFY_TOKEN
    settings.META_RETRY_BASE_SECONDS = 0.01
    settings.META_MAX_WAIT_SECONDS = 5
    settings.META_MAX_RETRIES = 3
    settings.META_HTTP_TIMEOUT = 2
    cache.delete("campaigns:meta-sync-lock")
    return settings


@pytest.fixture
def graph(meta_settings):
    """The replay server; META_GRAPH_URL points at it."""
    with GraphReplay() as replay:
        meta_settings.META_GRAPH_URL = replay.url
        yield replay


def path(edge: str) -> str:
    return f"/{VERSION}/{edge}"


def purge_meta_queue() -> None:
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("meta")


def meta_queue_size() -> int:
    """Messages waiting on the broker's ``meta`` queue."""
    with app.connection_for_write() as conn:
        try:
            return conn.default_channel.queue_declare("meta", passive=True).message_count
        except conn.channel_errors:  # never declared: nothing was ever published to it
            return 0


@pytest.fixture
def published():
    """Task messages published to the real broker during the test, as ``(task name, args,
    routing key)`` (Celery's ``before_task_publish`` signal); the ``meta`` queue is emptied
    before and after, so no later worker runs them."""
    sent = []

    def record(sender=None, body=None, routing_key=None, **kwargs):
        sent.append((sender, list(body[0]), routing_key))

    purge_meta_queue()
    before_task_publish.connect(record, weak=False)
    try:
        yield sent
    finally:
        before_task_publish.disconnect(record)
        purge_meta_queue()
