"""``/dashboard/stats`` and the charts: values, previous-period changes, ranges, scoping, and
the rollups following lead writes made through the services."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.models import Campaign, CampaignInsight
from dashboard import services
from dashboard.models import LeadDailyStat, LeadSourceMonthlyStat, RollupDirtyDay
from leads import services as lead_services
from tests.dashboard.conftest import at, lead

pytestmark = pytest.mark.django_db

STATS = "/api/v1/dashboard/stats"
REVENUE = "/api/v1/dashboard/charts/revenue"
SOURCES = "/api/v1/dashboard/charts/sources"
RANGE = {"startDate": "2026-11-01", "endDate": "2026-11-10"}  # previous period: Oct 22-31


@pytest.fixture
def pipeline_data(sales_user, other_sales_user, rebuild):
    # Previous period (Oct 22-31): 2 created, 1 of them won on Oct 30 for 1,000.
    lead(created="2026-10-25", status="closed", changed="2026-10-30", value="1000", owner=sales_user)
    lead(created="2026-10-26", owner=other_sales_user, source="Facebook Ad")
    # Before both periods: lost on Oct 5 (not active in either), won Oct 20 (counts nowhere).
    lead(created="2026-10-01", status="lost", changed="2026-10-05")
    lead(created="2026-10-02", status="closed", changed="2026-10-20", value="999")
    # Current period (Nov 1-10): 4 created; 1 won in range for 2,500; an older lead won Nov 3 for 500.
    lead(created="2026-11-02", status="closed", changed="2026-11-04", value="2500", owner=sales_user,
         source="Facebook Ad")
    lead(created="2026-11-03", owner=sales_user, source="Facebook Ad")
    lead(created="2026-11-05", status="lost", changed="2026-11-06", owner=other_sales_user, source="Google")
    lead(created="2026-11-09", source="")
    lead(created="2026-10-15", status="closed", changed="2026-11-03", value="500.50", owner=other_sales_user)
    # A deleted lead counts nowhere; one created after the range neither.
    lead(created="2026-11-04", status="closed", changed="2026-11-04", value="7777", deleted_at=at("2026-11-05"))
    lead(created="2026-11-12", status="closed", changed="2026-11-12", value="5")
    rebuild()


def test_stats_values_changes_and_trends(manager_api, pipeline_data):
    body = manager_api.get(STATS, RANGE).json()

    assert body["range"] == {"start_date": "2026-11-01", "end_date": "2026-11-10", "days": 10,
                             "previous_start_date": "2026-10-22", "previous_end_date": "2026-10-31"}
    assert body["revenue"] == {"value": 3000.5, "previous": 1000, "change": 200.1, "trend": "up"}
    assert body["new_leads"] == {"value": 4, "previous": 2, "change": 100.0, "trend": "up"}
    # Open at some moment of Nov 1-10: created by Nov 10 (9 live) minus those closed/lost before
    # Nov 1 (the Oct 5 loss, the Oct 20 and Oct 30 wins) = 6. Previous: created by Oct 31 (5) minus
    # ended before Oct 22 (2) = 3.
    assert body["active_leads"] == {"value": 6, "previous": 3, "change": 100.0, "trend": "up"}
    # 1 of 4 created in range is won now (25 %), 1 of 2 before (50 %).
    assert body["conversion_rate"] == {"value": 25, "previous": 50, "change": -50.0, "trend": "down"}
    assert body["link_clicks"] == {"value": 0, "previous": 0, "change": None, "trend": "flat"}
    assert {s["status"]: s["count"] for s in body["pipeline"]} == {
        "new": 3, "contacted": 0, "interested": 0, "qualified": 0, "proposal": 0, "closed": 5, "lost": 2,
    }


def test_seed_field_names_and_snake_case_aliases_agree(manager_api, pipeline_data):
    seed = manager_api.get(STATS, RANGE).json()
    snake = manager_api.get(STATS + "/", {"start_date": "2026-11-01", "end_date": "2026-11-10"}).json()
    assert seed == snake
    assert {"revenue", "active_leads", "conversion_rate", "link_clicks"} <= set(seed)


def test_change_is_null_when_the_previous_period_was_zero(manager_api, pipeline_data):
    body = manager_api.get(STATS, {"startDate": "2026-11-11", "endDate": "2026-11-12"}).json()
    assert body["revenue"] == {"value": 5, "previous": 0, "change": None, "trend": "up"}


def test_sales_user_sees_own_and_unassigned_figures_only(api, sales_user, pipeline_data):
    body = api.get(STATS, RANGE).json()
    # Own: the Nov 4 win (2,500). Unassigned: nothing won in range. Not olga's 500.50.
    assert body["revenue"]["value"] == 2500
    assert body["new_leads"]["value"] == 3  # own Nov 2 and Nov 3, unassigned Nov 9
    assert {s["status"]: s["count"] for s in body["pipeline"]}["lost"] == 1  # the unassigned Oct 5 loss


def test_missing_range_means_the_last_30_days(manager_api):
    body = manager_api.get(STATS).json()
    today = timezone.localdate()
    assert body["range"]["end_date"] == today.isoformat()
    assert body["range"]["start_date"] == (today - timedelta(days=29)).isoformat()
    assert body["range"]["days"] == 30


@pytest.mark.parametrize("params, code, field", [
    ({"startDate": "2026-13-01"}, "invalid_date", "startDate"),
    ({"startDate": "yesterday"}, "invalid_date", "startDate"),
    ({"end_date": "2026-02-30"}, "invalid_date", "end_date"),
    ({"startDate": "2026-11-10", "endDate": "2026-11-01"}, "invalid_range", "endDate"),
    ({"startDate": "1900-01-01", "endDate": "2026-01-01"}, "range_too_long", "startDate"),
])
@pytest.mark.parametrize("path", [STATS, REVENUE, SOURCES])
def test_bad_ranges_are_400_in_the_one_error_shape(manager_api, path, params, code, field):
    response = manager_api.get(path, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert field in body["errors"]


def test_anonymous_is_401(anon_api):
    assert anon_api.get(STATS).status_code == 401


def test_revenue_chart_by_day_zero_filled(manager_api, pipeline_data):
    series = manager_api.get(REVENUE, {"startDate": "2026-11-02", "endDate": "2026-11-05"}).json()
    assert series == [
        {"date": "Mon", "value": 0.0, "start": "2026-11-02", "end": "2026-11-02"},
        {"date": "Tue", "value": 500.5, "start": "2026-11-03", "end": "2026-11-03"},
        {"date": "Wed", "value": 2500.0, "start": "2026-11-04", "end": "2026-11-04"},
        {"date": "Thu", "value": 0.0, "start": "2026-11-05", "end": "2026-11-05"},
    ]
    longer = manager_api.get(REVENUE, RANGE).json()
    assert [p["date"] for p in longer][:3] == ["Nov 1", "Nov 2", "Nov 3"] and len(longer) == 10
    assert sum(p["value"] for p in longer) == 3000.5  # the chart adds up to the card


def test_revenue_chart_by_week_and_month(manager_api, pipeline_data):
    weeks = manager_api.get(REVENUE, {"startDate": "2026-10-01", "endDate": "2026-11-30"}).json()
    # Oct 1 is a Thursday: the first bucket runs to Sunday Oct 4, then Monday-to-Sunday weeks.
    assert weeks[0] == {"date": "Oct 1", "value": 0.0, "start": "2026-10-01", "end": "2026-10-04"}
    assert weeks[1]["start"] == "2026-10-05" and weeks[1]["end"] == "2026-10-11"
    assert weeks[-1]["end"] == "2026-11-30"
    by_start = {p["start"]: p["value"] for p in weeks}
    assert by_start["2026-10-19"] == 999.0 and by_start["2026-10-26"] == 1000.0
    assert by_start["2026-11-02"] == 3000.5 and by_start["2026-11-09"] == 5.0

    months = manager_api.get(REVENUE, {"startDate": "2026-01-15", "endDate": "2026-12-31"}).json()
    assert [p["date"] for p in months][:2] == ["Jan 2026", "Feb 2026"] and len(months) == 12
    assert months[0]["start"] == "2026-01-15" and months[0]["end"] == "2026-01-31"
    assert {p["date"]: p["value"] for p in months}["Nov 2026"] == 3005.5
    assert {p["date"]: p["value"] for p in months}["Oct 2026"] == 1999.0


def test_sources_chart(manager_api, api, pipeline_data):
    assert manager_api.get(SOURCES, RANGE).json() == [
        {"name": "Facebook Ad", "value": 2}, {"name": "Google", "value": 1}, {"name": "Unknown", "value": 1},
    ]
    assert api.get(SOURCES, RANGE).json() == [{"name": "Facebook Ad", "value": 2}, {"name": "Unknown", "value": 1}]


def test_link_clicks_from_campaign_insights(manager_api):
    campaign = Campaign.objects.create(meta_id="1201", name="Summer")
    other = Campaign.objects.create(meta_id="1202", name="Winter")
    for day, clicks in (("2026-10-30", 100), ("2026-11-01", 300), ("2026-11-10", 50)):
        CampaignInsight.objects.create(campaign=campaign, date=day, link_clicks=clicks)
    CampaignInsight.objects.create(campaign=other, date="2026-11-05", link_clicks=25)
    CampaignInsight.objects.create(campaign=other, date="2026-11-11", link_clicks=1000)  # after the range

    body = manager_api.get(STATS, RANGE).json()
    assert body["link_clicks"] == {"value": 375, "previous": 100, "change": 275.0, "trend": "up"}


def test_stats_read_a_handful_of_queries(manager_api, pipeline_data, django_assert_max_num_queries):
    # dirty-day check, lead KPIs, link clicks, calls, stage counts (+ auth/session none for JWT).
    with django_assert_max_num_queries(6):
        assert manager_api.get(STATS, RANGE).status_code == 200
    with django_assert_max_num_queries(2):
        manager_api.get(REVENUE, RANGE)
    with django_assert_max_num_queries(2):
        manager_api.get(SOURCES, RANGE)


def test_lead_writes_through_the_services_move_the_figures(manager, manager_api, django_capture_on_commit_callbacks):
    """No rebuild here: each save marks its days dirty after commit; the next read recomputes them."""
    today = timezone.localdate().isoformat()
    rng = {"startDate": today, "endDate": today}
    with django_capture_on_commit_callbacks(execute=True):
        created = manager_api.post("/api/v1/leads", {"name": "Ada Lovelace", "source": "Referral",
                                                     "value": "1200"}, format="json")
    assert created.status_code == 201, created.content
    assert RollupDirtyDay.objects.filter(day=today).exists()
    body = manager_api.get(STATS, rng).json()
    assert body["new_leads"]["value"] == 1 and body["revenue"]["value"] == 0
    assert not RollupDirtyDay.objects.exists()  # the read recomputed the day
    assert manager_api.get(SOURCES, rng).json() == [{"name": "Referral", "value": 1}]

    lead_id = created.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        manager_api.patch(f"/api/v1/leads/{lead_id}", {"status": "closed"}, format="json")
    body = manager_api.get(STATS, rng).json()
    assert body["revenue"]["value"] == 1200
    assert body["conversion_rate"]["value"] == 100

    with django_capture_on_commit_callbacks(execute=True):
        manager_api.patch(f"/api/v1/leads/{lead_id}", {"value": "1500"}, format="json")
    assert manager_api.get(STATS, rng).json()["revenue"]["value"] == 1500

    with django_capture_on_commit_callbacks(execute=True):
        manager_api.patch(f"/api/v1/leads/{lead_id}", {"status": "proposal"}, format="json")  # reopened
    body = manager_api.get(STATS, rng).json()
    assert body["revenue"]["value"] == 0 and body["conversion_rate"]["value"] == 0

    with django_capture_on_commit_callbacks(execute=True):
        assert manager_api.delete(f"/api/v1/leads/{lead_id}").status_code in (200, 204)
    assert manager_api.get(STATS, rng).json()["new_leads"]["value"] == 0


def test_reopening_a_deal_won_on_an_earlier_day_takes_it_off_that_day(manager, django_capture_on_commit_callbacks,
                                                                       rebuild):
    won = lead(created="2026-11-01", status="closed", changed="2026-11-03", value="800")
    # Its timeline has the win on Nov 3 (the services write one per status change).
    from crm.models import Interaction
    Interaction.objects.create(lead=won, kind="status_change", occurred_at=at("2026-11-03"),
                               metadata={"from": "proposal", "to": "closed"})
    rebuild()
    rng = services.DateRange(at("2026-11-03").date(), at("2026-11-03").date())
    assert services.lead_kpis(manager, rng)["revenue"]["value"] == 800

    with django_capture_on_commit_callbacks(execute=True):
        lead_services.lead_change_status(lead=won, status="proposal", user=manager)
    services.refresh_before_read()
    assert services.lead_kpis(manager, rng)["revenue"]["value"] == 0


def test_rebuild_matches_incremental_refresh(rebuild, pipeline_data):
    def snapshot():
        return (sorted(LeadDailyStat.objects.values_list("day", "owner_id", "created", "won", "closed", "revenue",
                                                         "lost")),
                sorted(LeadSourceMonthlyStat.objects.values_list("month", "owner_id", "source", "created")))

    before = snapshot()
    for day in {d for d, *_ in before[0]}:
        services.rollup_refresh_day(day)
    assert snapshot() == before
    before, months = before
    assert sum(n for *_, n in months) == 10  # every live lead, by the month it was created
    after = before
    assert sum(r[5] for r in after) == Decimal("1000") + Decimal("999") + Decimal("2500") + Decimal("500.50") + 5


def test_buckets_follow_the_range_length():
    d = services.DateRange
    day = at("2026-11-01").date()
    assert services.bucket_size(d(day, day + timedelta(days=30))) == "day"
    assert services.bucket_size(d(day, day + timedelta(days=31))) == "week"
    assert services.bucket_size(d(day, day + timedelta(days=181))) == "week"
    assert services.bucket_size(d(day, day + timedelta(days=182))) == "month"
    twenty_years = services.buckets(d(day, day + timedelta(days=365 * 20)))
    assert len(twenty_years) == 240  # Nov 2026 .. Oct 2046, one per month


def test_call_kpis(manager_api, api, sales_user, other_sales_user):
    from tests.calling.factories import AgentFactory, CallFactory

    agent = AgentFactory()
    mine, theirs = lead(created="2026-10-01", owner=sales_user), lead(created="2026-10-01", owner=other_sales_user)
    for day, outcome, target in (("2026-11-02", "answered", mine), ("2026-11-03", "no_answer", mine),
                                 ("2026-11-04", "answered", theirs), ("2026-11-05", "busy", theirs),
                                 ("2026-11-06", "", mine),  # still ringing: a call, not yet an outcome
                                 ("2026-10-25", "answered", mine), ("2026-10-26", "failed", theirs)):
        CallFactory(agent=agent, lead=target, outcome=outcome, created_at=at(day), attempt=int(day[-2:]))

    body = manager_api.get(STATS, RANGE).json()
    assert body["calls"] == {"value": 5, "previous": 2, "change": 150.0, "trend": "up"}
    assert body["answered_calls"]["value"] == 2
    assert body["pickup_rate"] == {"value": 50, "previous": 50, "change": 0.0, "trend": "flat"}
    mine_only = api.get(STATS, RANGE).json()
    assert mine_only["calls"]["value"] == 3 and mine_only["pickup_rate"]["value"] == 50


def test_month_split():
    d, day = services.DateRange, lambda s: at(s).date()
    assert services.month_split(d(day("2026-11-03"), day("2026-11-20"))) == (None, [(day("2026-11-03"),
                                                                                     day("2026-11-20"))])
    assert services.month_split(d(day("2026-10-01"), day("2026-11-30"))) == ((day("2026-10-01"), day("2026-11-01")), [])
    assert services.month_split(d(day("2026-01-15"), day("2026-04-02"))) == (
        (day("2026-02-01"), day("2026-03-01")), [(day("2026-01-15"), day("2026-01-31")), (day("2026-04-01"),
                                                                                          day("2026-04-02"))])
    assert services.month_split(d(day("2026-12-31"), day("2027-01-01")))[0] is None


def test_sources_over_months_read_whole_months_and_ragged_ends(manager_api, pipeline_data,
                                                               django_capture_on_commit_callbacks):
    # Sep 20 .. Nov 10: Oct from the monthly rollup, the ends by day.
    rng = {"startDate": "2026-09-20", "endDate": "2026-11-10"}
    body = manager_api.get(SOURCES, rng).json()
    assert body == [{"name": "Manual", "value": 4}, {"name": "Facebook Ad", "value": 3},
                    {"name": "Google", "value": 1}, {"name": "Unknown", "value": 1}]
    # A save in October refreshes that day and the October month row.
    with django_capture_on_commit_callbacks(execute=True):
        lead(created="2026-10-07", source="Google")
    body = manager_api.get(SOURCES, rng).json()
    assert {"name": "Google", "value": 2} in body


def test_a_save_queues_a_background_refresh_debounced_and_reads_leave_fresh_marks_to_it(
        manager, settings, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    from config.celery import app
    from dashboard.tasks import refresh_dirty_rollups

    settings.DASHBOARD_REFRESH_ON_READ_AFTER = 5
    today = timezone.localdate()
    rng = services.DateRange(today, today)
    old = app.conf.task_always_eager
    app.conf.task_always_eager = True  # the queued refresh runs here, as a worker would
    try:
        with django_capture_on_commit_callbacks(execute=True):
            lead_services.lead_create(user=manager, name="First", value=Decimal("10"))
        assert not RollupDirtyDay.objects.exists()  # refreshed in the background, no read needed
        assert services.lead_kpis(manager, rng)["new_leads"]["value"] == 1

        cache.set(services.REFRESH_QUEUED_KEY, 1)  # a refresh is already waiting: no second one
        with django_capture_on_commit_callbacks(execute=True):
            lead_services.lead_create(user=manager, name="Second", value=Decimal("10"))
    finally:
        app.conf.task_always_eager = old
    assert RollupDirtyDay.objects.filter(day=today).exists()
    services.refresh_before_read()
    assert RollupDirtyDay.objects.filter(day=today).exists()  # fresh: left to the waiting refresh
    refresh_dirty_rollups.apply()  # the waiting one runs
    assert not RollupDirtyDay.objects.exists() and cache.get(services.REFRESH_QUEUED_KEY) is None
    assert services.lead_kpis(manager, rng)["new_leads"]["value"] == 2
