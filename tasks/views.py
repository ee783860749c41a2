"""Task pages: "My tasks", the task form, the lead and contact panels (loaded by HTMX from the
lead and contact pages, which never import this app), and the notifications list.

Reads go through ``Task.objects.visible_to``/``Process.objects.visible_to`` (someone else's
record is a 404); writes call ``tasks.services``, and a ServiceError lands on the form field it
names. An HTMX request gets the partial it swaps; anything else the whole page or a redirect.
"""

import datetime as dt
import uuid
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from crm import notifications
from crm.errors import ServiceError
from leads.models import Lead
from leads.views import is_htmx
from tasks import services
from tasks.forms import ProcessForm, QuickTaskForm, TaskForm
from tasks.models import Process, Task, visible_contacts

UPCOMING_DAYS = 14
DONE_SHOWN = 10
# The buttons a process shows in its current status: (new status, label).
PROCESS_ACTIONS = {
    Process.Status.ACTIVE: [("paused", "Pause"), ("completed", "Complete")],
    Process.Status.PENDING: [("active", "Start"), ("completed", "Complete")],
    Process.Status.PAUSED: [("active", "Resume"), ("completed", "Complete")],
    Process.Status.COMPLETED: [("active", "Reopen")],
}


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


def visible_tasks(request):
    return Task.objects.visible_to(request.user).with_list_related()


def day_bounds(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Start of today and of tomorrow in ``settings.TIME_ZONE``."""
    today = timezone.localtime(now).date()
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    return start, start + dt.timedelta(days=1)


def my_task_groups(user, now: dt.datetime) -> list[dict]:
    """The "My tasks" sections for ``user``'s open tasks: overdue, today, upcoming (next
    ``UPCOMING_DAYS`` days), later and undated, plus the latest completed. One query each, all
    through the (assignee, completed, due_at) index."""
    start, end = day_bounds(now)
    mine = Task.objects.filter(assignee=user).with_list_related()
    open_ = mine.filter(completed=False)
    return [
        {"key": "overdue", "label": "Overdue", "tasks": list(open_.filter(overdue_at__lte=now).in_order()),
         "empty": "Nothing overdue. Nice."},
        {"key": "today", "label": "Today",
         "tasks": list(open_.filter(due_at__lt=end).exclude(overdue_at__lte=now).in_order()),
         "empty": "Nothing else due today."},
        {"key": "upcoming", "label": f"Next {UPCOMING_DAYS} days",
         "tasks": list(open_.filter(due_at__gte=end, due_at__lt=end + dt.timedelta(days=UPCOMING_DAYS)).in_order()),
         "empty": "Nothing due in the coming days."},
        {"key": "later", "label": "Later and undated",
         "tasks": list(open_.filter(due_at__gte=end + dt.timedelta(days=UPCOMING_DAYS)).in_order())
         + list(open_.filter(due_at__isnull=True).in_order()[:100]),
         "empty": "No other open tasks."},
        {"key": "done", "label": "Recently completed",
         "tasks": list(mine.filter(completed=True).order_by("-completed_at", "-id")[:DONE_SHOWN]),
         "empty": "No completed tasks yet."},
    ]


class MyTasksView(LoginRequiredMixin, View):
    """``/tasks/``: my open tasks by overdue, today, upcoming and later, each checked off in
    place (HTMX), with a quick-add form; the latest completed below."""

    def get(self, request):
        now = timezone.now()
        groups = my_task_groups(request.user, now)
        context = {"groups": groups, "now": now, "quick_form": QuickTaskForm(),
                   "open_count": sum(len(g["tasks"]) for g in groups if g["key"] != "done")}
        return render(request, "tasks/my_tasks.html", context)

    def post(self, request):
        """Quick add (a general task for me)."""
        form = QuickTaskForm(request.POST)
        if form.is_valid():
            try:
                services.task_create(user=request.user, title=form.cleaned_data["title"],
                                     due_date=form.cleaned_data["due_day"], priority=form.cleaned_data["priority"])
            except ServiceError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, "Task added.")
                return redirect("tasks:my_tasks")
        now = timezone.now()
        return render(request, "tasks/my_tasks.html",
                      {"groups": my_task_groups(request.user, now), "now": now, "quick_form": form}, status=400)


class TaskToggleView(LoginRequiredMixin, View):
    """POST ``/tasks/<id>/toggle/`` with ``completed`` (true/false): check a task off or reopen
    it. HTMX gets the task's row back (swapped in place); a plain post is redirected."""

    def post(self, request, pk):
        task = get_object_or_404(visible_tasks(request), pk=pk)
        completed = request.POST.get("completed", "true").lower() in ("true", "1", "on", "yes")
        task = services.task_set_completed(task=task, user=request.user, completed=completed)
        if is_htmx(request):
            task = visible_tasks(request).get(pk=task.pk)
            return render(request, "tasks/partials/_task_row.html",
                          {"task": task, "now": timezone.now(), "compact": request.POST.get("compact") == "1",
                           "return_to": _page_behind(request, reverse("tasks:my_tasks"))})
        messages.success(request, f"“{task.title}” {'completed' if task.completed else 'reopened'}.")
        return redirect(_safe_next(request, reverse("tasks:my_tasks")))


class TaskCreateView(LoginRequiredMixin, View):
    """``/tasks/new/`` (``?lead=<id>`` or ``?contact=<id>`` to relate it, ``?next=`` to return):
    ``TaskForm`` then ``task_create``."""

    def _related(self, request) -> tuple[str, object | None]:
        params = request.POST if request.method == "POST" else request.GET
        for kind, qs in (("lead", Lead.objects.visible_to(request.user)),
                         ("contact", visible_contacts(request.user))):
            value = params.get(kind)
            if value:
                try:
                    obj = qs.filter(pk=uuid.UUID(value)).first()
                except ValueError:
                    obj = None
                if obj is None:
                    raise Http404
                return kind, obj
        return "general", None

    def get(self, request):
        kind, obj = self._related(request)
        form = TaskForm(initial={"assignee": request.user.pk})
        return render(request, "tasks/task_form.html", {"form": form, "related_type": kind, "related": obj,
                                                        "next": _safe_next(request, "")})

    def post(self, request):
        kind, obj = self._related(request)
        form = TaskForm(request.POST, initial={"assignee": request.user.pk})
        if form.is_valid():
            try:
                task = services.task_create(user=request.user, related_to_type=kind,
                                            related_to_id=obj.pk if obj else None, **form.service_kwargs())
            except ServiceError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, f"Task “{task.title}” created.")
                fallback = reverse("leads:lead_detail", args=[obj.pk]) if kind == "lead" else reverse("tasks:my_tasks")
                return redirect(_safe_next(request, fallback))
        return render(request, "tasks/task_form.html", {"form": form, "related_type": kind, "related": obj,
                                                        "next": _safe_next(request, "")}, status=400)


class TaskEditView(LoginRequiredMixin, View):
    """``/tasks/<id>/edit/``: ``TaskForm`` with the task's values, then ``task_update``."""

    def get(self, request, pk):
        task = get_object_or_404(visible_tasks(request), pk=pk)
        form = TaskForm(initial=TaskForm.initial_for(task))
        return render(request, "tasks/task_form.html", {"form": form, "task": task, "related": task.related_object,
                                                        "related_type": task.related_to_type,
                                                        "next": _safe_next(request, "")})

    def post(self, request, pk):
        task = get_object_or_404(visible_tasks(request), pk=pk)
        form = TaskForm(request.POST, initial=TaskForm.initial_for(task))
        if form.is_valid():
            try:
                task = services.task_update(task=task, user=request.user, **form.service_kwargs())
            except ServiceError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, f"Task “{task.title}” saved.")
                return redirect(_safe_next(request, reverse("tasks:my_tasks")))
        return render(request, "tasks/task_form.html", {"form": form, "task": task, "related": task.related_object,
                                                        "related_type": task.related_to_type,
                                                        "next": _safe_next(request, "")}, status=400)


class TaskDeleteView(LoginRequiredMixin, View):
    """POST ``/tasks/<id>/delete/``: ``task_delete``, then back to ``next`` or My tasks."""

    def post(self, request, pk):
        task = get_object_or_404(visible_tasks(request), pk=pk)
        services.task_delete(task=task, user=request.user)
        if is_htmx(request):
            return HttpResponse("")
        messages.success(request, f"Task “{task.title}” deleted.")
        return redirect(_safe_next(request, reverse("tasks:my_tasks")))


# --- Panels on the lead and contact pages ---------------------------------------------------------


def _page_behind(request, fallback: str) -> str:
    """The page an HTMX fragment sits in (``HX-Current-URL``), for links that should come back
    to it rather than to the fragment's own URL."""
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    if current.path and url_has_allowed_host_and_scheme(current.geturl(), allowed_hosts={request.get_host()},
                                                          require_https=request.is_secure()):
        return current.path + (f"?{current.query}" if current.query else "")
    return fallback


def _panel_context(request, *, lead=None, contact=None, quick_form=None, process_form=None) -> dict:
    related = lead or contact
    field = "lead" if lead else "contact"
    fallback = reverse("leads:lead_detail", args=[lead.pk]) if lead else reverse("tasks:my_tasks")
    tasks = visible_tasks(request).filter(**{field: related})
    context = {
        "lead": lead, "contact": contact, "related": related, "related_type": field,
        "open_tasks": list(tasks.filter(completed=False).in_order()[:50]),
        "done_count": tasks.filter(completed=True).count(),
        "quick_form": quick_form or QuickTaskForm(),
        "now": timezone.now(),
        "panel_url": reverse(f"tasks:{field}_panel", args=[related.pk]),
        "return_to": _page_behind(request, fallback),
    }
    if lead is not None:
        context["processes"] = list(
            Process.objects.visible_to(request.user).filter(lead=lead).select_related("last_action")
            .order_by("-created_at", "-id")[:20]
        )
        context["process_form"] = process_form or ProcessForm()
        for process in context["processes"]:
            process.actions = PROCESS_ACTIONS.get(process.status, [])
    return context


def _render_panel(request, context, status=200):
    response = render(request, "tasks/partials/_panel.html", context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


class LeadPanelView(LoginRequiredMixin, View):
    """``/tasks/panel/lead/<id>/``: the lead page's tasks-and-processes panel (HTMX fragment).
    POST adds a task to the lead (the quick form); the panel comes back re-rendered."""

    def lead(self, request, pk):
        return get_object_or_404(Lead.objects.visible_to(request.user), pk=pk)

    def get(self, request, pk):
        return _render_panel(request, _panel_context(request, lead=self.lead(request, pk)))

    def post(self, request, pk):
        lead = self.lead(request, pk)
        form = QuickTaskForm(request.POST)
        if form.is_valid():
            try:
                services.task_create(user=request.user, title=form.cleaned_data["title"],
                                     due_date=form.cleaned_data["due_day"], priority=form.cleaned_data["priority"],
                                     related_to_type="lead", related_to_id=lead.pk)
            except ServiceError as exc:
                form.add_service_error(exc)
            else:
                if not is_htmx(request):
                    return redirect("leads:lead_detail", pk=lead.pk)
                return _render_panel(request, _panel_context(request, lead=lead))
        return _render_panel(request, _panel_context(request, lead=lead, quick_form=form), status=400)


class ContactPanelView(LoginRequiredMixin, View):
    """``/tasks/panel/contact/<id>/``: the contact page's tasks panel; POST adds a task."""

    def contact(self, request, pk):
        return get_object_or_404(visible_contacts(request.user), pk=pk)

    def get(self, request, pk):
        return _render_panel(request, _panel_context(request, contact=self.contact(request, pk)))

    def post(self, request, pk):
        contact = self.contact(request, pk)
        form = QuickTaskForm(request.POST)
        if form.is_valid():
            try:
                services.task_create(user=request.user, title=form.cleaned_data["title"],
                                     due_date=form.cleaned_data["due_day"], priority=form.cleaned_data["priority"],
                                     related_to_type="contact", related_to_id=contact.pk)
            except ServiceError as exc:
                form.add_service_error(exc)
            else:
                return _render_panel(request, _panel_context(request, contact=contact))
        return _render_panel(request, _panel_context(request, contact=contact, quick_form=form), status=400)


class LeadProcessCreateView(LoginRequiredMixin, View):
    """POST ``/tasks/panel/lead/<id>/processes/``: start a follow-up process on the lead."""

    def post(self, request, pk):
        lead = get_object_or_404(Lead.objects.visible_to(request.user), pk=pk)
        form = ProcessForm(request.POST)
        if form.is_valid():
            try:
                services.process_create(
                    user=request.user, name=form.cleaned_data["name"], lead_id=lead.pk,
                    channel=form.cleaned_data["channel"], next_followup_datetime=form.cleaned_data["next_followup"],
                    interval_days=form.cleaned_data["interval_days"],
                )
            except ServiceError as exc:
                form.add_service_error(exc)
            else:
                if not is_htmx(request):
                    return redirect("leads:lead_detail", pk=lead.pk)
                return _render_panel(request, _panel_context(request, lead=lead))
        return _render_panel(request, _panel_context(request, lead=lead, process_form=form), status=400)


class ProcessStatusView(LoginRequiredMixin, View):
    """POST ``/tasks/processes/<id>/status/`` with ``status``: pause, resume or complete a
    process; its lead's panel comes back (HTMX) or the lead page (redirect)."""

    def post(self, request, pk):
        process = get_object_or_404(Process.objects.visible_to(request.user), pk=pk)
        try:
            process = services.process_update(process=process, user=request.user, status=request.POST.get("status", ""))
        except ServiceError as exc:
            if is_htmx(request):
                return HttpResponse(exc.detail, status=400, content_type="text/plain; charset=utf-8")
            messages.error(request, exc.detail)
        lead = Lead.objects.visible_to(request.user).filter(pk=process.lead_id).first()
        if is_htmx(request) and lead is not None:
            return _render_panel(request, _panel_context(request, lead=lead))
        return redirect(reverse("leads:lead_detail", args=[lead.pk]) if lead else reverse("tasks:my_tasks"))


# --- Notifications --------------------------------------------------------------------------------


class NotificationListView(LoginRequiredMixin, View):
    """``/notifications/``: my notifications, newest first, 30 a page (``?unread=1`` for unread
    only), each opened (and marked read) with a click; "mark all read" at the top."""

    def get(self, request):
        qs = notifications.notifications_for(request.user)
        unread_only = request.GET.get("unread") in ("1", "true")
        if unread_only:
            qs = qs.filter(read_at__isnull=True)
        page = Paginator(qs, 30).get_page(request.GET.get("page"))
        return render(request, "tasks/notification_list.html", {"page": page, "unread_only": unread_only})


class NotificationOpenView(LoginRequiredMixin, View):
    """``/notifications/<id>/open/``: mark read and go where the notification points."""

    def get(self, request, pk):
        note = get_object_or_404(notifications.notifications_for(request.user), pk=pk)
        notifications.notification_mark_read(user=request.user, notification=note)
        url = note.url if note.url and url_has_allowed_host_and_scheme(note.url, allowed_hosts={request.get_host()}) \
            else reverse("tasks:notification_list")
        return redirect(url)


class NotificationReadView(LoginRequiredMixin, View):
    """POST ``/notifications/<id>/read/``: mark one read (HTMX gets its row back)."""

    def post(self, request, pk):
        note = get_object_or_404(notifications.notifications_for(request.user), pk=pk)
        note = notifications.notification_mark_read(user=request.user, notification=note)
        if is_htmx(request):
            response = render(request, "tasks/partials/_notification_row.html", {"note": note})
            response["HX-Trigger"] = "notificationsChanged"
            return response
        return redirect(_safe_next(request, reverse("tasks:notification_list")))


class NotificationReadAllView(LoginRequiredMixin, View):
    """POST ``/notifications/read-all/``: mark every unread notification read."""

    def post(self, request):
        marked = notifications.notification_mark_all_read(user=request.user)
        messages.success(request, f"Marked {marked} notification{'' if marked == 1 else 's'} read.")
        return redirect(_safe_next(request, reverse("tasks:notification_list")))


class NotificationBadgeView(LoginRequiredMixin, View):
    """``/notifications/badge/``: the bell's unread count (HTMX polls it; one indexed COUNT)."""

    def get(self, request):
        return render(request, "tasks/partials/_notification_badge.html")

