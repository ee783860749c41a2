"""The sign-in pages, the base layout and the placeholder areas, through Django's test client."""

import pytest
from django.urls import reverse

from crm.models import User
from tests.factories import UserFactory

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The default PBKDF2 costs ~0.5 s per test user; these tests are not about hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def sam(db):
    return UserFactory(username="sam", email="Sam@Example.com", role=User.Role.SALES,
                       first_name="Sam", last_name="Seller")


def test_login_page_renders(client, db):
    response = client.get(reverse("crm:login"))
    assert response.status_code == 200
    assert b"Username or email" in response.content
    assert b"csrfmiddlewaretoken" in response.content


def test_login_with_username_goes_to_the_dashboard(client, sam):
    response = client.post(reverse("crm:login"), {"username": "sam", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("dashboard:dashboard")
    assert client.session["_auth_user_id"] == str(sam.pk)


def test_login_with_email_any_case(client, sam):
    response = client.post(reverse("crm:login"), {"username": "sam@example.COM", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(sam.pk)


def test_login_honours_next(client, sam):
    response = client.post(reverse("crm:login"), {"username": "sam", "password": PASSWORD,
                                                   "next": reverse("leads:lead_board")})
    assert response.url == reverse("leads:lead_board")


def test_wrong_password_shows_error_and_stays_signed_out(client, sam):
    response = client.post(reverse("crm:login"), {"username": "sam", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct" in response.content
    assert "_auth_user_id" not in client.session


def test_signed_in_user_skips_login_page(client, sam):
    client.force_login(sam)
    response = client.get(reverse("crm:login"))
    assert response.status_code == 302
    assert response.url == reverse("dashboard:dashboard")


def test_logout_is_post_only_and_ends_the_session(client, sam):
    client.force_login(sam)
    assert client.get(reverse("crm:logout")).status_code == 405
    response = client.post(reverse("crm:logout"))
    assert response.status_code == 302
    assert response.url == reverse("crm:login")
    assert "_auth_user_id" not in client.session


def test_root_redirects_to_the_dashboard_then_to_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == reverse("dashboard:dashboard")
    response = client.get(response.url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("crm:login") + "?next=")


def test_layout_has_navigation_user_role_csrf_and_no_cdn(client, sam):
    client.force_login(sam)
    html = client.get(reverse("leads:lead_list")).content.decode()
    for url in [reverse("leads:lead_list"), reverse("leads:lead_board"), "/docs"]:
        assert f'href="{url}"' in html
    for name in ("dashboard:dashboard", "contacts:contact_list", "tasks:my_tasks", "campaigns:campaign_list"):
        assert f'href="{reverse(name)}"' in html
    assert "Sam Seller" in html and "Sales" in html
    assert f'action="{reverse("crm:logout")}"' in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    assert "/static/vendor/htmx.min.js" in html and "/static/vendor/pico.min.css" in html
    assert "https://" not in html.split("<body")[0]  # nothing loads from a CDN


def test_admin_link_only_for_staff(client, sam, admin_user):
    client.force_login(sam)
    assert b'href="/admin/"' not in client.get(reverse("leads:lead_list")).content
    client.force_login(admin_user)
    assert b'href="/admin/"' in client.get(reverse("leads:lead_list")).content


def test_messages_are_flashed_in_the_layout(client, sam):
    client.force_login(sam)
    response = client.post(reverse("leads:lead_create"), {
        "first_name": "Flash", "status": "new", "score": 0, "value": "0", "call_status": "new",
    }, follow=True)
    assert b'class="flash flash-success"' in response.content
    assert b"Lead Flash created." in response.content
