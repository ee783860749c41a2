"""Retell AI (integrations.md section 2, "Retell AI"): ``POST {RETELL_BASE_URL}/v2/create-phone-call``
and its ``call_started`` / ``call_ended`` / ``call_analyzed`` webhooks.

Webhooks carry ``X-Retell-Signature: v=<unix ms>,d=<hex>`` where ``d`` is
HMAC-SHA256(webhook key, raw body + ms); signatures older than 5 minutes are refused, as
Retell's SDK does. The key is ``RETELL_WEBHOOK_KEY`` (default ``RETELL_API_KEY``).
"""

import hmac
import re
import time
from datetime import UTC, datetime

from django.conf import settings

from calling.providers import base
from calling.providers.base import ANSWERED, BUSY, FAILED, NO_ANSWER, CallEvent, PlaceCall, PlacedCall

SIGNATURE = re.compile(r"v=(\d+),d=([0-9a-f]+)")
TOLERANCE_MS = 5 * 60 * 1000
ANSWERED_REASONS = {"user_hangup", "agent_hangup", "call_transfer", "inactivity", "max_duration_reached"}
NO_ANSWER_REASONS = {"dial_no_answer", "voicemail_reached", "ivr_reached"}
# Failures that a retry cannot fix (integrations.md: never retry invalid_destination).
PERMANENT_REASONS = {"invalid_destination"}


def outcome_for(reason: str, in_voicemail: bool = False) -> str:
    """Map ``disconnection_reason`` (and ``call_analysis.in_voicemail``) to an outcome."""
    if in_voicemail or reason in NO_ANSWER_REASONS:
        return NO_ANSWER
    if reason == "dial_busy":
        return BUSY
    if reason in ANSWERED_REASONS:
        return ANSWERED
    return FAILED


def _ms(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC) if value else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


@base.register
class RetellProvider(base.Provider):
    name = "retell"
    label = "Retell AI"
    required_settings = ("RETELL_API_KEY",)

    def place_call(self, request: PlaceCall) -> PlacedCall:
        """Create the phone call from the agent's caller number with its Retell agent
        (``override_agent_id``); dynamic variables must be strings. ``call_id`` of the answer
        is the provider call id; the idempotency key travels in the metadata."""
        if not settings.RETELL_API_KEY:
            raise base.ProviderError("RETELL_API_KEY is not set.")
        body = {
            "from_number": request.from_e164,
            "to_number": request.to_e164,
            "metadata": request.metadata,
            "retell_llm_dynamic_variables": {k: str(v) for k, v in request.variables.items()},
        }
        if request.assistant_id:
            body["override_agent_id"] = request.assistant_id
        answer = base.post_json(f"{settings.RETELL_BASE_URL.rstrip('/')}/v2/create-phone-call", body,
                                {"Authorization": f"Bearer {settings.RETELL_API_KEY}"})
        if not answer.get("call_id"):
            raise base.ProviderError(f"Retell answered without a call_id: {str(answer)[:200]}")
        return PlacedCall(provider_call_id=str(answer["call_id"]), raw=answer)

    def verify_webhook(self, raw: bytes, headers) -> bool:
        key = settings.RETELL_WEBHOOK_KEY
        match = SIGNATURE.fullmatch(headers.get("X-Retell-Signature") or "")
        if not key or not match:
            return False
        if abs(int(time.time() * 1000) - int(match[1])) > TOLERANCE_MS:
            return False
        return hmac.compare_digest(base.hmac_sha256_hex(key, raw + match[1].encode()), match[2])

    def parse_webhook(self, payload: dict) -> list[CallEvent]:
        if not isinstance(payload, dict) or not isinstance(payload.get("call"), dict):
            return []
        event, call = payload.get("event"), payload["call"]
        call_id = str(call.get("call_id") or "")
        if not call_id or event not in ("call_started", "call_ended", "call_analyzed"):
            return []
        metadata = call.get("metadata") if isinstance(call.get("metadata"), dict) else {}
        common = {"provider": self.name, "provider_call_id": call_id, "call_ref": str(metadata.get("call_id") or ""),
                  "dedupe_key": f"{call_id}:{event}", "raw": payload}
        if event == "call_started":
            return [CallEvent(kind="progress", status="in_progress", started_at=_ms(call.get("start_timestamp")),
                              **common)]
        analysis = call.get("call_analysis") if isinstance(call.get("call_analysis"), dict) else {}
        reason = call.get("disconnection_reason") or ""
        outcome = outcome_for(reason, bool(analysis.get("in_voicemail")))
        duration = call.get("duration_ms")
        started, ended = _ms(call.get("start_timestamp")), _ms(call.get("end_timestamp"))
        if duration is None and started and ended:
            duration = (ended - started).total_seconds() * 1000
        duration = int(round(float(duration) / 1000)) if duration is not None else None
        disposition = None
        if outcome == ANSWERED:
            custom = analysis.get("custom_analysis_data") or {}
            disposition = base.answered_disposition(
                interested=custom.get("interested") if isinstance(custom, dict) else None,
                customer_ended=reason == "user_hangup", duration=duration,
                successful=analysis.get("call_successful"),
            )
        return [CallEvent(
            kind="analyzed" if event == "call_analyzed" else "ended", outcome=outcome, disposition=disposition,
            ended_reason=reason, duration_seconds=duration, started_at=started, ended_at=ended,
            transcript=call.get("transcript"), summary=analysis.get("call_summary"),
            recording_url=call.get("recording_url"), retryable=reason not in PERMANENT_REASONS, **common,
        )]
