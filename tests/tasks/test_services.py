"""Task, process and reminder services: due dates, follow-ups fired once, reminders once each,
notifications idempotent, tasks following a contact merge."""

import datetime as dt

import pytest
from django.utils import timezone

from contacts.models import Contact
from contacts.signals import contact_merged
from crm.errors import ServiceError
from crm.models import Interaction, Notification
from crm.notifications import notify, unread_count
from tasks import services
from tasks.models import Process, Task
from tests.factories import LeadFactory, UserFactory
from tests.tasks.factories import ProcessFactory, TaskFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Due dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw, expected, all_day", [
    ("2026-11-30", dt.datetime(2026, 11, 30, tzinfo=dt.UTC), True),
    (dt.date(2026, 11, 30), dt.datetime(2026, 11, 30, tzinfo=dt.UTC), True),
    ("2026-11-30T10:15:00Z", dt.datetime(2026, 11, 30, 10, 15, tzinfo=dt.UTC), False),
    ("2026-11-30T10:15:00", dt.datetime(2026, 11, 30, 10, 15, tzinfo=dt.UTC), False),
    (None, None, False),
    ("", None, False),
])
def test_parse_due(raw, expected, all_day):
    assert services.parse_due(raw) == (expected, all_day)


@pytest.mark.parametrize("raw", ["30/11/2026", "2026-11-31", "soon", "0000-01-01T00:00:00Z", 5])
def test_parse_due_refuses_with_the_field(raw):
    with pytest.raises(ServiceError) as exc:
        services.parse_due(raw)
    assert exc.value.field == "due_date" and exc.value.code == "invalid_due_date"


def test_all_day_task_is_overdue_after_its_day_timed_at_its_moment(sales_user):
    day = services.task_create(user=sales_user, title="day", due_date="2026-11-22")
    timed = services.task_create(user=sales_user, title="timed", due_date="2026-11-22T09:00:00Z")
    assert not day.is_overdue(NOW) and timed.is_overdue(NOW)
    assert day.is_overdue(dt.datetime(2026, 11, 23, 0, 0, 1, tzinfo=dt.UTC))
    assert set(Task.objects.overdue(NOW).values_list("title", flat=True)) == {"timed"}


def test_new_due_date_rearms_reminders(sales_user):
    task = TaskFactory(assignee=sales_user, due_at=NOW, due_notified_at=NOW, overdue_notified_at=NOW)
    task = services.task_update(task=task, user=sales_user, due_date="2026-12-01")
    assert task.due_notified_at is None and task.overdue_notified_at is None
    same = services.task_update(task=task, user=sales_user, title="renamed")
    assert same.due_at == dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


# --- Follow-up processes ------------------------------------------------------------------------


def test_due_process_creates_one_task_timeline_and_notification(sales_user, manager):
    lead = LeadFactory(owner=sales_user, first_name="Alice", last_name="Johnson")
    process = ProcessFactory(name="Nurture", lead=lead, channel="phone", created_by=manager,
                             next_followup_at=NOW - dt.timedelta(minutes=1))

    created = services.processes_run_due(now=NOW)

    assert len(created) == 1
    task = created[0]
    assert task.assignee == sales_user  # the lead's owner, not the creator
    assert task.lead == lead and task.process == process and task.title == "Follow up with Alice Johnson (Phone)"
    # Due all day on the follow-up's day; its notification stands for the "due" reminder.
    assert task.due_at == dt.datetime(2026, 11, 22, tzinfo=dt.UTC) and task.due_all_day
    assert services.tasks_send_reminders(now=NOW) == {"due": 0, "overdue": 0}
    assert services.tasks_send_reminders(now=NOW + dt.timedelta(days=1)) == {"due": 0, "overdue": 1}
    Notification.objects.filter(kind="task_overdue").delete()
    entry = Interaction.objects.get(lead=lead, kind=Interaction.Kind.FOLLOW_UP)
    assert entry.metadata["task_id"] == str(task.pk) and "Nurture" in entry.subject
    note = Notification.objects.get(user=sales_user)
    assert note.kind == "followup_due" and note.url == f"/leads/{lead.pk}/"
    process.refresh_from_db()
    assert process.next_followup_at is None and process.last_fired_at == NOW
    assert process.status == Process.Status.ACTIVE

    # Another tick (or worker) finds nothing to do.
    assert services.processes_run_due(now=NOW + dt.timedelta(minutes=1)) == []
    assert Task.objects.count() == 1 and Notification.objects.count() == 1


def test_unowned_lead_or_no_lead_goes_to_the_creator(sales_user):
    ProcessFactory(lead=LeadFactory(owner=None), created_by=sales_user, next_followup_at=NOW)
    ProcessFactory(lead=None, name="Solo", created_by=sales_user, next_followup_at=NOW)
    created = services.processes_run_due(now=NOW)
    assert len(created) == 2 and {t.assignee for t in created} == {sales_user}
    assert Notification.objects.filter(user=sales_user).count() == 2


def test_repeating_process_moves_on_by_its_interval_skipping_missed_ones(sales_user):
    process = ProcessFactory(lead=LeadFactory(owner=sales_user), created_by=sales_user, interval_days=7,
                             next_followup_at=NOW - dt.timedelta(days=15))
    services.processes_run_due(now=NOW)
    process.refresh_from_db()
    assert process.next_followup_at == NOW - dt.timedelta(days=15) + dt.timedelta(days=21)
    assert Task.objects.count() == 1


@pytest.mark.parametrize("status", ["paused", "pending", "completed"])
def test_only_active_processes_fire(sales_user, status):
    ProcessFactory(lead=LeadFactory(owner=sales_user), created_by=sales_user, status=status, next_followup_at=NOW)
    assert services.processes_run_due(now=NOW) == []
    assert Task.objects.count() == 0


def test_future_followup_does_not_fire(sales_user):
    ProcessFactory(lead=LeadFactory(owner=sales_user), created_by=sales_user,
                   next_followup_at=NOW + dt.timedelta(seconds=1))
    assert services.processes_run_due(now=NOW) == []


def test_a_followup_already_turned_into_a_task_is_not_repeated(sales_user):
    """The task's unique source_key guards the follow-up even if a row was claimed twice (a
    retried job after a crash between the insert and the process update is the real case)."""
    lead = LeadFactory(owner=sales_user)
    process = ProcessFactory(lead=lead, created_by=sales_user, next_followup_at=NOW)
    Task.objects.create(title="earlier run", source_key=f"followup:{process.pk}:{NOW.isoformat()}", process=process)

    assert services.processes_run_due(now=NOW) == []
    assert Task.objects.count() == 1
    process.refresh_from_db()
    assert process.next_followup_at is None  # moved on all the same


def test_a_process_with_nobody_to_tell_still_makes_its_task(sales_user):
    good = ProcessFactory(lead=LeadFactory(owner=sales_user), created_by=sales_user, next_followup_at=NOW)
    orphan = ProcessFactory(lead=None, created_by=None, next_followup_at=NOW - dt.timedelta(minutes=5))
    created = services.processes_run_due(now=NOW)
    assert [t.process_id for t in created] == [orphan.pk, good.pk]  # earliest due first
    assert created[0].assignee is None
    assert Notification.objects.count() == 1


def test_process_log_action_and_reschedule(sales_user):
    lead = LeadFactory(owner=sales_user)
    process = services.process_create(user=sales_user, name="Nurture", lead_id=str(lead.pk), channel="sms",
                                      next_followup_datetime="2026-11-23T10:00:00Z")
    entry = services.process_log_action(process=process, user=sales_user, action_type="SMS", details="Texted",
                                        next_followup_datetime="2026-11-24T10:00:00Z")
    process.refresh_from_db()
    assert process.last_action == entry and entry.kind == "sms" and entry.body == "Texted"
    assert process.next_followup_at == dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC)


def test_process_create_refuses_an_invisible_lead(sales_user, other_sales_user):
    lead = LeadFactory(owner=other_sales_user)
    with pytest.raises(ServiceError) as exc:
        services.process_create(user=sales_user, name="x", lead_id=str(lead.pk))
    assert exc.value.field == "lead_id"
    assert not Process.objects.exists()


# --- Reminders ------------------------------------------------------------------------------------


def test_due_and_overdue_reminders_go_out_once_each(sales_user):
    task = TaskFactory(assignee=sales_user, title="Call back", due_at=NOW + dt.timedelta(minutes=10))

    assert services.tasks_send_reminders(now=NOW) == {"due": 1, "overdue": 0}
    assert services.tasks_send_reminders(now=NOW) == {"due": 0, "overdue": 0}
    later = NOW + dt.timedelta(minutes=11)
    assert services.tasks_send_reminders(now=later) == {"due": 0, "overdue": 1}
    assert services.tasks_send_reminders(now=later) == {"due": 0, "overdue": 0}

    keys = sorted(Notification.objects.filter(user=sales_user).values_list("key", flat=True))
    assert keys == [f"task-due:{task.pk}", f"task-overdue:{task.pk}"]
    titles = sorted(Notification.objects.values_list("title", flat=True))
    assert titles == ["Due at 12:10: Call back", "Overdue: Call back"]


def test_far_future_completed_and_undated_tasks_get_no_reminder(sales_user):
    TaskFactory(assignee=sales_user, due_at=NOW + dt.timedelta(hours=2))
    TaskFactory(assignee=sales_user, due_at=NOW - dt.timedelta(hours=2), completed=True, completed_at=NOW)
    TaskFactory(assignee=sales_user, due_at=None)
    assert services.tasks_send_reminders(now=NOW) == {"due": 0, "overdue": 0}
    assert not Notification.objects.exists()


def test_a_task_first_seen_overdue_gets_only_the_overdue_reminder(sales_user):
    TaskFactory(assignee=sales_user, due_at=NOW - dt.timedelta(days=1))
    assert services.tasks_send_reminders(now=NOW) == {"due": 0, "overdue": 1}
    assert services.tasks_send_reminders(now=NOW) == {"due": 0, "overdue": 0}
    assert Notification.objects.get().kind == "task_overdue"


def test_all_day_task_due_today_then_overdue_tomorrow(sales_user):
    task = services.task_create(user=sales_user, title="Renewal", due_date="2026-11-22")
    assert services.tasks_send_reminders(now=NOW) == {"due": 1, "overdue": 0}
    assert Notification.objects.get().title == "Due today: Renewal"
    assert services.tasks_send_reminders(now=dt.datetime(2026, 11, 23, 0, 1, tzinfo=dt.UTC)) == \
        {"due": 0, "overdue": 1}
    assert Notification.objects.filter(key=f"task-overdue:{task.pk}").exists()


def test_unassigned_task_reminds_its_creator(sales_user):
    TaskFactory(assignee=None, created_by=sales_user, due_at=NOW)
    services.tasks_send_reminders(now=NOW)
    assert Notification.objects.filter(user=sales_user).count() == 1


# --- Notifications ------------------------------------------------------------------------------


def test_notify_is_idempotent_per_user_and_key(sales_user, other_sales_user):
    first = notify(sales_user, kind="x", title="One", key="task-due:1")
    assert first is not None
    assert notify(sales_user, kind="x", title="One again", key="task-due:1") is None
    assert notify(other_sales_user, kind="x", title="One", key="task-due:1") is not None
    assert Notification.objects.filter(user=sales_user).get().title == "One"
    assert unread_count(sales_user) == 1


def test_notify_skips_inactive_and_missing_users_and_checks_the_key(sales_user):
    sales_user.is_active = False
    sales_user.save()
    assert notify(sales_user, kind="x", title="t", key="k") is None
    assert notify(None, kind="x", title="t", key="k") is None
    with pytest.raises(ValueError):
        notify(UserFactory(), kind="x", title="t", key="")


def test_notify_renew_brings_one_back_unread(sales_user):
    first = notify(sales_user, kind="x", title="Old", key="k")
    Notification.objects.update(read_at=NOW)
    again = notify(sales_user, kind="x", title="New", key="k", renew=True)
    assert again.pk == first.pk and again.read_at is None and again.title == "New"


# --- Contact merge ------------------------------------------------------------------------------


def test_contact_merge_moves_tasks_to_the_survivor(sales_user):
    source = Contact.objects.create(first_name="Dup")
    target = Contact.objects.create(first_name="Keep")
    task = TaskFactory(contact=source, assignee=sales_user)

    contact_merged.send(sender=Contact, source=source, target=target)

    task.refresh_from_db()
    assert task.contact == target


def test_check_constraint_allows_one_related_record_only(sales_user):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(title="two", lead=LeadFactory(), contact=Contact.objects.create(first_name="C"))


def test_task_completed_event_time(sales_user):
    task = services.task_create(user=sales_user, title="x")
    before = timezone.now()
    task = services.task_set_completed(task=task, user=sales_user, completed=True)
    assert task.completed_at >= before
