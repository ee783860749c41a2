"""Factories for campaigns tests."""

import datetime as dt
from decimal import Decimal

import factory

from campaigns.models import Campaign, CampaignInsight


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    meta_id = factory.Sequence(lambda n: f"1202100000{n:08d}")
    name = factory.Sequence(lambda n: f"Campaign {n}")
    status = "ACTIVE"
    effective_status = "ACTIVE"
    objective = "OUTCOME_LEADS"
    ad_account_id = "act_1234567890"


class InsightFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignInsight

    campaign = factory.SubFactory(CampaignFactory)
    date = dt.date(2026, 11, 1)
    spend = Decimal("100.00")
    impressions = 1000
    clicks = 50
    link_clicks = 40
    leads = 4
    purchase_value = Decimal("0")
