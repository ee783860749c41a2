"""Demo data for the dashboard: its rollups, rebuilt from the demo leads (the leads demo
back-dates creation and status times with UPDATEs, which ``Lead.save`` hooks do not see)."""

from dashboard.services import rollup_rebuild


def seed(*, users: dict, rng, force: bool, stdout) -> None:
    """Recompute the rollups (idempotent: the result depends only on the leads)."""
    counts = rollup_rebuild()
    stdout.write(f"Dashboard: rollups over {counts['days']} days.")
