"""campaigns.demo: a fresh demo shows spend, CPL and ROAS without a Meta token."""

import random

import pytest

from campaigns import demo
from campaigns.models import Campaign, CampaignInsight, LeadAttribution
from leads import demo as lead_demo

pytestmark = pytest.mark.django_db


def test_demo_seeds_campaigns_insights_and_attributed_leads(api):
    users = lead_demo.seed(count=40, rng=random.Random(7))
    demo.seed(users=users, rng=random.Random(7))

    assert Campaign.objects.count() == 5
    assert CampaignInsight.objects.count() > 250
    assert LeadAttribution.objects.filter(lead__status="closed").exists()
    rows = api.get("/api/v1/campaigns").json()["results"]
    assert any(r["cpl"] for r in rows) and any(r["roas"] not in (None, "0.00") for r in rows)
    assert any(r["meta_roas"] not in (None, "0.00") for r in rows)

    counts = (Campaign.objects.count(), CampaignInsight.objects.count(), LeadAttribution.objects.count())
    demo.seed(users=users, rng=random.Random(8))  # again: nothing added
    assert (Campaign.objects.count(), CampaignInsight.objects.count(), LeadAttribution.objects.count()) == counts
