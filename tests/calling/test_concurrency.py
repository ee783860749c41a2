"""Two schedulers at once on the same due leads place each call once (MariaDB: the claim uses
SELECT … FOR UPDATE SKIP LOCKED; real threads with their own connections, committed data)."""

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from calling import services
from calling.models import Call
from leads.models import Lead
from tests.calling.factories import AgentFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor != "mysql", reason="row locks need MariaDB/MySQL (SQLite has one writer)")
def test_two_workers_never_call_one_lead_twice():
    agents = [AgentFactory(), AgentFactory()]
    now = timezone.now()
    leads = [Lead(first_name=f"L{i}", phone=f"+1415555{i:04d}", agent_id=agents[i % 2].pk, schedule_at=now)
             for i in range(600)]
    Lead.objects.bulk_create(leads)
    results, errors = [], []
    barrier = threading.Barrier(4)

    def worker():
        try:
            barrier.wait()
            results.append(services.scheduler_tick(dispatch="none", batch_size=25))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert not errors, errors
    assert sum(r.claimed for r in results) == 600
    assert Call.objects.count() == 600
    assert Call.objects.values("lead_id").distinct().count() == 600
    assert set(Lead.objects.values_list("attempts_count", flat=True)) == {1}
    # More than one worker did part of the work (the skip, not a queue behind one lock).
    assert sum(1 for r in results if r.claimed) >= 2
