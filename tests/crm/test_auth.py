"""Login with a username or an email (JWT), refresh, /auth/me, session auth, and createsuperuser."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from crm.ids import uuid7
from crm.models import User
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
PASSWORD = "correct-horse-battery"  # UserFactory's


@pytest.fixture
def carol(db):
    return UserFactory(username="carol", email="Carol@Example.com", role=User.Role.MANAGER)


def login(client, **body):
    return client.post(LOGIN, body, format="json")


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.mark.parametrize(
    "body",
    [
        {"username_or_email": "carol"},
        {"username_or_email": "carol@example.com"},
        {"username_or_email": "CAROL@EXAMPLE.COM"},
        {"username": "carol"},
        {"username": "Carol@Example.com"},
        {"email": "carol@example.com"},
    ],
)
def test_login_with_username_or_email_returns_working_tokens(anon_api, carol, body):
    response = login(anon_api, password=PASSWORD, **body)

    assert response.status_code == 200, response.content
    tokens = response.json()
    assert tokens["token_type"] == "bearer"
    assert tokens["access"] == tokens["access_token"]
    me = bearer(tokens["access"]).get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["username"] == "carol"
    assert me.json()["role"] == "manager"


@pytest.mark.parametrize("path", [LOGIN, LOGIN + "/"])
def test_login_path_with_and_without_slash(anon_api, carol, path):
    assert anon_api.post(path, {"username": "carol", "password": PASSWORD}, format="json").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"username_or_email": "carol", "password": "wrong"},
        {"username_or_email": "nobody", "password": PASSWORD},
        {"username_or_email": "nobody@example.com", "password": PASSWORD},
        {"username_or_email": "carol", "password": " " + PASSWORD},
    ],
)
def test_wrong_credentials_are_401_without_saying_which_part(anon_api, carol, body):
    response = login(anon_api, **body)

    assert response.status_code == 401, response.content
    data = response.json()
    assert data["code"] == "invalid_credentials"
    assert data["detail"] == "Invalid username/email or password."
    assert "access" not in data
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_inactive_user_cannot_log_in(anon_api, carol):
    carol.is_active = False
    carol.save()
    assert login(anon_api, username="carol", password=PASSWORD).status_code == 401


def test_email_shared_by_two_accounts_logs_in_neither(anon_api, carol):
    UserFactory(username="carol2", email="carol@example.com")
    assert login(anon_api, username_or_email="carol@example.com", password=PASSWORD).status_code == 401
    # The username still works.
    assert login(anon_api, username_or_email="carol", password=PASSWORD).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD}, "username_or_email"),
        ({"username_or_email": "carol"}, "password"),
        ({}, "password"),
        ({"username_or_email": "carol", "password": ""}, "password"),
        ({"username_or_email": "", "password": PASSWORD}, "username_or_email"),
    ],
)
def test_missing_fields_are_400(anon_api, carol, body, field):
    response = login(anon_api, **body)

    assert response.status_code == 400, response.content
    data = response.json()
    assert data["code"] == "invalid"
    assert field in data["errors"]
    assert data["detail"]


@pytest.mark.parametrize("content", ["{bad json", "[1, 2]"])
def test_malformed_login_body_is_400(anon_api, content):
    response = anon_api.generic("POST", LOGIN, content, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) >= {"detail", "code"}


def test_refresh_gives_a_new_access_token(anon_api, carol):
    tokens = login(anon_api, username="carol", password=PASSWORD).json()

    for path in ("/api/v1/auth/refresh", "/api/v1/auth/refresh/"):
        response = anon_api.post(path, {"refresh": tokens["refresh"]}, format="json")
        assert response.status_code == 200, response.content
        assert bearer(response.json()["access"]).get("/api/v1/auth/me").json()["username"] == "carol"


@pytest.mark.parametrize("body", [{"refresh": "not-a-token"}, {}])
def test_bad_refresh_is_4xx_in_the_error_shape(anon_api, body):
    response = anon_api.post("/api/v1/auth/refresh", body, format="json")
    assert response.status_code in (400, 401)
    assert set(response.json()) >= {"detail", "code"}


def test_an_access_token_is_not_a_refresh_token(anon_api, carol):
    tokens = login(anon_api, username="carol", password=PASSWORD).json()
    assert anon_api.post("/api/v1/auth/refresh", {"refresh": tokens["access"]}, format="json").status_code == 401


def test_me_describes_the_user(api, sales_user):
    for path in ("/api/v1/auth/me", "/api/v1/auth/me/"):
        body = api.get(path).json()
        assert body["id"] == sales_user.pk
        assert body["username"] == "sam"
        assert body["role"] == "sales"
        assert body["name"] == sales_user.full_name
        assert "password" not in body


def _endpoints(lead_id: str) -> list[tuple[str, str]]:
    any_id = str(uuid7())
    return [
        ("get", "/api/v1/auth/me"),
        ("get", "/api/v1/leads"),
        ("post", "/api/v1/leads"),
        ("get", f"/api/v1/leads/{lead_id}"),
        ("put", f"/api/v1/leads/{lead_id}"),
        ("patch", f"/api/v1/leads/{lead_id}"),
        ("delete", f"/api/v1/leads/{lead_id}"),
        ("get", f"/api/v1/leads/{lead_id}/interactions"),
        ("post", f"/api/v1/leads/{lead_id}/interactions"),
        ("get", f"/api/v1/leads/{lead_id}/activity"),
        ("get", "/api/v1/interactions"),
        ("post", "/api/v1/interactions"),
        ("get", f"/api/v1/interactions/{any_id}"),
        ("get", "/api/v1/actions"),
        ("post", "/api/v1/actions"),
        ("get", f"/api/v1/actions/{any_id}"),
        ("put", f"/api/v1/actions/{any_id}"),
        ("delete", f"/api/v1/actions/{any_id}"),
    ]


def test_every_endpoint_needs_authentication(anon_api):
    lead = LeadFactory(owner=None)
    for method, path in _endpoints(str(lead.pk)):
        for variant in (path, path + "/"):
            response = getattr(anon_api, method)(variant, {"name": "x"}, format="json")
            assert response.status_code == 401, (method, variant, response.status_code)
            assert response.json()["code"] == "not_authenticated", (method, variant)
    lead.refresh_from_db()
    assert lead.deleted_at is None and lead.first_name != "x"


@pytest.mark.parametrize("header", ["Bearer not.a.jwt", "Bearer ", "Token abc"])
def test_bad_bearer_token_is_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/leads")
    assert response.status_code == 401
    assert set(response.json()) >= {"detail", "code"}


def test_an_accepted_token_is_refused_once_it_expires(sales_user):
    # Verified tokens are remembered by the process; that memory ends at the token's exp.
    import time
    from datetime import timedelta

    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(sales_user)
    token.set_exp(lifetime=timedelta(seconds=2))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/auth/me").status_code == 200
    assert client.get("/api/v1/auth/me").status_code == 200  # the remembered verification
    time.sleep(2.2)
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401


def test_a_tampered_token_is_refused_even_after_the_real_one_was_accepted(api, sales_user):
    assert api.get("/api/v1/auth/me").status_code == 200
    header = api._credentials["HTTP_AUTHORIZATION"]
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION=header[:-3] + ("AAA" if not header.endswith("AAA") else "BBB"))
    assert forged.get("/api/v1/auth/me").status_code == 401


def test_session_login_works_for_the_api(sales_user):
    client = APIClient()
    client.force_login(sales_user)

    assert client.get("/api/v1/auth/me").json()["username"] == "sam"
    created = client.post("/api/v1/leads", {"name": "Via Session"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["owner_id"] == sales_user.pk
    assert [r["name"] for r in client.get("/api/v1/leads").json()["results"]] == ["Via Session"]


def test_session_api_writes_need_csrf_when_enforced(sales_user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(sales_user)
    response = client.post("/api/v1/leads", {"name": "No Token"}, format="json")
    assert response.status_code == 403
    assert set(response.json()) >= {"detail", "code"}


def test_createsuperuser_noinput_makes_an_admin_role_superuser(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "root")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "s3cret-Passphrase")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "root@example.com")

    call_command("createsuperuser", "--noinput", verbosity=0)

    user = User.objects.get(username="root")
    assert user.is_superuser and user.is_staff
    assert user.role == User.Role.ADMIN
    assert user.email == "root@example.com"
    assert user.check_password("s3cret-Passphrase")
    assert user.sees_all
    # and the account logs in to the API by email
    response = APIClient().post(LOGIN, {"username_or_email": "root@example.com",
                                        "password": "s3cret-Passphrase"}, format="json")
    assert response.status_code == 200
