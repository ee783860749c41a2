"""Dashboard rollups: per-day lead figures, so KPIs and charts read a few thousand small rows
instead of scanning a million leads (a plain ``GROUP BY source`` over 1M leads is ~370 ms).

Every figure describes the leads as they are now (live, current status, value and owner),
bucketed by a day in ``TIME_ZONE``:

* by the day a lead was created: how many, and how many of those are now won (``closed``);
* by the day a lead reached its current ``closed`` or ``lost`` status (``status_changed_at``):
  how many, and the value of the won ones — revenue.

``owner_id`` 0 means unassigned, as in ``leads.LeadStageCount``, so a sales user's dashboard
sums their own rows and the unassigned ones (DESIGN.md decision 8). ``dashboard.services``
keeps these rows current: each lead save marks its days dirty (:class:`RollupDirtyDay`) and the
next dashboard read (or the beat task) recomputes those days from the leads table.
"""

from django.db import models


class LeadDailyStat(models.Model):
    """Lead figures of one day for one owner (see the module docstring for what each counts)."""

    day = models.DateField()
    owner_id = models.BigIntegerField()
    created = models.PositiveIntegerField(default=0)
    won = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    lost = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "owner_id"], name="leaddailystat_day_owner")]

    def __str__(self) -> str:
        return f"{self.day} owner {self.owner_id or '-'}"


class LeadSourceDailyStat(models.Model):
    """Leads created on ``day`` for one owner from one ``source`` (the sources chart)."""

    day = models.DateField()
    owner_id = models.BigIntegerField()
    source = models.CharField(max_length=50, blank=True, default="")
    created = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "owner_id", "source"], name="leadsourcedailystat_key"),
        ]

    def __str__(self) -> str:
        return f"{self.day} owner {self.owner_id or '-'} {self.source or '(none)'}"


class LeadSourceMonthlyStat(models.Model):
    """:class:`LeadSourceDailyStat` summed per calendar month (``month`` is its first day), so a
    long range reads whole months here and only its ragged ends by day: a few thousand rows
    for any range instead of tens of thousands."""

    month = models.DateField()
    owner_id = models.BigIntegerField()
    source = models.CharField(max_length=50, blank=True, default="")
    created = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "owner_id", "source"], name="leadsourcemonthlystat_key"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} owner {self.owner_id or '-'} {self.source or '(none)'}"


class RollupDirtyDay(models.Model):
    """A day whose rollup rows may be out of date (a lead created or closed that day changed)."""

    day = models.DateField(primary_key=True)
    marked_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return str(self.day)
