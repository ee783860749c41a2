"""Lead pages: the list, the board, a lead's page, create/edit/delete, and the small endpoints
the board and the timeline post to with HTMX.

Reads go through ``Lead.objects.visible_to(user)`` (a sales user gets 404 for someone else's
lead) and the list and board filter with the API's ``LeadFilterSet``, so a page URL doubles as
an API query. Writes call ``leads.services``; a ServiceError lands on the form field it names.
An HTMX request (``HX-Request`` header) gets the partial it swaps; anything else the whole page.
"""

import json
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import OuterRef, Q, Subquery
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from rest_framework.exceptions import ValidationError as QueryParamError

from crm.api.pagination import DEFAULT_LIMIT, objects_in_order, page_window
from crm.errors import ServiceError
from crm.filters import normalize_ordering
from crm.models import Interaction, User
from leads import services
from leads.filters import DEFAULT_ORDERING, LeadFilterSet
from leads.forms import InteractionForm, LeadForm
from leads.models import Lead

TIMELINE_PAGE = 20
FILTER_PARAMS = ("search", "q", "status", "call_status", "owner", "source", "created_after", "created_before")

# (label, ordering key or None, first direction when clicked). Keys are LeadFilterSet's.
LIST_COLUMNS = (
    ("Name", "name", ""),
    ("Company", None, ""),
    ("Status", None, ""),
    ("Call", None, ""),
    ("Owner", None, ""),
    ("Source", None, ""),
    ("Score", "score", "-"),
    ("Value", "value", "-"),
    ("Last contact", "last_interaction_at", "-"),
    ("Created", "created_at", "-"),
)


def is_htmx(request) -> bool:
    """True for an HTMX swap; a history-restore request wants the whole page again."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def render_page_or_partial(request, page: str, partial: str, context: dict) -> HttpResponse:
    """STYLE.md 11: one view, the whole ``page`` or just the ``partial`` HTMX swaps in."""
    response = render(request, partial if is_htmx(request) else page, context)
    # The same URL answers two bodies: caches must key on the header.
    patch_vary_headers(response, ["HX-Request"])
    return response


def visible_leads(request):
    return Lead.objects.visible_to(request.user).with_list_related()


def owner_choices(user: User) -> list[tuple[str, str]]:
    """The owner filter's options: a sales user only ever sees their own or unassigned leads."""
    choices = [("me", "Me"), ("none", "Unassigned")]
    if user.sees_all:
        users = services.assignable_owners(user).only("pk", "username", "first_name", "last_name")
        choices += [(str(u.pk), u.full_name) for u in users]
    return choices


def filter_context(request) -> dict:
    """What the filter form needs: the current values (API parameter names) and the choices."""
    return {
        "params": request.GET,
        "search_value": request.GET.get("search") or request.GET.get("q", ""),
        "status_choices": Lead.Status.choices,
        "call_status_choices": Lead.CallStatus.choices,
        "owner_choices": owner_choices(request.user),
        "filters_active": any(request.GET.get(name) for name in FILTER_PARAMS),
    }


class _QueryParams:
    """Adapts a Django request to the ``request.query_params`` the pagination helpers read."""

    def __init__(self, request):
        self.query_params = request.GET


def _page_url(request, *, offset: int, limit: int, page_style: bool) -> str:
    """The list URL for the page starting at ``offset``, in the style the visitor used."""
    params = request.GET.copy()
    for key in ("page", "offset"):
        params.pop(key, None)
    if "limit" in params and not page_style:
        if offset:
            params["offset"] = offset
    elif offset:
        params["page"] = offset // limit + 1
    query = params.urlencode()
    return f"{request.path}?{query}" if query else request.path


class LeadListView(LoginRequiredMixin, View):
    """``/leads/``: search, filters, sortable columns and pages over the visible leads.

    Filtering is ``LeadFilterSet`` (the API's); pages are found and counted as in the API
    (``page_window``, ``LeadFilterSet.count`` and ``page_ids``; a capped count shows as "N+").
    Queries are constant per page, however deep: the total, the page's ids, those rows with
    their owner, and the owner choices for managers.
    """

    def get(self, request):
        filterset = LeadFilterSet(request.GET, queryset=visible_leads(request), request=request)
        queryset = filterset.qs
        try:
            limit, offset, page_style = page_window(_QueryParams(request))
        except QueryParamError:
            limit, offset, page_style = DEFAULT_LIMIT, 0, False
        count, exact = filterset.count(queryset, offset=offset)
        leads = objects_in_order(queryset, filterset.page_ids(queryset, limit, offset, count, exact))
        has_next = offset + limit < count or (not exact and len(leads) == limit)
        ordering = normalize_ordering(request.GET) or DEFAULT_ORDERING
        columns = []
        for label, key, first in LIST_COLUMNS:
            active = key is not None and ordering.split(",")[0].lstrip("-") == key
            descending = active and ordering.startswith("-")
            # Clicking the active column flips it; another column starts in its natural direction.
            next_ordering = (key if descending else f"-{key}") if active else f"{first}{key}"
            columns.append({"label": label, "key": key, "active": active, "descending": descending,
                            "next": next_ordering})
        context = {
            **filter_context(request),
            "leads": leads,
            "count": count,
            "count_exact": exact,
            "first": offset + 1 if leads else 0,
            "last": offset + len(leads),
            "ordering": ordering,
            "ordering_param": normalize_ordering(request.GET),
            "columns": columns,
            "filter_errors": filterset.errors,
            "prev_url": _page_url(request, offset=max(offset - limit, 0), limit=limit, page_style=page_style)
            if offset else None,
            "next_url": _page_url(request, offset=offset + limit, limit=limit, page_style=page_style)
            if has_next else None,
            "first_page_url": _page_url(request, offset=0, limit=limit, page_style=page_style),
        }
        return render_page_or_partial(request, "leads/lead_list.html", "leads/partials/_lead_rows.html", context)


class LeadBoardView(LoginRequiredMixin, View):
    """``/leads/board/``: a column per pipeline status with its count and its newest cards.

    The list's filters apply (owner, source, search, dates); status and ordering are the
    board's own. Each column reads its total the way the list does (the rollup, or a capped
    count) and ``settings.LEAD_BOARD_CARDS`` rows through the (status, deleted_at, created_at) index, so the
    page never loads the whole table: 2 queries per column whatever the table's size.
    """

    def get(self, request):
        params = request.GET.copy()
        for key in ("status", "ordering", "page", "per_page", "limit", "offset"):
            params.pop(key, None)
        filterset = LeadFilterSet(params, queryset=visible_leads(request), request=request)
        queryset = filterset.qs
        list_url = reverse("leads:lead_list")
        columns = []
        for status, label in Lead.Status.choices:
            column_qs = queryset.filter(status=status)
            more = params.copy()
            more["status"] = status
            count, exact = LeadFilterSet(more, queryset=column_qs, request=request).count(column_qs)
            columns.append({
                "status": status, "label": label, "count": count, "count_exact": exact,
                "cards": list(column_qs[: settings.LEAD_BOARD_CARDS]),
                "more_url": f"{list_url}?{more.urlencode()}",
            })
        context = {**filter_context(request), "columns": columns, "board_cards": settings.LEAD_BOARD_CARDS,
                   "filter_errors": filterset.errors}
        return render_page_or_partial(request, "leads/lead_board.html", "leads/partials/_lead_board_columns.html",
                                      context)


def _timeline(lead: Lead, before: str | None) -> tuple[list[Interaction], str | None]:
    """One page of ``lead``'s timeline, latest first, after the entry ``before`` (keyset paging,
    so entries added meanwhile never shift a page); returns the entries and the next cursor."""
    entries = lead.interactions.select_related("user").latest_first()
    try:
        before_id = uuid.UUID(before) if before else None
    except ValueError:
        before_id = None
    if before_id:
        anchor = Subquery(Interaction.objects.filter(pk=before_id, lead=OuterRef("lead")).values("occurred_at")[:1])
        entries = entries.filter(Q(occurred_at__lt=anchor) | Q(occurred_at=anchor, pk__lt=before_id))
    rows = list(entries[: TIMELINE_PAGE + 1])
    cursor = str(rows[TIMELINE_PAGE - 1].pk) if len(rows) > TIMELINE_PAGE else None
    return rows[:TIMELINE_PAGE], cursor


def _detail_context(request, lead: Lead, **extra) -> dict:
    entries, cursor = _timeline(lead, request.GET.get("before"))
    durations = services.lead_status_durations(lead)
    longest = max((span.seconds for span in durations), default=0) or 1
    return {
        "lead": lead,
        "entries": entries,
        "cursor": cursor,
        "durations": [(span, round(100 * span.seconds / longest)) for span in durations],
        "status_choices": Lead.Status.choices,
        "interaction_form": InteractionForm(),
        **extra,
    }


class LeadDetailView(LoginRequiredMixin, View):
    """``/leads/<id>/``: the lead's fields, custom fields, owner and call state, the time it spent
    in each status (``lead_status_durations``), and its timeline with a form to add to it.

    ``?before=<entry id>`` continues the timeline; from HTMX ("load more") only those entries
    come back. Queries: the lead with its owner, the status changes, one page of the timeline.
    """

    def get(self, request, pk):
        lead = get_object_or_404(visible_leads(request), pk=pk)
        if is_htmx(request):
            entries, cursor = _timeline(lead, request.GET.get("before"))
            response = render(request, "leads/partials/_lead_timeline.html",
                              {"lead": lead, "entries": entries, "cursor": cursor})
        else:
            response = render(request, "leads/lead_detail.html", _detail_context(request, lead))
        patch_vary_headers(response, ["HX-Request"])
        return response


class LeadAddInteractionView(LoginRequiredMixin, View):
    """POST ``/leads/<id>/interactions/``: ``lead_add_interaction`` from the timeline form.

    From HTMX the new entry comes back to be prepended, with a fresh form swapped out of band;
    an invalid form comes back in place of the form (``HX-Retarget``). Without JavaScript it
    redirects to the lead, or shows the lead page with the form's errors.
    """

    def post(self, request, pk):
        lead = get_object_or_404(visible_leads(request), pk=pk)
        form = InteractionForm(request.POST)
        if form.is_valid():
            try:
                entry = services.lead_add_interaction(
                    lead=lead, user=request.user, kind=form.cleaned_data["kind"],
                    subject=form.cleaned_data["subject"].strip(), body=form.cleaned_data["notes"].strip(),
                    direction=form.cleaned_data["direction"],
                )
            except ServiceError as exc:
                form.add_service_error(exc)
            else:
                if not is_htmx(request):
                    messages.success(request, "Added to the timeline.")
                    return redirect("leads:lead_detail", pk=lead.pk)
                html = render_to_string("leads/partials/_lead_timeline_entry.html", {"entry": entry}, request)
                html += render_to_string("leads/partials/_lead_interaction_form.html",
                                         {"lead": lead, "interaction_form": InteractionForm(), "oob": True}, request)
                return HttpResponse(html)
        if is_htmx(request):
            response = render(request, "leads/partials/_lead_interaction_form.html",
                              {"lead": lead, "interaction_form": form})
            response["HX-Retarget"] = "#interaction-form"
            response["HX-Reswap"] = "outerHTML"
            return response
        return render(request, "leads/lead_detail.html", _detail_context(request, lead, interaction_form=form),
                      status=400)


class LeadSetStatusView(LoginRequiredMixin, View):
    """POST ``/leads/<id>/status/`` with ``status``: ``lead_change_status`` (which writes the
    ``status_change`` timeline entry). The board (drag and drop, or arrow keys on a focused card)
    posts with the ``HX-Request`` header and gets the updated card back plus an
    ``HX-Trigger: leadStatusChanged`` event; a plain form post (the detail page's status menu)
    is redirected to ``next`` or the lead."""

    def post(self, request, pk):
        lead = get_object_or_404(visible_leads(request), pk=pk)
        previous = lead.status
        try:
            lead = services.lead_change_status(lead=lead, status=request.POST.get("status", ""), user=request.user)
        except ServiceError as exc:
            if is_htmx(request):
                return HttpResponse(exc.detail, status=400, content_type="text/plain; charset=utf-8")
            messages.error(request, exc.detail)
            return redirect("leads:lead_detail", pk=lead.pk)
        if is_htmx(request):
            response = render(request, "leads/partials/_lead_card.html", {"lead": lead})
            response["HX-Trigger"] = json.dumps(
                {"leadStatusChanged": {"id": str(lead.pk), "from": previous, "to": lead.status}}
            )
            return response
        if previous != lead.status:
            messages.success(request, f"{lead.name} moved to {lead.get_status_display()}.")
        target = request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
            return redirect(target)
        return redirect("leads:lead_detail", pk=lead.pk)


def _form_error_context(request, form: LeadForm, exc: ServiceError) -> dict:
    """Put ``exc`` on its field; for a duplicate, link the existing lead if this user may open it.
    A possible duplicate (409) also shows the match above the form with the "create anyway" box."""
    if isinstance(exc, services.PossibleDuplicate):
        # The API's wording says to resend with allow_duplicate; the page has a box for that.
        name = (exc.extra.get("existing") or {}).get("name") or "Another lead"
        form.add_error(exc.field, f"{name} already has this phone number.")
    else:
        form.add_service_error(exc)
    existing = exc.extra.get("existing_id")
    extra = {}
    if existing and Lead.objects.visible_to(request.user).filter(pk=existing).exists():
        extra = {"duplicate_url": reverse("leads:lead_detail", kwargs={"pk": existing}), "duplicate_field": exc.field}
    if isinstance(exc, services.PossibleDuplicate):
        extra["duplicate"] = exc.extra.get("existing")
    return extra


class LeadCreateView(LoginRequiredMixin, View):
    """``/leads/new/``: ``LeadForm`` validated, then ``lead_create`` (which parses the phone,
    refuses duplicates and writes "lead created" to the timeline). A phone another live lead
    has shows that lead and a "create anyway" box."""

    def get(self, request):
        form = LeadForm(user=request.user, initial={"owner": request.user.pk})
        return render(request, "leads/lead_form.html", {"form": form})

    def post(self, request):
        form = LeadForm(request.POST, user=request.user, initial={"owner": request.user.pk})
        extra = {}
        if form.is_valid():
            data = form.service_kwargs()
            try:
                lead = services.lead_create(user=request.user, **data)
            except ServiceError as exc:
                extra = _form_error_context(request, form, exc)
            else:
                messages.success(request, f"Lead {lead.name} created.")
                return redirect("leads:lead_detail", pk=lead.pk)
        return render(request, "leads/lead_form.html", {"form": form, **extra}, status=400)


class LeadEditView(LoginRequiredMixin, View):
    """``/leads/<id>/edit/``: ``LeadForm`` with the lead's values; ``lead_update`` gets only the
    fields that changed (a new status goes through ``lead_change_status`` inside it)."""

    def get(self, request, pk):
        lead = get_object_or_404(visible_leads(request), pk=pk)
        form = LeadForm(user=request.user, initial=LeadForm.initial_for(lead))
        return render(request, "leads/lead_form.html", {"form": form, "lead": lead})

    def post(self, request, pk):
        lead = get_object_or_404(visible_leads(request), pk=pk)
        form = LeadForm(request.POST, user=request.user, initial=LeadForm.initial_for(lead))
        extra = {}
        if form.is_valid():
            try:
                lead = services.lead_update(lead=lead, user=request.user, **form.service_kwargs(changed_only=True))
            except ServiceError as exc:
                extra = _form_error_context(request, form, exc)
            else:
                messages.success(request, f"Lead {lead.name} saved.")
                return redirect("leads:lead_detail", pk=lead.pk)
        return render(request, "leads/lead_form.html", {"form": form, "lead": lead, **extra}, status=400)


class LeadDeleteView(LoginRequiredMixin, View):
    """``/leads/<id>/delete/``: a confirmation page, then ``lead_delete`` (soft: an admin can
    restore it) and back to the list."""

    def get(self, request, pk):
        lead = get_object_or_404(visible_leads(request), pk=pk)
        return render(request, "leads/lead_confirm_delete.html", {"lead": lead})

    def post(self, request, pk):
        lead = get_object_or_404(visible_leads(request), pk=pk)
        services.lead_delete(lead=lead, user=request.user)
        messages.success(request, f"Lead {lead.name} deleted.")
        return redirect("leads:lead_list")


class LeadConvertView(LoginRequiredMixin, View):
    """POST ``/leads/<id>/convert/``: ``lead_convert`` (contact plus matched or new company),
    then the new contact's page; converting twice shows the error on the lead page."""

    def post(self, request, pk):
        lead = get_object_or_404(visible_leads(request), pk=pk)
        try:
            result = services.lead_convert(lead=lead, user=request.user)
        except ServiceError as exc:
            messages.error(request, exc.detail)
            return redirect("leads:lead_detail", pk=lead.pk)
        company = f" at {result.company.name}" if result.company else ""
        messages.success(request, f"{lead.name} converted to contact {result.contact.name}{company}.")
        return redirect("contacts:contact_detail", pk=result.contact.pk)
