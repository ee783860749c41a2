"""FilterSets of the settings pages and API (STYLE.md 1): the outgoing-webhook delivery log."""

import django_filters

from crm.models import WebhookDelivery


class WebhookDeliveryFilterSet(django_filters.FilterSet):
    """``?subscription=<id>&status=failed&event=lead.created`` (each index-backed on
    (subscription, created_at) or (status, created_at); the log is newest first)."""

    subscription = django_filters.UUIDFilter(field_name="subscription_id")
    status = django_filters.ChoiceFilter(choices=WebhookDelivery.Status.choices)
    event = django_filters.CharFilter()

    class Meta:
        model = WebhookDelivery
        fields = ["subscription", "status", "event"]
