"""Contact, company and contact-timeline representations (seeds 001 and 003).

A contact reads and writes seed 003's ``first_name``/``last_name``/``primary_company_id``/
``tags`` and seed 001's ``name``, ``role``, ``company`` (the primary company's name) and
``last_contacted``. Input serializers check types and lengths only; the rules (phones,
duplicates, owners, visibility of the company) are in ``contacts.services``. Output is
hand-written dicts: a list renders them 20 times a request and a bulk call 1,000 times.
"""

from collections import defaultdict
from collections.abc import Sequence

from django.db import connection
from rest_framework import serializers

from contacts.models import Company, Contact, ContactCompany
from crm.api.formats import iso_utc, uuid_text
from crm.api.pagination import DEFERRED_JOIN_OFFSET, raw_rows
from crm.models import Interaction

#: What a list row reads from the contacts table (with the owner's names joined), in this order.
LIST_COLUMNS = (
    "id", "first_name", "last_name", "email", "phone", "phone_extension", "job_title", "role", "status", "notes",
    "owner_id", "owner__first_name", "owner__last_name", "owner__username", "primary_company_id",
    "last_contacted", "merged_into_id", "created_at", "updated_at",
)


def _contact_dict(row: Sequence, companies: list[dict], tags: list[str]) -> dict:
    """The full contact as JSON-ready data from one row in :data:`LIST_COLUMNS` order, its
    company links (``company_ref`` dicts with the role, by company name) and its tag names.
    The list and the detail both end here, so they answer the same JSON."""
    (pk, first_name, last_name, email, phone, extension, job_title, role, status, notes, owner_id, owner_first,
     owner_last, owner_username, primary_company_id, last_contacted, merged_into_id, created_at, updated_at) = row
    primary = uuid_text(primary_company_id) if primary_company_id else None
    return {
        "id": uuid_text(pk),
        "name": f"{first_name} {last_name}".strip(),
        "first_name": first_name,
        "last_name": last_name,
        "email": email or None,
        "phone": phone or None,
        "phone_extension": extension or None,
        "job_title": job_title,
        "role": role,
        "status": status,
        "notes": notes,
        "owner_id": owner_id,
        # crm.models.User.full_name, from the joined columns
        "owner_name": (f"{owner_first} {owner_last}".strip() or owner_username) if owner_id else None,
        "primary_company_id": primary,
        "company": next((c["name"] for c in companies if c["id"] == primary), None) if primary else None,
        "companies": companies,
        "tags": sorted(tags),
        "last_contacted": iso_utc(last_contacted),
        "merged_into_id": uuid_text(merged_into_id) if merged_into_id else None,
        "created_at": iso_utc(created_at),
        "updated_at": iso_utc(updated_at),
    }


def contact_rows(queryset, limit: int, offset: int) -> list[dict]:
    """One page (``limit`` rows from ``offset``) of a filtered, ordered contact queryset as
    JSON-ready dicts, without model instances: the rows with their owners' names (one query; past
    ``DEFERRED_JOIN_OFFSET`` the page's ids are read from the ordering index first, then those
    rows), then the page's company links and tags in one more (:func:`companies_and_tags`) —
    three queries at most whatever the number of companies and tags. Rows are read raw
    (``crm.api.pagination.raw_rows``: the ORM builds the SQL, no converters run)."""
    columns = queryset.values_list(*LIST_COLUMNS)
    if offset < DEFERRED_JOIN_OFFSET or not queryset.query.order_by:
        page = raw_rows(columns[offset: offset + limit])
    else:
        ids = [row[0] for row in raw_rows(queryset.values_list("pk")[offset: offset + limit])]
        found = {row[0]: row for row in raw_rows(columns.filter(pk__in=ids).order_by())} if ids else {}
        page = [found[pk] for pk in ids if pk in found]
    if not page:
        return []
    companies, tags = companies_and_tags([row[0] for row in page])
    return [_contact_dict(row, companies.get(uuid_text(row[0]), []), tags.get(uuid_text(row[0]), []))
            for row in page]


def companies_and_tags(contact_ids: Sequence) -> tuple[dict, dict]:
    """``({contact id text: [company_ref dicts by name]}, {contact id text: [tag names]})`` for
    the given contacts, in one statement (links with their companies UNION ALL tag links with
    their tags). Raw SQL: the list runs it on every request and the statement never varies
    but for the number of ids."""
    if not contact_ids:
        return {}, {}
    qn = connection.ops.quote_name
    links, companies_table = ContactCompany._meta.db_table, Company._meta.db_table
    tag_links, tags_table = Contact.tags.through._meta.db_table, Contact.tags.field.related_model._meta.db_table
    marks = ", ".join(["%s"] * len(contact_ids))
    sql = (
        f"SELECT l.contact_id, l.company_id, l.role, c.name, c.domain FROM {qn(links)} l "
        f"INNER JOIN {qn(companies_table)} c ON c.id = l.company_id WHERE l.contact_id IN ({marks}) "
        f"UNION ALL SELECT t.contact_id, NULL, NULL, g.name, NULL FROM {qn(tag_links)} t "
        f"INNER JOIN {qn(tags_table)} g ON g.id = t.tag_id WHERE t.contact_id IN ({marks}) "
        "ORDER BY 4, 2"  # by name (companies, then tags), then company id: a stable order
    )
    params = [Contact._meta.pk.get_db_prep_value(pk, connection) for pk in contact_ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, params + params)
        rows = cursor.fetchall()
    companies: dict = defaultdict(list)
    tags: dict = defaultdict(list)
    for contact_id, company_id, role, name, domain in rows:
        if company_id is None:
            tags[uuid_text(contact_id)].append(name)
        else:
            companies[uuid_text(contact_id)].append(
                {"id": uuid_text(company_id), "name": name, "domain": domain or None, "role": role})
    return companies, tags


def company_ref(company: Company | None, role: str | None = None) -> dict | None:
    if company is None:
        return None
    ref = {"id": str(company.pk), "name": company.name, "domain": company.domain or None}
    if role is not None:
        ref["role"] = role
    return ref


def contact_to_dict(contact: Contact) -> dict:
    """The full contact as JSON-ready data. Reads ``owner`` (joined) and ``company_links``/``tags``
    (prefetched by ``with_list_related``): no query of its own."""
    owner = contact.owner if contact.owner_id else None
    row = (contact.pk, contact.first_name, contact.last_name, contact.email, contact.phone, contact.phone_extension,
           contact.job_title, contact.role, contact.status, contact.notes, contact.owner_id,
           *((owner.first_name, owner.last_name, owner.username) if owner else (None, None, None)),
           contact.primary_company_id, contact.last_contacted, contact.merged_into_id, contact.created_at,
           contact.updated_at)
    companies = [company_ref(link.company, link.role) for link in contact.company_links.all()]
    return _contact_dict(row, companies, [tag.name for tag in contact.tags.all()])


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
        "created_at": iso_utc(contact.created_at), "updated_at": iso_utc(contact.updated_at),
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
        "created_at": iso_utc(company.created_at),
        "updated_at": iso_utc(company.updated_at),
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
