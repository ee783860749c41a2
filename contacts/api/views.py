"""Contact and company endpoints (seed 003's inventory, seed 001's contact and history).
Thin: scope the queryset (``visible_to``: a sales user's others' records answer 404), validate
types with a serializer, call ``contacts.services``, answer with the hand-written dicts."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from contacts import services
from contacts.api.serializers import (
    CompanySerializer,
    ContactActivitySerializer,
    ContactBulkUpdateItemSerializer,
    ContactLinkSerializer,
    ContactSerializer,
    MergeSerializer,
    TimelineEntrySerializer,
    company_ref,
    company_to_dict,
    contact_rows,
    contact_to_dict,
    new_contact_to_dict,
)
from contacts.filters import CompanyFilterSet, ContactFilterSet
from contacts.listcache import CONTACTS
from contacts.models import Company, Contact
from crm.api.lookups import get_by_uuid_or_404
from crm.api.pagination import CRMPagination, check_list_query, count_rows, page_window
from crm.errors import NotFound, ServiceError

Message = inline_serializer("ContactMessage", {"message": serializers.CharField()})
BulkResult = inline_serializer("ContactBulkResult", {"count": serializers.IntegerField(),
                                                     "results": ContactSerializer(many=True)})
BulkBody = inline_serializer("ContactBulkBody", {
    "contacts": ContactSerializer(many=True),
    "allow_duplicate": serializers.BooleanField(required=False),
})
LinkResult = inline_serializer("ContactCompanyLink", {
    "contact_id": serializers.UUIDField(), "company": serializers.DictField(), "created": serializers.BooleanField(),
})
DuplicateGroup = inline_serializer("ContactDuplicateGroup", {
    "field": serializers.CharField(), "value": serializers.CharField(),
    "contacts": ContactSerializer(many=True),
}, many=True)


class TimelinePagination(CRMPagination):
    """Timelines list 50 entries a page by default (as a lead's do)."""

    default_limit = 50


def _uuid_or_404(queryset, value, code: str, label: str):
    try:
        return get_by_uuid_or_404(queryset, value)
    except Http404:
        raise NotFound(f"{label} not found", code=code) from None


def _bulk_items(request) -> tuple[list, bool]:
    """``(items, allow_duplicate)`` from ``{"contacts": [...]}`` (seed 003) or a bare list.
    Raises ServiceError for a missing, empty or over-long list."""
    body = request.data
    allow = False
    if isinstance(body, dict):
        allow = body.get("allow_duplicate") is True
        body = body.get("contacts", body.get("items"))
    if not isinstance(body, list) or not body:
        raise ServiceError('Send {"contacts": [...]} with at least one contact.', code="bulk_empty",
                           field="contacts")
    if len(body) > services.bulk_limit():
        raise ServiceError(f"At most {services.bulk_limit():,} contacts per call; this one has {len(body):,}.",
                           code="bulk_too_large", field="contacts")
    return body, allow


def _validate_items(items: list, serializer_class, *, partial: bool) -> list[dict]:
    """Validate every item; a 400 ``bulk_invalid`` naming each failing index, else the data.
    One ``many=True`` serializer: the child's fields are built once, not once per item (a
    thousand deep copies of the field set cost more than the whole insert)."""
    serializer = serializer_class(data=items, many=True, partial=partial)
    if serializer.is_valid():
        return [dict(item) for item in serializer.validated_data]
    errors = serializer.errors
    # Per item: {index: errors} (DRF >= 3.17's LIST_SERIALIZER_ERRORS_AS_DICT) or a list with
    # one entry per item (before); string keys mean the list as a whole (_bulk_items checked it).
    per_item = enumerate(errors) if isinstance(errors, list) else errors.items()
    if isinstance(errors, dict) and not all(isinstance(index, int) for index in errors):
        raise services.BulkInvalid("Send a list of contacts.", extra={"errors": errors})
    errors = {str(index): error for index, error in per_item if error}
    raise services.BulkInvalid(f"{len(errors)} of {len(items)} contacts are invalid; nothing was written.",
                               extra={"errors": errors})


class ContactViewSet(viewsets.GenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """``/api/v1/contacts``: list (search, filters, ordering, pagination), create (409 with the
    match on a duplicate email/phone unless ``allow_duplicate``), read, update (PUT and PATCH
    both partial), soft delete, bulk create/update, timeline (seed 003 interactions, seed 001
    history), company links, merge and the likely duplicates."""

    serializer_class = ContactSerializer
    filterset_class = ContactFilterSet
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        if self.action == "list":  # the page is read as rows (contact_rows), not model instances
            return Contact.objects.visible_to(self.request.user)
        return Contact.objects.visible_to(self.request.user).with_list_related()

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        self.filterset = ContactFilterSet(self.request.query_params, queryset=queryset, request=self.request)
        check_list_query(self.request, self.filterset)
        return self.filterset.qs

    def count_rows(self, queryset) -> tuple[int, bool]:
        """The list's total from the count rollups (see ContactFilterSet.count); timelines and
        other paged actions count plainly."""
        if self.action != "list":
            return count_rows(queryset)
        return self.filterset.count(queryset)

    def get_object(self):
        return get_by_uuid_or_404(self.get_queryset(), self.kwargs["pk"])

    def _read(self, contact: Contact) -> dict:
        return contact_to_dict(self.get_queryset().get(pk=contact.pk))

    def list(self, request, *args, **kwargs):
        """The filtered page, served as cached JSON while no contact write happened since
        (contacts/listcache.py), else built by :meth:`_page`."""
        return CONTACTS.respond(self, request, lambda: self._page(request))

    def _page(self, request):
        """The filtered page: its total from the rollups (``count_rows``), its rows as dicts
        (:func:`contact_rows`: no model instances, tags and companies in one query each)."""
        queryset = self.filter_queryset(self.get_queryset())
        paginator = self.paginator
        limit, offset, page_style = page_window(request)
        total, exact = self.filterset.count(queryset, offset=offset)
        if offset and exact and offset >= total:
            rows = []
        else:  # a deep page starts at the day that holds its first row (ContactFilterSet.seek)
            start, offset_there = self.filterset.seek(queryset, offset, limit)
            rows = contact_rows(start, limit, offset_there)
        paginator.request, paginator.limit, paginator.offset, paginator.page_style = request, limit, offset, page_style
        paginator.count, paginator.count_exact = total, exact
        return paginator.get_paginated_response(rows)

    @extend_schema(responses={201: ContactSerializer, 409: OpenApiResponse(description="Possible duplicate")})
    def create(self, request, *args, **kwargs):
        serializer = ContactSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        allow = data.pop("allow_duplicate", False)
        contact = services.contact_create(user=request.user, allow_duplicate=allow, **data)
        return Response(self._read(contact), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        contact = self.get_object()
        serializer = ContactSerializer(contact, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        allow = data.pop("allow_duplicate", False)
        contact = services.contact_update(contact=contact, user=request.user, allow_duplicate=allow, **data)
        return Response(self._read(contact))

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    @extend_schema(responses={200: Message})
    def destroy(self, request, *args, **kwargs):
        services.contact_delete(contact=self.get_object(), user=request.user)
        return Response({"message": "Contact deleted"})

    @extend_schema(methods=["POST"], request=BulkBody, responses={201: BulkResult},
                   description="Create up to 1,000 contacts, all or nothing; errors are keyed by item index.")
    @extend_schema(methods=["PATCH"], request=BulkBody, responses={200: BulkResult},
                   description="Update up to 1,000 contacts by id, all or nothing; errors keyed by item index.")
    @action(detail=False, methods=["post", "patch"], url_path="bulk", pagination_class=None)
    def bulk(self, request):
        """Seed 003's ``POST``/``PATCH /contacts/bulk``."""
        items, allow = _bulk_items(request)
        if request.method == "POST":
            data = _validate_items(items, ContactSerializer, partial=False)
            tags = [d.get("tags") for d in data]
            contacts = services.contacts_bulk_create(user=request.user, items=data, allow_duplicate=allow)
            results = [new_contact_to_dict(c, t) for c, t in zip(contacts, tags, strict=True)]
            return Response({"count": len(results), "results": results}, status=status.HTTP_201_CREATED)
        data = _validate_items(items, ContactBulkUpdateItemSerializer, partial=True)
        contacts = services.contacts_bulk_update(user=request.user, items=data, allow_duplicate=allow)
        fresh = {c.pk: c for c in self.get_queryset().filter(pk__in=[c.pk for c in contacts])}
        results = [contact_to_dict(fresh[c.pk]) for c in contacts if c.pk in fresh]
        return Response({"count": len(results), "results": results})

    @extend_schema(responses={200: DuplicateGroup})
    @action(detail=False, methods=["get"], pagination_class=CRMPagination)
    def duplicates(self, request):
        """Likely duplicates: live contacts sharing an email or an E.164 phone, one group per
        shared value (grouped in SQL, paginated)."""
        paginator = self.paginator
        limit, offset, _ = page_window(request)
        groups, total = services.duplicate_page(user=request.user, limit=limit, offset=offset)
        paginator.request, paginator.limit, paginator.offset, paginator.page_style = request, limit, offset, False
        paginator.count, paginator.count_exact = total, True
        rows = [{"field": g["field"], "value": g["value"],
                 "contacts": [{"id": str(c.pk), "name": c.name, "email": c.email or None, "phone": c.phone or None,
                               "company": c.primary_company.name if c.primary_company_id else None,
                               "owner_id": c.owner_id, "created_at": c.created_at.isoformat()}
                              for c in g["contacts"]]} for g in groups]
        return paginator.get_paginated_response(rows)

    @extend_schema(methods=["GET"], responses=TimelineEntrySerializer(many=True))
    @extend_schema(methods=["POST"], request=TimelineEntrySerializer, responses={201: TimelineEntrySerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=TimelinePagination,
            serializer_class=TimelineEntrySerializer)
    def interactions(self, request, pk=None):
        """Seed 003: the contact's timeline, latest first (entries of its converted leads
        included); POST adds one."""
        contact = self.get_object()
        if request.method == "POST":
            serializer = TimelineEntrySerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            entry = services.interaction_add(user=request.user, contact=contact, **serializer.validated_data)
            return Response(TimelineEntrySerializer(entry).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(contact.interactions.latest_first())
        return self.get_paginated_response(TimelineEntrySerializer(page, many=True).data)

    @extend_schema(responses=ContactActivitySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=TimelinePagination,
            serializer_class=ContactActivitySerializer)
    def history(self, request, pk=None):
        """Seed 001: the contact's interaction history as activity (id, type, title,
        description, timestamp), latest first."""
        contact = self.get_object()
        page = self.paginate_queryset(contact.interactions.latest_first())
        return self.get_paginated_response(ContactActivitySerializer(page, many=True).data)

    @extend_schema(methods=["POST"], request=ContactLinkSerializer, responses={200: LinkResult, 201: LinkResult})
    @extend_schema(methods=["DELETE"], request=None, responses={200: Message})
    @action(detail=True, methods=["post", "delete"], url_path=r"companies/(?P<company_id>[^/]+)",
            serializer_class=ContactLinkSerializer)
    def company_link(self, request, pk=None, company_id=None):
        """Link the contact to a company (``role`` optional; linking again is a no-op, 200)
        or unlink it. Both must be visible to the caller."""
        contact = self.get_object()
        company = _uuid_or_404(Company.objects.visible_to(request.user), company_id, "company_not_found", "Company")
        return _link_response(request, contact, company)

    @extend_schema(request=MergeSerializer, responses={200: ContactSerializer})
    @action(detail=True, methods=["post"], serializer_class=MergeSerializer)
    def merge(self, request, pk=None):
        """Merge ``other_id`` into this contact, choosing per field (``"this"``/``"other"``);
        timeline, companies, tags, converted leads and tasks move here; the other is retired."""
        contact = self.get_object()
        serializer = MergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        other = _uuid_or_404(self.get_queryset(), serializer.validated_data["other_id"], "contact_not_found",
                             "Contact")
        contact = services.contact_merge(contact=contact, other=other, user=request.user,
                                         fields=serializer.validated_data.get("fields"))
        return Response(self._read(contact))


def _link_response(request, contact: Contact, company: Company) -> Response:
    if request.method == "DELETE":
        removed = services.contact_unlink_company(contact=contact, company=company, user=request.user)
        return Response({"message": "Unlinked" if removed else "Was not linked"})
    serializer = ContactLinkSerializer(data=request.data or {})
    serializer.is_valid(raise_exception=True)
    link, created = services.contact_link_company(contact=contact, company=company, user=request.user,
                                                  role=serializer.validated_data.get("role"))
    return Response({"contact_id": str(contact.pk), "company": company_ref(company, link.role), "created": created},
                    status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class CompanyViewSet(viewsets.GenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """``/api/v1/companies``: list (search name/domain; filters industry, tag, owner;
    ordering), create (one live company per domain), read, PATCH, soft delete, its contacts,
    link/unlink from the company side, and its timeline."""

    serializer_class = CompanySerializer
    filterset_class = CompanyFilterSet
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return Company.objects.visible_to(self.request.user).with_list_related()

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        filterset = CompanyFilterSet(self.request.query_params, queryset=queryset, request=self.request)
        check_list_query(self.request, filterset)
        return filterset.qs

    def get_object(self):
        return get_by_uuid_or_404(self.get_queryset(), self.kwargs["pk"])

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([company_to_dict(c) for c in page])

    def create(self, request, *args, **kwargs):
        serializer = CompanySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        company = services.company_create(user=request.user, **serializer.validated_data)
        return Response(company_to_dict(self.get_queryset().get(pk=company.pk)), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        company = self.get_object()
        serializer = CompanySerializer(company, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        company = services.company_update(company=company, user=request.user, **serializer.validated_data)
        return Response(company_to_dict(self.get_queryset().get(pk=company.pk)))

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    @extend_schema(responses={200: Message})
    def destroy(self, request, *args, **kwargs):
        services.company_delete(company=self.get_object(), user=request.user)
        return Response({"message": "Company deleted"})

    @extend_schema(responses=ContactSerializer(many=True))
    @action(detail=True, methods=["get"], serializer_class=ContactSerializer)
    def contacts(self, request, pk=None):
        """The company's contacts visible to the caller (linked, primary or not), by name."""
        company = self.get_object()
        qs = (Contact.objects.visible_to(request.user).with_list_related()
              .filter(pk__in=company.contact_links.values("contact_id")).order_by("last_name", "first_name", "id"))
        page = self.paginate_queryset(qs)
        return self.get_paginated_response([contact_to_dict(c) for c in page])

    @extend_schema(methods=["POST"], request=ContactLinkSerializer, responses={200: LinkResult, 201: LinkResult},
                   parameters=[OpenApiParameter("contact_id", str, OpenApiParameter.PATH)])
    @extend_schema(methods=["DELETE"], request=None, responses={200: Message},
                   parameters=[OpenApiParameter("contact_id", str, OpenApiParameter.PATH)])
    @action(detail=True, methods=["post", "delete"], url_path=r"contacts/(?P<contact_id>[^/]+)",
            serializer_class=ContactLinkSerializer)
    def contact_link(self, request, pk=None, contact_id=None):
        """Link a contact to this company (``role`` optional, idempotent) or unlink it."""
        company = self.get_object()
        contact = _uuid_or_404(Contact.objects.visible_to(request.user), contact_id, "contact_not_found", "Contact")
        return _link_response(request, contact, company)

    @extend_schema(methods=["GET"], responses=TimelineEntrySerializer(many=True))
    @extend_schema(methods=["POST"], request=TimelineEntrySerializer, responses={201: TimelineEntrySerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=TimelinePagination,
            serializer_class=TimelineEntrySerializer)
    def interactions(self, request, pk=None):
        """The company's timeline, latest first; POST adds an entry to it."""
        company = self.get_object()
        if request.method == "POST":
            serializer = TimelineEntrySerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            entry = services.interaction_add(user=request.user, company=company, **serializer.validated_data)
            return Response(TimelineEntrySerializer(entry).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(company.interactions.latest_first())
        return self.get_paginated_response(TimelineEntrySerializer(page, many=True).data)
