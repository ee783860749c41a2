"""Meta ad campaigns. Daily insights and sync runs are added by the campaigns issue (seed 001 D)."""

from django.db import models
from django.utils import timezone

from crm.ids import uuid7


class Campaign(models.Model):
    """One Meta (Facebook/Instagram) ad campaign as the Marketing API reports it.

    ``meta_id`` is Graph's campaign id (a numeric string, unique); ``status`` is the configured
    status (``ACTIVE``, ``PAUSED``, ``DELETED``, ``ARCHIVED``) and ``effective_status`` what Meta
    actually runs (adds ``IN_PROCESS``, ``WITH_ISSUES``, …); ``ad_account_id`` is ``act_<digits>``.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    meta_id = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=255)
    status = models.CharField(max_length=32, blank=True, default="")
    effective_status = models.CharField(max_length=32, blank=True, default="")
    objective = models.CharField(max_length=64, blank=True, default="")
    ad_account_id = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["ad_account_id", "name"], name="campaign_account_name"),
            models.Index(fields=["effective_status"], name="campaign_effective_status"),
        ]

    def __str__(self) -> str:
        return self.name
