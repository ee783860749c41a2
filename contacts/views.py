"""Contact and company pages: lists, detail pages with timeline and links, forms, the likely
duplicates and the merge screen.

Reads go through ``visible_to(user)`` (a sales user gets 404 for someone else's record); the
lists filter with the API's FilterSets, so a page URL doubles as an API query. Writes call
``contacts.services``; a ServiceError lands on the form field it names. An HTMX request gets
the partial it swaps, anything else the whole page.
"""

import uuid

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import OuterRef, Q, Subquery
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views import View
from rest_framework.exceptions import ValidationError as QueryParamError

from contacts import services
from contacts.filters import CompanyFilterSet, ContactFilterSet
from contacts.forms import CompanyForm, ContactForm, LinkCompanyForm, TimelineForm, assignable_owners, merge_form_class
from contacts.models import Company, Contact
from crm.api.pagination import DEFAULT_LIMIT, count_rows, page_window, slice_page
from crm.errors import ServiceError
from crm.filters import normalize_ordering
from crm.models import Interaction

TIMELINE_PAGE = 20
CONTACT_FILTERS = ("search", "q", "status", "tag", "owner", "company_id")
COMPANY_FILTERS = ("search", "q", "industry", "tag", "owner")
CONTACT_COLUMNS = (("Name", "name", ""), ("Company", None, ""), ("Status", None, ""), ("Tags", None, ""),
                   ("Owner", None, ""), ("Last contacted", "last_contacted", "-"), ("Created", "created_at", "-"))
COMPANY_COLUMNS = (("Name", "name", ""), ("Domain", None, ""), ("Industry", None, ""), ("Size", None, ""),
                   ("Tags", None, ""), ("Owner", None, ""), ("Created", "created_at", "-"))


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def _render(request, page: str, partial: str, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, partial if is_htmx(request) else page, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


class _QueryParams:
    def __init__(self, request):
        self.query_params = request.GET


def _page_url(request, offset: int) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("offset", None)
    if offset:
        params["offset"] = offset
    query = params.urlencode()
    return f"{request.path}?{query}" if query else request.path


def _owner_choices(user) -> list[tuple[str, str]]:
    choices = [("me", "Me"), ("none", "Unassigned")]
    if user.sees_all:
        choices += [(str(u.pk), u.full_name) for u in assignable_owners(user).only("pk", "username", "first_name",
                                                                                   "last_name")]
    return choices


def _list_context(request, filterset, default_ordering: str, column_spec, filter_names) -> dict:
    """Rows of one page, its range and pager links, sortable columns: what both lists show."""
    queryset = filterset.qs
    try:
        limit, offset, _ = page_window(_QueryParams(request))
    except QueryParamError:
        limit, offset = DEFAULT_LIMIT, 0
    counter = getattr(filterset, "count", None)  # the contact list's rollups
    count, exact = counter(queryset) if counter else count_rows(queryset)
    seek = getattr(filterset, "seek", None)  # a deep contact page starts at the day that holds it
    start, offset_there = seek(queryset, offset, limit) if seek else (queryset, offset)
    rows = slice_page(start, limit, offset_there)
    has_next = offset + limit < count or (not exact and len(rows) == limit)
    ordering = normalize_ordering(request.GET) or default_ordering
    columns = []
    for label, key, first in column_spec:
        active = key is not None and ordering.lstrip("-") == key
        descending = active and ordering.startswith("-")
        columns.append({"label": label, "key": key, "active": active, "descending": descending,
                        "next": ((key if descending else f"-{key}") if active else f"{first}{key}") if key else None})
    return {
        "rows": rows, "count": count, "count_exact": exact,
        "first": offset + 1 if rows else 0, "last": offset + len(rows),
        "columns": columns, "ordering_param": normalize_ordering(request.GET),
        "filter_errors": filterset.errors if filterset.is_bound else {},
        "prev_url": _page_url(request, max(offset - limit, 0)) if offset else None,
        "next_url": _page_url(request, offset + limit) if has_next else None,
        "first_page_url": _page_url(request, 0),
        "params": request.GET, "search_value": request.GET.get("search") or request.GET.get("q", ""),
        "owner_choices": _owner_choices(request.user),
        "filters_active": any(request.GET.get(name) for name in filter_names),
    }


def _timeline(owner_filter: Q, before: str | None) -> tuple[list[Interaction], str | None]:
    """One page of a timeline, latest first, continuing after the entry ``before`` (keyset)."""
    entries = Interaction.objects.filter(owner_filter).select_related("user", "lead").latest_first()
    try:
        before_id = uuid.UUID(before) if before else None
    except ValueError:
        before_id = None
    if before_id:
        anchor = Subquery(Interaction.objects.filter(pk=before_id).values("occurred_at")[:1])
        entries = entries.filter(Q(occurred_at__lt=anchor) | Q(occurred_at=anchor, pk__lt=before_id))
    rows = list(entries[: TIMELINE_PAGE + 1])
    cursor = str(rows[TIMELINE_PAGE - 1].pk) if len(rows) > TIMELINE_PAGE else None
    return rows[:TIMELINE_PAGE], cursor


# --- contacts -------------------------------------------------------------------------------------


def visible_contacts(request):
    return Contact.objects.visible_to(request.user).with_list_related()


def visible_companies(request):
    return Company.objects.visible_to(request.user)


class ContactListView(LoginRequiredMixin, View):
    """``/contacts/``: search, filters (status, tag, owner, company), sortable columns, pages.
    Queries per page: the count (a rollup sum, or a capped count), the rows with owner and
    company, links, tags."""

    def get(self, request):
        filterset = ContactFilterSet(request.GET or None, queryset=visible_contacts(request), request=request)
        context = _list_context(request, filterset, "-created_at", CONTACT_COLUMNS, CONTACT_FILTERS)
        context["status_choices"] = Contact.Status.choices
        return _render(request, "contacts/contact_list.html", "contacts/partials/_contact_rows.html", context)


def _contact_detail_context(request, contact: Contact, **extra) -> dict:
    entries, cursor = _timeline(Q(contact=contact), request.GET.get("before"))
    links = list(contact.company_links.all())
    return {
        "contact": contact, "links": links, "entries": entries, "cursor": cursor,
        "timeline_url": reverse("contacts:contact_detail", args=[contact.pk]),
        "interaction_url": reverse("contacts:contact_add_interaction", args=[contact.pk]),
        "interaction_form": TimelineForm(), "link_form": LinkCompanyForm(),
        "company_names": visible_companies(request).order_by("name").values_list("name", flat=True)[:200],
        "converted_leads": contact.converted_leads.all()[:20],
        **extra,
    }


class ContactDetailView(LoginRequiredMixin, View):
    """``/contacts/<id>/``: details, companies (link/unlink), tags, converted leads, the tasks
    panel, and the timeline with a form to add to it (``?before=`` continues it)."""

    def get(self, request, pk):
        contact = get_object_or_404(visible_contacts(request), pk=pk)
        if is_htmx(request) and request.GET.get("before"):
            entries, cursor = _timeline(Q(contact=contact), request.GET.get("before"))
            return render(request, "contacts/partials/_timeline.html",
                          {"entries": entries, "cursor": cursor,
                           "timeline_url": reverse("contacts:contact_detail", args=[contact.pk])})
        return render(request, "contacts/contact_detail.html", _contact_detail_context(request, contact))


def _duplicate_context(request, form, exc: ServiceError) -> dict:
    form.add_service_error(exc)
    existing = exc.extra.get("existing_id")
    if isinstance(exc, services.PossibleDuplicate):
        visible = Contact.objects.visible_to(request.user).filter(pk=existing).exists()
        return {"duplicate": exc.extra.get("existing"),
                "duplicate_url": reverse("contacts:contact_detail", args=[existing]) if visible else None}
    return {}


class ContactCreateView(LoginRequiredMixin, View):
    """``/contacts/new/``: ``contact_create``; a duplicate email/phone shows the existing
    contact and a "create anyway" box."""

    def get(self, request):
        form = ContactForm(user=request.user, initial={"owner": request.user.pk})
        return render(request, "contacts/contact_form.html", {"form": form})

    def post(self, request):
        form = ContactForm(request.POST, user=request.user, initial={"owner": request.user.pk})
        extra = {}
        if form.is_valid():
            try:
                contact = services.contact_create(user=request.user,
                                                  allow_duplicate=form.cleaned_data["allow_duplicate"],
                                                  **form.service_kwargs())
            except ServiceError as exc:
                extra = _duplicate_context(request, form, exc)
            else:
                messages.success(request, f"Contact {contact.name} created.")
                return redirect("contacts:contact_detail", pk=contact.pk)
        return render(request, "contacts/contact_form.html", {"form": form, **extra}, status=400)


class ContactEditView(LoginRequiredMixin, View):
    """``/contacts/<id>/edit/``: ``contact_update`` with the fields that changed."""

    def get(self, request, pk):
        contact = get_object_or_404(visible_contacts(request), pk=pk)
        form = ContactForm(user=request.user, initial=ContactForm.initial_for(contact))
        return render(request, "contacts/contact_form.html", {"form": form, "contact": contact})

    def post(self, request, pk):
        contact = get_object_or_404(visible_contacts(request), pk=pk)
        form = ContactForm(request.POST, user=request.user, initial=ContactForm.initial_for(contact))
        extra = {}
        if form.is_valid():
            try:
                contact = services.contact_update(contact=contact, user=request.user,
                                                  allow_duplicate=form.cleaned_data["allow_duplicate"],
                                                  **form.service_kwargs(changed_only=True))
            except ServiceError as exc:
                extra = _duplicate_context(request, form, exc)
            else:
                messages.success(request, f"Contact {contact.name} saved.")
                return redirect("contacts:contact_detail", pk=contact.pk)
        return render(request, "contacts/contact_form.html", {"form": form, "contact": contact, **extra}, status=400)


class ContactDeleteView(LoginRequiredMixin, View):
    """``/contacts/<id>/delete/``: confirm, then ``contact_delete`` (soft)."""

    def get(self, request, pk):
        contact = get_object_or_404(visible_contacts(request), pk=pk)
        return render(request, "contacts/confirm_delete.html",
                      {"object": contact, "kind": "contact",
                       "cancel_url": reverse("contacts:contact_detail", args=[pk])})

    def post(self, request, pk):
        contact = get_object_or_404(visible_contacts(request), pk=pk)
        services.contact_delete(contact=contact, user=request.user)
        messages.success(request, f"Contact {contact.name} deleted.")
        return redirect("contacts:contact_list")


def _add_interaction(request, *, detail_url: str, form_url: str, **target) -> HttpResponse:
    """POST handler shared by the contact and company timelines: ``interaction_add``; from
    HTMX the new entry comes back (prepended) with a fresh form out of band."""
    form = TimelineForm(request.POST)
    if form.is_valid():
        try:
            entry = services.interaction_add(user=request.user, **target, **form.service_kwargs())
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            if not is_htmx(request):
                messages.success(request, "Added to the timeline.")
                return redirect(detail_url)
            html = render(request, "contacts/partials/_timeline_entry.html", {"entry": entry}).content.decode()
            html += render(request, "contacts/partials/_interaction_form.html",
                           {"interaction_form": TimelineForm(), "interaction_url": form_url, "oob": True}
                           ).content.decode()
            return HttpResponse(html)
    response = render(request, "contacts/partials/_interaction_form.html",
                      {"interaction_form": form, "interaction_url": form_url}, status=200 if is_htmx(request) else 400)
    if is_htmx(request):
        response["HX-Retarget"] = "#interaction-form"
        response["HX-Reswap"] = "outerHTML"
    return response


class ContactAddInteractionView(LoginRequiredMixin, View):
    """POST ``/contacts/<id>/interactions/``: log a call, email, meeting or note."""

    def post(self, request, pk):
        contact = get_object_or_404(visible_contacts(request), pk=pk)
        return _add_interaction(request, detail_url=reverse("contacts:contact_detail", args=[pk]),
                                form_url=reverse("contacts:contact_add_interaction", args=[pk]), contact=contact)


class ContactLinkCompanyView(LoginRequiredMixin, View):
    """POST ``/contacts/<id>/companies/``: link to a visible company by exact name, with a role."""

    def post(self, request, pk):
        contact = get_object_or_404(visible_contacts(request), pk=pk)
        form = LinkCompanyForm(request.POST)
        if form.is_valid():
            company = visible_companies(request).filter(name__iexact=form.cleaned_data["company"].strip()).first()
            if company is None:
                messages.error(request, f"No company named “{form.cleaned_data['company']}”. Create it first.")
            else:
                _, created = services.contact_link_company(contact=contact, company=company, user=request.user,
                                                           role=form.cleaned_data["role"] or None)
                messages.success(request, f"Linked to {company.name}." if created
                                 else f"Updated the link to {company.name}.")
        else:
            messages.error(request, "Name a company to link.")
        return redirect("contacts:contact_detail", pk=pk)


class ContactUnlinkCompanyView(LoginRequiredMixin, View):
    """POST ``/contacts/<id>/companies/<company_id>/unlink/``."""

    def post(self, request, pk, company_id):
        contact = get_object_or_404(visible_contacts(request), pk=pk)
        company = get_object_or_404(Company.objects.all(), pk=company_id)
        if services.contact_unlink_company(contact=contact, company=company, user=request.user):
            messages.success(request, f"Unlinked from {company.name}.")
        return redirect("contacts:contact_detail", pk=pk)


class DuplicatesView(LoginRequiredMixin, View):
    """``/contacts/duplicates/``: live contacts sharing an email or a phone, one group per
    shared value (grouped in SQL, 20 groups a page), each with a merge link."""

    def get(self, request):
        try:
            limit, offset, _ = page_window(_QueryParams(request))
        except QueryParamError:
            limit, offset = DEFAULT_LIMIT, 0
        groups, total = services.duplicate_page(user=request.user, limit=limit, offset=offset)
        return render(request, "contacts/duplicates.html", {
            "groups": groups, "count": total, "first": offset + 1 if groups else 0, "last": offset + len(groups),
            "prev_url": _page_url(request, max(offset - limit, 0)) if offset else None,
            "next_url": _page_url(request, offset + limit) if offset + limit < total else None,
        })


class MergeView(LoginRequiredMixin, View):
    """``/contacts/<id>/merge/?other=<id>``: the two contacts side by side with a radio per
    differing field; POST calls ``contact_merge`` and opens the survivor."""

    def _pair(self, request, pk):
        contact = get_object_or_404(visible_contacts(request), pk=pk)
        other_id = request.POST.get("other") or request.GET.get("other")
        try:
            other_id = uuid.UUID(str(other_id))
        except ValueError:
            other_id = None
        other = get_object_or_404(visible_contacts(request), pk=other_id) if other_id else None
        return contact, other

    def get(self, request, pk):
        contact, other = self._pair(request, pk)
        if other is None:
            messages.error(request, "Choose the contact to merge into this one (from the duplicates page).")
            return redirect("contacts:duplicates")
        form = merge_form_class(contact, other)()
        return render(request, "contacts/merge.html", {"contact": contact, "other": other, "form": form})

    def post(self, request, pk):
        contact, other = self._pair(request, pk)
        if other is None:
            return redirect("contacts:duplicates")
        form = merge_form_class(contact, other)(request.POST)
        if form.is_valid():
            try:
                chosen = {name: value for name, value in form.cleaned_data.items() if value}
                contact = services.contact_merge(contact=contact, other=other, user=request.user, fields=chosen)
            except ServiceError as exc:
                form.add_error(None, exc.detail)
            else:
                messages.success(request, f"Merged {other.name} into {contact.name}.")
                return redirect("contacts:contact_detail", pk=contact.pk)
        return render(request, "contacts/merge.html", {"contact": contact, "other": other, "form": form}, status=400)


# --- companies ------------------------------------------------------------------------------------


class CompanyListView(LoginRequiredMixin, View):
    """``/companies/``: search name/domain, industry, tag and owner filters, sort, pages."""

    def get(self, request):
        filterset = CompanyFilterSet(request.GET or None,
                                     queryset=visible_companies(request).with_list_related(), request=request)
        context = _list_context(request, filterset, "name", COMPANY_COLUMNS, COMPANY_FILTERS)
        return _render(request, "contacts/company_list.html", "contacts/partials/_company_rows.html", context)


class CompanyDetailView(LoginRequiredMixin, View):
    """``/companies/<id>/``: details, the contacts linked (with roles), the timeline."""

    def get(self, request, pk):
        company = get_object_or_404(visible_companies(request).with_list_related(), pk=pk)
        detail_url = reverse("contacts:company_detail", args=[pk])
        entries, cursor = _timeline(Q(company=company), request.GET.get("before"))
        if is_htmx(request) and request.GET.get("before"):
            return render(request, "contacts/partials/_timeline.html",
                          {"entries": entries, "cursor": cursor, "timeline_url": detail_url})
        role = Subquery(company.contact_links.filter(contact=OuterRef("pk")).values("role")[:1])
        contacts = (Contact.objects.visible_to(request.user).filter(pk__in=company.contact_links.values("contact_id"))
                    .select_related("owner").annotate(link_role=role).order_by("last_name", "first_name")[:100])
        return render(request, "contacts/company_detail.html", {
            "company": company, "contacts": contacts, "entries": entries, "cursor": cursor,
            "timeline_url": detail_url, "interaction_form": TimelineForm(),
            "interaction_url": reverse("contacts:company_add_interaction", args=[pk]),
        })


class CompanyAddInteractionView(LoginRequiredMixin, View):
    def post(self, request, pk):
        company = get_object_or_404(visible_companies(request), pk=pk)
        return _add_interaction(request, detail_url=reverse("contacts:company_detail", args=[pk]),
                                form_url=reverse("contacts:company_add_interaction", args=[pk]), company=company)


class CompanyCreateView(LoginRequiredMixin, View):
    """``/companies/new/``: ``company_create`` (one live company per domain)."""

    def get(self, request):
        form = CompanyForm(user=request.user, initial={"owner": request.user.pk})
        return render(request, "contacts/company_form.html", {"form": form})

    def post(self, request):
        form = CompanyForm(request.POST, user=request.user, initial={"owner": request.user.pk})
        extra = {}
        if form.is_valid():
            try:
                company = services.company_create(user=request.user, **form.service_kwargs())
            except ServiceError as exc:
                form.add_service_error(exc)
                existing = exc.extra.get("existing_id")
                if existing and visible_companies(request).filter(pk=existing).exists():
                    extra["existing_url"] = reverse("contacts:company_detail", args=[existing])
            else:
                messages.success(request, f"Company {company.name} created.")
                return redirect("contacts:company_detail", pk=company.pk)
        return render(request, "contacts/company_form.html", {"form": form, **extra}, status=400)


class CompanyEditView(LoginRequiredMixin, View):
    def get(self, request, pk):
        company = get_object_or_404(visible_companies(request).with_list_related(), pk=pk)
        form = CompanyForm(user=request.user, initial=CompanyForm.initial_for(company))
        return render(request, "contacts/company_form.html", {"form": form, "company": company})

    def post(self, request, pk):
        company = get_object_or_404(visible_companies(request).with_list_related(), pk=pk)
        form = CompanyForm(request.POST, user=request.user, initial=CompanyForm.initial_for(company))
        if form.is_valid():
            try:
                company = services.company_update(company=company, user=request.user,
                                                  **form.service_kwargs(changed_only=True))
            except ServiceError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, f"Company {company.name} saved.")
                return redirect("contacts:company_detail", pk=company.pk)
        return render(request, "contacts/company_form.html", {"form": form, "company": company}, status=400)
