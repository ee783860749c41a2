"""Two workers at once on the real database: every due follow-up becomes exactly one task,
timeline entry and notification; every reminder goes out once. Threads with their own
connections call the real services (no patching); MySQL/MariaDB only, where rows are claimed
with SELECT … FOR UPDATE SKIP LOCKED (SQLite serialises writers and has no row locks)."""

import datetime as dt
import threading

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from crm.models import Interaction, Notification
from tasks import services
from tasks.models import Process, Task
from tests.factories import LeadFactory, UserFactory
from tests.tasks.factories import ProcessFactory, TaskFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "mysql", reason="row locks with SKIP LOCKED need MySQL/MariaDB"),
]


def run_together(target, workers: int = 2) -> list:
    """Start ``workers`` threads on ``target`` at the same instant; return their results."""
    barrier = threading.Barrier(workers)
    results, errors = [None] * workers, []

    def work(i):
        try:
            barrier.wait()
            results[i] = target()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    close_old_connections()
    assert not errors, errors
    return results


def test_two_workers_fire_each_due_process_exactly_once():
    owner = UserFactory(username="owner1")
    now = timezone.now()
    processes = [
        ProcessFactory(lead=LeadFactory(owner=owner), created_by=owner,
                       next_followup_at=now - dt.timedelta(seconds=i))
        for i in range(30)
    ]

    results = run_together(lambda: services.processes_run_due(now=now))

    per_worker = [len(r) for r in results]
    assert sum(per_worker) == 30, per_worker
    assert Task.objects.count() == 30
    assert sorted(Task.objects.values_list("process_id", flat=True)) == sorted(p.pk for p in processes)
    assert Interaction.objects.filter(kind=Interaction.Kind.FOLLOW_UP).count() == 30
    assert Notification.objects.filter(user=owner, kind="followup_due").count() == 30
    assert not Process.objects.due(now).exists()
    # And once more, both workers again: nothing left to do.
    assert run_together(lambda: services.processes_run_due(now=now)) == [[], []]
    assert Task.objects.count() == 30


def test_one_due_process_claimed_by_two_workers_makes_one_task():
    owner = UserFactory(username="owner2")
    now = timezone.now()
    ProcessFactory(lead=LeadFactory(owner=owner), created_by=owner, next_followup_at=now)

    for _ in range(5):  # several rounds: whichever thread wins, the other finds nothing
        results = run_together(lambda: services.process_claim_and_fire(now=now), workers=2)
        fired = [r for r in results if r is not None]
        assert len(fired) <= 1
    assert Task.objects.count() == 1
    assert Notification.objects.count() == 1


def test_two_workers_send_each_reminder_once():
    owner = UserFactory(username="owner3")
    now = timezone.now()
    for i in range(20):
        TaskFactory(assignee=owner, due_at=now - dt.timedelta(hours=1, minutes=i))  # overdue
        TaskFactory(assignee=owner, due_at=now + dt.timedelta(minutes=5))  # due soon

    results = run_together(lambda: services.tasks_send_reminders(now=now))

    assert sum(r["overdue"] for r in results) == 20
    assert sum(r["due"] for r in results) == 20
    assert Notification.objects.filter(kind="task_overdue").count() == 20
    assert Notification.objects.filter(kind="task_due").count() == 20
