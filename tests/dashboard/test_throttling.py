"""Rate limits: per user, per API key and per IP (429 + Retry-After, recovery after the
window), and failed logins slowed then blocked for a while, never for good."""

import time

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from crm.apikeys import api_key_create
from tests.conftest import jwt_client

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # UserFactory's
LOGIN = "/api/v1/auth/login"


def set_rates(settings, rate):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"user": rate, "api_key": rate, "anon": rate}}


@pytest.fixture
def low_rates(settings):
    """Two requests a day per user, per key and per IP (the autouse fixture cleared the cache).

    Windows are fixed and start on the period (a day here), so a test's few requests only
    straddle a window boundary, and find their budget reset, if run across midnight UTC (with
    2/s a slow run crossed a second's boundary).
    """
    set_rates(settings, "2/d")


def test_user_over_the_limit_gets_429_with_retry_after_then_recovers(api, settings):
    set_rates(settings, "2/s")
    # Start at the top of a second so the three requests share one window.
    time.sleep(1.02 - time.time() % 1)
    assert [api.get("/api/v1/auth/me").status_code for _ in range(2)] == [200, 200]
    response = api.get("/api/v1/auth/me")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 2
    time.sleep(1.1)
    assert api.get("/api/v1/auth/me").status_code == 200


def test_limits_are_per_user_and_per_key(api, manager_api, low_rates):
    for _ in range(2):
        api.get("/api/v1/auth/me")
    assert api.get("/api/v1/auth/me").status_code == 429
    assert manager_api.get("/api/v1/auth/me").status_code == 200  # another user: own budget

    key = APIClient()
    key.credentials(HTTP_X_API_KEY=api_key_create(name="K", role="manager", created_by=None).key)
    assert [key.get("/api/v1/auth/me").status_code for _ in range(3)] == [200, 200, 429]
    other = APIClient()
    other.credentials(HTTP_X_API_KEY=api_key_create(name="L", role="manager", created_by=None).key)
    assert other.get("/api/v1/auth/me").status_code == 200


def test_anonymous_calls_are_limited_per_ip(anon_api, low_rates):
    codes = [anon_api.post(LOGIN, {}, format="json").status_code for _ in range(3)]
    assert codes == [400, 400, 429]
    elsewhere = APIClient(REMOTE_ADDR="10.0.0.9")
    assert elsewhere.post(LOGIN, {}, format="json").status_code == 400


@pytest.fixture
def login_limits(settings):
    settings.LOGIN_SLOWDOWN_AFTER = 3
    settings.LOGIN_LOCKOUT_AFTER = 5
    settings.LOGIN_LOCKOUT_SECONDS = 2
    settings.LOGIN_IP_SLOWDOWN_AFTER = 100
    settings.LOGIN_IP_LOCKOUT_AFTER = 200


def wrong(client, username="sam"):
    return client.post(LOGIN, {"username": username, "password": "nope"}, format="json")


def test_failed_logins_are_slowed_then_blocked_and_the_real_user_gets_in_afterwards(anon_api, sales_user,
                                                                                     login_limits):
    assert [wrong(anon_api).status_code for _ in range(2)] == [401, 401]
    assert wrong(anon_api).status_code == 401  # the 3rd failure starts the slowdown: 1 s
    slowed = wrong(anon_api)
    assert slowed.status_code == 429 and slowed["Retry-After"] == "1"
    # While blocked even the right password is refused, without being checked.
    blocked = anon_api.post(LOGIN, {"username": "sam", "password": PASSWORD}, format="json")
    assert blocked.status_code == 429 and blocked.json()["code"] == "throttled"
    time.sleep(1.1)
    assert wrong(anon_api).status_code == 401  # 4th failure: 2 s
    time.sleep(2.1)
    assert wrong(anon_api).status_code == 401  # 5th failure: the lockout (2 s here)
    locked = anon_api.post(LOGIN, {"username": "SAM", "password": PASSWORD}, format="json")
    assert locked.status_code == 429 and int(locked["Retry-After"]) == 2
    time.sleep(2.1)
    ok = anon_api.post(LOGIN, {"username": "sam", "password": PASSWORD}, format="json")
    assert ok.status_code == 200 and ok.json()["access"]
    # Success clears the account's failures: the next typo is a plain 401 again.
    assert wrong(anon_api).status_code == 401


def test_an_account_block_does_not_stop_other_accounts(anon_api, sales_user, other_sales_user, login_limits):
    for _ in range(3):
        wrong(anon_api)
    assert wrong(anon_api).status_code == 429
    ok = anon_api.post(LOGIN, {"username": "olga", "password": PASSWORD}, format="json")
    assert ok.status_code == 200


def test_failures_from_one_ip_across_accounts_are_blocked(anon_api, sales_user, settings, login_limits):
    settings.LOGIN_IP_SLOWDOWN_AFTER = 3
    for name in ("a", "b", "c"):
        assert wrong(anon_api, name).status_code == 401
    assert wrong(anon_api, "d").status_code == 429
    # Another client is unaffected.
    ok = APIClient(REMOTE_ADDR="10.0.0.7").post(LOGIN, {"username": "sam", "password": PASSWORD}, format="json")
    assert ok.status_code == 200


def test_the_login_page_is_guarded_too(client, sales_user, login_limits):
    url = reverse("crm:login")
    for _ in range(3):
        assert client.post(url, {"username": "sam", "password": "nope"}).status_code == 200
    blocked = client.post(url, {"username": "sam", "password": PASSWORD})
    assert blocked.status_code == 429 and blocked["Retry-After"] == "1"
    assert b"Too many failed sign-ins" in blocked.content
    assert "_auth_user_id" not in client.session
    time.sleep(1.1)
    ok = client.post(url, {"username": "sam", "password": PASSWORD})
    assert ok.status_code == 302 and client.session["_auth_user_id"] == str(sales_user.pk)


def test_jwt_users_are_throttled_by_user_not_token(sales_user, low_rates):
    first, second = jwt_client(sales_user), jwt_client(sales_user)
    first.get("/api/v1/auth/me")
    second.get("/api/v1/auth/me")
    assert first.get("/api/v1/auth/me").status_code == 429
