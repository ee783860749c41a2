"""The calling pages: history with metrics, queue, call page, agents with the hours editor, and
the lead page's panel with "Call now"."""

import pytest
from django.utils import timezone

from calling.models import Agent, Call
from tests.calling.factories import AgentFactory, CallFactory
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sam_client(client, sales_user):
    client.force_login(sales_user)
    return client


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def test_history_page_with_filters_and_metrics(sam_client, sales_user):
    agent = AgentFactory(name="Ana")
    lead = LeadFactory(first_name="Alice", owner=sales_user, agent_id=agent.pk)
    CallFactory(lead=lead, agent=agent, outcome="answered", status="completed", duration_seconds=95,
                summary="Wants a demo.", transcript="AI: hi")
    response = sam_client.get("/calls/")
    html = response.content.decode()
    assert response.status_code == 200 and "Alice" in html and "Wants a demo." in html and "100.0%" in html
    empty = sam_client.get("/calls/?outcome=busy").content.decode()
    assert "No calls match these filters" in empty
    assert "outcome" in sam_client.get("/calls/?outcome=nope").content.decode()


def test_history_empty_state(sam_client):
    assert "No calls yet" in sam_client.get("/calls/").content.decode()


def test_queue_and_call_pages(sam_client, sales_user):
    agent = AgentFactory()
    due = LeadFactory(first_name="Dora", owner=sales_user, agent_id=agent.pk, schedule_at=timezone.now())
    later = LeadFactory(first_name="Lena", owner=None, agent_id=agent.pk,
                        schedule_at=timezone.now() + timezone.timedelta(hours=2))
    busy = LeadFactory(first_name="Ivan", owner=None, agent_id=agent.pk)
    call = CallFactory(lead=busy, agent=agent, status="ringing", transcript="AI: Hello Ivan")
    html = sam_client.get("/calls/queue/").content.decode()
    assert all(name in html for name in ("Dora", "Lena", "Ivan"))
    assert html.index("Ivan") < html.index("Dora") < html.index("Lena")  # in progress, due, later
    assert "AI: Hello Ivan" in sam_client.get(f"/calls/{call.pk}/").content.decode()
    assert due and later


def test_agents_pages(manager_client):
    data = {"name": "Night owl", "active": "on", "time_zone": "Asia/Tokyo", "max_attempts": "2",
            "retry_delay_minutes": "15", "provider": "simulated", "hours_mon": "09:00-12:00, 13:00-17:30",
            "hours_sat": "10:00-14:00"}
    response = manager_client.post("/calls/agents/new/", data)
    assert response.status_code == 302
    agent = Agent.objects.get()
    assert agent.business_hours["mon"] == [["09:00", "12:00"], ["13:00", "17:30"]]
    assert agent.business_hours["sat"] == [["10:00", "14:00"]] and agent.business_hours["tue"] == []
    assert "Night owl" in manager_client.get("/calls/agents/").content.decode()
    bad = manager_client.post(f"/calls/agents/{agent.pk}/edit/", {**data, "hours_mon": "17:00-09:00"})
    assert bad.status_code == 400 and "must start before it ends" in bad.content.decode()
    bad = manager_client.post(f"/calls/agents/{agent.pk}/edit/", {**data, "time_zone": "Nowhere/City"})
    assert bad.status_code == 400 and "IANA" in bad.content.decode()
    agent.refresh_from_db()
    assert agent.time_zone == "Asia/Tokyo"


def test_sales_users_cannot_edit_agents(sam_client):
    assert sam_client.get("/calls/agents/new/").status_code == 403
    assert sam_client.get("/calls/agents/").status_code == 200


def test_lead_page_loads_the_panel_and_call_now_works(sam_client, sales_user, eager_celery,
                                                       django_capture_on_commit_callbacks):
    agent = AgentFactory(name="Ana")
    lead = LeadFactory(owner=sales_user, agent_id=agent.pk, custom_fields={"simulated_outcome": "no_answer"})
    page = sam_client.get(f"/leads/{lead.pk}/").content.decode()
    assert f'hx-get="/calls/lead/{lead.pk}/panel/"' in page and 'hx-trigger="load"' in page
    panel = sam_client.get(f"/calls/lead/{lead.pk}/panel/").content.decode()
    assert "Ana" in panel and "Call now" in panel and "No calls yet" in panel

    with django_capture_on_commit_callbacks(execute=True):
        response = sam_client.post(f"/calls/lead/{lead.pk}/call-now/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "Queued" in html  # placed after the commit
    assert "No answer" in sam_client.get(f"/calls/lead/{lead.pk}/panel/").content.decode()
    call = Call.objects.get(lead=lead)
    assert call.outcome == "no_answer"
    lead.refresh_from_db()
    assert lead.attempts_count == 1 and lead.call_status == "in_progress"


def test_call_now_refusal_shows_in_the_panel(sam_client, sales_user):
    lead = LeadFactory(owner=sales_user, agent_id=AgentFactory(active=False).pk)
    html = sam_client.post(f"/calls/lead/{lead.pk}/call-now/", HTTP_HX_REQUEST="true").content.decode()
    assert "inactive" in html and not Call.objects.exists()


def test_other_users_leads_are_404(sam_client, other_sales_user):
    lead = LeadFactory(owner=other_sales_user, agent_id=AgentFactory().pk)
    assert sam_client.get(f"/calls/lead/{lead.pk}/panel/").status_code == 404
    assert sam_client.post(f"/calls/lead/{lead.pk}/call-now/").status_code == 404
