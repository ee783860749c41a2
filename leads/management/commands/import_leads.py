"""``manage.py import_leads FILE [--owner USER] [--agent UUID] [--source TEXT] [--region CC]``.

Imports a CSV of leads through the same service as the API and the import page
(``leads.imports``), synchronously in this process rather than through Celery: a progress bar
on stderr (rows done/total, rows/s), then the summary and the first row errors on stdout.
"""

import sys
import time
from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from crm.errors import ServiceError
from crm.models import User
from leads import imports

ERRORS_PRINTED = 20


class Command(BaseCommand):
    help = "Import leads from a CSV file (seed 004's columns and common export headers)."
    # Django's system checks (a third of a second) guard configuration, not data; an import
    # that starts for a 1,000-row file should not spend longer starting than importing.
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the CSV file.")
        parser.add_argument("--owner", help="Username or id of the user who will own the leads (default: none).")
        parser.add_argument("--agent", dest="agent_id", help="Calling agent UUID for every lead.")
        parser.add_argument("--source", default="", help="Source for rows without a Source column.")
        parser.add_argument("--region", default="", help="Country code for phones without +country (e.g. US).")
        parser.add_argument("--no-progress", action="store_true", help="Do not draw the progress bar.")

    def handle(self, *args, **opts):
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        owner = self._owner(opts["owner"])
        started = time.monotonic()
        try:
            with path.open("rb") as fh:
                job = imports.import_create(
                    user=None, file=File(fh, name=path.name), name=path.name, owner=owner,
                    agent_id=opts["agent_id"], source=opts["source"], region=opts["region"], enqueue=False,
                )
        except ServiceError as exc:
            raise CommandError(exc.detail) from None

        show = not opts["no_progress"]
        draw = self._progress_bar(started) if show else None
        job = imports.import_run(job.pk, progress=draw)
        if show:
            sys.stderr.write("\n")
        if job is None:
            raise CommandError("The import job was taken over by another worker.")
        elapsed = time.monotonic() - started
        rate = job.processed_rows / elapsed if elapsed else 0.0
        self.stdout.write(
            f"Import {job.pk}: {job.status}. {job.success_count} imported, {job.error_count} errors, "
            f"{job.processed_rows} rows processed in {elapsed:.1f}s ({rate:,.0f} rows/s)."
        )
        errors = imports.import_errors(job, limit=ERRORS_PRINTED)
        if errors:
            self.stdout.write(f"First {len(errors)} of {job.error_count} row errors (row 1 is the header):")
            for e in errors:
                self.stdout.write(f"  row {e['row']}: {e['error']}")
        if job.status == job.Status.FAILED:
            raise CommandError(f"The import failed: {job.failure_reason}")

    @staticmethod
    def _owner(value: str | None):
        if not value:
            return None
        is_id = value.isascii() and value.isdigit() and len(value) < 19
        user = User.objects.filter(pk=int(value)).first() if is_id else None
        user = user or User.objects.filter(username=value).first()
        if user is None:
            raise CommandError(f"Unknown owner: no user with id or username {value!r}.")
        return user

    @staticmethod
    def _progress_bar(started: float):
        width = 30

        def draw(p: imports.ImportProgress) -> None:
            total = max(p.total_rows, 1)
            filled = int(width * min(p.processed_rows / total, 1.0))
            elapsed = max(time.monotonic() - started, 1e-6)
            sys.stderr.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {p.processed_rows:,}/{p.total_rows:,} rows "
                f"{p.processed_rows / elapsed:,.0f} rows/s  ok {p.success_count:,}  errors {p.error_count:,}"
            )
            sys.stderr.flush()

        return draw
