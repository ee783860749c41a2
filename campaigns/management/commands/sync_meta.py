"""``manage.py sync_meta [--since YYYY-MM-DD] [--until YYYY-MM-DD]``: run the Meta sync now
(a backfill when given an old range); prints the run's outcome. Exit status 1 when it failed."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from campaigns import services
from campaigns.models import MetaSyncRun
from crm.errors import ServiceError


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = "Sync Meta campaigns and daily insights (default: the trailing window of META_SYNC_TRAILING_DAYS)."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="first day, YYYY-MM-DD (inclusive)")
        parser.add_argument("--until", help="last day, YYYY-MM-DD (inclusive; default today)")

    def handle(self, *args, since=None, until=None, **opts):
        since_day = _day(since) if since else None
        until_day = _day(until) if until else None
        if since_day and not until_day:
            until_day = services.default_sync_range()[1]
        if until_day and not since_day:
            since_day = services.default_sync_range(until_day)[0]
        try:
            run = services.meta_sync(since=since_day, until=until_day, trigger=MetaSyncRun.Trigger.COMMAND)
        except ServiceError as exc:
            raise CommandError(exc.detail) from None
        self.stdout.write(
            f"Meta sync {run.since}..{run.until}: {run.status}, {run.campaigns_fetched} campaigns, "
            f"{run.rows_fetched} insight rows, {run.requests} requests, {run.duration_seconds}s"
        )
        for problem in run.errors[:10]:
            self.stdout.write(f"  skipped: {problem['error']}")
        if run.status == MetaSyncRun.Status.FAILED:
            raise CommandError(run.error)
