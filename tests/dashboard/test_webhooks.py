"""Outgoing webhooks against a local HTTP server: signed deliveries, retries with backoff,
a target that times out or answers 500, the delivery log, the settings API, and a real worker
delivering what a lead creation queued (never inline)."""

import hashlib
import hmac
import json
import time

import pytest
from celery.contrib.testing.worker import start_worker
from rest_framework.test import APIClient

from config.celery import app
from crm import webhooks
from crm.models import WebhookDelivery, WebhookSubscription
from tests.conftest import jwt_client
from tests.dashboard.webhook_target import WebhookTarget

HOOKS = "/api/v1/settings/webhooks"
DELIVERIES = "/api/v1/settings/webhook-deliveries"


@pytest.fixture
def target():
    with WebhookTarget() as server:
        yield server


@pytest.fixture
def eager(settings):
    """Run queued tasks (and their retries) at once, in this process; no waiting for backoff."""
    old = app.conf.task_always_eager, app.conf.task_eager_propagates
    # Not propagating: eager retries are run by apply() only when the Retry is returned, not raised.
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, False
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.01
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = old


@pytest.fixture
def admin_api(admin_user):
    return jwt_client(admin_user)


def verify(secret: str, received) -> bool:
    """What a receiver does: HMAC-SHA256 over the raw body, compared in constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), received.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received.headers["x-crm-signature"])


def create_lead(client, django_capture_on_commit_callbacks, **body):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/leads", {"name": "Ada Lovelace", **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.django_db
def test_lead_created_is_delivered_signed(target, eager, manager_api, admin_user, django_capture_on_commit_callbacks):
    sub = webhooks.webhook_subscription_create(url=target.route("/hook"), events=["lead.created"], by=admin_user)
    webhooks.webhook_subscription_create(url=target.route("/other"), events=["task.completed"], by=admin_user)
    webhooks.webhook_subscription_create(url=target.route("/paused"), events=["lead.created"], active=False,
                                         by=admin_user)

    lead = create_lead(manager_api, django_capture_on_commit_callbacks, email="ada@example.com")

    [received] = target.requests_to("/hook")
    assert verify(sub.secret, received)
    assert not verify("whsec_wrong", received)
    body = json.loads(received.body)
    assert body["event"] == "lead.created" and body["data"]["id"] == lead["id"]
    assert body["data"]["email"] == "ada@example.com"
    assert received.headers["x-crm-event"] == "lead.created"
    assert received.headers["x-crm-event-id"] == body["id"]
    assert received.headers["content-type"] == "application/json"
    assert abs(int(received.headers["x-crm-timestamp"]) - time.time()) < 60
    assert not target.requests_to("/other") and not target.requests_to("/paused")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.status_code, delivery.attempts) == ("delivered", 200, 1)
    assert delivery.delivered_at is not None and delivery.payload == body


@pytest.mark.django_db
def test_a_500_is_retried_with_the_same_signed_body_until_it_succeeds(target, eager, admin_user, manager_api,
                                                                      django_capture_on_commit_callbacks):
    sub = webhooks.webhook_subscription_create(url=target.route("/flaky", statuses=[500, 502, 200]),
                                               events=["lead.created", "lead.status_changed"], by=admin_user)
    create_lead(manager_api, django_capture_on_commit_callbacks)

    attempts = target.requests_to("/flaky")
    assert len(attempts) == 3
    assert len({a.body for a in attempts}) == 1 and len({a.headers["x-crm-event-id"] for a in attempts}) == 1
    assert all(verify(sub.secret, a) for a in attempts)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.status_code, delivery.attempts, delivery.last_error) == ("delivered", 200, 3, "")


@pytest.mark.django_db
def test_a_target_that_times_out_is_retried_then_marked_failed_without_holding_up_others(
        target, eager, settings, admin_user, manager_api, django_capture_on_commit_callbacks):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    slow = webhooks.webhook_subscription_create(url=target.route("/slow", delay=2), events=["lead.created"],
                                                by=admin_user)
    webhooks.webhook_subscription_create(url=target.route("/fine"), events=["lead.created"], by=admin_user)

    create_lead(manager_api, django_capture_on_commit_callbacks)

    failed = WebhookDelivery.objects.get(subscription=slow)
    assert (failed.status, failed.attempts, failed.status_code) == ("failed", 3, None)
    assert "Timed out after 0.3 s" in failed.last_error and failed.failed_at is not None
    assert len(target.requests_to("/slow")) == 3
    fine = WebhookDelivery.objects.exclude(subscription=slow).get()
    assert fine.status == "delivered" and len(target.requests_to("/fine")) == 1


@pytest.mark.django_db
def test_refused_connections_and_4xx_fail_after_the_attempts(eager, settings, admin_user, target):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    webhooks.webhook_subscription_create(url="http://127.0.0.1:9/closed", events=["task.completed"], by=admin_user)
    webhooks.webhook_subscription_create(url=target.route("/gone", statuses=[410]), events=["task.completed"],
                                         by=admin_user)

    webhooks.webhook_enqueue("task.completed", {"id": "t1", "title": "Call back"})

    rows = {d.subscription.url.rsplit("/", 1)[1]: d for d in WebhookDelivery.objects.select_related("subscription")}
    assert rows["closed"].status == "failed" and rows["closed"].attempts == 2 and "Connect" in rows["closed"].last_error
    assert rows["gone"].status == "failed" and rows["gone"].status_code == 410
    assert rows["gone"].last_error.startswith("HTTP 410")


def test_backoff_doubles(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 10
    delays = [webhooks.retry_delay(n) for n in (1, 2, 3, 4)]
    for delay, expected in zip(delays, (10, 20, 40, 80), strict=True):
        assert expected * 0.9 <= delay <= expected * 1.1


@pytest.mark.django_db
def test_a_finished_delivery_is_not_sent_twice_and_can_be_resent(eager, admin_user, target, admin_api):
    webhooks.webhook_subscription_create(url=target.route("/hook"), events=["lead.converted"], by=admin_user)
    [delivery] = webhooks.webhook_enqueue("lead.converted", {"id": "l1"})
    assert webhooks.webhook_attempt(delivery_id=delivery.pk) is None  # duplicate task: nothing sent
    assert len(target.requests_to("/hook")) == 1

    response = admin_api.post(f"{DELIVERIES}/{delivery.pk}/redeliver")
    assert response.status_code == 202
    delivery.refresh_from_db()
    assert delivery.status == "pending"  # queued after commit; the test transaction never commits


@pytest.mark.django_db
def test_subscriptions_api(admin_api, api, target):
    created = admin_api.post(HOOKS, {"url": target.url("/h"), "events": ["lead.created", "call.completed"],
                                     "name": "Zap"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["events"] == ["call.completed", "lead.created"]
    listed = admin_api.get(HOOKS).json()
    assert listed["count"] == 1 and "secret" not in listed["results"][0]
    assert listed["results"][0]["secret_hint"] == body["secret"][:10] + "…"

    rotated = admin_api.patch(f"{HOOKS}/{body['id']}", {"rotate_secret": True, "active": False}, format="json")
    assert rotated.status_code == 200 and rotated.json()["secret"] != body["secret"]
    assert rotated.json()["active"] is False
    assert admin_api.get(f"{HOOKS}/{body['id']}/secret").json()["secret"] == rotated.json()["secret"]

    for bad in ({"url": "ftp://x", "events": ["lead.created"]}, {"url": target.url("/h"), "events": []},
                {"url": target.url("/h"), "events": ["lead.exploded"]}, {"events": ["lead.created"]}):
        response = admin_api.post(HOOKS, bad, format="json")
        assert response.status_code == 400, bad
        assert response.json()["code"] == "invalid"
    assert WebhookSubscription.objects.count() == 1
    assert api.post(HOOKS, {"url": target.url("/h"), "events": ["lead.created"]}, format="json").status_code == 403
    assert admin_api.delete(f"{HOOKS}/{body['id']}").status_code == 204
    assert admin_api.get(f"{HOOKS}/{body['id']}").status_code == 404


@pytest.mark.django_db
def test_delivery_log_api_filters(eager, admin_user, admin_api, target, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    ok = webhooks.webhook_subscription_create(url=target.route("/ok"), events=["lead.created"], by=admin_user)
    webhooks.webhook_subscription_create(url=target.route("/bad", statuses=[500]), events=["lead.created"],
                                         by=admin_user)
    webhooks.webhook_enqueue("lead.created", {"id": "x"})

    log = admin_api.get(DELIVERIES).json()
    assert log["count"] == 2
    failed = admin_api.get(DELIVERIES, {"status": "failed"}).json()["results"]
    assert len(failed) == 1 and failed[0]["status_code"] == 500 and failed[0]["attempts"] == 1
    assert admin_api.get(DELIVERIES, {"subscription": str(ok.pk)}).json()["results"][0]["status"] == "delivered"
    assert admin_api.get(DELIVERIES, {"status": "exploded"}).status_code == 400


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_what_lead_creation_queued(target, admin_user, manager, settings):
    """Without eager mode: the API answers while the target is still holding the request, so
    the delivery did not run inside the request; the worker completes it."""
    import threading

    gate = threading.Event()
    sub = webhooks.webhook_subscription_create(url=target.route("/gate", gate=gate), events=["lead.created"],
                                               by=admin_user)
    client = jwt_client(manager)
    with start_worker(app, pool="solo", perform_ping_check=False, queues=["default"], shutdown_timeout=30):
        started = time.monotonic()
        response = client.post("/api/v1/leads", {"name": "Grace Hopper"}, format="json")
        assert response.status_code == 201
        assert target.completed == 0  # the target has not answered; the request did not wait for it
        assert WebhookDelivery.objects.get().status == "pending"
        gate.set()
        deadline = time.monotonic() + 30
        while WebhookDelivery.objects.get().status == "pending" and time.monotonic() < deadline:
            time.sleep(0.1)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered", delivery.last_error
    [received] = target.requests_to("/gate")
    assert verify(sub.secret, received) and json.loads(received.body)["data"]["id"] == response.json()["id"]
    assert time.monotonic() - started < 30


@pytest.mark.django_db
def test_anonymous_cannot_reach_settings(anon_api=None):
    assert APIClient().get(HOOKS).status_code == 401
