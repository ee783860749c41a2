"""Calling pages. Reads are scoped like the API (a sales user sees calls of leads they may
see); lists filter with the API's FilterSets, so a page URL doubles as an API query; writes call
:mod:`calling.services`. The lead page loads its calls panel from here with HTMX, so leads
never imports calling.
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views import View
from rest_framework.exceptions import ValidationError as QueryParamError

from calling import providers, services
from calling.filters import CallFilterSet
from calling.forms import AgentForm, hours_to_text
from calling.models import WEEKDAYS, Agent, Call
from crm.api.pagination import DEFAULT_LIMIT, page_window, slice_page
from crm.errors import ServiceError
from leads.models import Lead

QUEUE_ROWS = 50
FILTER_PARAMS = ("agent_id", "outcome", "start_date", "end_date", "search", "q")


class _QueryParams:
    def __init__(self, request):
        self.query_params = request.GET


def _page_url(request, page: int) -> str:
    params = request.GET.copy()
    params.pop("offset", None)
    params["page"] = page
    return f"{request.path}?{params.urlencode()}"


class CallHistoryView(LoginRequiredMixin, View):
    """``/calls/``: metrics cards and the call history, filtered by agent, outcome, dates and a
    search (the API's ``CallFilterSet``), 20 calls a page. Queries: metrics (2), count, one page
    with lead and agent, the agent choices."""

    def get(self, request):
        base = Call.objects.visible_to(request.user)
        filterset = CallFilterSet(request.GET, queryset=base.with_list_related(), request=request)
        valid = filterset.is_valid()
        calls_qs = filterset.ordered_qs if valid else base.none()
        try:
            limit, offset, _ = page_window(_QueryParams(request))
        except QueryParamError:
            limit, offset = DEFAULT_LIMIT, 0
        count = calls_qs.count()
        calls = slice_page(calls_qs, limit, offset)
        metrics_qs = CallFilterSet(request.GET, queryset=base, request=request).qs if valid else base.none()
        page = offset // limit + 1
        context = {
            "calls": calls, "count": count, "first": offset + 1 if calls else 0, "last": offset + len(calls),
            "prev_url": _page_url(request, page - 1) if offset else None,
            "next_url": _page_url(request, page + 1) if offset + limit < count else None,
            "metrics": services.call_metrics(metrics_qs, agent_id=request.GET.get("agent_id") if valid else None),
            "agents": Agent.objects.only("pk", "name"), "params": request.GET,
            "search_value": request.GET.get("search") or request.GET.get("q", ""),
            "outcome_choices": Call.Outcome.choices, "filter_errors": filterset.errors,
            "filters_active": any(request.GET.get(name) for name in FILTER_PARAMS),
        }
        return render(request, "calling/call_history.html", context)


class CallQueueView(LoginRequiredMixin, View):
    """``/calls/queue/``: calls under way, leads due now (waiting for the next tick or for their
    agent's business hours) and leads scheduled later, 50 of each, soonest first."""

    def get(self, request):
        now = timezone.now()
        visible = Lead.objects.visible_to(request.user)
        open_call = Call.objects.open().filter(lead_id=OuterRef("pk"))
        waiting = (visible.filter(agent_id__isnull=False, call_status__in=[Lead.CallStatus.NEW,
                                                                           Lead.CallStatus.IN_PROGRESS])
                   .exclude(phone="").filter(~Exists(open_call)))
        due = list(waiting.filter(Q(schedule_at__isnull=True) | Q(schedule_at__lte=now))
                   .order_by("schedule_at", "id")[:QUEUE_ROWS])
        later = list(waiting.filter(schedule_at__gt=now).order_by("schedule_at", "id")[:QUEUE_ROWS])
        agents = {a.pk: a for a in Agent.objects.all()}
        for lead in due + later:
            lead.agent = agents.get(lead.agent_id)
        in_progress = list(Call.objects.visible_to(request.user).open().with_list_related()
                           .order_by("created_at")[:QUEUE_ROWS])
        return render(request, "calling/call_queue.html", {
            "due": due, "later": later, "in_progress": in_progress, "now": now})


class CallDetailView(LoginRequiredMixin, View):
    """``/calls/<id>/``: one call's outcome, summary, transcript and recording (the
    ``transcript_url`` of the API and of the lead's timeline entry)."""

    def get(self, request, pk):
        call = get_object_or_404(Call.objects.visible_to(request.user).with_list_related(), pk=pk)
        return render(request, "calling/call_detail.html", {"call": call})


def _require_manager(request):
    if not request.user.sees_all:
        raise PermissionDenied("Only managers and admins may change agents.")


class AgentListView(LoginRequiredMixin, View):
    """``/calls/agents/``: every agent with its hours, whether it is open now, and its live
    leads (one GROUP BY over the leads' agent index)."""

    def get(self, request):
        agents = list(Agent.objects.all())
        counts = dict(Lead.objects.live().filter(agent_id__in=[a.pk for a in agents]).order_by()
                      .values_list("agent_id").annotate(n=Count("pk")))
        now = timezone.now()
        for agent in agents:
            agent.lead_count = counts.get(agent.pk, 0)
            agent.open_now = agent.is_open(now)
            agent.hours_rows = [(day, hours_to_text((agent.business_hours or {}).get(day))) for day in WEEKDAYS]
            provider = providers.get(agent.provider)
            agent.provider_label = provider.label if provider else agent.provider
        return render(request, "calling/agent_list.html", {"agents": agents, "can_edit": request.user.sees_all})


class AgentCreateView(LoginRequiredMixin, View):
    """``/calls/agents/new/`` (managers and admins): ``agent_create``."""

    def get(self, request):
        _require_manager(request)
        initial = {f"hours_{d}": "09:00-17:00" for d in WEEKDAYS[:5]}
        return render(request, "calling/agent_form.html", {"form": AgentForm(initial=initial)})

    def post(self, request):
        _require_manager(request)
        form = AgentForm(request.POST)
        if form.is_valid():
            try:
                agent = services.agent_create(user=request.user, **form.service_kwargs())
            except ServiceError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, f"Agent {agent.name} created.")
                return redirect("calling:agent_list")
        return render(request, "calling/agent_form.html", {"form": form}, status=400)


class AgentEditView(LoginRequiredMixin, View):
    """``/calls/agents/<id>/edit/`` (managers and admins): ``agent_update``."""

    def get(self, request, pk):
        _require_manager(request)
        agent = get_object_or_404(Agent, pk=pk)
        return render(request, "calling/agent_form.html",
                      {"form": AgentForm(initial=AgentForm.initial_for(agent)), "agent": agent})

    def post(self, request, pk):
        _require_manager(request)
        agent = get_object_or_404(Agent, pk=pk)
        form = AgentForm(request.POST)
        if form.is_valid():
            try:
                agent = services.agent_update(agent=agent, user=request.user, **form.service_kwargs())
            except ServiceError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, f"Agent {agent.name} saved.")
                return redirect("calling:agent_list")
        return render(request, "calling/agent_form.html", {"form": form, "agent": agent}, status=400)


def _panel_context(lead: Lead, error: str = "") -> dict:
    agent = Agent.objects.filter(pk=lead.agent_id).first() if lead.agent_id else None
    calls = list(Call.objects.filter(lead=lead).order_by("-created_at", "-id")[:10])
    return {"lead": lead, "agent": agent, "calls": calls, "error": error,
            "call_open": any(c.is_open for c in calls)}


class LeadCallsPanelView(LoginRequiredMixin, View):
    """``/calls/lead/<id>/panel/``: the lead page's calling panel (HTMX partial): call state,
    agent, the last 10 calls with outcome, duration, summary and transcript link, "Call now"."""

    def get(self, request, pk):
        lead = get_object_or_404(Lead.objects.visible_to(request.user), pk=pk)
        return render(request, "calling/partials/_lead_calls.html", _panel_context(lead))


class LeadCallNowView(LoginRequiredMixin, View):
    """POST ``/calls/lead/<id>/call-now/``: ``call_schedule_now``. From HTMX the panel comes back
    (with the refusal, if any); without JavaScript it redirects to the lead page."""

    def post(self, request, pk):
        lead = get_object_or_404(Lead.objects.visible_to(request.user), pk=pk)
        error = ""
        try:
            services.call_schedule_now(lead=lead, user=request.user)
        except ServiceError as exc:
            error = exc.detail
        if request.headers.get("HX-Request") == "true":
            lead.refresh_from_db()
            return render(request, "calling/partials/_lead_calls.html", _panel_context(lead, error),
                          status=200)
        if error:
            messages.error(request, error)
        else:
            messages.success(request, "Calling now.")
        return redirect("leads:lead_detail", pk=lead.pk)
