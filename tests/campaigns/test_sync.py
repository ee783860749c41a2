"""The Meta sync against a local server replaying Graph payloads (no project code patched)."""

import json
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from campaigns import services
from campaigns.meta import parse_usage
from campaigns.models import Campaign, CampaignInsight, LeadAttribution, MetaSyncRun
from campaigns.tasks import sync_meta
from tests.campaigns.conftest import ACCOUNT
from tests.campaigns.conftest import path as p
from tests.campaigns.replay import load
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

SINCE, UNTIL = date(2026, 5, 1), date(2026, 5, 2)


def serve_account(graph, *, insights_first=None):
    graph.add(p(f"{ACCOUNT}/campaigns"), (200, load("campaigns_page2.json")), match=lambda q: "after" in q)
    graph.add(p(f"{ACCOUNT}/campaigns"), (200, load("campaigns_page1.json")))
    graph.add(p(f"{ACCOUNT}/insights"), (200, load("insights_page2.json")), match=lambda q: q.get("after") == "MQZDZD")
    graph.add(p(f"{ACCOUNT}/insights"), *(insights_first or []), (200, load("insights_page1.json")))


def test_sync_follows_cursors_and_upserts_campaigns_and_daily_insights(graph):
    serve_account(graph)

    run = services.meta_sync(since=SINCE, until=UNTIL)

    assert run.status == MetaSyncRun.Status.PARTIAL, run.error
    assert run.campaigns_fetched == 3
    assert run.rows_fetched == 4  # 2 + 2 readable rows; two broken rows skipped
    assert [e["error"].split(":")[0] for e in run.errors] == [
        "row skipped, missing campaign_id", "row skipped, missing date_start"]
    assert run.finished_at is not None and run.requests == 4
    assert set(Campaign.objects.values_list("name", "effective_status")) == {
        ("Leads - Roofing", "ACTIVE"), ("Sales - Retargeting", "ACTIVE"), ("Traffic - Blog", "PAUSED")}
    roofing = CampaignInsight.objects.get(campaign__meta_id="120210000000000001", date=SINCE)
    # lead = 7; onsite_conversion.lead_grouped (6), leadgen_grouped (6) and the pixel lead (1) are parts of it.
    assert roofing.leads == 7
    assert (roofing.spend, roofing.impressions, roofing.clicks, roofing.link_clicks) == (
        Decimal("84.37"), 10452, 312, 198)
    sales = CampaignInsight.objects.get(campaign__meta_id="120210000000000002", date=SINCE)
    assert sales.purchase_value == Decimal("450.00")  # purchase, not purchase + omni_purchase
    assert sales.leads == 0
    blog = CampaignInsight.objects.get(campaign__meta_id="120210000000000003")
    assert (blog.link_clicks, blog.leads, blog.purchase_value) == (0, 0, Decimal("0"))  # omitted metrics are 0

    # The cursor of paging.next is followed against our server, with our token, not the link's.
    second = graph.calls(p(f"{ACCOUNT}/insights"))[1]
    assert second["after"] == "MQZDZD"
    assert second["access_token"] == "EAABsbCS1iHgBAOldTestToken"
    first = graph.calls(p(f"{ACCOUNT}/insights"))[0]
    assert (first["level"], first["time_increment"]) == ("campaign", "1")
    assert json.loads(first["time_range"]) == {"since": "2026-05-01", "until": "2026-05-02"}
    assert {"actions", "action_values", "inline_link_clicks", "spend"} <= set(first["fields"].split(","))
    assert len(first["appsecret_proof"]) == 64


def test_resync_of_a_range_updates_rows_in_place(graph):
    serve_account(graph)
    services.meta_sync(since=SINCE, until=UNTIL)
    ids = set(CampaignInsight.objects.values_list("pk", flat=True))
    campaign_ids = set(Campaign.objects.values_list("pk", flat=True))
    CampaignInsight.objects.filter(campaign__meta_id="120210000000000001", date=SINCE).update(leads=99)

    graph.routes.clear()
    serve_account(graph)
    services.meta_sync(since=SINCE, until=UNTIL)

    assert set(CampaignInsight.objects.values_list("pk", flat=True)) == ids
    assert set(Campaign.objects.values_list("pk", flat=True)) == campaign_ids
    assert CampaignInsight.objects.get(campaign__meta_id="120210000000000001", date=SINCE).leads == 7


def test_rate_limit_is_retried_after_the_wait_meta_gives(graph):
    usage = {"1234567890": [{"type": "ads_insights", "call_count": 100, "total_cputime": 40, "total_time": 35,
                             "estimated_time_to_regain_access": 0}]}
    serve_account(graph, insights_first=[(400, load("error_rate_limit_80000.json"),
                                          {"X-Business-Use-Case-Usage": usage})])

    run = services.meta_sync(since=SINCE, until=UNTIL)

    assert run.status == MetaSyncRun.Status.PARTIAL and run.error == ""
    assert len(graph.calls(p(f"{ACCOUNT}/insights"))) == 3  # refused once, then both pages
    assert run.rows_fetched == 4


def test_server_errors_are_retried(graph):
    serve_account(graph, insights_first=[(500, b"<html>Internal error</html>"), (503, {"error": {
        "message": "An unexpected error has occurred. Please retry your request later.", "type": "OAuthException",
        "is_transient": True, "code": 2, "fbtrace_id": "Ab1"}})])

    run = services.meta_sync(since=SINCE, until=UNTIL)

    assert run.rows_fetched == 4 and run.error == ""


def test_a_long_rate_limit_ends_the_run_for_a_later_retry_keeping_what_was_read(graph):
    usage = {"1234567890": [{"type": "ads_insights", "call_count": 100, "estimated_time_to_regain_access": 7}]}
    serve_account(graph, insights_first=[(400, load("error_rate_limit_80000.json"),
                                          {"X-Business-Use-Case-Usage": usage})])

    run = services.meta_sync(since=SINCE, until=UNTIL)

    assert run.status == MetaSyncRun.Status.FAILED
    assert run.error_code == 80000
    assert "about 7 min" in run.error
    assert run.retry_after >= 7 * 60
    assert len(graph.calls(p(f"{ACCOUNT}/insights"))) == 1  # not hammered while Meta says wait
    assert Campaign.objects.count() == 3  # the campaigns page committed before the refusal


def test_an_expired_token_stops_the_sync_with_a_clear_error_and_no_retry(graph):
    graph.add(p(f"{ACCOUNT}/campaigns"), (400, load("error_token_190.json")))

    result = sync_meta.apply(kwargs={"trigger": "manual"}).get()

    run = MetaSyncRun.objects.get()
    assert result["status"] == "failed"
    assert run.status == MetaSyncRun.Status.FAILED
    assert run.error_code == 190
    assert "Session has expired" in run.error and "META_ACCESS_TOKEN" in run.error
    assert len(graph.requests) == 1  # no retry of a token error, neither by the client nor by the task
    assert services.meta_integration_status()["last_sync"]["error"] == run.error


def test_scheduled_tick_without_configuration_does_nothing(settings):
    settings.META_ACCESS_TOKEN = ""
    assert sync_meta.apply().get() == {"skipped": "not configured"}
    assert not MetaSyncRun.objects.exists()


def test_manual_sync_without_configuration_records_why(settings):
    settings.META_ACCESS_TOKEN = ""
    settings.META_AD_ACCOUNT_ID = "42"
    run = services.meta_sync(trigger=MetaSyncRun.Trigger.MANUAL)
    assert run.status == MetaSyncRun.Status.FAILED
    assert "META_ACCESS_TOKEN" in run.error


def test_backfill_command_splits_long_ranges_and_links_waiting_attributions(graph):
    serve_account(graph)
    lead = LeadFactory()
    LeadAttribution.objects.create(lead=lead, leadgen_id="555", meta_campaign_id="120210000000000001")
    out = StringIO()

    call_command("sync_meta", "--since", "2026-04-01", "--until", "2026-05-02", stdout=out)

    ranges = [json.loads(q["time_range"]) for q in graph.calls(p(f"{ACCOUNT}/insights")) if "after" not in q]
    assert ranges == [{"since": "2026-04-01", "until": "2026-05-01"}, {"since": "2026-05-02", "until": "2026-05-02"}]
    assert "rows" in out.getvalue()
    assert LeadAttribution.objects.get().campaign.meta_id == "120210000000000001"


def test_command_rejects_bad_dates(graph):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("sync_meta", "--since", "2026-05-09", "--until", "2026-05-01")
    with pytest.raises(CommandError):
        call_command("sync_meta", "--since", "yesterday")
    assert not MetaSyncRun.objects.exists()


def test_usage_headers_are_read():
    usage = parse_usage({
        "x-business-use-case-usage": json.dumps({"9": [{"type": "ads_insights", "call_count": 28, "total_cputime": 96,
                                                        "total_time": 22, "estimated_time_to_regain_access": 3}]}),
        "x-app-usage": json.dumps({"call_count": 12, "total_cputime": 4, "total_time": 3}),
        "x-ad-account-usage": "not json",
    })
    assert usage.percent == 96
    assert usage.regain_seconds == 180


def test_a_sync_already_running_is_refused(graph):
    from django.core.cache import cache

    from crm.errors import ServiceError

    cache.add(services.SYNC_LOCK, "1")
    try:
        with pytest.raises(ServiceError):
            services.meta_sync(since=SINCE, until=UNTIL)
    finally:
        cache.delete(services.SYNC_LOCK)
    assert not graph.requests
