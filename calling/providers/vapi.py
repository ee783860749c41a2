"""Vapi (integrations.md section 2, "Vapi"): ``POST {VAPI_BASE_URL}/call`` and Server URL messages.

Webhooks are verified with ``VAPI_WEBHOOK_SECRET`` in any of the ways a Vapi credential can be
set up: the legacy ``X-Vapi-Secret: <secret>`` header, ``Authorization: Bearer <secret>``, or an
HMAC credential whose ``X-Vapi-Signature`` header carries hex HMAC-SHA256(secret, raw body)
(``sha256=`` prefix accepted). No secret configured means every webhook is refused.
"""

import hmac
from datetime import datetime

from django.conf import settings

from calling.providers import base
from calling.providers.base import ANSWERED, BUSY, FAILED, NO_ANSWER, CallEvent, PlaceCall, PlacedCall

# Vapi status-update statuses -> calling.models.Call.Status
STATUS = {"ringing": "ringing", "in-progress": "in_progress", "forwarding": "in_progress"}
ANSWERED_REASONS = {"customer-ended-call", "silence-timed-out", "exceeded-max-duration"}
NO_ANSWER_REASONS = {"customer-did-not-answer", "voicemail"}


def outcome_for(reason: str) -> str:
    """Map an ``endedReason`` to answered / no_answer / busy / failed (integrations.md table).

    Of the ``assistant-*`` reasons only those where the assistant ended or forwarded a live
    call count as answered; ``assistant-not-found`` and the like are failures. Unknown reasons
    count as failed (and are retried).
    """
    reason = (reason or "").lower()
    if reason in NO_ANSWER_REASONS:
        return NO_ANSWER
    if reason == "customer-busy":
        return BUSY
    if (reason.startswith(("twilio-failed-to-connect", "sip-outbound-")) or "error" in reason
            or reason == "manually-canceled"):
        return FAILED
    if reason in ANSWERED_REASONS:
        return ANSWERED
    if reason.startswith("assistant-") and any(w in reason for w in ("ended", "said", "forwarded", "hangup")):
        return ANSWERED
    return FAILED


def _time(value) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _truthy_false(value) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


@base.register
class VapiProvider(base.Provider):
    name = "vapi"
    label = "Vapi"
    required_settings = ("VAPI_API_KEY", "VAPI_WEBHOOK_SECRET")

    def place_call(self, request: PlaceCall) -> PlacedCall:
        """Create an outbound phone call with the agent's assistant; ``id`` of the answer is the
        provider call id. The idempotency key travels in the metadata (Vapi echoes it back)."""
        if not settings.VAPI_API_KEY:
            raise base.ProviderError("VAPI_API_KEY is not set.")
        body = {
            "assistantId": request.assistant_id,
            "customer": {"number": request.to_e164, "name": request.customer_name[:40],
                         "externalId": request.lead_id},
            "assistantOverrides": {"variableValues": request.variables, "metadata": request.metadata},
        }
        if request.phone_number_id:
            body["phoneNumberId"] = request.phone_number_id
        answer = base.post_json(f"{settings.VAPI_BASE_URL.rstrip('/')}/call", body,
                                {"Authorization": f"Bearer {settings.VAPI_API_KEY}"})
        if not answer.get("id"):
            raise base.ProviderError(f"Vapi answered without a call id: {str(answer)[:200]}")
        return PlacedCall(provider_call_id=str(answer["id"]), raw=answer)

    def verify_webhook(self, raw: bytes, headers) -> bool:
        secret = settings.VAPI_WEBHOOK_SECRET
        if not secret:
            return False
        given = headers.get("X-Vapi-Secret")
        if given:
            return hmac.compare_digest(given.encode(), secret.encode())
        auth = headers.get("Authorization") or ""
        if auth.startswith("Bearer "):
            return hmac.compare_digest(auth[7:].encode(), secret.encode())
        signature = headers.get("X-Vapi-Signature") or ""
        if signature:
            signature = signature.removeprefix("sha256=")
            return hmac.compare_digest(base.hmac_sha256_hex(secret, raw), signature)
        return False

    def parse_webhook(self, payload: dict) -> list[CallEvent]:
        message = payload.get("message") if isinstance(payload, dict) else None
        if not isinstance(message, dict):
            return []
        kind = message.get("type")
        call = message.get("call") if isinstance(message.get("call"), dict) else {}
        call_id = str(call.get("id") or "")
        if not call_id:
            return []
        metadata = call.get("metadata") or (call.get("assistantOverrides") or {}).get("metadata") or {}
        ref = str(metadata.get("call_id") or "") if isinstance(metadata, dict) else ""
        if kind == "status-update":
            status = STATUS.get(message.get("status") or "")
            if not status:
                return []
            return [CallEvent(provider=self.name, provider_call_id=call_id, call_ref=ref, kind="progress",
                              dedupe_key=f"{call_id}:{kind}:{message.get('status')}", status=status, raw=payload)]
        if kind != "end-of-call-report":
            return []
        reason = message.get("endedReason") or call.get("endedReason") or ""
        artifact = message.get("artifact") or {}
        analysis = message.get("analysis") or {}
        started, ended = _time(message.get("startedAt")), _time(message.get("endedAt"))
        duration = message.get("durationSeconds")
        if duration is None and started and ended:
            duration = (ended - started).total_seconds()
        duration = int(round(float(duration))) if duration is not None else None
        outcome = outcome_for(reason)
        structured = analysis.get("structuredData") or {}
        interested = structured.get("interested") if isinstance(structured, dict) else None
        disposition = None
        if outcome == ANSWERED:
            disposition = base.answered_disposition(
                interested=False if _truthy_false(interested) else interested,
                customer_ended=reason == "customer-ended-call", duration=duration,
                successful=False if _truthy_false(analysis.get("successEvaluation")) else None,
            )
        return [CallEvent(
            provider=self.name, provider_call_id=call_id, call_ref=ref, kind="ended",
            dedupe_key=f"{call_id}:{kind}", outcome=outcome, disposition=disposition, ended_reason=reason,
            duration_seconds=duration, started_at=started, ended_at=ended,
            transcript=artifact.get("transcript") or message.get("transcript"),
            summary=analysis.get("summary") or message.get("summary"),
            recording_url=artifact.get("recordingUrl") or message.get("recordingUrl"),
            raw=payload,
        )]
