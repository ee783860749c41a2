"""The tasks API (seed 001), processes (seed 002) and notifications: endpoints, filters, bad
input that changes nothing, and scoping (another user's task is a 404)."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from campaigns.models import Campaign
from contacts.models import Contact
from crm.events import event_published
from crm.models import Interaction, Notification
from leads import services as lead_services
from tasks.models import Process, Task
from tests.factories import InteractionFactory, LeadFactory, UserFactory
from tests.tasks.factories import ProcessFactory, TaskFactory

pytestmark = pytest.mark.django_db

TASKS = "/api/v1/tasks"
PROCESSES = "/api/v1/processes"
NOTIFICATIONS = "/api/v1/notifications"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def assert_error(response, status: int, code: str | None = None, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["code"], str) and body["code"]
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        assert field in body["errors"], body
    return body


def snapshot() -> tuple:
    """Every row a bad request could change."""
    return (
        sorted(tuple(sorted((k, str(v)) for k, v in row.items())) for row in Task.objects.values()),
        sorted(tuple(sorted((k, str(v)) for k, v in row.items())) for row in Process.objects.values()),
        Interaction.objects.count(),
    )


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["title"] for row in response.json()["results"]]


@pytest.fixture
def own_lead(sales_user):
    return LeadFactory(owner=sales_user, first_name="Alice", last_name="Johnson")


@pytest.fixture
def other_lead(other_sales_user):
    return LeadFactory(owner=other_sales_user, first_name="Olga", last_name="Hidden")


# --- Create ---------------------------------------------------------------------------------------


def test_create_general_task_defaults_to_me_and_medium(api, sales_user):
    response = api.post(TASKS, {"title": "Send the deck"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["title"] == "Send the deck"
    assert body["priority"] == "medium"
    assert body["completed"] is False and body["completed_at"] is None
    assert body["related_to_type"] == "general" and body["related_to_id"] is None
    assert body["assignee_id"] == sales_user.pk and body["created_by_id"] == sales_user.pk
    assert body["due_date"] is None
    task = Task.objects.get(pk=body["id"])
    assert task.assignee == sales_user


def test_create_with_a_date_only_due_date_is_all_day(api):
    response = api.post(TASKS, {"title": "Renewal", "due_date": "2026-11-30", "priority": "high"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["due_date"] == "2026-11-30"
    assert body["due_all_day"] is True
    assert body["due_at"] == "2026-11-30T00:00:00Z"
    task = Task.objects.get(pk=body["id"])
    # Overdue only once the whole day has passed.
    assert task.overdue_at == dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    assert task.priority_rank == 3


@pytest.mark.parametrize("raw, expected", [
    ("2026-11-30T15:30:00Z", "2026-11-30T15:30:00Z"),
    ("2026-11-30T15:30:00+02:00", "2026-11-30T13:30:00Z"),
    ("2026-11-30 15:30", "2026-11-30T15:30:00Z"),  # naive = UTC
])
def test_create_with_a_datetime_due_date(api, raw, expected):
    response = api.post(TASKS, {"title": "Call back", "due_date": raw}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["due_date"] == expected
    assert response.json()["due_all_day"] is False


def test_create_on_a_visible_lead_contact_and_campaign(api, own_lead):
    unassigned = LeadFactory(owner=None)
    contact = Contact.objects.create(first_name="Carl", last_name="Contact")
    campaign = Campaign.objects.create(meta_id="120200000001", name="Summer Sale")
    for kind, obj in (("lead", own_lead), ("lead", unassigned), ("contact", contact), ("campaign", campaign)):
        response = api.post(TASKS, {"title": f"On {kind}", "related_to_type": kind, "related_to_id": str(obj.pk)},
                            format="json")
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["related_to_type"] == kind and body["related_to_id"] == str(obj.pk)
        assert body["related_to_name"] == obj.name
    assert Task.objects.filter(lead=own_lead).count() == 1
    assert Task.objects.filter(contact=contact).count() == 1
    assert Task.objects.filter(campaign=campaign).count() == 1


@pytest.mark.parametrize("payload, field, code", [
    ({"title": "x", "due_date": "tomorrow"}, "due_date", "invalid_due_date"),
    ({"title": "x", "due_date": "2026-13-45"}, "due_date", "invalid_due_date"),
    ({"title": "x", "due_date": "2026-02-30T10:00:00Z"}, "due_date", "invalid_due_date"),
    ({"title": "x", "due_date": 20261130}, "due_date", "invalid"),
    ({"title": "x", "priority": "urgent"}, "priority", "invalid"),
    ({"title": "x", "priority": "HIGH"}, "priority", "invalid"),
    ({"title": ""}, "title", "invalid"),
    ({"title": "   "}, "title", None),
    ({"description": "no title"}, "title", "invalid"),
    ({"title": "x", "related_to_type": "deal", "related_to_id": str(uuid.uuid4())}, "related_to_type", "invalid"),
    ({"title": "x", "related_to_type": "lead"}, "related_to_id", "related_id_required"),
    ({"title": "x", "related_to_type": "lead", "related_to_id": "not-a-uuid"}, "related_to_id", "invalid_id"),
    ({"title": "x", "related_to_type": "lead", "related_to_id": str(uuid.uuid4())}, "related_to_id",
     "related_not_found"),
    ({"title": "x", "related_to_type": "contact", "related_to_id": str(uuid.uuid4())}, "related_to_id",
     "related_not_found"),
    ({"title": "x", "related_to_type": "campaign", "related_to_id": str(uuid.uuid4())}, "related_to_id",
     "related_not_found"),
    ({"title": "x", "related_to_id": str(uuid.uuid4())}, "related_to_type", "related_type_required"),
    ({"title": "x", "related_to_type": "general", "related_to_id": str(uuid.uuid4())}, "related_to_id",
     "related_id_not_allowed"),
    ({"title": "x", "assignee_id": 999999}, "assignee_id", "invalid"),
])
def test_create_bad_input_is_a_400_naming_the_field_and_writes_nothing(api, payload, field, code):
    before = snapshot()
    response = api.post(TASKS, payload, format="json")

    assert_error(response, 400, code, field)
    assert snapshot() == before


def test_create_on_someone_elses_lead_is_a_400_and_writes_nothing(api, other_lead):
    response = api.post(TASKS, {"title": "Sneak", "related_to_type": "lead", "related_to_id": str(other_lead.pk)},
                        format="json")

    body = assert_error(response, 400, "related_not_found", "related_to_id")
    assert "Olga" not in body["detail"]
    assert Task.objects.count() == 0


def test_create_on_a_deleted_lead_is_refused(api, own_lead):
    lead_services.lead_delete(lead=own_lead, user=None)
    response = api.post(TASKS, {"title": "x", "related_to_type": "lead", "related_to_id": str(own_lead.pk)},
                        format="json")
    assert_error(response, 400, "related_not_found", "related_to_id")


def test_malformed_body_is_a_400(api):
    assert_error(api.post(TASKS, "[1, 2]", content_type="application/json"), 400)
    assert_error(api.post(TASKS, "{not json", content_type="application/json"), 400)
    assert Task.objects.count() == 0


def test_anonymous_is_401(anon_api):
    assert anon_api.get(TASKS).status_code == 401
    assert anon_api.post(TASKS, {"title": "x"}, format="json").status_code == 401
    assert anon_api.get(NOTIFICATIONS).status_code == 401


# --- Read, visibility ------------------------------------------------------------------------------


def test_sales_user_sees_own_created_and_visible_lead_tasks_only(api, sales_user, other_sales_user, own_lead,
                                                                 other_lead):
    TaskFactory(title="mine", assignee=sales_user)
    TaskFactory(title="created by me", created_by=sales_user, assignee=other_sales_user)
    TaskFactory(title="on my lead", assignee=other_sales_user, lead=own_lead)
    TaskFactory(title="on unassigned lead", assignee=other_sales_user, lead=LeadFactory(owner=None))
    TaskFactory(title="olga's", assignee=other_sales_user)
    TaskFactory(title="on olga's lead", assignee=None, lead=other_lead)
    TaskFactory(title="nobody's", assignee=None)

    assert sorted(titles(api.get(TASKS))) == ["created by me", "mine", "on my lead", "on unassigned lead"]


def test_manager_sees_every_task(manager_api, sales_user, other_sales_user):
    TaskFactory(title="a", assignee=sales_user)
    TaskFactory(title="b", assignee=other_sales_user)
    TaskFactory(title="c", assignee=None)

    assert sorted(titles(manager_api.get(TASKS))) == ["a", "b", "c"]


@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
def test_another_users_task_is_404_and_unchanged(api, other_sales_user, method):
    task = TaskFactory(title="olga's", assignee=other_sales_user, created_by=other_sales_user)
    before = snapshot()

    response = getattr(api, method)(f"{TASKS}/{task.pk}", {"completed": True, "title": "mine now"}, format="json")

    assert_error(response, 404, "task_not_found")
    assert snapshot() == before


@pytest.mark.parametrize("pk", [str(uuid.uuid4()), "nope", "123"])
def test_unknown_or_malformed_task_id_is_404(api, pk):
    assert_error(api.get(f"{TASKS}/{pk}"), 404, "task_not_found")


def test_get_with_and_without_trailing_slash(api, sales_user):
    task = TaskFactory(assignee=sales_user)
    assert api.get(f"{TASKS}/{task.pk}").json()["id"] == str(task.pk)
    assert api.get(f"{TASKS}/{task.pk}/").json()["id"] == str(task.pk)
    assert api.get(f"{TASKS}/").status_code == 200


# --- Update, completion, delete --------------------------------------------------------------------


def test_patch_completed_toggles_and_publishes_task_completed(api, sales_user, own_lead,
                                                              django_capture_on_commit_callbacks):
    task = TaskFactory(assignee=sales_user, lead=own_lead, title="Call Alice")
    seen = []

    def receiver(sender, event, data, **kwargs):
        seen.append((event, data))

    event_published.connect(receiver, dispatch_uid="test-task-completed")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = api.patch(f"{TASKS}/{task.pk}", {"completed": True}, format="json")
    finally:
        event_published.disconnect(dispatch_uid="test-task-completed")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["completed"] is True and body["completed_at"]
    events = [data for event, data in seen if event == "task.completed"]
    assert len(events) == 1
    assert events[0]["id"] == str(task.pk) and events[0]["related_to_type"] == "lead"
    assert events[0]["related_to_id"] == str(own_lead.pk) and events[0]["assignee_id"] == sales_user.pk
    assert events[0]["completed_at"]

    # Again: no change, no second event; then reopen.
    assert api.patch(f"{TASKS}/{task.pk}", {"completed": True}, format="json").json()["completed_at"] == \
        body["completed_at"]
    reopened = api.patch(f"{TASKS}/{task.pk}", {"completed": False}, format="json").json()
    assert reopened["completed"] is False and reopened["completed_at"] is None


def test_put_and_patch_change_fields(api, sales_user, own_lead):
    task = TaskFactory(assignee=sales_user, title="Old")
    response = api.put(f"{TASKS}/{task.pk}", {"title": "New", "priority": "low", "due_date": "2026-12-01",
                                              "related_to_type": "lead", "related_to_id": str(own_lead.pk)},
                       format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["priority"], body["due_date"], body["related_to_type"]) == \
        ("New", "low", "2026-12-01", "lead")

    body = api.patch(f"{TASKS}/{task.pk}", {"related_to_type": "general", "due_date": None}, format="json").json()
    assert body["related_to_type"] == "general" and body["related_to_id"] is None and body["due_date"] is None


@pytest.mark.parametrize("payload, field", [
    ({"due_date": "not a date"}, "due_date"),
    ({"priority": "critical"}, "priority"),
    ({"title": ""}, "title"),
    ({"related_to_type": "lead", "related_to_id": "00000000-0000-0000-0000-000000000000"}, "related_to_id"),
    ({"completed": "maybe"}, "completed"),
])
def test_patch_bad_input_changes_nothing(api, sales_user, payload, field):
    task = TaskFactory(assignee=sales_user, title="Keep", due_at=timezone.now())
    before = snapshot()

    assert_error(api.patch(f"{TASKS}/{task.pk}", payload, format="json"), 400, None, field)
    assert snapshot() == before


def test_patch_moving_a_task_to_an_invisible_lead_is_refused(api, sales_user, other_lead):
    task = TaskFactory(assignee=sales_user)
    response = api.patch(f"{TASKS}/{task.pk}", {"related_to_type": "lead", "related_to_id": str(other_lead.pk)},
                         format="json")
    assert_error(response, 400, "related_not_found", "related_to_id")
    task.refresh_from_db()
    assert task.lead_id is None


def test_delete(api, sales_user):
    task = TaskFactory(assignee=sales_user)
    response = api.delete(f"{TASKS}/{task.pk}")
    assert response.status_code == 200 and response.json() == {"message": "Task deleted"}
    assert not Task.objects.filter(pk=task.pk).exists()
    assert_error(api.delete(f"{TASKS}/{task.pk}"), 404)


# --- List filters, ordering, pagination ------------------------------------------------------------


@pytest.fixture
def spread(sales_user, other_sales_user, own_lead):
    now = timezone.now()
    # Due later today whatever the hour the suite runs at ("now + 1 hour" is tomorrow after 23:00).
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    return {
        "overdue": TaskFactory(title="overdue", assignee=sales_user, due_at=now - dt.timedelta(days=2),
                               priority="low"),
        "today": TaskFactory(title="today", assignee=sales_user, due_at=now + min(dt.timedelta(hours=1),
                                                                                  (midnight - now) / 2),
                             priority="high", lead=own_lead),
        "later": TaskFactory(title="later", assignee=sales_user, due_at=now + dt.timedelta(days=5),
                             priority="medium"),
        "undated": TaskFactory(title="undated", assignee=sales_user, priority="high"),
        "done": TaskFactory(title="done", assignee=sales_user, due_at=now - dt.timedelta(days=3),
                            completed=True, completed_at=now),
        "unassigned": TaskFactory(title="unassigned", created_by=sales_user, assignee=None),
        "olga": TaskFactory(title="olga", created_by=sales_user, assignee=other_sales_user,
                            due_at=now + dt.timedelta(days=1)),
    }


def test_list_default_order_is_due_first_undated_last(api, spread):
    assert titles(api.get(TASKS)) == ["done", "overdue", "today", "olga", "later", "undated", "unassigned"]


def test_list_filters(api, sales_user, other_sales_user, own_lead, spread):
    assert sorted(titles(api.get(TASKS, {"completed": "true"}))) == ["done"]
    assert "done" not in titles(api.get(TASKS, {"completed": "false"}))
    assert sorted(titles(api.get(TASKS, {"priority": "high"}))) == ["today", "undated"]
    assert sorted(titles(api.get(TASKS, {"priority": "high,low"}))) == ["overdue", "today", "undated"]
    assert titles(api.get(TASKS, {"assignee": "none"})) == ["unassigned"]
    assert titles(api.get(TASKS, {"assignee": str(other_sales_user.pk)})) == ["olga"]
    assert "olga" not in titles(api.get(TASKS, {"assignee": "me"}))
    assert titles(api.get(TASKS, {"related_to_type": "lead", "related_to_id": str(own_lead.pk)})) == ["today"]
    assert "today" not in titles(api.get(TASKS, {"related_to_type": "general"}))
    assert titles(api.get(TASKS, {"overdue": "true"})) == ["overdue"]
    assert "overdue" not in titles(api.get(TASKS, {"overdue": "false"}))
    tomorrow = (timezone.now() + dt.timedelta(days=1)).date().isoformat()
    before = titles(api.get(TASKS, {"due_before": tomorrow}))
    assert "later" not in before and "today" in before and "olga" in before  # a bare day includes all of it
    assert sorted(titles(api.get(TASKS, {"due_after": tomorrow}))) in (["later", "olga"], ["later"])
    assert titles(api.get(TASKS, {"search": "DAY"})) == ["today"]
    assert titles(api.get(TASKS, {"q": "undat"})) == ["undated"]


def test_list_priority_ordering_is_by_rank_not_alphabet(api, spread):
    ranks = [row["priority"] for row in api.get(TASKS, {"ordering": "-priority"}).json()["results"]]
    assert ranks == sorted(ranks, key=["high", "medium", "low"].index)
    ranks = [row["priority"] for row in api.get(TASKS, {"ordering": "priority"}).json()["results"]]
    assert ranks == sorted(ranks, key=["low", "medium", "high"].index)
    # seed-style sort parameter
    assert api.get(TASKS, {"sort": "priority_desc"}).json()["results"][0]["priority"] == "high"


def test_list_due_date_ordering_puts_undated_last_both_ways(api, spread):
    desc = titles(api.get(TASKS, {"ordering": "-due_date"}))
    assert desc[:2] == ["later", "olga"] and set(desc[-2:]) == {"undated", "unassigned"}


@pytest.mark.parametrize("params", [
    {"completed": "maybe"}, {"priority": "urgent"}, {"assignee": "bob"}, {"due_before": "yesterday"},
    {"overdue": "sure"}, {"related_to_type": "deal"}, {"related_to_id": "x"}, {"ordering": "colour"},
    {"limit": "ten"},
])
def test_list_bad_filter_is_a_400(api, params):
    assert_error(api.get(TASKS, params), 400)


def test_list_paginates(api, sales_user):
    for i in range(5):
        TaskFactory(assignee=sales_user, title=f"t{i}")
    body = api.get(TASKS, {"limit": 2, "offset": 2}).json()
    assert body["count"] == 5 and len(body["results"]) == 2 and body["next"] and body["previous"]
    assert len(api.get(TASKS, {"page": 3, "per_page": 2}).json()["results"]) == 1


def test_list_query_count_does_not_grow_with_rows(api, sales_user, own_lead, django_assert_num_queries):
    for i in range(10):
        TaskFactory(assignee=sales_user, title=f"t{i}", lead=own_lead if i % 2 else None)
    # the JWT's user (cached per process, cold here), the count, one page with assignee,
    # creator, lead, contact and campaign joined
    with django_assert_num_queries(3):
        assert len(api.get(TASKS).json()["results"]) == 10


# --- Nested: tasks of a lead or contact -----------------------------------------------------------


def test_lead_tasks_list_and_create(api, sales_user, own_lead):
    TaskFactory(assignee=sales_user, lead=own_lead, title="on lead")
    TaskFactory(assignee=sales_user, title="elsewhere")

    assert titles(api.get(f"/api/v1/leads/{own_lead.pk}/tasks")) == ["on lead"]
    response = api.post(f"/api/v1/leads/{own_lead.pk}/tasks/", {"title": "Second", "due_date": "2026-12-02",
                                                                "related_to_type": "campaign"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["related_to_type"] == "lead"
    assert response.json()["related_to_id"] == str(own_lead.pk)
    assert sorted(titles(api.get(f"/api/v1/leads/{own_lead.pk}/tasks"))) == ["Second", "on lead"]


def test_lead_tasks_of_an_invisible_or_unknown_lead_is_404(api, other_lead):
    for pk in (other_lead.pk, uuid.uuid4(), "junk"):
        assert_error(api.get(f"/api/v1/leads/{pk}/tasks"), 404, "lead_not_found")
        assert_error(api.post(f"/api/v1/leads/{pk}/tasks", {"title": "x"}, format="json"), 404, "lead_not_found")
    assert Task.objects.count() == 0


def test_contact_tasks_list_and_create(api, sales_user, other_sales_user):
    contact = Contact.objects.create(first_name="Cleo", owner=sales_user)
    hidden = Contact.objects.create(first_name="Hidden", owner=other_sales_user)
    response = api.post(f"/api/v1/contacts/{contact.pk}/tasks", {"title": "Intro call"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["related_to_type"] == "contact"
    assert titles(api.get(f"/api/v1/contacts/{contact.pk}/tasks")) == ["Intro call"]
    assert_error(api.get(f"/api/v1/contacts/{hidden.pk}/tasks"), 404, "contact_not_found")


def test_lead_tasks_bad_input_changes_nothing(api, own_lead):
    assert_error(api.post(f"/api/v1/leads/{own_lead.pk}/tasks", {"title": "x", "due_date": "soon"}, format="json"),
                 400, "invalid_due_date", "due_date")
    assert Task.objects.count() == 0


# --- Processes ------------------------------------------------------------------------------------


def test_process_crud_with_seed_002_fields(api, sales_user, own_lead):
    response = api.post(PROCESSES, {"name": "Lead Nurturing", "lead_id": str(own_lead.pk), "channel": "email",
                                    "next_followup_datetime": "2024-03-20 10:00:00", "status": "active"},
                        format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= {"id", "name", "lead_id", "channel", "last_action_id", "next_followup_datetime", "status"}
    assert body["next_followup_datetime"] == "2024-03-20T10:00:00Z"
    assert body["lead_id"] == str(own_lead.pk) and body["last_action_id"] is None
    pk = body["id"]

    assert api.get(f"{PROCESSES}/{pk}").json()["name"] == "Lead Nurturing"
    assert [row["id"] for row in api.get(PROCESSES).json()["results"]] == [pk]
    updated = api.put(f"{PROCESSES}/{pk}", {"status": "completed"}, format="json").json()
    assert updated["status"] == "completed" and updated["name"] == "Lead Nurturing"
    assert api.patch(f"{PROCESSES}/{pk}", {"channel": "phone"}, format="json").json()["channel"] == "phone"
    assert api.delete(f"{PROCESSES}/{pk}").json() == {"message": "Process deleted"}
    assert not Process.objects.exists()


def test_process_without_lead_as_in_the_seed(api):
    response = api.post(PROCESSES, {"name": "Lead Nurturing", "status": "active"}, format="json")
    assert response.status_code == 201
    assert response.json()["lead_id"] is None and response.json()["channel"] == "email"


@pytest.mark.parametrize("payload, field", [
    ({"name": "x", "channel": "pigeon"}, "channel"),
    ({"name": "x", "status": "running"}, "status"),
    ({"name": ""}, "name"),
    ({"name": "x", "lead_id": str(uuid.uuid4())}, "lead_id"),
    ({"name": "x", "lead_id": "nope"}, "lead_id"),
    ({"name": "x", "next_followup_datetime": "next week"}, "next_followup_datetime"),
    ({"name": "x", "interval_days": 0}, "interval_days"),
    ({"name": "x", "last_action_id": str(uuid.uuid4())}, "last_action_id"),
])
def test_process_bad_input_is_a_400_and_writes_nothing(api, payload, field):
    before = snapshot()
    assert_error(api.post(PROCESSES, payload, format="json"), 400, None, field)
    assert snapshot() == before


def test_process_on_someone_elses_lead_is_refused_and_theirs_is_404(api, other_sales_user, other_lead):
    assert_error(api.post(PROCESSES, {"name": "x", "lead_id": str(other_lead.pk)}, format="json"), 400,
                 "lead_not_found", "lead_id")
    theirs = ProcessFactory(lead=other_lead, created_by=other_sales_user)
    before = snapshot()
    for method in ("get", "patch", "delete"):
        assert_error(getattr(api, method)(f"{PROCESSES}/{theirs.pk}", {"status": "paused"}, format="json"), 404,
                     "process_not_found")
    assert_error(api.post(f"{PROCESSES}/{theirs.pk}/actions", {"action_type": "email"}, format="json"), 404)
    assert snapshot() == before


def test_process_list_filters(api, sales_user, own_lead):
    now = timezone.now()
    ProcessFactory(name="due", lead=own_lead, created_by=sales_user, next_followup_at=now - dt.timedelta(minutes=1))
    ProcessFactory(name="paused", lead=own_lead, created_by=sales_user, status="paused", channel="phone")
    ProcessFactory(name="later", created_by=sales_user, next_followup_at=now + dt.timedelta(days=1))

    def names(**params):
        return sorted(row["name"] for row in api.get(PROCESSES, params).json()["results"])

    assert names(status="paused") == ["paused"]
    assert names(channel="phone") == ["paused"]
    assert names(lead_id=str(own_lead.pk)) == ["due", "paused"]
    assert names(due="true") == ["due"]
    ordered = [row["name"] for row in api.get(PROCESSES, {"ordering": "next_followup_datetime"}).json()["results"]]
    assert ordered == ["due", "later", "paused"]
    assert_error(api.get(PROCESSES, {"status": "running"}), 400)


def test_logging_an_action_through_the_process_advances_last_action(api, sales_user, own_lead):
    process = ProcessFactory(lead=own_lead, created_by=sales_user, channel="email")
    response = api.post(f"{PROCESSES}/{process.pk}/actions",
                        {"action_type": "email", "details": "Sent welcome email",
                         "next_followup_datetime": "2026-11-25T09:00:00Z"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["action_type"] == "email" and body["details"] == "Sent welcome email"
    assert body["description"] == "Sent welcome email" and body["lead_id"] == str(own_lead.pk)
    entry = Interaction.objects.get(pk=body["id"])
    assert entry.lead == own_lead and entry.metadata["process_id"] == str(process.pk)
    fetched = api.get(f"{PROCESSES}/{process.pk}").json()
    assert fetched["last_action_id"] == body["id"]
    assert fetched["next_followup_datetime"] == "2026-11-25T09:00:00Z"
    own_lead.refresh_from_db()
    assert own_lead.last_interaction_at == entry.occurred_at

    second = api.post(f"{PROCESSES}/{process.pk}/actions", {"action_type": "call", "description": "Rang"},
                      format="json").json()
    assert api.get(f"{PROCESSES}/{process.pk}").json()["last_action_id"] == second["id"]


def test_logging_a_bad_action_changes_nothing(api, sales_user, own_lead):
    process = ProcessFactory(lead=own_lead, created_by=sales_user)
    lone = ProcessFactory(created_by=sales_user)
    before = snapshot()
    assert_error(api.post(f"{PROCESSES}/{process.pk}/actions", {"action_type": "telepathy"}, format="json"), 400,
                 "invalid_type", "action_type")
    assert_error(api.post(f"{PROCESSES}/{process.pk}/actions", {}, format="json"), 400, None, "action_type")
    assert_error(api.post(f"{PROCESSES}/{lone.pk}/actions", {"action_type": "email"}, format="json"), 400,
                 "process_without_lead")
    assert snapshot() == before


def test_last_action_id_can_be_set_to_an_entry_of_the_lead_only(api, sales_user, own_lead):
    process = ProcessFactory(lead=own_lead, created_by=sales_user)
    entry = InteractionFactory(lead=own_lead)
    foreign = InteractionFactory(lead=LeadFactory(owner=sales_user))
    assert api.patch(f"{PROCESSES}/{process.pk}", {"last_action_id": str(entry.pk)},
                     format="json").json()["last_action_id"] == str(entry.pk)
    assert_error(api.patch(f"{PROCESSES}/{process.pk}", {"last_action_id": str(foreign.pk)}, format="json"), 400,
                 "action_not_found", "last_action_id")


# --- Notifications --------------------------------------------------------------------------------


def test_notifications_list_mark_read_and_all(api, sales_user, other_sales_user):
    from crm.notifications import notify

    first = notify(sales_user, kind="task_due", title="Due: one", key="k1")
    notify(sales_user, kind="task_due", title="Due: two", key="k2")
    notify(sales_user, kind="task_due", title="Due: three", key="k3")
    theirs = notify(other_sales_user, kind="task_due", title="Not yours", key="k1")

    body = api.get(NOTIFICATIONS).json()
    assert body["count"] == 3 and {row["title"] for row in body["results"]} == {"Due: one", "Due: two", "Due: three"}
    assert api.get(f"{NOTIFICATIONS}/unread-count").json() == {"unread": 3}

    read = api.post(f"{NOTIFICATIONS}/{first.pk}/read")
    assert read.status_code == 200 and read.json()["read"] is True
    assert api.get(NOTIFICATIONS, {"unread": "true"}).json()["count"] == 2
    assert api.get(NOTIFICATIONS, {"unread": "false"}).json()["count"] == 1
    assert_error(api.get(NOTIFICATIONS, {"unread": "perhaps"}), 400)

    assert_error(api.post(f"{NOTIFICATIONS}/{theirs.pk}/read"), 404, "notification_not_found")
    assert Notification.objects.get(pk=theirs.pk).read_at is None

    assert api.post(f"{NOTIFICATIONS}/read-all/").json() == {"marked": 2}
    assert api.get(f"{NOTIFICATIONS}/unread-count").json() == {"unread": 0}
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_lead_assigned_to_you_notifies_the_new_owner_once(manager, sales_user, own_lead,
                                                          django_capture_on_commit_callbacks):
    lead = LeadFactory(owner=None, first_name="Bea", last_name="Buyer")
    with django_capture_on_commit_callbacks(execute=True):
        lead_services.lead_update(lead=lead, user=manager, owner=sales_user)
    notes = list(Notification.objects.filter(user=sales_user))
    assert [n.title for n in notes] == ["Lead Bea Buyer assigned to you"]
    assert notes[0].url == f"/leads/{lead.pk}/" and notes[0].kind == "lead_assigned"

    # Self-assignment tells nobody.
    mine = LeadFactory(owner=None)
    with django_capture_on_commit_callbacks(execute=True):
        lead_services.lead_update(lead=mine, user=sales_user, owner=sales_user)
    assert Notification.objects.filter(user=sales_user).count() == 1

    # Reassigned back after reading it: the same notification comes back unread, still one row.
    Notification.objects.update(read_at=timezone.now())
    other = UserFactory(username="otto")
    with django_capture_on_commit_callbacks(execute=True):
        lead_services.lead_update(lead=lead, user=manager, owner=other)
        lead_services.lead_update(lead=lead, user=manager, owner=sales_user)
    assert Notification.objects.filter(user=sales_user).count() == 1
    assert Notification.objects.get(user=sales_user).read_at is None
