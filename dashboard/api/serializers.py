"""Payloads of the settings endpoints (API keys, outgoing webhooks, delivery log)."""

from rest_framework import serializers

from crm.events import EVENTS
from crm.models import ApiKey, User, WebhookDelivery, WebhookSubscription


class ApiKeySerializer(serializers.ModelSerializer):
    """An API key, masked. ``key`` (the secret) appears only in the answer that made it."""

    masked_key = serializers.CharField(source="masked", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ApiKey
        fields = ["id", "name", "role", "prefix", "masked_key", "created_by", "created_at", "last_used_at",
                  "revoked_at"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    role = serializers.ChoiceField(choices=User.Role.choices, default=User.Role.MANAGER)


class RegenerateKeySerializer(serializers.Serializer):
    """Which key to replace (default: the newest active one); optional new name and role."""

    id = serializers.UUIDField(required=False)
    name = serializers.CharField(max_length=100, required=False)
    role = serializers.ChoiceField(choices=User.Role.choices, required=False)


class IssuedKeySerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True)
    revoked_key_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key", "revoked_key_id"]
        read_only_fields = fields


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    """An outgoing webhook. ``secret`` is returned when it is made or rotated and on request;
    lists show ``secret_hint``."""

    events = serializers.ListField(child=serializers.ChoiceField(choices=list(EVENTS)), allow_empty=False)
    rotate_secret = serializers.BooleanField(write_only=True, required=False, default=False)
    secret_hint = serializers.SerializerMethodField()

    class Meta:
        model = WebhookSubscription
        fields = ["id", "name", "url", "events", "active", "secret_hint", "rotate_secret", "created_at",
                  "updated_at"]
        read_only_fields = ["id", "secret_hint", "created_at", "updated_at"]

    def get_secret_hint(self, obj) -> str:
        return f"{obj.secret[:10]}…"


class WebhookSubscriptionSecretSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(read_only=True)

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]
        read_only_fields = [*WebhookSubscriptionSerializer.Meta.read_only_fields, "secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    payload = serializers.JSONField(read_only=True)
    url = serializers.CharField(source="subscription.url", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "subscription", "url", "event", "event_id", "status", "status_code", "attempts",
                  "last_error", "created_at", "last_attempt_at", "delivered_at", "failed_at", "payload"]
        read_only_fields = fields
