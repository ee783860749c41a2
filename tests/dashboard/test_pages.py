"""The dashboard and settings pages."""

import json
import re

import pytest
from django.urls import reverse

from crm.apikeys import api_key_create
from crm.models import ApiKey, WebhookSubscription
from tests.dashboard.conftest import lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(sales_user, other_sales_user, rebuild):
    lead(created="2026-11-02", status="closed", changed="2026-11-04", value="2500", owner=sales_user,
         source="Facebook Ad")
    lead(created="2026-11-03", owner=other_sales_user, source="Google", status="closed", changed="2026-11-05",
         value="100")
    rebuild()


def test_dashboard_page_shows_cards_charts_and_pipeline(client, manager, data):
    client.force_login(manager)
    response = client.get(reverse("dashboard:dashboard"), {"start_date": "2026-11-01", "end_date": "2026-11-10"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "$2,600" in html  # the revenue card
    assert "vendor/chart.umd.js" in html and "cdn" not in html.lower()
    data = json.loads(re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', html).group(1))
    assert sum(p["value"] for p in data["revenue"]) == 2600
    assert data["sources"] == [{"name": "Facebook Ad", "value": 1}, {"name": "Google", "value": 1}]
    assert f'{reverse("leads:lead_list")}?status=closed' in html
    assert 'aria-current="page">Dashboard' in html


def test_sales_user_dashboard_is_scoped(client, sales_user, data):
    client.force_login(sales_user)
    html = client.get(reverse("dashboard:dashboard"), {"start_date": "2026-11-01", "end_date": "2026-11-10"}
                      ).content.decode()
    data = json.loads(re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', html).group(1))
    assert sum(p["value"] for p in data["revenue"]) == 2500
    assert ">Settings<" not in html  # admins only


def test_htmx_range_change_returns_the_body_only(client, manager, data):
    client.force_login(manager)
    response = client.get(reverse("dashboard:dashboard"), {"start_date": "2026-11-05", "end_date": "2026-11-05"},
                          HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'value="2026-11-05"' in html and "Nov 5, 2026" in html


def test_bad_range_on_the_page_says_so_and_shows_the_default(client, manager):
    client.force_login(manager)
    response = client.get(reverse("dashboard:dashboard"), {"start_date": "2026-11-10", "end_date": "2026-11-01"})
    assert response.status_code == 400
    assert b"The end date is before the start date." in response.content


def test_dashboard_needs_login(client):
    response = client.get(reverse("dashboard:dashboard"))
    assert response.status_code == 302 and response.url.startswith(reverse("crm:login"))


def test_settings_page_is_for_admins(client, sales_user, manager):
    for user in (sales_user, manager):
        client.force_login(user)
        assert client.get(reverse("dashboard:settings")).status_code == 403
        assert client.post(reverse("dashboard:api_key_create"), {"name": "x", "role": "admin"}).status_code == 403
    assert not ApiKey.objects.exists()


def test_settings_page_creates_a_key_shown_once_and_regenerates_it(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("dashboard:api_key_create"), {"name": "Zapier", "role": "sales"}, follow=True)
    html = response.content.decode()
    key = re.search(r'<code id="new-api-key">([^<]+)</code>', html).group(1)
    assert key.startswith("crm_") and ApiKey.objects.get().role == "sales"
    again = client.get(reverse("dashboard:settings")).content.decode()
    assert key not in again and ApiKey.objects.get().masked in again

    old = ApiKey.objects.get()
    html = client.post(reverse("dashboard:api_key_regenerate", args=[old.pk]), follow=True).content.decode()
    new_key = re.search(r'<code id="new-api-key">([^<]+)</code>', html).group(1)
    assert new_key != key
    old.refresh_from_db()
    assert old.revoked_at is not None and ApiKey.objects.active().count() == 1


def test_settings_page_webhooks_and_log(client, admin_user, settings):
    settings.META_VERIFY_TOKEN = "meatyhamhock"
    api_key_create(name="Ops", role="admin", created_by=admin_user)
    client.force_login(admin_user)
    response = client.post(reverse("dashboard:webhook_create"),
                           {"url": "https://example.com/hook", "events": ["lead.created", "task.completed"]},
                           follow=True)
    html = response.content.decode()
    sub = WebhookSubscription.objects.get()
    assert sub.secret in html and sub.events == ["lead.created", "task.completed"]
    assert "http://testserver/api/v1/" in html  # the Meta webhook URL, absolute
    assert "meat…ock" in html and "meatyhamhock" not in html
    assert "No deliveries yet" in html

    client.post(reverse("dashboard:webhook_action", args=[sub.pk, "toggle"]))
    sub.refresh_from_db()
    assert sub.active is False
    bad = client.post(reverse("dashboard:webhook_create"), {"url": "not a url", "events": ["lead.created"]},
                      follow=True)
    assert WebhookSubscription.objects.count() == 1 and b"Enter a valid URL" in bad.content
    client.post(reverse("dashboard:webhook_action", args=[sub.pk, "delete"]))
    assert not WebhookSubscription.objects.exists()
    assert client.post(reverse("dashboard:webhook_action", args=[sub.pk, "delete"])).status_code == 404
