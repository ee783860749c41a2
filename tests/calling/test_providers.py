"""Vapi and Retell adapters against a local HTTP server replaying their documented create-call
answers, and their webhooks signed as each documents (integrations.md): good, wrong and missing
signatures, replays, and the ended-reason -> outcome table."""

import copy
import hashlib
import hmac
import json
import time

import pytest
from rest_framework.test import APIClient

from calling import services
from calling.models import Call
from calling.providers import retell, vapi
from crm.models import Interaction
from leads.models import Lead
from tests.calling.conftest import RETELL_CREATED, VAPI_CREATED
from tests.calling.factories import AgentFactory
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

VAPI_REPORT = {"message": {
    "type": "end-of-call-report", "endedReason": "customer-ended-call", "timestamp": 1777908641500,
    "startedAt": "2026-05-04T15:30:02.000Z", "endedAt": "2026-05-04T15:30:41.500Z", "cost": 0.11,
    "call": {"id": VAPI_CREATED["id"], "type": "outboundPhoneCall", "status": "ended", "assistantId": "asst-1",
             "phoneNumberId": "pn-1", "customer": {"number": "+14155552671"}},
    "customer": {"number": "+14155552671", "externalId": "lead-1042"},
    "artifact": {"transcript": "AI: Hi Joe, this is Ana from Acme...\nUser: Not interested, thanks.\n",
                 "recordingUrl": "https://storage.vapi.ai/c0ffee00-mono.wav"},
    "analysis": {"summary": "Lead declined.", "structuredData": {"interested": False}, "successEvaluation": "false"},
}}
RETELL_ANALYZED = {"event": "call_analyzed", "call": {
    "call_type": "phone_call", "call_id": RETELL_CREATED["call_id"], "agent_id": "oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD",
    "call_status": "ended", "direction": "outbound", "from_number": "+14157774444", "to_number": "+14155552671",
    "metadata": {"lead_id": "1042", "attempt": 2}, "start_timestamp": 1703302407333, "end_timestamp": 1703302428855,
    "duration_ms": 21522, "disconnection_reason": "user_hangup",
    "transcript": "Agent: Hi Joe...\nUser: Not interested.\n",
    "recording_url": "https://retell.example/rec/Jabr9.wav",
    "call_analysis": {"call_summary": "Lead declined.", "in_voicemail": False, "user_sentiment": "Negative",
                      "call_successful": False, "custom_analysis_data": {"interested": False}},
}}


def retell_signature(raw: bytes, key: str, ms: int | None = None) -> str:
    ms = ms if ms is not None else int(time.time() * 1000)
    return f"v={ms},d={hmac.new(key.encode(), raw + str(ms).encode(), hashlib.sha256).hexdigest()}"


def post(path: str, payload: dict, **headers):
    raw = json.dumps(payload).encode()
    return APIClient().post(path, raw, content_type="application/json", **headers), raw


def placed_call(agent, replay) -> Call:
    lead = LeadFactory(agent_id=agent.pk, first_name="Joe", last_name="Example", phone="+14155552671",
                       custom_fields={"plan": "premium"})
    services.scheduler_tick(dispatch="inline")
    return Call.objects.select_related("lead").get(lead=lead)


def test_vapi_create_call_request(replay):
    agent = AgentFactory(provider="vapi", assistant_id="asst-1", phone_number_id="pn-1")
    call = placed_call(agent, replay)

    path, headers, body = replay.requests[0]
    assert path == "/call" and headers["Authorization"] == "Bearer vapi-test-key"
    assert body["assistantId"] == "asst-1" and body["phoneNumberId"] == "pn-1"
    assert body["customer"] == {"number": "+14155552671", "name": "Joe Example", "externalId": str(call.lead_id)}
    overrides = body["assistantOverrides"]
    assert overrides["variableValues"]["first_name"] == "Joe" and overrides["variableValues"]["plan"] == "premium"
    assert overrides["metadata"] == {"call_id": str(call.pk), "lead_id": str(call.lead_id), "attempt": 1,
                                     "idempotency_key": f"{call.lead_id}:1"}
    assert (call.status, call.provider_call_id) == ("ringing", VAPI_CREATED["id"])


def test_retell_create_call_request(replay):
    agent = AgentFactory(provider="retell", assistant_id="oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD",
                         caller_number="+14157774444")
    call = placed_call(agent, replay)

    path, headers, body = replay.requests[0]
    assert path == "/v2/create-phone-call" and headers["Authorization"] == "Bearer key_retell_test"
    assert (body["from_number"], body["to_number"]) == ("+14157774444", "+14155552671")
    assert body["override_agent_id"] == "oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD"
    assert body["metadata"]["idempotency_key"] == f"{call.lead_id}:1"
    assert body["retell_llm_dynamic_variables"]["first_name"] == "Joe"
    assert call.provider_call_id == RETELL_CREATED["call_id"]


def test_provider_http_error_fails_the_call_and_keeps_the_lead(replay):
    replay.responses["/call"] = (400, {"message": ["customer.number must be a valid phone number"]})
    agent = AgentFactory(provider="vapi", assistant_id="asst-1", retry_delay_minutes=30)
    call = placed_call(agent, replay)
    assert (call.status, call.outcome) == ("failed", "failed") and "HTTP 400" in call.error
    lead = Lead.objects.get(pk=call.lead_id)
    assert lead.call_status == "in_progress" and lead.attempts_count == 1  # retried in 30 minutes


@pytest.mark.parametrize("headers", [
    {},
    {"HTTP_X_VAPI_SECRET": "wrong"},
    {"HTTP_AUTHORIZATION": "Bearer wrong"},
    {"HTTP_X_VAPI_SIGNATURE": "0" * 64},
])
def test_vapi_webhook_without_a_valid_secret_is_refused_and_changes_nothing(replay, headers):
    call = placed_call(AgentFactory(provider="vapi", assistant_id="asst-1"), replay)
    response, _ = post("/api/v1/calls/webhooks/vapi", VAPI_REPORT, **headers)
    assert response.status_code == 403 and response.json()["code"] == "invalid_signature"
    call.refresh_from_db()
    assert call.status == "ringing" and not call.outcome
    assert not Interaction.objects.filter(kind="call").exists()


@pytest.mark.parametrize("auth", ["secret", "bearer", "hmac"])
def test_vapi_end_of_call_report_is_applied_once(replay, auth):
    call = placed_call(AgentFactory(provider="vapi", assistant_id="asst-1"), replay)
    raw = json.dumps(VAPI_REPORT).encode()
    headers = {
        "secret": {"HTTP_X_VAPI_SECRET": "vapi-webhook-secret"},
        "bearer": {"HTTP_AUTHORIZATION": "Bearer vapi-webhook-secret"},
        "hmac": {"HTTP_X_VAPI_SIGNATURE": hmac.new(b"vapi-webhook-secret", raw, hashlib.sha256).hexdigest()},
    }[auth]
    for _ in range(2):  # Vapi retries: the second delivery changes nothing
        response = APIClient().post("/api/v1/calls/webhooks/vapi", raw, content_type="application/json", **headers)
        assert response.status_code == 200, response.content

    call.refresh_from_db()
    assert (call.status, call.outcome, call.disposition) == ("completed", "answered", "not_interested")
    assert call.duration_seconds == 40 and call.summary == "Lead declined."
    assert call.recording_url == "https://storage.vapi.ai/c0ffee00-mono.wav" and "Not interested" in call.transcript
    lead = Lead.objects.get(pk=call.lead_id)
    assert (lead.call_status, lead.disposition, lead.ai_summary) == ("done", "not_interested", "Lead declined.")
    assert Interaction.objects.filter(lead=lead, kind="call").count() == 1


def test_vapi_status_updates_move_the_call_forward(replay):
    call = placed_call(AgentFactory(provider="vapi", assistant_id="asst-1"), replay)
    update = {"message": {"type": "status-update", "status": "in-progress", "call": {"id": VAPI_CREATED["id"]}}}
    response, _ = post("/api/v1/calls/webhooks/vapi", update, HTTP_X_VAPI_SECRET="vapi-webhook-secret")
    assert response.status_code == 200
    call.refresh_from_db()
    assert call.status == "in_progress" and call.started_at is not None


@pytest.mark.parametrize("signature", [
    None, "v=123,d=abc", "garbage",
    "stale",  # a correct signature made 6 minutes ago
    "wrong-key",
])
def test_retell_webhook_signature_is_checked(replay, signature):
    agent = AgentFactory(provider="retell", caller_number="+14157774444")
    call = placed_call(agent, replay)
    raw = json.dumps(RETELL_ANALYZED).encode()
    if signature == "stale":
        signature = retell_signature(raw, "key_retell_test", int(time.time() * 1000) - 6 * 60 * 1000)
    elif signature == "wrong-key":
        signature = retell_signature(raw, "key_other")
    headers = {"HTTP_X_RETELL_SIGNATURE": signature} if signature else {}
    response = APIClient().post("/api/v1/calls/webhooks/retell", raw, content_type="application/json", **headers)
    assert response.status_code == 403
    call.refresh_from_db()
    assert call.status == "ringing"


def test_retell_call_ended_then_analyzed(replay):
    call = placed_call(AgentFactory(provider="retell", caller_number="+14157774444"), replay)
    ended = copy.deepcopy(RETELL_ANALYZED)
    ended["event"] = "call_ended"
    del ended["call"]["call_analysis"]
    for payload in (ended, ended, RETELL_ANALYZED, RETELL_ANALYZED):
        raw = json.dumps(payload).encode()
        response = APIClient().post("/api/v1/calls/webhooks/retell", raw, content_type="application/json",
                                    HTTP_X_RETELL_SIGNATURE=retell_signature(raw, "key_retell_test"))
        assert response.status_code == 200, response.content
        if payload is ended:
            call.refresh_from_db()
            # 21.5 s, customer hung up, no analysis yet: answered, completed.
            assert (call.outcome, call.disposition, call.duration_seconds) == ("answered", "completed", 22)
    call.refresh_from_db()
    assert (call.disposition, call.summary) == ("not_interested", "Lead declined.")
    lead = Lead.objects.get(pk=call.lead_id)
    assert (lead.call_status, lead.disposition, lead.ai_summary) == ("done", "not_interested", "Lead declined.")
    assert call.events.count() == 2  # call_ended and call_analyzed, each once


def test_retell_no_answer_is_retried(replay):
    agent = AgentFactory(provider="retell", caller_number="+14157774444", max_attempts=2, retry_delay_minutes=0)
    call = placed_call(agent, replay)
    payload = {"event": "call_ended", "call": {"call_id": RETELL_CREATED["call_id"], "call_status": "not_connected",
                                               "disconnection_reason": "dial_no_answer", "duration_ms": 0}}
    raw = json.dumps(payload).encode()
    response = APIClient().post("/api/v1/calls/webhooks/retell", raw, content_type="application/json",
                                HTTP_X_RETELL_SIGNATURE=retell_signature(raw, "key_retell_test"))
    assert response.status_code == 200
    lead = Lead.objects.get(pk=call.lead_id)
    assert (lead.call_status, lead.attempts_count, lead.disposition) == ("in_progress", 1, "")


def test_unknown_provider_and_unsigned_simulated_webhooks():
    assert APIClient().post("/api/v1/calls/webhooks/twilio", {}, format="json").status_code == 404
    assert APIClient().post("/api/v1/calls/webhooks/simulated", {}, format="json").status_code == 404


@pytest.mark.parametrize("reason, outcome", [
    ("customer-ended-call", "answered"), ("assistant-ended-call", "answered"),
    ("assistant-said-end-call-phrase", "answered"), ("silence-timed-out", "answered"),
    ("exceeded-max-duration", "answered"), ("customer-did-not-answer", "no_answer"), ("voicemail", "no_answer"),
    ("customer-busy", "busy"), ("twilio-failed-to-connect-call", "failed"),
    ("sip-outbound-call-failed-to-connect", "failed"), ("pipeline-error-openai-llm-failed", "failed"),
    ("assistant-error", "failed"), ("manually-canceled", "failed"), ("assistant-not-found", "failed"),
])
def test_vapi_outcome_table(reason, outcome):
    assert vapi.outcome_for(reason) == outcome


@pytest.mark.parametrize("reason, voicemail, outcome", [
    ("user_hangup", False, "answered"), ("agent_hangup", False, "answered"), ("call_transfer", False, "answered"),
    ("inactivity", False, "answered"), ("max_duration_reached", False, "answered"),
    ("agent_hangup", True, "no_answer"), ("dial_no_answer", False, "no_answer"),
    ("voicemail_reached", False, "no_answer"), ("ivr_reached", False, "no_answer"), ("dial_busy", False, "busy"),
    ("dial_failed", False, "failed"), ("invalid_destination", False, "failed"),
    ("telephony_provider_permission_denied", False, "failed"), ("error_llm_websocket_open", False, "failed"),
])
def test_retell_outcome_table(reason, voicemail, outcome):
    assert retell.outcome_for(reason, voicemail) == outcome
