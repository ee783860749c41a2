"""The plumbing every benchmark command shares: progress on stderr, tables on stdout, and a
clean stop — SIGTERM turns into SystemExit so each ``finally`` (stopping gunicorn, deleting what
the run wrote) still runs, and a benchmark's own errors become a plain CommandError."""

import signal

from django.core.management.base import BaseCommand, CommandError

from bench import load, seed


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


class BenchCommand(BaseCommand):
    """Subclasses implement ``_run(opts)``; it may raise ``seed.BenchError`` or
    ``load.LoadError`` for a refusal (wrong database, wrk missing, a failed load run)."""

    def log(self, message: str) -> None:
        self.stderr.write(message)
        self.stderr.flush()

    def handle(self, *args, **opts):
        previous = signal.signal(signal.SIGTERM, _terminate)
        try:
            self._run(opts)
        except (seed.BenchError, load.LoadError) as exc:
            raise CommandError(str(exc)) from None
        finally:
            signal.signal(signal.SIGTERM, previous)

    def _run(self, opts):  # pragma: no cover - every command defines it
        raise NotImplementedError
