"""Pages: the dashboard (KPIs, charts, pipeline, calls) and the admin settings page (API keys,
integrations, outgoing webhooks and their delivery log)."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from crm import apikeys, webhooks
from crm.api.lookups import get_by_uuid_or_404
from crm.errors import ServiceError
from crm.events import EVENTS
from crm.models import ApiKey, User, WebhookDelivery, WebhookSubscription
from dashboard import services
from dashboard.filters import WebhookDeliveryFilterSet
from dashboard.forms import ApiKeyForm, DateRangeForm, WebhookSubscriptionForm

#: The range picker's shortcuts: label -> days ending today.
PRESETS = (("7 days", 7), ("30 days", 30), ("90 days", 90), ("12 months", 365))


@login_required
def dashboard(request):
    """``/dashboard/``: the KPI cards with their change, the date-range picker, revenue and
    sources charts, the pipeline funnel and call figures, for ``?start_date&end_date``
    (default the last 30 days). An HTMX request (the picker) gets the body partial only."""
    form = DateRangeForm(request.GET or None)
    error = None
    try:
        rng = services.parse_range(request.GET)
    except ServiceError as exc:
        error = exc.detail
        rng = services.parse_range({})
    stats = services.dashboard_stats(request.user, rng)
    revenue = services.revenue_series(request.user, rng)
    sources = services.sources_series(request.user, rng)
    top = max((s["count"] for s in stats["pipeline"]), default=0) or 1
    for stage in stats["pipeline"]:
        stage["width"] = round(100 * stage["count"] / top, 1)
    today = timezone.localdate()
    presets = [(label, (today - timedelta(days=days - 1)).isoformat(), today.isoformat()) for label, days in PRESETS]
    context = {
        "form": form, "error": error, "rng": rng, "stats": stats, "revenue": revenue, "sources": sources,
        "bucket": services.bucket_size(rng), "presets": presets,
        "chart_data": {"revenue": revenue, "sources": sources},
    }
    if request.headers.get("HX-Request"):
        return render(request, "dashboard/partials/_dashboard_body.html", context)
    return render(request, "dashboard/dashboard.html", context, status=400 if error else 200)


def _admin_only(request) -> None:
    user = request.user
    if not (user.is_superuser or user.role == User.Role.ADMIN):
        raise PermissionDenied("Only admins may open the settings.")


@login_required
def settings_page(request):
    """``/settings/`` (admins; others 403): API keys (masked; a new one shown once), the
    integrations' webhook URLs and status, outgoing webhooks, and the delivery log (filtered by
    subscription, status and event, 25 a page)."""
    _admin_only(request)
    config = services.settings_config(request.build_absolute_uri)
    deliveries = WebhookDeliveryFilterSet(
        request.GET or None,
        queryset=WebhookDelivery.objects.select_related("subscription").order_by("-created_at", "-id"),
    )
    page = Paginator(deliveries.qs, 25).get_page(request.GET.get("page"))
    context = {
        "config": config,
        "keys": ApiKey.objects.active().select_related("created_by")[:100],
        "subscriptions": WebhookSubscription.objects.all()[:100],
        "deliveries": page,
        "delivery_filter": deliveries,
        "new_key": request.session.pop("new_api_key", None),
        "new_secret": request.session.pop("new_webhook_secret", None),
        "key_form": ApiKeyForm(),
        "webhook_form": WebhookSubscriptionForm(),
        "events": EVENTS,
    }
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "delivery-log":
        return render(request, "dashboard/partials/_delivery_log.html", context)
    return render(request, "dashboard/settings.html", context)


def _back(fragment: str = ""):
    return redirect(reverse("dashboard:settings") + fragment)


def _show_key_once(request, issued) -> None:
    # Kept in the session for the one page view that follows, then dropped (shown once).
    request.session["new_api_key"] = {"name": issued.api_key.name, "key": issued.key}


@login_required
@require_POST
def api_key_create(request):
    _admin_only(request)
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(e for errs in form.errors.values() for e in errs))
        return _back("#api-keys")
    try:
        issued = apikeys.api_key_create(**form.cleaned_data, created_by=request.user)
    except ServiceError as exc:
        messages.error(request, exc.detail)
        return _back("#api-keys")
    _show_key_once(request, issued)
    return _back("#api-keys")


@login_required
@require_POST
def api_key_regenerate(request, pk):
    _admin_only(request)
    api_key = get_by_uuid_or_404(ApiKey.objects.all(), pk)
    try:
        issued = apikeys.api_key_regenerate(api_key=api_key, by=request.user)
    except ServiceError as exc:
        messages.error(request, exc.detail)
        return _back("#api-keys")
    _show_key_once(request, issued)
    messages.success(request, f"Key {api_key.masked} was revoked and replaced.")
    return _back("#api-keys")


@login_required
@require_POST
def api_key_revoke(request, pk):
    _admin_only(request)
    api_key = apikeys.api_key_revoke(api_key=get_by_uuid_or_404(ApiKey.objects.all(), pk), by=request.user)
    messages.success(request, f"Key {api_key.masked} revoked; calls with it now get 401.")
    return _back("#api-keys")


@login_required
@require_POST
def webhook_create(request):
    _admin_only(request)
    form = WebhookSubscriptionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(e for errs in form.errors.values() for e in errs))
        return _back("#webhooks")
    try:
        sub = webhooks.webhook_subscription_create(**form.cleaned_data, by=request.user)
    except ServiceError as exc:
        messages.error(request, exc.detail)
        return _back("#webhooks")
    request.session["new_webhook_secret"] = {"url": sub.url, "secret": sub.secret}
    return _back("#webhooks")


@login_required
@require_POST
def webhook_action(request, pk, op: str):
    """``toggle`` (pause/resume), ``rotate`` (new secret, shown once) or ``delete``."""
    _admin_only(request)
    sub = get_by_uuid_or_404(WebhookSubscription.objects.all(), pk)
    if op == "toggle":
        webhooks.webhook_subscription_update(subscription=sub, by=request.user, active=not sub.active)
    elif op == "rotate":
        sub = webhooks.webhook_subscription_update(subscription=sub, by=request.user, rotate_secret=True)
        request.session["new_webhook_secret"] = {"url": sub.url, "secret": sub.secret}
    elif op == "delete":
        webhooks.webhook_subscription_delete(subscription=sub, by=request.user)
        messages.success(request, f"Webhook to {sub.url} removed.")
    else:
        raise Http404
    return _back("#webhooks")


@login_required
@require_POST
def delivery_redeliver(request, pk):
    _admin_only(request)
    delivery = get_by_uuid_or_404(WebhookDelivery.objects.all(), pk)
    webhooks.webhook_redeliver(delivery=delivery, by=request.user)
    messages.success(request, f"{delivery.event} queued again for {delivery.subscription.url}.")
    return _back("#deliveries")
