"""``/api/v1/campaigns`` (seed 001 D) and ``/api/v1/meta/sync-runs``."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns import services
from campaigns.models import LeadAttribution, MetaSyncRun
from tests.campaigns.factories import CampaignFactory, InsightFactory
from tests.conftest import jwt_client
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/campaigns"
RANGE = {"startDate": "2026-11-01", "endDate": "2026-11-10"}


def closed_lead(campaign, value, when, leadgen_id, status="closed"):
    lead = LeadFactory(value=Decimal(value), status=status)
    lead.status_changed_at = when
    lead.save(update_fields=["status_changed_at"])
    LeadAttribution.objects.create(lead=lead, campaign=campaign, leadgen_id=leadgen_id)
    return lead


@pytest.fixture
def data(db):
    roofing = CampaignFactory(name="Roofing", objective="OUTCOME_LEADS")
    sales = CampaignFactory(name="Retargeting", objective="OUTCOME_SALES", effective_status="PAUSED")
    idle = CampaignFactory(name="Idle")  # no delivery: every divisor is 0
    for day in (1, 2, 3):
        InsightFactory(campaign=roofing, date=dt.date(2026, 11, day), spend=Decimal("100.00"), leads=4,
                       impressions=1000, clicks=50, link_clicks=40)
    InsightFactory(campaign=roofing, date=dt.date(2026, 10, 31), spend=Decimal("999.00"), leads=1)  # out of range
    InsightFactory(campaign=sales, date=dt.date(2026, 11, 5), spend=Decimal("120.00"), leads=0,
                   purchase_value=Decimal("450.00"))
    in_range = timezone.make_aware(dt.datetime(2026, 11, 4, 12, 0))
    closed_lead(roofing, "600.00", in_range, "1")
    closed_lead(roofing, "5000.00", timezone.make_aware(dt.datetime(2026, 11, 11, 0, 30)), "2")  # closed later
    closed_lead(roofing, "700.00", in_range, "3", status="proposal")  # not won
    deleted = closed_lead(roofing, "800.00", in_range, "4")
    deleted.deleted_at = timezone.now()
    deleted.save()
    return {"roofing": roofing, "sales": sales, "idle": idle}


def test_list_sums_the_range_with_cpl_roas_and_nulls(api, data):
    response = api.get(URL, RANGE)

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["start_date"], body["end_date"], body["count"]) == ("2026-11-01", "2026-11-10", 3)
    rows = {r["name"]: r for r in body["results"]}
    assert [r["name"] for r in body["results"]] == ["Roofing", "Retargeting", "Idle"]  # default -spend
    roofing = rows["Roofing"]
    assert roofing["id"] == str(data["roofing"].pk)
    assert roofing["status"] == "active" and roofing["objective"] == "Leads"
    assert (roofing["spend"], roofing["impressions"], roofing["clicks"], roofing["link_clicks"], roofing["leads"]) == (
        "300.00", 3000, 150, 120, 12)
    assert roofing["cpl"] == "25.00"
    assert roofing["revenue"] == "600.00"  # closed in range, live
    assert roofing["roas"] == "2.00"
    assert roofing["meta_roas"] == "0.00"
    sales = rows["Retargeting"]
    assert (sales["status"], sales["objective"], sales["leads"], sales["cpl"]) == ("paused", "Sales", 0, None)
    assert (sales["roas"], sales["meta_roas"], sales["purchase_value"]) == ("0.00", "3.75", "450.00")
    idle = rows["Idle"]
    assert (idle["spend"], idle["cpl"], idle["roas"], idle["meta_roas"]) == ("0.00", None, None, None)
    assert body["totals"] == {
        "spend": "420.00", "impressions": 4000, "clicks": 200, "link_clicks": 160, "leads": 12, "cpl": "35.00",
        "revenue": "600.00", "roas": "1.43", "purchase_value": "450.00", "meta_roas": "1.07",
    }


def test_snake_case_aliases_and_filters(api, data):
    body = api.get(URL, {"start_date": "2026-11-05", "end_date": "2026-11-05", "status": "paused"}).json()
    assert [(r["name"], r["spend"]) for r in body["results"]] == [("Retargeting", "120.00")]
    assert body["totals"]["spend"] == "120.00"
    assert [r["name"] for r in api.get(URL, {**RANGE, "search": "roof"}).json()["results"]] == ["Roofing"]
    assert [r["name"] for r in api.get(URL, {**RANGE, "objective": "sales"}).json()["results"]] == ["Retargeting"]


@pytest.mark.parametrize(("ordering", "names"), [
    ("-spend", ["Roofing", "Retargeting", "Idle"]),
    ("spend", ["Idle", "Retargeting", "Roofing"]),
    ("cpl", ["Roofing", "Idle", "Retargeting"]),  # no CPL sorts last (ties by name)
    ("-roas", ["Roofing", "Retargeting", "Idle"]),
    ("name", ["Idle", "Retargeting", "Roofing"]),
    ("-meta_roas", ["Retargeting", "Roofing", "Idle"]),
])
def test_ordering(api, data, ordering, names):
    assert [r["name"] for r in api.get(URL, {**RANGE, "ordering": ordering}).json()["results"]] == names


def test_seed_sort_params(api, data):
    assert [r["name"] for r in api.get(URL, {**RANGE, "sort": "name_desc"}).json()["results"]] == [
        "Roofing", "Retargeting", "Idle"]


@pytest.mark.parametrize("params", [
    {"startDate": "2026-13-01"}, {"startDate": "yesterday"}, {"endDate": "2026-02-30"},
    {"startDate": "2026-11-10", "endDate": "2026-11-01"}, {"startDate": "2000-01-01", "endDate": "2026-01-01"},
    {"ordering": "-password"},
])
def test_bad_range_or_ordering_is_400(api, data, params):
    response = api.get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] and body["code"] in ("invalid_date", "invalid_range", "invalid_ordering")


def test_default_range_is_the_last_30_days(api, data):
    body = api.get(URL).json()
    today = timezone.localdate()
    assert body["end_date"] == today.isoformat()
    assert body["start_date"] == (today - dt.timedelta(days=29)).isoformat()


def test_list_query_count_is_constant(api, data, django_assert_num_queries):
    for i in range(5):
        c = CampaignFactory(name=f"Extra {i}")
        InsightFactory(campaign=c, date=dt.date(2026, 11, 2))
    api.get(URL, RANGE)  # the JWT user is cached after the first request
    # 1 count, 1 page of annotated campaigns (sums + revenue subquery), 2 totals (insights, revenue).
    with django_assert_num_queries(4):
        assert api.get(URL, RANGE).status_code == 200


def test_detail_adds_the_daily_series(api, data):
    response = api.get(f"{URL}/{data['roofing'].pk}", {"startDate": "2026-11-02", "endDate": "2026-11-04"})
    assert response.status_code == 200
    body = response.json()
    assert (body["spend"], body["leads"], body["cpl"]) == ("200.00", 8, "25.00")
    assert body["daily"] == [
        {"date": "2026-11-02", "spend": "100.00", "impressions": 1000, "clicks": 50, "link_clicks": 40, "leads": 4,
         "purchase_value": "0.00", "cpl": "25.00"},
        {"date": "2026-11-03", "spend": "100.00", "impressions": 1000, "clicks": 50, "link_clicks": 40, "leads": 4,
         "purchase_value": "0.00", "cpl": "25.00"},
        {"date": "2026-11-04", "spend": "0.00", "impressions": 0, "clicks": 0, "link_clicks": 0, "leads": 0,
         "purchase_value": "0.00", "cpl": None},
    ]
    assert api.get(f"{URL}/{data['roofing'].pk}/").status_code == 200


def test_unknown_ids_are_404(api, data):
    for pk in ("0190a000-0000-7000-8000-000000000000", "not-a-uuid"):
        response = api.get(f"{URL}/{pk}")
        assert response.status_code == 404
        assert response.json()["code"] == "campaign_not_found"


def test_anonymous_is_401(anon_api):
    assert anon_api.get(URL).status_code == 401


def test_sync_runs_list_and_sync_now_for_admins_only(api, admin_user, django_capture_on_commit_callbacks):
    MetaSyncRun.objects.create(status="failed", error="Meta rejected the access token", error_code=190)
    runs = api.get("/api/v1/meta/sync-runs").json()
    assert runs["count"] == 1 and runs["results"][0]["error_code"] == 190

    assert api.post("/api/v1/meta/sync-runs", {}, format="json").status_code == 403
    admin = jwt_client(admin_user)
    assert admin.post("/api/v1/meta/sync-runs", {"since": "2026-11-05", "until": "2026-11-01"},
                      format="json").status_code == 400
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin.post("/api/v1/meta/sync-runs", {"since": "2026-11-01"}, format="json")
    assert response.status_code == 202 and response.json()["code"] == "sync_queued"
    assert len(callbacks) == 1


def test_integration_status(settings):
    settings.META_ACCESS_TOKEN, settings.META_AD_ACCOUNT_ID = "t", "42"
    settings.META_VERIFY_TOKEN, settings.META_APP_SECRET = "", "s"
    status = services.meta_integration_status()
    assert status == {"configured": True, "webhook_path": "/api/v1/webhooks/meta/leadgen", "verify_token_set": False,
                      "app_secret_set": True, "ad_account_id": "act_42", "graph_version": settings.META_GRAPH_VERSION,
                      "last_sync": None}
