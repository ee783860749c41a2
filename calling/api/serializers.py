"""Agent and call representations (seed 004). Validation of rules lives in calling.services;
these check types and shapes only."""

from rest_framework import serializers

from calling.models import Call
from crm.api.formats import iso_utc


class AgentSerializer(serializers.Serializer):
    """An agent. ``business_hours``: ``{"mon": [["09:00", "12:00"], ["13:00", "17:30"]], …}`` in
    ``time_zone``; ``is_open_now`` and ``next_open_at`` are computed."""

    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(max_length=120, required=False)
    active = serializers.BooleanField(required=False)
    time_zone = serializers.CharField(max_length=64, required=False, help_text="IANA name, e.g. Europe/Berlin")
    business_hours = serializers.JSONField(required=False)
    max_attempts = serializers.IntegerField(required=False)
    retry_delay_minutes = serializers.IntegerField(required=False)
    provider = serializers.CharField(max_length=32, required=False, help_text="simulated, vapi or retell")
    assistant_id = serializers.CharField(max_length=128, required=False, allow_blank=True)
    caller_number = serializers.CharField(max_length=40, required=False, allow_blank=True,
                                          help_text="E.164, e.g. +14155552671")
    phone_number_id = serializers.CharField(max_length=128, required=False, allow_blank=True,
                                            help_text="The provider's id of the caller number (Vapi)")
    is_open_now = serializers.SerializerMethodField()
    next_open_at = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def get_is_open_now(self, agent) -> bool:
        return agent.is_open()

    def get_next_open_at(self, agent) -> str | None:
        from django.utils import timezone

        return iso_utc(agent.next_open(timezone.now()))


def call_to_dict(call: Call, request=None) -> dict:
    """Seed 004's call history row, plus the call's other facts. ``transcript_url`` is the
    provider's link when it gave one, else our call page (when there is a transcript)."""
    from calling.services import call_transcript_path

    transcript_url = call.transcript_url or None
    if not transcript_url and call.transcript:
        path = call_transcript_path(call)
        transcript_url = request.build_absolute_uri(path) if request is not None else path
    lead, agent = call.lead, call.agent
    return {
        "id": str(call.pk),
        "lead_id": str(call.lead_id),
        "agent_id": str(call.agent_id),
        "lead_name": lead.name,
        "lead_phone": call.to_number or lead.phone,
        "agent_name": agent.name,
        "status": call.status,
        "outcome": call.outcome or None,
        "disposition": call.disposition or None,
        "duration_seconds": call.duration_seconds,
        "attempt": call.attempt,
        "provider": call.provider,
        "provider_call_id": call.provider_call_id,
        "transcript_url": transcript_url,
        "recording_url": call.recording_url or None,
        "summary": call.summary,
        "ended_reason": call.ended_reason or None,
        "started_at": iso_utc(call.started_at),
        "ended_at": iso_utc(call.ended_at),
        "created_at": iso_utc(call.created_at),
    }


class CallSerializer(serializers.Serializer):
    """Schema of :func:`call_to_dict` (read-only)."""

    id = serializers.UUIDField()
    lead_id = serializers.UUIDField()
    agent_id = serializers.UUIDField()
    lead_name = serializers.CharField()
    lead_phone = serializers.CharField()
    agent_name = serializers.CharField()
    status = serializers.ChoiceField(choices=Call.Status.choices)
    outcome = serializers.ChoiceField(choices=Call.Outcome.choices, allow_null=True)
    disposition = serializers.ChoiceField(choices=Call.Disposition.choices, allow_null=True)
    duration_seconds = serializers.IntegerField(allow_null=True)
    attempt = serializers.IntegerField()
    provider = serializers.CharField()
    provider_call_id = serializers.CharField(allow_null=True)
    transcript_url = serializers.CharField(allow_null=True)
    recording_url = serializers.CharField(allow_null=True)
    summary = serializers.CharField()
    ended_reason = serializers.CharField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

    def to_representation(self, instance):
        return call_to_dict(instance, self.context.get("request"))


class ScheduleSerializer(serializers.Serializer):
    lead_id = serializers.UUIDField()


class MetricsSerializer(serializers.Serializer):
    total_calls = serializers.IntegerField()
    answered_calls = serializers.IntegerField()
    no_answer_calls = serializers.IntegerField(help_text="No answer and busy")
    busy_calls = serializers.IntegerField()
    failed_calls = serializers.IntegerField()
    in_progress_calls = serializers.IntegerField()
    pickup_rate = serializers.FloatField(help_text="Answered / ended calls, in percent")
    average_attempts_per_lead = serializers.FloatField()
    average_duration_seconds = serializers.FloatField(help_text="Over answered calls")
    active_agents = serializers.IntegerField()
