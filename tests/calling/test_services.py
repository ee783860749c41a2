"""Scheduler, retries, "call now", the timeout and the outcome write-back, with the simulated
provider (its end reports run through the same service as real webhooks)."""

import datetime as dt

import pytest
from django.utils import timezone

from calling import services
from calling.models import Call, CallWebhookEvent
from calling.providers import simulated
from calling.providers.base import CallEvent
from crm.errors import NotFound, ServiceError
from crm.events import event_published
from crm.models import Interaction
from leads import services as lead_services
from leads.models import Lead
from tests.calling.factories import AgentFactory
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def lead_for(agent, **kw):
    kw.setdefault("schedule_at", timezone.now() - dt.timedelta(minutes=1))
    return LeadFactory(agent_id=agent.pk, **kw)


def end(call, result, **kw) -> Call:
    """Report the simulated end of ``call`` with ``result`` (a disposition or an outcome)."""
    return services.call_apply_event(simulated.event_for(str(call.pk), call.lead.name, result), **kw)


def test_tick_claims_only_due_leads():
    agent = AgentFactory(max_attempts=2)
    due = lead_for(agent)
    due_null = lead_for(agent, schedule_at=None)
    lead_for(agent, schedule_at=timezone.now() + dt.timedelta(hours=1))  # later
    lead_for(agent, call_status=Lead.CallStatus.DONE)
    lead_for(agent, attempts_count=2)  # at the maximum
    lead_for(agent, deleted_at=timezone.now())
    lead_for(agent, phone="")
    LeadFactory(agent_id=None)
    inactive = AgentFactory(active=False)
    lead_for(inactive)
    closed = AgentFactory(business_hours={})
    lead_for(closed)

    result = services.scheduler_tick(dispatch="none")

    assert result.claimed == 2 and result.agents_open == 1
    assert set(Call.objects.values_list("lead_id", flat=True)) == {due.pk, due_null.pk}
    due.refresh_from_db()
    assert (due.call_status, due.attempts_count) == ("in_progress", 1)
    assert due.schedule_at > timezone.now()  # leased until the call ends or times out
    call = Call.objects.get(lead=due)
    assert (call.status, call.attempt, call.idempotency_key) == ("queued", 1, f"{due.pk}:1")
    # A second tick finds nothing: the leases keep the leads out.
    assert services.scheduler_tick(dispatch="none").claimed == 0


def test_tick_outside_business_hours_places_nothing():
    agent = AgentFactory(time_zone="Europe/Berlin", business_hours={"mon": [["09:00", "17:00"]]})
    sunday = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)
    lead_for(agent, schedule_at=sunday - dt.timedelta(hours=1))  # due before both ticks, whatever today is
    monday_9_berlin = dt.datetime(2026, 11, 23, 8, tzinfo=dt.UTC)
    assert services.scheduler_tick(now=sunday, dispatch="none").claimed == 0
    assert services.scheduler_tick(now=monday_9_berlin, dispatch="none").claimed == 1


def test_batches_cover_every_due_lead():
    agent = AgentFactory()
    leads = [lead_for(agent) for _ in range(7)]
    result = services.scheduler_tick(dispatch="none", batch_size=3)
    assert result.claimed == 7
    assert Call.objects.filter(lead__in=leads).count() == 7


def test_answered_call_writes_outcome_back_to_the_lead(eager_celery, django_capture_on_commit_callbacks):
    agent = AgentFactory()
    lead = lead_for(agent, custom_fields={"simulated_outcome": "completed"})
    published = []

    def receiver(sender, event, data, **kwargs):
        published.append((event, data))

    event_published.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.scheduler_tick(dispatch="inline")
    finally:
        event_published.disconnect(receiver)

    call = Call.objects.get(lead=lead)
    assert (call.status, call.outcome, call.disposition) == ("completed", "answered", "completed")
    assert call.duration_seconds > 0 and call.transcript and call.started_at < call.ended_at
    lead.refresh_from_db()
    assert (lead.call_status, lead.disposition, lead.attempts_count) == ("done", "completed", 1)
    assert lead.ai_summary == call.summary
    entry = Interaction.objects.get(lead=lead, kind="call")
    assert entry.metadata["duration_seconds"] == call.duration_seconds
    assert entry.metadata["transcript_url"] == f"/calls/{call.pk}/"
    assert entry.body == call.summary
    event, data = next(p for p in published if p[0] == "call.completed")
    assert data["id"] == str(call.pk) and data["outcome"] == "answered" and data["lead_id"] == str(lead.pk)


@pytest.mark.parametrize("result, disposition", [("not_interested", "not_interested"), ("hung_up", "hung_up")])
def test_answered_dispositions_come_from_the_call(result, disposition):
    agent = AgentFactory()
    lead = lead_for(agent)
    services.scheduler_tick(dispatch="none")
    end(Call.objects.get(lead=lead), result)
    lead.refresh_from_db()
    assert (lead.call_status, lead.disposition) == ("done", disposition)


def test_retry_ladder_to_the_maximum():
    # Open Monday-Friday 09:00-17:00 UTC; retry after 90 minutes.
    agent = AgentFactory(max_attempts=3, retry_delay_minutes=90,
                         business_hours={d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")})
    lead = lead_for(agent, schedule_at=None)
    now = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)  # Monday 15:00

    assert services.scheduler_tick(now=now, dispatch="none").claimed == 1
    end(Call.objects.get(lead=lead, attempt=1), "no_answer", now=now)
    lead.refresh_from_db()
    assert (lead.call_status, lead.attempts_count, lead.disposition) == ("in_progress", 1, "")
    assert lead.schedule_at == now + dt.timedelta(minutes=90)  # 16:30, inside the hours

    now2 = dt.datetime(2026, 11, 23, 16, 30, tzinfo=dt.UTC)
    assert services.scheduler_tick(now=now2 - dt.timedelta(minutes=1), dispatch="none").claimed == 0  # not yet
    assert services.scheduler_tick(now=now2, dispatch="none").claimed == 1
    end(Call.objects.get(lead=lead, attempt=2), "busy", now=now2)
    lead.refresh_from_db()
    # 16:30 + 90 min = 18:00, after hours: moved to Tuesday 09:00.
    assert lead.schedule_at == dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)

    now3 = lead.schedule_at
    assert services.scheduler_tick(now=now3, dispatch="none").claimed == 1
    end(Call.objects.get(lead=lead, attempt=3), "failed", now=now3)
    lead.refresh_from_db()
    assert (lead.call_status, lead.disposition, lead.attempts_count) == ("done", "no_answer", 3)
    assert services.scheduler_tick(now=now3 + dt.timedelta(days=1), dispatch="none").claimed == 0
    assert list(Call.objects.filter(lead=lead).order_by("attempt").values_list("outcome", flat=True)) == [
        "no_answer", "busy", "failed"]
    assert Interaction.objects.filter(lead=lead, kind="call").count() == 3


def test_a_repeated_event_is_applied_once():
    agent = AgentFactory(max_attempts=5)
    lead = lead_for(agent)
    services.scheduler_tick(dispatch="none")
    call = Call.objects.get(lead=lead)
    end(call, "no_answer")
    lead.refresh_from_db()
    state = (lead.call_status, lead.attempts_count, lead.schedule_at)
    end(call, "no_answer")
    end(call, "completed")  # a different body under the same dedupe key is a repeat too
    lead.refresh_from_db()
    assert (lead.call_status, lead.attempts_count, lead.schedule_at) == state
    assert Interaction.objects.filter(lead=lead, kind="call").count() == 1
    assert CallWebhookEvent.objects.filter(call=call).count() == 1


def test_provider_failure_fails_the_call_and_schedules_the_retry(settings):
    settings.VAPI_API_KEY = ""  # the Vapi adapter refuses without a key
    agent = AgentFactory(provider="vapi", assistant_id="asst-1", retry_delay_minutes=0)
    lead = lead_for(agent)
    services.scheduler_tick(dispatch="inline")
    call = Call.objects.get(lead=lead)
    assert (call.status, call.outcome) == ("failed", "failed") and "VAPI_API_KEY" in call.error
    lead.refresh_from_db()
    assert lead.call_status == "in_progress" and lead.attempts_count == 1
    assert lead.schedule_at <= timezone.now()  # due again at once: nothing lost


def test_a_call_that_never_reports_back_times_out_and_is_retried():
    agent = AgentFactory(retry_delay_minutes=0)
    lead = lead_for(agent)
    services.scheduler_tick(dispatch="none")
    later = timezone.now() + dt.timedelta(minutes=16)
    result = services.scheduler_tick(now=later, dispatch="none")
    assert result.timed_out == 1 and result.claimed == 1
    first, second = Call.objects.filter(lead=lead).order_by("attempt")
    assert (first.status, first.outcome, first.ended_reason) == ("failed", "failed", "timeout")
    assert second.status == "queued"


def test_call_now_bypasses_schedule_hours_and_done():
    agent = AgentFactory(business_hours={}, max_attempts=1)  # never open
    lead = lead_for(agent, schedule_at=timezone.now() + dt.timedelta(days=3), call_status="done",
                    disposition="no_answer", attempts_count=1)
    call = services.call_schedule_now(lead=lead, user=None, dispatch="none")
    lead.refresh_from_db()
    assert (call.attempt, call.status) == (2, "queued")
    assert (lead.call_status, lead.attempts_count, lead.disposition) == ("in_progress", 2, "")
    with pytest.raises(ServiceError) as exc:
        services.call_schedule_now(lead=lead, user=None, dispatch="none")
    assert exc.value.code == "call_in_progress"
    assert Call.objects.filter(lead=lead).count() == 1


def test_call_now_refusals():
    no_agent = LeadFactory(agent_id=None)
    with pytest.raises(ServiceError) as exc:
        services.call_schedule_now(lead=no_agent, user=None)
    assert exc.value.code == "no_agent"
    inactive = AgentFactory(active=False)
    with pytest.raises(ServiceError) as exc:
        services.call_schedule_now(lead=LeadFactory(agent_id=inactive.pk), user=None)
    assert exc.value.code == "agent_inactive"
    with pytest.raises(NotFound):
        services.call_schedule_now(lead=LeadFactory(agent_id=AgentFactory().pk, deleted_at=timezone.now()),
                                   user=None)
    assert not Call.objects.exists()


def test_leads_refuse_unknown_or_inactive_agents(sales_user):
    import uuid

    with pytest.raises(ServiceError) as exc:
        lead_services.lead_create(user=sales_user, name="X", phone="+14155550100", agent_id=uuid.uuid4())
    assert (exc.value.code, exc.value.field) == ("unknown_agent", "agent_id")
    inactive = AgentFactory(active=False)
    lead = lead_services.lead_create(user=sales_user, name="Y", phone="+14155550101")
    with pytest.raises(ServiceError) as exc:
        lead_services.lead_update(lead=lead, user=sales_user, agent_id=inactive.pk)
    assert exc.value.code == "agent_inactive"
    active = AgentFactory()
    lead = lead_services.lead_update(lead=lead, user=sales_user, agent_id=active.pk)
    assert lead.agent_id == active.pk


def test_an_analysis_after_the_end_adds_summary_and_disposition():
    agent = AgentFactory(provider="retell", caller_number="+14157774444")
    lead = lead_for(agent)
    services.scheduler_tick(dispatch="none")
    call = Call.objects.get(lead=lead)
    Call.objects.filter(pk=call.pk).update(provider_call_id="ret-1", status="ringing")
    base = {"provider": "retell", "provider_call_id": "ret-1", "outcome": "answered", "duration_seconds": 95}
    services.call_apply_event(CallEvent(kind="ended", dedupe_key="ret-1:call_ended", disposition="completed",
                                        **base))
    lead.refresh_from_db()
    assert (lead.call_status, lead.disposition, lead.ai_summary) == ("done", "completed", "")
    services.call_apply_event(CallEvent(kind="analyzed", dedupe_key="ret-1:call_analyzed",
                                        disposition="not_interested", summary="Lead declined.", **base))
    lead.refresh_from_db()
    assert (lead.disposition, lead.ai_summary) == ("not_interested", "Lead declined.")
    assert Interaction.objects.get(lead=lead, kind="call").body == "Lead declined."


def test_provider_integration_status(settings):
    settings.VAPI_API_KEY, settings.VAPI_WEBHOOK_SECRET, settings.RETELL_API_KEY = "k", "s", ""
    status = services.provider_integration_status()
    assert status["vapi"] == {"label": "Vapi", "configured": True, "webhook_path": "/api/v1/calls/webhooks/vapi"}
    assert status["retell"]["configured"] is False
    assert status["retell"]["webhook_path"] == "/api/v1/calls/webhooks/retell"
    assert status["simulated"]["configured"] is True and status["simulated"]["webhook_path"] is None


def test_the_claim_keeps_the_lead_lists_bucket_counts():
    """The claim's raw UPDATE moves updated_at to now: the leads change week in the "last
    update" ordering's buckets, which must follow (else deep pages by last update drift)."""
    from tests.leads.test_order_buckets import assert_counts_match_a_rebuild

    agent = AgentFactory()
    leads = [lead_for(agent, score=10 * i) for i in range(3)]
    Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(
        updated_at=timezone.now() - dt.timedelta(days=60))
    assert_counts_match_a_rebuild()

    assert services.scheduler_tick(dispatch="none").claimed == 3

    assert all(lead.updated_at > timezone.now() - dt.timedelta(minutes=1) for lead in Lead.objects.all())
    assert_counts_match_a_rebuild()
