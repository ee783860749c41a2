"""Task (seed 001), process (seed 002) and notification representations.

A task reads ``due_date`` as seed 001 has it: ``"2026-11-30"`` for an all-day task, an ISO 8601
UTC date-time otherwise; it writes ``due_date`` as either. A process reads and writes seed 002's
``lead_id``, ``channel``, ``last_action_id``, ``next_followup_datetime`` and ``status``.
Serializers validate types; the rules (visibility of related records, due date parsing,
priorities, channels) run in ``tasks.services``.
"""

from collections.abc import Mapping

from django.utils import timezone
from rest_framework import serializers

from crm.api.formats import iso_utc
from crm.models import Notification, User
from tasks.models import Process, Task


def task_due_date(task: Task) -> str | None:
    """Seed 001's ``due_date``: the day for an all-day task, else the UTC date-time."""
    if task.due_at is None:
        return None
    if task.due_all_day:
        return task.due_date.isoformat()
    return iso_utc(task.due_at)


def task_to_dict(task: Task, now=None) -> dict:
    """The task as JSON-ready data (``with_list_related`` loads what it reads)."""
    related = task.related_object
    assignee = task.assignee if task.assignee_id else None
    return {
        "id": str(task.pk),
        "title": task.title,
        "description": task.description,
        "due_date": task_due_date(task),
        "due_at": iso_utc(task.due_at),
        "due_all_day": task.due_all_day,
        "priority": task.priority,
        "completed": task.completed,
        "completed_at": iso_utc(task.completed_at),
        "is_overdue": task.is_overdue(now),
        "related_to_type": task.related_to_type,
        "related_to_id": str(task.related_to_id) if task.related_to_id else None,
        "related_to_name": (getattr(related, "name", None) or str(related)) if related is not None else None,
        "assignee_id": task.assignee_id,
        "assignee_name": assignee.full_name if assignee else None,
        "created_by_id": task.created_by_id,
        "process_id": str(task.process_id) if task.process_id else None,
        "created_at": iso_utc(task.created_at),
        "updated_at": iso_utc(task.updated_at),
    }


class StrictStringField(serializers.CharField):
    """A string and nothing else: a JSON number is refused instead of being read as text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TaskSerializer(serializers.Serializer):
    """Seed 001's Task. ``due_date`` takes ``"2026-11-30"`` (all day) or an ISO 8601 date-time
    (naive = UTC); ``assignee_id`` defaults to the caller on create (null = unassigned)."""

    id = serializers.UUIDField(read_only=True)
    title = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True)
    due_date = StrictStringField(required=False, allow_null=True, allow_blank=True, max_length=40,
                                     help_text='"2026-11-30" (all day) or an ISO 8601 date-time.')
    due_at = serializers.DateTimeField(read_only=True)
    due_all_day = serializers.BooleanField(read_only=True)
    priority = serializers.ChoiceField(choices=Task.Priority.choices, required=False)
    completed = serializers.BooleanField(required=False)
    completed_at = serializers.DateTimeField(read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)
    related_to_type = serializers.ChoiceField(choices=Task.RelatedType.choices, required=False, allow_null=True)
    related_to_id = StrictStringField(required=False, allow_null=True, allow_blank=True, max_length=64)
    related_to_name = serializers.CharField(read_only=True, allow_null=True)
    assignee_id = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True, source="assignee"
    )
    assignee_name = serializers.CharField(read_only=True, allow_null=True)
    created_by_id = serializers.IntegerField(read_only=True, allow_null=True)
    process_id = serializers.UUIDField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance):
        return task_to_dict(instance)


class NestedTaskSerializer(TaskSerializer):
    """A task created under ``/leads/{id}/tasks`` or ``/contacts/{id}/tasks``: the path says
    what it relates to, so ``related_to_*`` in the body are ignored."""

    related_to_type = serializers.CharField(read_only=True)
    related_to_id = serializers.CharField(read_only=True)


def process_to_dict(process: Process) -> dict:
    """Seed 002's process, plus who created it and when it last fired."""
    lead = process.lead if process.lead_id else None
    return {
        "id": str(process.pk),
        "name": process.name,
        "lead_id": str(process.lead_id) if process.lead_id else None,
        "lead_name": lead.name if lead else None,
        "channel": process.channel,
        "last_action_id": str(process.last_action_id) if process.last_action_id else None,
        "next_followup_datetime": iso_utc(process.next_followup_at),
        "interval_days": process.interval_days,
        "status": process.status,
        "created_by_id": process.created_by_id,
        "last_fired_at": iso_utc(process.last_fired_at),
        "created_at": iso_utc(process.created_at),
        "updated_at": iso_utc(process.updated_at),
    }


class ProcessSerializer(serializers.Serializer):
    """Seed 002's process. ``next_followup_datetime`` is ISO 8601 (``"2024-03-20 10:00:00"``
    works; naive = UTC); ``interval_days`` repeats the follow-up (empty: once)."""

    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(max_length=200)
    lead_id = StrictStringField(required=False, allow_null=True, allow_blank=True, max_length=64)
    lead_name = serializers.CharField(read_only=True, allow_null=True)
    channel = serializers.ChoiceField(choices=Process.Channel.choices, required=False)
    last_action_id = StrictStringField(required=False, allow_null=True, allow_blank=True, max_length=64)
    next_followup_datetime = serializers.DateTimeField(required=False, allow_null=True,
                                                       default_timezone=timezone.get_fixed_timezone(0))
    interval_days = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=365)
    status = serializers.ChoiceField(choices=Process.Status.choices, required=False)
    created_by_id = serializers.IntegerField(read_only=True, allow_null=True)
    last_fired_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance):
        return process_to_dict(instance)


class ProcessActionSerializer(serializers.Serializer):
    """Seed 002's action, logged through a process: ``action_type`` (a timeline kind such as
    ``email``, ``call``, ``meeting``, ``note``, ``follow_up``) and ``details`` (``description``
    accepted); ``next_followup_datetime`` optionally reschedules the process."""

    action_type = serializers.CharField(max_length=20)
    details = serializers.CharField(required=False, allow_blank=True)
    occurred_at = serializers.DateTimeField(required=False)
    next_followup_datetime = serializers.DateTimeField(required=False, allow_null=True,
                                                       default_timezone=timezone.get_fixed_timezone(0))

    def to_internal_value(self, data):
        if isinstance(data, Mapping) and "details" not in data and "description" in data:
            data = {**data, "details": data["description"]}
        return super().to_internal_value(data)


class NotificationSerializer(serializers.ModelSerializer):
    """One bell entry: ``read`` is false until marked read."""

    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "read", "read_at", "created_at"]
        read_only_fields = fields

    def get_read(self, obj) -> bool:
        return obj.read_at is not None
