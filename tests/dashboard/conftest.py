"""Dashboard test helpers: leads placed at given moments, and the rollups rebuilt from them."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from dashboard.services import rollup_rebuild
from tests.factories import LeadFactory


def at(day: str, hour: int = 12) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC).replace(hour=hour)


def lead(*, created: str, status: str = "new", changed: str | None = None, value: str = "0", owner=None,
         source: str = "Manual", **extra):
    """A live lead created on ``created`` (noon UTC) that reached ``status`` on ``changed``."""
    return LeadFactory(created_at=at(created), status=status, status_changed_at=at(changed or created),
                       value=Decimal(value), owner=owner, source=source, **extra)


@pytest.fixture
def rebuild():
    return rollup_rebuild


@pytest.fixture(autouse=True)
def _reads_refresh_at_once(settings):
    """No worker runs in most tests: let a read recompute dirty days at once (the setting's
    production default leaves fresh marks to the worker's debounced refresh for 5 s)."""
    settings.DASHBOARD_REFRESH_ON_READ_AFTER = 0
