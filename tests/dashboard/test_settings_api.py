"""Settings (admin only), API keys (hashed, shown once, role, last use, revoke, regenerate),
and the key-rotation command."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from crm.apikeys import api_key_create, hash_key
from crm.models import ApiKey, User
from tests.conftest import jwt_client
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

CONFIG = "/api/v1/settings/config"
REGENERATE = "/api/v1/settings/regenerate-key"
KEYS = "/api/v1/settings/api-keys"


@pytest.fixture
def admin_api(admin_user):
    return jwt_client(admin_user)


def key_client(raw: str, header: str = "authorization") -> APIClient:
    client = APIClient()
    if header == "authorization":
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    else:
        client.credentials(HTTP_X_API_KEY=raw)
    return client


@pytest.mark.parametrize("method, path", [("get", CONFIG), ("post", REGENERATE), ("get", KEYS), ("post", KEYS),
                                          ("get", "/api/v1/settings/webhooks"),
                                          ("get", "/api/v1/settings/webhook-deliveries")])
def test_sales_and_managers_get_403_from_settings(api, manager_api, method, path):
    for client in (api, manager_api):
        response = getattr(client, method)(path, {}, format="json")
        assert response.status_code == 403, (path, response.content)
        assert response.json()["code"] == "permission_denied"
    assert not ApiKey.objects.exists()


def test_config_masks_keys_and_builds_absolute_webhook_urls(admin_api, admin_user, settings):
    settings.META_VERIFY_TOKEN = "meatyhamhock"
    issued = api_key_create(name="Zapier", role="sales", created_by=admin_user)

    response = admin_api.get(CONFIG)

    assert response.status_code == 200
    body = response.json()
    assert issued.key not in response.content.decode()
    assert body["api_key"] == issued.api_key.masked
    assert body["api_key"].startswith(issued.key[:12]) and "•" in body["api_key"]
    assert body["api_keys"][0]["name"] == "Zapier" and body["api_keys"][0]["role"] == "sales"
    meta = body["webhooks"]["meta"]
    assert meta["webhook_url"].startswith("http://testserver/api/v1/")
    assert meta["verify_token_hint"] == "meat…ock" and "meatyhamhock" not in response.content.decode()
    assert set(body["rate_limits"]) == {"user", "api_key", "anon"}
    assert "lead.created" in body["webhook_events"]


def test_keys_are_stored_hashed():
    issued = api_key_create(name="CI", role="manager", created_by=None)
    row = ApiKey.objects.get()
    assert row.key_hash == hash_key(issued.key) and issued.key not in (row.key_hash, row.prefix)
    assert len(issued.key) > 40 and issued.key.startswith("crm_")


@pytest.mark.parametrize("header", ["authorization", "x-api-key"])
def test_a_key_authenticates_with_its_role_and_records_last_use(header, sales_user):
    mine = LeadFactory(owner=sales_user)
    LeadFactory(owner=None)
    issued = api_key_create(name="Integration", role="sales", created_by=None)
    client = key_client(issued.key, header)

    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["role"] == "sales"
    leads = client.get("/api/v1/leads").json()
    assert mine.pk not in {row["id"] for row in leads["results"]}  # a sales key sees own + unassigned only
    assert leads["count"] == 1
    assert client.get(CONFIG).status_code == 403  # and no settings

    issued.api_key.refresh_from_db()
    first_use = issued.api_key.last_used_at
    assert first_use is not None
    client.get("/api/v1/auth/me")
    issued.api_key.refresh_from_db()
    assert issued.api_key.last_used_at == first_use  # written at most once a minute
    ApiKey.objects.filter(pk=issued.api_key.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    client.get("/api/v1/auth/me")
    issued.api_key.refresh_from_db()
    assert issued.api_key.last_used_at > first_use


def test_an_admin_key_may_use_settings():
    issued = api_key_create(name="Ops", role="admin", created_by=None)
    assert key_client(issued.key).get(CONFIG).status_code == 200


def test_a_service_account_cannot_sign_in_or_be_assigned():
    issued = api_key_create(name="Ops", role="admin", created_by=None)
    user = issued.api_key.user
    assert not user.is_active and not user.has_usable_password()
    response = APIClient().post("/api/v1/auth/login", {"username": user.username, "password": ""}, format="json")
    assert response.status_code in (400, 401)


@pytest.mark.parametrize("raw", ["crm_not-a-real-key", "nonsense", "crm_" + "x" * 200])
def test_unknown_keys_are_401(raw):
    response = key_client(raw).get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_api_key"


def test_regenerate_shows_the_new_key_once_and_revokes_the_old(admin_api, admin_user):
    old = api_key_create(name="Frontend", role="manager", created_by=admin_user)

    response = admin_api.post(REGENERATE, {}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["key"].startswith("crm_") and body["revoked_key_id"] == str(old.api_key.pk)
    assert body["name"] == "Frontend" and body["role"] == "manager"
    assert key_client(old.key).get("/api/v1/auth/me").status_code == 401
    assert key_client(body["key"]).get("/api/v1/auth/me").status_code == 200
    config = admin_api.get(CONFIG).json()
    assert body["key"] not in str(config) and config["api_key"] == body["masked_key"]
    assert [k["id"] for k in config["api_keys"]] == [body["id"]]


def test_regenerate_without_any_key_makes_the_first(admin_api):
    body = admin_api.post(REGENERATE + "/", {"role": "sales", "name": "SPA"}, format="json").json()
    assert body["revoked_key_id"] is None and body["role"] == "sales" and body["name"] == "SPA"
    assert ApiKey.objects.active().count() == 1


def test_regenerate_bad_input(admin_api):
    revoked = api_key_create(name="Old", role="manager", created_by=None).api_key
    admin_api.delete(f"{KEYS}/{revoked.pk}")
    assert admin_api.post(REGENERATE, {"id": str(revoked.pk)}, format="json").json()["code"] == "api_key_revoked"
    assert admin_api.post(REGENERATE, {"id": "nope"}, format="json").status_code == 400
    assert admin_api.post(REGENERATE, {"role": "king"}, format="json").status_code == 400
    unknown = "01900000-0000-7000-8000-000000000000"
    assert admin_api.post(REGENERATE, {"id": unknown}, format="json").status_code == 404
    assert ApiKey.objects.active().count() == 0


def test_keys_endpoint_create_list_revoke(admin_api):
    created = admin_api.post(KEYS, {"name": "Zapier", "role": "sales"}, format="json")
    assert created.status_code == 201
    raw = created.json()["key"]
    listed = admin_api.get(KEYS).json()
    assert listed["count"] == 1 and "key" not in listed["results"][0]
    assert admin_api.post(KEYS, {"name": "", "role": "sales"}, format="json").status_code == 400

    revoked = admin_api.delete(f"{KEYS}/{created.json()['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert key_client(raw).get("/api/v1/leads").status_code == 401
    assert admin_api.get(KEYS).json()["count"] == 0
    assert admin_api.get(KEYS, {"include_revoked": "true"}).json()["count"] == 1
    assert admin_api.delete(f"{KEYS}/not-a-uuid").status_code == 404


def test_rotate_api_key_command():
    first = api_key_create(name="Default", role="manager", created_by=None)
    out = StringIO()
    call_command("rotate_api_key", stdout=out)
    lines = out.getvalue().splitlines()
    new_key = lines[1]
    assert new_key.startswith("crm_") and f"Revoked {first.api_key.masked}" in out.getvalue()
    assert key_client(first.key).get("/api/v1/auth/me").status_code == 401
    assert key_client(new_key).get("/api/v1/auth/me").json()["role"] == User.Role.MANAGER

    listing = StringIO()
    call_command("rotate_api_key", "--list", stdout=listing)
    assert new_key not in listing.getvalue() and new_key[:12] in listing.getvalue()
