"""Campaign representations: seed 001's UI model (id, name, status, objective, spend,
impressions, clicks, leads, cpl, roas) plus ``meta_roas``, ``link_clicks``, ``revenue``.

Money and ratios are decimal strings (``"12500.00"``, ``"3.50"``); ``cpl``/``roas``/``meta_roas``
are ``null`` where the divisor is 0. Hand-written dicts: the values are annotations, not fields.
"""

from decimal import Decimal

from rest_framework import serializers

from campaigns.models import Campaign, MetaSyncRun
from campaigns.services import CENT, ratio


def money(value) -> str:
    return f"{Decimal(value or 0).quantize(CENT)}"


def dec(value) -> str | None:
    return None if value is None else f"{value}"


def objective_label(code: str) -> str:
    """``OUTCOME_LEADS`` → ``Leads``; legacy ``LEAD_GENERATION`` → ``Lead generation``."""
    if not code:
        return ""
    text = code.removeprefix("OUTCOME_").replace("_", " ").lower()
    return text[:1].upper() + text[1:]


def campaign_to_dict(c: Campaign) -> dict:
    """One campaign annotated by ``campaigns.services.campaign_metrics``."""
    return {
        "id": str(c.pk),
        "meta_id": c.meta_id,
        "name": c.name,
        "status": (c.effective_status or c.status).lower(),
        "configured_status": c.status,
        "effective_status": c.effective_status,
        "objective": objective_label(c.objective),
        "objective_code": c.objective,
        "spend": money(c.spend),
        "impressions": int(c.impressions or 0),
        "clicks": int(c.clicks or 0),
        "link_clicks": int(c.link_clicks or 0),
        "leads": int(c.leads or 0),
        "cpl": dec(ratio(c.spend, c.leads)),
        "revenue": money(c.revenue),
        "roas": dec(ratio(c.revenue, c.spend)),
        "purchase_value": money(c.purchase_value),
        "meta_roas": dec(ratio(c.purchase_value, c.spend)),
        "ad_account_id": c.ad_account_id,
        "updated_at": c.updated_at.isoformat().replace("+00:00", "Z") if c.updated_at else None,
    }


def totals_to_dict(t) -> dict:
    return {
        "spend": money(t.spend), "impressions": t.impressions, "clicks": t.clicks, "link_clicks": t.link_clicks,
        "leads": t.leads, "cpl": dec(t.cpl), "revenue": money(t.revenue), "roas": dec(t.roas),
        "purchase_value": money(t.purchase_value), "meta_roas": dec(t.meta_roas),
    }


def day_to_dict(d: dict) -> dict:
    return {**d, "date": d["date"].isoformat(), "spend": money(d["spend"]),
            "purchase_value": money(d["purchase_value"]), "cpl": dec(d["cpl"])}


# Schema-only serializers (drf-spectacular): what the dicts above look like.
class CampaignSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    meta_id = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField(help_text="effective status, lower case (active, paused, …)")
    configured_status = serializers.CharField()
    effective_status = serializers.CharField()
    objective = serializers.CharField(help_text="e.g. Leads, Sales")
    objective_code = serializers.CharField(help_text="Meta's objective, e.g. OUTCOME_LEADS")
    spend = serializers.DecimalField(max_digits=14, decimal_places=2)
    impressions = serializers.IntegerField()
    clicks = serializers.IntegerField()
    link_clicks = serializers.IntegerField()
    leads = serializers.IntegerField(help_text="Meta's lead action")
    cpl = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True, help_text="spend / leads")
    revenue = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="value of closed attributed leads")
    roas = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True, help_text="revenue / spend")
    purchase_value = serializers.DecimalField(max_digits=14, decimal_places=2)
    meta_roas = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True,
                                         help_text="Meta's purchase value / spend")
    ad_account_id = serializers.CharField()
    updated_at = serializers.DateTimeField()


class DaySerializer(serializers.Serializer):
    date = serializers.DateField()
    spend = serializers.DecimalField(max_digits=14, decimal_places=2)
    impressions = serializers.IntegerField()
    clicks = serializers.IntegerField()
    link_clicks = serializers.IntegerField()
    leads = serializers.IntegerField()
    purchase_value = serializers.DecimalField(max_digits=14, decimal_places=2)
    cpl = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)


class CampaignDetailSerializer(CampaignSerializer):
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    daily = DaySerializer(many=True)


class MetaSyncRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = MetaSyncRun
        fields = ["id", "status", "trigger", "since", "until", "started_at", "finished_at", "campaigns_fetched",
                  "rows_fetched", "requests", "error", "error_code", "errors"]


class SyncRequestSerializer(serializers.Serializer):
    """``POST /api/v1/meta/sync-runs``: an optional range (default: the trailing window)."""

    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)
