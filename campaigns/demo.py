"""Demo campaigns for ``manage.py seed_demo``: five Meta campaigns with 60 days of plausible
daily insights, and Lead Ads leads attributed to them (some closed), so the campaigns page shows
spend, CPL and ROAS on a fresh demo with no Meta token.

Idempotent: adds nothing when campaigns exist, unless ``force``. Written through
``campaigns.services`` (the sync's upserts, ``lead_attribute``) and ``leads.services``.
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign, LeadAttribution
from crm.models import User
from leads import services as lead_services
from leads.models import Lead

ACCOUNT = "act_100200300400"
# meta id, name, objective, effective status, daily budget, CPL range (lead campaigns) or ROAS range (sales)
CAMPAIGNS = [
    ("120210000000100001", "Leads - Roof Repair Quote", "OUTCOME_LEADS", "ACTIVE", 85, (18, 32)),
    ("120210000000100002", "Leads - Free Inspection (Lookalike 2%)", "OUTCOME_LEADS", "ACTIVE", 60, (22, 45)),
    ("120210000000100003", "Sales - Retargeting 30d", "OUTCOME_SALES", "ACTIVE", 40, (2.0, 4.5)),
    ("120210000000100004", "Traffic - Blog: Storm Season Checklist", "OUTCOME_TRAFFIC", "PAUSED", 25, None),
    ("120210000000100005", "Awareness - Brand Video", "OUTCOME_AWARENESS", "ACTIVE", 30, None),
]
DAYS = 60
FIRST = ["Avery", "Blake", "Casey", "Drew", "Emery", "Finley", "Harper", "Jordan", "Kendall", "Logan"]
LAST = ["Walsh", "Romero", "Patel", "Nguyen", "Okafor", "Lindqvist", "Moreau", "Bauer"]


def _rows(rng: random.Random, today) -> list[dict]:
    rows = []
    for meta_id, name, objective, status, budget, target in CAMPAIGNS:
        paused_from = today - timedelta(days=12) if status == "PAUSED" else None
        for back in range(DAYS - 1, -1, -1):
            day = today - timedelta(days=back)
            if paused_from and day >= paused_from:
                continue
            weekend = 0.8 if day.weekday() >= 5 else 1.0
            spend = Decimal(str(round(budget * weekend * rng.uniform(0.75, 1.2), 2)))
            impressions = int(float(spend) / rng.uniform(7, 14) * 1000)
            clicks = int(impressions * rng.uniform(0.009, 0.024))
            link_clicks = int(clicks * rng.uniform(0.6, 0.8))
            leads, purchase = 0, Decimal("0")
            if objective == "OUTCOME_LEADS":
                leads = max(0, round(float(spend) / rng.uniform(*target) + rng.uniform(-0.8, 0.8)))
            elif objective == "OUTCOME_SALES":
                purchase = (spend * Decimal(str(round(rng.uniform(*target), 2)))).quantize(Decimal("0.01"))
            rows.append({"campaign_id": meta_id, "campaign_name": name, "objective": objective, "date": day,
                         "spend": spend, "impressions": impressions, "clicks": clicks, "link_clicks": link_clicks,
                         "leads": leads, "purchase_value": purchase})
    return rows


def seed(*, users: dict[str, User], rng: random.Random, force: bool = False, stdout=None) -> None:
    """Create the demo campaigns, their daily insights and attributed leads (see module docstring)."""
    if Campaign.objects.exists() and not force:
        if stdout:
            stdout.write("Demo campaigns already present; none added.")
        return
    today = timezone.localdate()
    services.upsert_campaigns([{"meta_id": m, "name": n, "objective": o, "status": s, "effective_status": s}
                               for m, n, o, s, _b, _t in CAMPAIGNS], ACCOUNT)
    rows = _rows(rng, today)
    for start in range(0, len(rows), 500):
        services.upsert_insights(rows[start:start + 500], ACCOUNT)
    lead_campaigns = list(Campaign.objects.filter(meta_id__in=[c[0] for c in CAMPAIGNS[:3]]).order_by("meta_id"))
    attributed = 0
    # Existing demo leads that came from Facebook get a campaign (first touch).
    for lead in Lead.objects.live().filter(source="Facebook Ad", meta_attribution__isnull=True).order_by("pk")[:120]:
        campaign = rng.choice(lead_campaigns)
        services.lead_attribute(lead=lead, campaign=campaign, leadgen_id=f"demo-{lead.pk.hex[:20]}",
                                form_id="900100200300", page_id="153125381133")
        attributed += 1
    # A few recent Lead Ads leads won this month, so ROAS shows in the default 30-day range.
    sellers = [users[k] for k in ("sales1", "sales2", "sales3") if k in users]
    for i in range(8):
        with transaction.atomic():
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"{first}.{last}.{i}@demo-leads.example".lower()
            if Lead.objects.live().filter(live_email=email).exists():
                continue
            lead = lead_services.lead_create(
                user=None, first_name=first, last_name=last, email=email, source="Facebook Ad",
                owner=rng.choice(sellers) if sellers else None,
                value=Decimal(rng.choice([1800, 2400, 3500, 5200, 7400, 9800])),
                custom_fields={"services_wanted": rng.choice(["roof_repair", "inspection", "gutters"])},
            )
            campaign = lead_campaigns[i % len(lead_campaigns)]
            services.lead_attribute(lead=lead, campaign=campaign, leadgen_id=f"demo-won-{lead.pk.hex[:16]}",
                                    form_id="900100200300", page_id="153125381133")
            if i % 4 != 3:  # three in four won
                lead_services.lead_change_status(lead=lead, status=Lead.Status.CLOSED, user=None)
            attributed += 1
    if stdout:
        stdout.write(f"Demo campaigns: {len(CAMPAIGNS)} campaigns, {len(rows)} daily rows, "
                     f"{attributed} attributed leads ({LeadAttribution.objects.count()} in all).")
