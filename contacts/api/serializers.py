"""Contact, company and contact-timeline representations (seeds 001 and 003).

A contact reads and writes seed 003's ``first_name``/``last_name``/``primary_company_id``/
``tags`` and seed 001's ``name``, ``role``, ``company`` (the primary company's name) and
``last_contacted``. Input serializers check types and lengths only; the rules (phones,
duplicates, owners, visibility of the company) are in ``contacts.services``. Output is
hand-written dicts: a list renders them 20 times a request and a bulk call 1,000 times.
"""

from rest_framework import serializers

from contacts.models import Company, Contact
from crm.models import Interaction


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def company_ref(company: Company | None, role: str | None = None) -> dict | None:
    if company is None:
        return None
    ref = {"id": str(company.pk), "name": company.name, "domain": company.domain or None}
    if role is not None:
        ref["role"] = role
    return ref


def contact_to_dict(contact: Contact) -> dict:
    """The full contact as JSON-ready data. Reads ``owner`` and ``primary_company`` (joined)
    and ``company_links``/``tags`` (prefetched by ``with_list_related``): no query of its own."""
    owner = contact.owner if contact.owner_id else None
    company = contact.primary_company if contact.primary_company_id else None
    return {
        "id": str(contact.pk),
        "name": contact.name,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": contact.email or None,
        "phone": contact.phone or None,
        "phone_extension": contact.phone_extension or None,
        "job_title": contact.job_title,
        "role": contact.role,
        "status": contact.status,
        "notes": contact.notes,
        "owner_id": contact.owner_id,
        "owner_name": owner.full_name if owner else None,
        "primary_company_id": str(contact.primary_company_id) if contact.primary_company_id else None,
        "company": company.name if company else None,
        "companies": [company_ref(link.company, link.role) for link in contact.company_links.all()],
        "tags": sorted(tag.name for tag in contact.tags.all()),
        "last_contacted": _iso(contact.last_contacted),
        "merged_into_id": str(contact.merged_into_id) if contact.merged_into_id else None,
        "created_at": _iso(contact.created_at),
        "updated_at": _iso(contact.updated_at),
    }


def new_contact_to_dict(contact: Contact, tags: list[str] | None = None) -> dict:
    """:func:`contact_to_dict` for a contact just created in bulk, without reading it back:
    its company and owner are the objects the service resolved; ``tags`` as given."""
    owner = contact.owner if contact.owner_id else None
    company = contact.primary_company if contact.primary_company_id else None
    return {
        "id": str(contact.pk), "name": contact.name, "first_name": contact.first_name,
        "last_name": contact.last_name, "email": contact.email or None, "phone": contact.phone or None,
        "phone_extension": contact.phone_extension or None, "job_title": contact.job_title,
        "role": contact.role, "status": contact.status, "notes": contact.notes, "owner_id": contact.owner_id,
        "owner_name": owner.full_name if owner else None,
        "primary_company_id": str(contact.primary_company_id) if contact.primary_company_id else None,
        "company": company.name if company else None,
        "companies": [company_ref(company, "")] if company else [],
        "tags": sorted({t.strip().lower() for t in tags or [] if t.strip()}),
        "last_contacted": None, "merged_into_id": None,
        "created_at": _iso(contact.created_at), "updated_at": _iso(contact.updated_at),
    }


def company_to_dict(company: Company) -> dict:
    """The full company (owner joined and tags prefetched by ``with_list_related``)."""
    owner = company.owner if company.owner_id else None
    return {
        "id": str(company.pk),
        "name": company.name,
        "domain": company.domain or None,
        "website": company.website,
        "industry": company.industry,
        "size": company.size,
        "phone": company.phone or None,
        "address": company.address,
        "owner_id": company.owner_id,
        "owner_name": owner.full_name if owner else None,
        "tags": sorted(tag.name for tag in company.tags.all()),
        "created_at": _iso(company.created_at),
        "updated_at": _iso(company.updated_at),
    }


class TagListField(serializers.ListField):
    child = serializers.CharField(max_length=50, allow_blank=False)


class ContactSerializer(serializers.Serializer):
    """Validates contact input (types, choices, lengths). ``allow_duplicate`` (write-only)
    creates the contact even if its email or phone matches a live one."""

    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(max_length=301, required=False, allow_blank=False,
                                 help_text="Full name (seed 001); split into first and last name.")
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=False)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, allow_null=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, allow_null=True,
                                  help_text="Any notation; stored and returned in E.164.")
    phone_extension = serializers.CharField(read_only=True)
    job_title = serializers.CharField(max_length=150, required=False, allow_blank=True)
    role = serializers.CharField(max_length=100, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=Contact.Status.choices, required=False)
    notes = serializers.CharField(required=False, allow_blank=True)
    owner_id = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1)
    owner_name = serializers.CharField(read_only=True)
    primary_company_id = serializers.UUIDField(required=False, allow_null=True)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                    help_text="Seed 001: the primary company by name (matched or created).")
    companies = serializers.ListField(child=serializers.DictField(), read_only=True)
    tags = TagListField(required=False)
    last_contacted = serializers.DateTimeField(read_only=True)
    merged_into_id = serializers.UUIDField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    allow_duplicate = serializers.BooleanField(required=False, write_only=True, default=False)

    def validate(self, attrs):
        if self.instance is None and not self.partial and not (attrs.get("name") or attrs.get("first_name")):
            raise serializers.ValidationError({"name": ["A name (or first_name) is required."]})
        for key in ("email", "phone"):
            if key in attrs and attrs[key] is None:
                attrs[key] = ""
        return attrs

    def to_representation(self, instance):
        return contact_to_dict(instance)


class ContactBulkUpdateItemSerializer(ContactSerializer):
    """One item of ``PATCH /contacts/bulk``: ``id`` plus the fields to change."""

    id = serializers.UUIDField()


class CompanySerializer(serializers.Serializer):
    """Validates company input. ``domain`` may be a URL (scheme, www. and path are dropped)."""

    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(max_length=200, required=False, allow_blank=False)
    domain = serializers.CharField(max_length=300, required=False, allow_blank=True)
    website = serializers.URLField(max_length=300, required=False, allow_blank=True)
    industry = serializers.CharField(max_length=100, required=False, allow_blank=True)
    size = serializers.CharField(max_length=20, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, allow_null=True)
    address = serializers.CharField(required=False, allow_blank=True)
    owner_id = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1)
    owner_name = serializers.CharField(read_only=True)
    tags = TagListField(required=False)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def validate(self, attrs):
        if self.instance is None and not attrs.get("name"):
            raise serializers.ValidationError({"name": ["This field is required."]})
        if "phone" in attrs and attrs["phone"] is None:
            attrs["phone"] = ""
        return attrs

    def to_representation(self, instance):
        return company_to_dict(instance)


class ContactLinkSerializer(serializers.Serializer):
    """Body of ``POST /contacts/{id}/companies/{company_id}``: the contact's optional role there."""

    role = serializers.CharField(max_length=100, required=False, allow_blank=True, allow_null=True)


class MergeSerializer(serializers.Serializer):
    """Body of ``POST /contacts/{id}/merge``."""

    other_id = serializers.UUIDField(help_text="The contact merged away into this one.")
    fields = serializers.DictField(child=serializers.ChoiceField(choices=["this", "other"]), required=False,
                                   help_text='Per field, whose value survives: {"email": "other", ...}.')


class TimelineEntrySerializer(serializers.Serializer):
    """Seed 003's interaction (as ``/api/v1/interactions`` answers it), for a contact's or a
    company's timeline."""

    id = serializers.UUIDField(read_only=True)
    lead_id = serializers.UUIDField(read_only=True, allow_null=True)
    contact_id = serializers.UUIDField(read_only=True, allow_null=True)
    company_id = serializers.UUIDField(read_only=True, allow_null=True)
    kind = serializers.CharField(max_length=20)
    direction = serializers.ChoiceField(choices=Interaction.Direction.choices, required=False, allow_blank=True)
    subject = serializers.CharField(max_length=255, required=False, allow_blank=True)
    body = serializers.CharField(required=False, allow_blank=True)
    occurred_at = serializers.DateTimeField(required=False)
    metadata = serializers.JSONField(read_only=True)
    user_id = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class ContactActivitySerializer(serializers.Serializer):
    """Seed 001's activity (``/contacts/{id}/history``), the same shape as a lead's activity."""

    id = serializers.UUIDField(read_only=True)
    entity_type = serializers.SerializerMethodField()
    entity_id = serializers.UUIDField(source="contact_id", read_only=True)
    type = serializers.CharField(source="kind", read_only=True)
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(source="body", read_only=True)
    timestamp = serializers.DateTimeField(source="occurred_at", read_only=True)
    metadata = serializers.JSONField(read_only=True)
    user_id = serializers.IntegerField(read_only=True)
    lead_id = serializers.UUIDField(read_only=True, allow_null=True)

    def get_entity_type(self, obj) -> str:
        return "contact"
