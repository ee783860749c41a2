"""Lead and timeline representations (DESIGN.md decisions 4 and 13).

A lead reads and writes ``name`` as well as ``first_name``/``last_name`` and ``phone_e164`` as
well as ``phone``. The timeline has three dialects: seed 000's interactions (``type``, ``notes``),
seed 001's activity (``title``, ``timestamp``), seed 002's actions (``action_type``, ``details``,
``description``) and seed 003's interactions (``kind``, ``direction``, ``subject``, ``body``).
"""

import json
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import lru_cache

from django.db import connections
from rest_framework import serializers

from crm.api.formats import iso_utc, uuid_text
from crm.models import Interaction, User
from leads.models import Lead
from leads.services import split_name

#: What a lead's JSON is built from, in this order: a row of ``Lead.objects.values_list(*LEAD_COLUMNS)``
#: (the list reads them with one raw query, :func:`lead_rows`) or the same values read off a model
#: instance (:func:`lead_to_dict`), so both give the same JSON.
LEAD_COLUMNS = (
    "id", "first_name", "last_name", "email", "phone", "phone_extension", "phone_verified", "company",
    "job_title", "status", "source", "score", "value", "owner_id", "owner__first_name", "owner__last_name",
    "owner__username", "agent_id", "custom_fields", "ai_summary", "schedule_at", "attempts_count",
    "call_status", "disposition", "last_interaction_at", "status_changed_at", "created_at", "updated_at",
)


def _money(value) -> str:
    # Always two places: a just-created lead holds the model default 0, not Decimal("0.00");
    # SQLite hands back a float, MySQL a Decimal.
    return f"{value if isinstance(value, Decimal) else Decimal(str(value)):.2f}"


def _lead_dict(row: Sequence) -> dict:
    """The full lead as JSON-ready data from one row in :data:`LEAD_COLUMNS` order. Hand-written
    because the list renders it 20 times a request: a generic ModelSerializer costs several
    times more."""
    (pk, first_name, last_name, email, phone, extension, verified, company, job_title, status, source,
     score, value, owner_id, owner_first, owner_last, owner_username, agent_id, custom_fields, ai_summary,
     schedule_at, attempts, call_status, disposition, last_interaction_at, status_changed_at, created_at,
     updated_at) = row
    if isinstance(custom_fields, (str, bytes)):  # a raw row holds the JSON text
        custom_fields = {} if custom_fields == "{}" else json.loads(custom_fields)
    return {
        "id": uuid_text(pk),
        "name": f"{first_name} {last_name}".strip(),
        "first_name": first_name,
        "last_name": last_name,
        "email": email or None,
        "phone": phone or None,
        "phone_e164": phone or None,
        "phone_extension": extension or None,
        "phone_verified": bool(verified),
        "company": company,
        "job_title": job_title,
        "status": status,
        "source": source,
        "score": score,
        "value": _money(value),
        "owner_id": owner_id,
        "owner_name": User.display_name(owner_first, owner_last, owner_username) if owner_id else None,
        "agent_id": uuid_text(agent_id),
        "custom_fields": custom_fields,
        "ai_summary": ai_summary,
        "schedule_at": iso_utc(schedule_at),
        "attempts_count": attempts,
        "call_status": call_status,
        "disposition": disposition or None,
        "last_interaction_at": iso_utc(last_interaction_at),
        "lastInteraction": last_interaction_at.date().isoformat() if last_interaction_at else None,
        "status_changed_at": iso_utc(status_changed_at),
        "created_at": iso_utc(created_at),
        "updated_at": iso_utc(updated_at),
    }


def lead_to_dict(lead: Lead) -> dict:
    """The full lead as JSON-ready data, from a model instance (its owner is read when set:
    ``with_list_related`` joins it)."""
    owner = lead.owner if lead.owner_id else None
    owner_names = (owner.first_name, owner.last_name, owner.username) if owner else (None, None, None)
    return _lead_dict((
        lead.pk, lead.first_name, lead.last_name, lead.email, lead.phone, lead.phone_extension,
        lead.phone_verified, lead.company, lead.job_title, lead.status, lead.source, lead.score, lead.value,
        lead.owner_id, *owner_names, lead.agent_id, lead.custom_fields, lead.ai_summary, lead.schedule_at,
        lead.attempts_count, lead.call_status, lead.disposition, lead.last_interaction_at,
        lead.status_changed_at, lead.created_at, lead.updated_at,
    ))


@lru_cache(maxsize=256)
def _rows_sql(alias: str, vendor: str, n: int) -> str:
    # Built by the ORM once per database and page size: WHERE id IN (n placeholders).
    ids = [uuid.UUID(int=i) for i in range(n)]
    sql, _ = Lead.objects.using(alias).filter(pk__in=ids).order_by().values_list(*LEAD_COLUMNS).query.sql_with_params()
    return sql


def lead_rows(ids: list, *, using: str = "default") -> list[dict]:
    """The leads with these primary keys, as :func:`lead_to_dict` would give them, in the order
    of ``ids``; ids missing from the table are skipped.

    ``ids`` are the raw database values a list's id query returned (:func:`crm.api.pagination.
    raw_rows`). One query whose SQL is built once per page size, read without model instances
    or the ORM's per-value converters: at 20 leads a request that is most of a list's time.
    """
    if not ids:
        return []
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(_rows_sql(using, connection.vendor, len(ids)), list(ids))
        rows = {row[0]: row for row in cursor.fetchall()}
    return [_lead_dict(rows[pk]) for pk in ids if pk in rows]


class PipelineStatusField(serializers.ChoiceField):
    """``status`` is the pipeline stage; seed 004 calls its calling state ``status`` too, so its
    values (``in_progress``, ``done``) get a message that points at ``call_status``."""

    default_error_messages = {
        "calling_state": '"{input}" is a calling state: send it as call_status. '
                         "status is the pipeline stage, one of: {choices}.",
    }

    def to_internal_value(self, data):
        if isinstance(data, str) and data in Lead.CallStatus.values and data not in Lead.Status.values:
            self.fail("calling_state", input=data, choices=", ".join(Lead.Status.values))
        return super().to_internal_value(data)


class LeadSerializer(serializers.Serializer):
    """Validates lead input (types, choices, ranges); business rules run in ``leads.services``.
    ``allow_duplicate`` (write-only) saves the lead even if its phone matches another live lead's
    (otherwise 409 naming it)."""

    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(max_length=301, required=False, allow_blank=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=False)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, allow_null=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, allow_null=True)
    phone_e164 = serializers.CharField(max_length=40, required=False, allow_blank=True, allow_null=True,
                                       help_text="Alias of phone (seed 004).")
    phone_extension = serializers.CharField(read_only=True)
    phone_verified = serializers.BooleanField(read_only=True)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True)
    job_title = serializers.CharField(max_length=150, required=False, allow_blank=True)
    status = PipelineStatusField(choices=Lead.Status.choices, required=False,
                                     help_text="Pipeline stage. The calling state is call_status.")
    source = serializers.CharField(max_length=50, required=False, allow_blank=True)
    score = serializers.IntegerField(min_value=0, max_value=100, required=False)
    value = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"), required=False,
                                     coerce_to_string=True)
    owner_id = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False,
                                                  allow_null=True, source="owner")
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False,
                                               allow_null=True, write_only=True, help_text="Alias of owner_id.")
    owner_name = serializers.CharField(read_only=True)
    agent_id = serializers.UUIDField(required=False, allow_null=True)
    custom_fields = serializers.DictField(required=False)
    ai_summary = serializers.CharField(required=False, allow_blank=True)
    schedule_at = serializers.DateTimeField(required=False, allow_null=True)
    attempts_count = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    call_status = serializers.ChoiceField(choices=Lead.CallStatus.choices, required=False)
    disposition = serializers.ChoiceField(choices=Lead.Disposition.choices, required=False, allow_blank=True,
                                          allow_null=True)
    last_interaction_at = serializers.DateTimeField(read_only=True)
    lastInteraction = serializers.DateField(read_only=True)  # noqa: N815 - seed 001's name
    status_changed_at = serializers.DateTimeField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    allow_duplicate = serializers.BooleanField(required=False, write_only=True, default=False)

    def validate(self, attrs):
        creating = self.instance is None
        if creating and not (attrs.get("name") or attrs.get("first_name")):
            raise serializers.ValidationError({"name": ["A name (or first_name) is required."]})
        if attrs.get("name"):
            # Checked here, not by the database: SQLite would store an over-long first name and
            # MySQL would refuse it with a 500.
            first, last = split_name(attrs["name"])
            if len(first) > 150 or len(last) > 150:
                raise serializers.ValidationError(
                    {"name": ["First and last name may each have at most 150 characters."]})
        if "phone_e164" in attrs and "phone" not in attrs:
            attrs["phone"] = attrs.pop("phone_e164")
        attrs.pop("phone_e164", None)
        if "owner" in self.initial_data and "owner_id" not in self.initial_data:
            pass  # the alias already landed in attrs["owner"]
        for key in ("email", "disposition", "phone"):
            if attrs.get(key) is None and key in attrs:
                attrs[key] = ""
        return attrs

    def to_representation(self, instance):
        return lead_to_dict(instance)


class LeadInteractionSerializer(serializers.Serializer):
    """Seed 000's interaction: ``type`` (call/email/meeting/note, and the other timeline kinds)
    and ``notes``; answers ``{id, lead_id, type, notes, created_at}``."""

    id = serializers.UUIDField(read_only=True)
    lead_id = serializers.UUIDField(read_only=True)
    type = serializers.CharField(source="kind", max_length=20)
    notes = serializers.CharField(source="body", allow_blank=False)
    subject = serializers.CharField(max_length=255, required=False, allow_blank=True)
    direction = serializers.ChoiceField(choices=Interaction.Direction.choices, required=False, allow_blank=True)
    occurred_at = serializers.DateTimeField(required=False)
    created_at = serializers.DateTimeField(source="occurred_at", read_only=True)
    user_id = serializers.IntegerField(read_only=True)


class ActivitySerializer(serializers.Serializer):
    """Seed 001's activity/timeline event."""

    id = serializers.UUIDField(read_only=True)
    entity_type = serializers.SerializerMethodField()
    entity_id = serializers.UUIDField(source="lead_id", read_only=True)
    type = serializers.CharField(source="kind", read_only=True)
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(source="body", read_only=True)
    timestamp = serializers.DateTimeField(source="occurred_at", read_only=True)
    metadata = serializers.JSONField(read_only=True)
    user_id = serializers.IntegerField(read_only=True)

    def get_entity_type(self, obj) -> str:
        return "lead"


class InteractionSerializer(serializers.Serializer):
    """Seed 003's interaction, for ``/api/v1/interactions``: on a lead, a contact and/or a
    company (``lead_id``, ``contact_id``, ``company_id``; at least one)."""

    id = serializers.UUIDField(read_only=True)
    lead_id = serializers.UUIDField(required=False, allow_null=True)
    contact_id = serializers.UUIDField(required=False, allow_null=True)
    company_id = serializers.UUIDField(required=False, allow_null=True)
    kind = serializers.CharField(max_length=20)
    direction = serializers.ChoiceField(choices=Interaction.Direction.choices, required=False, allow_blank=True)
    subject = serializers.CharField(max_length=255, required=False, allow_blank=True)
    body = serializers.CharField(required=False, allow_blank=True)
    occurred_at = serializers.DateTimeField(required=False)
    metadata = serializers.JSONField(read_only=True)
    user_id = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    def validate(self, attrs):
        if not any(attrs.get(key) for key in ("lead_id", "contact_id", "company_id")):
            raise serializers.ValidationError({"lead_id": ["Name a lead_id, a contact_id or a company_id."]})
        return attrs


class ActionSerializer(serializers.Serializer):
    """Seed 002's action: ``action_type`` and ``details`` (``description`` mirrors details)."""

    id = serializers.UUIDField(read_only=True)
    lead_id = serializers.UUIDField()
    action_type = serializers.CharField(source="kind", max_length=20)
    details = serializers.CharField(source="body", required=False, allow_blank=True)
    description = serializers.CharField(source="body", read_only=True)
    occurred_at = serializers.DateTimeField(required=False)
    created_at = serializers.DateTimeField(read_only=True)

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)  # DRF's "expected a dictionary" 400
        data = data.copy() if hasattr(data, "copy") else dict(data)
        if "details" not in data and "description" in data:
            data["details"] = data["description"]
        if isinstance(data.get("action_type"), str):
            data["action_type"] = data["action_type"].strip().lower().replace("-", "_")
        return super().to_internal_value(data)


class LeadConversionSerializer(serializers.Serializer):
    """What ``POST /leads/{id}/convert`` answers (issue 3): the lead id, when it converted, the
    contact and the company (``null`` when the lead named none), and whether each was new."""

    lead_id = serializers.UUIDField(source="lead.pk", read_only=True)
    converted_at = serializers.DateTimeField(source="lead.converted_at", read_only=True)
    contact = serializers.SerializerMethodField()
    company = serializers.SerializerMethodField()
    contact_created = serializers.BooleanField(read_only=True)
    company_created = serializers.BooleanField(read_only=True)

    def get_contact(self, obj) -> dict:
        c = obj.contact
        return {"id": str(c.pk), "name": c.name, "email": c.email or None, "phone": c.phone or None}

    def get_company(self, obj) -> dict | None:
        c = obj.company
        return {"id": str(c.pk), "name": c.name, "domain": c.domain or None} if c else None
