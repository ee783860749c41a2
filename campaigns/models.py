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


class CampaignInsight(models.Model):
    """One day of one campaign's delivery, as Meta's Insights API reports it
    (``level=campaign``, ``time_increment=1``; dates in the ad account's time zone).

    ``spend`` and ``purchase_value`` are money (ad account currency); ``link_clicks`` is
    ``inline_link_clicks``; ``leads`` is Meta's ``lead`` action only, which already sums on- and
    off-Facebook leads (adding ``onsite_conversion.lead_grouped`` or the pixel lead would count
    twice); ``purchase_value`` is the ``purchase`` (else ``omni_purchase``) entry of
    ``action_values``. Unique per (campaign, date): a re-sync updates the row in place.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="insights")
    date = models.DateField()
    spend = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    impressions = models.BigIntegerField(default=0)
    clicks = models.BigIntegerField(default=0)
    link_clicks = models.BigIntegerField(default=0)
    leads = models.IntegerField(default=0)
    purchase_value = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["campaign", "date"]
        constraints = [models.UniqueConstraint(fields=["campaign", "date"], name="campaigninsight_campaign_date")]
        indexes = [models.Index(fields=["date", "campaign"], name="campaigninsight_date")]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.date}"


class MetaSyncRun(models.Model):
    """One run of the Meta sync (beat, "Sync now", or ``manage.py sync_meta``), STYLE.md 6.

    ``since``/``until`` are the inclusive insight dates asked for; ``rows_fetched`` the insight
    rows read (``campaigns_fetched`` the campaigns); ``error`` the message that ended a failed
    run (``error_code`` Graph's code, e.g. 190 for a bad token); ``errors`` the problems that did
    not stop it, e.g. ``[{"row": {...}, "error": "..."}]`` for an insights row with a missing field.
    """

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Succeeded with errors"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Sync now"
        COMMAND = "command", "Command"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.SCHEDULE)
    since = models.DateField(null=True, blank=True)
    until = models.DateField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    campaigns_fetched = models.PositiveIntegerField(default=0)
    rows_fetched = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    error_code = models.IntegerField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)
    requested_by = models.ForeignKey(
        "crm.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["started_at"], name="metasyncrun_started")]

    def __str__(self) -> str:
        return f"Meta sync {self.started_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status != self.Status.RUNNING

    @property
    def duration_seconds(self) -> float | None:
        if not self.finished_at:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 1)


class LeadgenEvent(models.Model):
    """One Lead Ads notification (``leadgen`` change) as received, before and after processing.

    The webhook stores it and answers at once; ``campaigns.tasks.process_leadgen`` fetches the
    lead from Graph and fills ``lead``. ``leadgen_id`` is unique, so Meta's redeliveries (it
    retries for 36 hours) find the existing row instead of making a second lead. IDs are kept
    as strings (Meta sends ints or strings). ``created_time`` is when the person submitted the form.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    leadgen_id = models.CharField(max_length=40, unique=True)
    page_id = models.CharField(max_length=40, blank=True, default="")
    form_id = models.CharField(max_length=40, blank=True, default="")
    ad_id = models.CharField(max_length=40, blank=True, default="")
    adgroup_id = models.CharField(max_length=40, blank=True, default="")
    created_time = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    duplicate = models.BooleanField(default=False, help_text="Matched an existing live lead (email or phone).")
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "received_at"], name="leadgenevent_status_received")]

    def __str__(self) -> str:
        return f"leadgen {self.leadgen_id} ({self.status})"


class LeadAttribution(models.Model):
    """Which Meta campaign, ad and form a lead came from (first touch; the leads app knows
    nothing of campaigns, so the link lives here).

    ``campaign`` is NULL until the campaign is synced (``meta_campaign_id`` keeps Graph's id so
    a later sync links it). ROAS counts the ``value`` of attributed leads that are closed.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    lead = models.OneToOneField("leads.Lead", on_delete=models.CASCADE, related_name="meta_attribution")
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="attributions"
    )
    meta_campaign_id = models.CharField(max_length=32, blank=True, default="", db_index=True)
    leadgen_id = models.CharField(max_length=40, unique=True)
    ad_id = models.CharField(max_length=40, blank=True, default="")
    adset_id = models.CharField(max_length=40, blank=True, default="")
    form_id = models.CharField(max_length=40, blank=True, default="")
    page_id = models.CharField(max_length=40, blank=True, default="")
    platform = models.CharField(max_length=20, blank=True, default="")
    is_organic = models.BooleanField(default=False)
    created_time = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["campaign", "created_at"], name="leadattribution_campaign")]

    def __str__(self) -> str:
        return f"{self.lead_id} ← {self.meta_campaign_id or '-'}"
