"""The calling API: agents CRUD with validation, seed 004's schedule/history/metrics, a lead's
calls, scoping (a sales user sees calls of their own and unassigned leads), bad input -> 4xx."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from calling.models import Agent, Call
from leads.models import Lead
from tests.calling.factories import AgentFactory, CallFactory
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_agent_crud(manager_api):
    body = {"name": "Ana", "time_zone": "America/New_York", "max_attempts": 4, "retry_delay_minutes": 30,
            "business_hours": {"mon": [["09:00", "12:00"], ["13:00", "17:30"]]}, "caller_number": "+14157774444"}
    response = manager_api.post("/api/v1/agents", body, format="json")
    assert response.status_code == 201, response.content
    agent = response.json()
    assert agent["provider"] == "simulated" and agent["active"] is True
    assert agent["business_hours"]["mon"] == [["09:00", "12:00"], ["13:00", "17:30"]]
    assert agent["business_hours"]["sun"] == [] and isinstance(agent["is_open_now"], bool)

    url = f"/api/v1/agents/{agent['id']}"
    response = manager_api.patch(url, {"active": False, "retry_delay_minutes": 0}, format="json")
    assert response.status_code == 200 and response.json()["active"] is False
    assert manager_api.get("/api/v1/agents/").json()["count"] == 1
    assert manager_api.delete(url).status_code == 200
    assert not Agent.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({"name": "A", "time_zone": "Mars/Olympus"}, "time_zone"),
    ({"name": "A", "max_attempts": 0}, "max_attempts"),
    ({"name": "A", "retry_delay_minutes": -5}, "retry_delay_minutes"),
    ({"name": "A", "provider": "carrier-pigeon"}, "provider"),
    ({"name": "A", "caller_number": "4155552671"}, "caller_number"),
    ({"name": "A", "caller_number": "+1"}, "caller_number"),
    ({"name": "A", "business_hours": {"mon": [["17:00", "09:00"]]}}, "business_hours"),
    ({"name": "A", "business_hours": {"mon": [["9am", "5pm"]]}}, "business_hours"),
    ({"name": "A", "provider": "vapi"}, "assistant_id"),
    ({"name": ""}, "name"),
    ({"time_zone": "UTC"}, "name"),
    ({"name": "A", "max_attempts": "many"}, "max_attempts"),
])
def test_agent_validation(manager_api, body, field):
    response = manager_api.post("/api/v1/agents", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"] and response.json()["detail"]
    assert not Agent.objects.exists()


def test_sales_users_read_agents_but_cannot_change_them(api):
    agent = AgentFactory()
    assert api.get(f"/api/v1/agents/{agent.pk}").status_code == 200
    assert api.post("/api/v1/agents", {"name": "X"}, format="json").status_code == 403
    assert api.patch(f"/api/v1/agents/{agent.pk}", {"name": "X"}, format="json").status_code == 403
    assert api.get(f"/api/v1/agents/{uuid.uuid4()}").status_code == 404
    assert api.get("/api/v1/agents/not-a-uuid").status_code == 404


def test_an_agent_in_use_is_not_deleted(manager_api):
    agent = AgentFactory()
    LeadFactory(agent_id=agent.pk)
    response = manager_api.delete(f"/api/v1/agents/{agent.pk}")
    assert response.status_code == 400 and response.json()["code"] == "agent_in_use"


def test_leads_api_refuses_unknown_and_inactive_agents(api):
    response = api.post("/api/v1/leads", {"first_name": "Jo", "phone_e164": "+14155552670",
                                          "agent_id": str(uuid.uuid4())}, format="json")
    assert response.status_code == 400 and "agent_id" in response.json()["errors"]
    inactive = AgentFactory(active=False)
    response = api.post("/api/v1/leads", {"first_name": "Jo", "agent_id": str(inactive.pk)}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "agent_inactive"
    assert not Lead.objects.exists()


def test_seed_004_calling_flow(api, eager_celery, django_capture_on_commit_callbacks):
    """Seed 004's "complete lead creation and calling flow"."""
    agent = AgentFactory(name="Sales Agent")
    agents = api.get("/api/v1/agents/").json()["results"]
    assert [a["id"] for a in agents] == [str(agent.pk)]
    response = api.post("/api/v1/leads/", {"agent_id": str(agent.pk), "first_name": "John",
                                           "phone_e164": "+14155552671",
                                           "custom_fields": {"company": "Acme Corp",
                                                             "simulated_outcome": "completed"}}, format="json")
    assert response.status_code == 201
    lead_id = response.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/calls/schedule", {"lead_id": lead_id}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["message"] == "Lead scheduled successfully"

    history = api.get("/api/v1/calls/history?search=John").json()
    assert history["count"] == 1
    row = history["results"][0]
    assert (row["lead_id"], row["agent_id"], row["lead_name"], row["lead_phone"], row["agent_name"]) == (
        lead_id, str(agent.pk), "John", "+14155552671", "Sales Agent")
    assert (row["status"], row["outcome"]) == ("completed", "answered")
    assert row["duration_seconds"] > 0 and row["summary"]
    assert row["transcript_url"].endswith(f"/calls/{row['id']}/")
    metrics = api.get("/api/v1/calls/metrics").json()
    assert metrics["total_calls"] == 1 and metrics["answered_calls"] == 1 and metrics["pickup_rate"] == 100.0
    assert metrics["active_agents"] == 1
    lead = api.get(f"/api/v1/leads/{lead_id}").json()
    assert (lead["call_status"], lead["disposition"], lead["attempts_count"]) == ("done", "completed", 1)
    assert lead["ai_summary"] == row["summary"]
    calls = api.get(f"/api/v1/leads/{lead_id}/calls").json()
    assert [c["id"] for c in calls["results"]] == [row["id"]]


def test_schedule_errors(api, other_sales_user):
    assert api.post("/api/v1/calls/schedule", {"lead_id": str(uuid.uuid4())}, format="json").status_code == 404
    assert api.post("/api/v1/calls/schedule", {"lead_id": "nope"}, format="json").status_code == 400
    assert api.post("/api/v1/calls/schedule", {}, format="json").status_code == 400
    no_agent = LeadFactory()
    response = api.post("/api/v1/calls/schedule", {"lead_id": str(no_agent.pk)}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "no_agent"
    theirs = LeadFactory(owner=other_sales_user, agent_id=AgentFactory().pk)
    response = api.post("/api/v1/calls/schedule", {"lead_id": str(theirs.pk)}, format="json")
    assert response.status_code == 404 and response.json()["detail"] == "Lead not found"
    assert not Call.objects.exists()


@pytest.fixture
def history(sales_user, other_sales_user):
    """Four calls: two agents, outcomes, days; one on another sales user's lead."""
    ana, bob = AgentFactory(name="Ana Outbound"), AgentFactory(name="Bob Dialer")
    alice = LeadFactory(first_name="Alice", last_name="Johnson", phone="+14155550001", owner=sales_user)
    carl = LeadFactory(first_name="Carl", last_name="Berg", phone="+442071838750", owner=None)
    hidden = LeadFactory(first_name="Hidden", owner=other_sales_user)
    day = dt.datetime(2026, 11, 10, 12, tzinfo=dt.UTC)
    rows = [
        CallFactory(lead=alice, agent=ana, outcome="answered", status="completed", duration_seconds=120,
                    created_at=day),
        CallFactory(lead=alice, agent=ana, attempt=2, outcome="no_answer", status="completed", duration_seconds=0,
                    created_at=day + dt.timedelta(days=1)),
        CallFactory(lead=carl, agent=bob, outcome="failed", status="failed", created_at=day + dt.timedelta(days=5)),
        CallFactory(lead=hidden, agent=bob, outcome="answered", status="completed", duration_seconds=60,
                    created_at=day),
    ]
    return {"ana": ana, "bob": bob, "calls": rows}


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_history_filters(api, history):
    alice1, alice2, carl, _ = (str(c.pk) for c in history["calls"])
    assert ids(api.get("/api/v1/calls/history")) == {alice1, alice2, carl}  # not the other user's lead
    assert ids(api.get(f"/api/v1/calls/history?agent_id={history['ana'].pk}")) == {alice1, alice2}
    assert ids(api.get("/api/v1/calls/history?outcome=answered")) == {alice1}
    assert ids(api.get("/api/v1/calls/history?outcome=no_answer,failed")) == {alice2, carl}
    assert ids(api.get("/api/v1/calls/history?start_date=2026-11-11&end_date=2026-11-11")) == {alice2}
    assert ids(api.get("/api/v1/calls/history?end_date=2026-11-10")) == {alice1}
    assert ids(api.get("/api/v1/calls/history?search=johnson")) == {alice1, alice2}
    assert ids(api.get("/api/v1/calls/history?search=bob")) == {carl}  # agent name
    assert ids(api.get("/api/v1/calls/history?search=%2B4420718")) == {carl}  # phone prefix
    page = api.get("/api/v1/calls/history?page=2&per_page=2").json()
    assert page["count"] == 3 and len(page["results"]) == 1
    assert api.get("/api/v1/calls").json()["count"] == 3


@pytest.mark.parametrize("query", ["outcome=maybe", "start_date=2026-13-01", "agent_id=x", "per_page=zero"])
def test_history_bad_filters_are_400(api, history, query):
    response = api.get(f"/api/v1/calls/history?{query}")
    assert response.status_code == 400 and response.json()["detail"]


def test_metrics(manager_api, history):
    body = manager_api.get("/api/v1/calls/metrics").json()
    assert body == {"total_calls": 4, "answered_calls": 2, "no_answer_calls": 1, "busy_calls": 0, "failed_calls": 1,
                    "in_progress_calls": 0, "pickup_rate": 50.0, "average_attempts_per_lead": 1.33,
                    "average_duration_seconds": 90.0, "active_agents": 2}
    body = manager_api.get(f"/api/v1/calls/metrics?agent_id={history['ana'].pk}&start_date=2026-11-10"
                           "&end_date=2026-11-10").json()
    assert (body["total_calls"], body["answered_calls"], body["active_agents"]) == (1, 1, 1)
    assert manager_api.get("/api/v1/calls/metrics?end_date=yesterday").status_code == 400


def test_lead_calls_and_call_detail_scoping(api, history):
    alice1, _, _, hidden = history["calls"]
    assert api.get(f"/api/v1/leads/{alice1.lead_id}/calls").json()["count"] == 2
    assert api.get(f"/api/v1/leads/{hidden.lead_id}/calls").status_code == 404
    assert api.get(f"/api/v1/calls/{alice1.pk}").json()["outcome"] == "answered"
    assert api.get(f"/api/v1/calls/{hidden.pk}").status_code == 404
    Lead.objects.filter(pk=alice1.lead_id).update(deleted_at=timezone.now())  # a deleted lead leaves the lists
    assert api.get(f"/api/v1/calls/{alice1.pk}").status_code == 404


def test_history_query_count(manager_api, history, django_assert_num_queries):
    # auth user, count, one page of calls with lead and agent
    with django_assert_num_queries(3):
        assert manager_api.get("/api/v1/calls/history").status_code == 200
