"""Campaign pages, "Sync now", and the live Lead Ads feed of the leads pages."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.models import MetaSyncRun
from tests.campaigns.factories import CampaignFactory, InsightFactory
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

LIST = "/campaigns/"


@pytest.fixture
def logged_in(client, sales_user):
    client.force_login(sales_user)
    return client


def test_list_page_shows_range_sums_totals_and_sync_status(logged_in):
    roofing = CampaignFactory(name="Roofing")
    InsightFactory(campaign=roofing, date=dt.date(2026, 11, 1), spend=Decimal("1234.50"), leads=10)
    CampaignFactory(name="Idle")
    MetaSyncRun.objects.create(status="failed", error="Meta rejected the access token: Session has expired.",
                               error_code=190)

    response = logged_in.get(LIST, {"startDate": "2026-11-01", "endDate": "2026-11-30", "ordering": "cpl"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Roofing" in html and "1,234.50" in html and "123.45" in html  # spend, CPL
    assert "Total (2 campaigns)" in html
    assert "Session has expired" in html  # the last run's error
    assert "Sync now" not in html  # admins only
    assert html.index("Roofing") < html.index("Idle")  # no CPL sorts last
    assert 'value="2026-11-01"' in html


def test_list_page_partial_and_bad_range(logged_in):
    CampaignFactory(name="Roofing")
    partial = logged_in.get(LIST, {"startDate": "2026-11-01"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "Roofing" in partial
    bad = logged_in.get(LIST, {"startDate": "2026-11-30", "endDate": "2026-11-01"}).content.decode()
    assert "startDate must be on or before endDate" in bad


def test_empty_state(logged_in):
    assert "No campaigns yet" in logged_in.get(LIST).content.decode()


def test_detail_page_has_daily_table_and_chart_data(logged_in):
    campaign = CampaignFactory(name="Roofing")
    InsightFactory(campaign=campaign, date=dt.date(2026, 11, 2), spend=Decimal("50.00"), leads=2)
    response = logged_in.get(f"/campaigns/{campaign.pk}/", {"startDate": "2026-11-01", "endDate": "2026-11-03"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="campaign-chart-data"' in html and '"spend": [0.0, 50.0, 0.0]' in html
    assert "vendor/chart.umd.js" in html
    assert "25.00" in html  # CPL
    assert logged_in.get("/campaigns/0190a000-0000-7000-8000-000000000000/").status_code == 404


def test_sync_now_is_for_admins(client, sales_user, admin_user, django_capture_on_commit_callbacks):
    client.force_login(sales_user)
    assert client.post("/campaigns/sync/").status_code == 403
    client.force_login(admin_user)
    assert "Sync now" in client.get(LIST).content.decode()
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post("/campaigns/sync/", {"next": "/campaigns/?startDate=2026-11-01"})
    assert response.status_code == 302 and response["Location"] == "/campaigns/?startDate=2026-11-01"
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks():
        partial = client.post("/campaigns/sync/", HTTP_HX_REQUEST="true").content.decode()
    assert "Sync queued" in partial and 'hx-trigger="every 3s"' in partial


def test_live_feed_reports_new_facebook_leads_the_user_may_see(logged_in, sales_user, other_sales_user):
    since = timezone.now() - dt.timedelta(minutes=1)
    mine = LeadFactory(source="Facebook Ad", owner=sales_user)
    LeadFactory(source="Facebook Ad", owner=other_sales_user)  # not visible to sam
    LeadFactory(source="Website", owner=sales_user)  # not from Lead Ads
    old = LeadFactory(source="Facebook Ad", owner=sales_user)
    old.created_at = since - dt.timedelta(minutes=5)
    old.save()

    body = logged_in.get("/campaigns/live/leads/", {"since": since.isoformat()}).json()

    assert [lead["id"] for lead in body["leads"]] == [str(mine.pk)]
    assert body["leads"][0]["url"] == f"/leads/{mine.pk}/"
    again = logged_in.get("/campaigns/live/leads/", {"since": body["cursor"]}).json()
    assert again["leads"] == []
    assert logged_in.get("/campaigns/live/leads/", {"since": "garbage"}).json()["leads"] == []


def test_leads_pages_poll_the_live_feed(logged_in):
    assert "campaigns/live_leads.js" in logged_in.get("/leads/").content.decode()
    assert "campaigns/live_leads.js" in logged_in.get("/leads/board/").content.decode()
    assert "campaigns/live_leads.js" not in logged_in.get(LIST).content.decode()
