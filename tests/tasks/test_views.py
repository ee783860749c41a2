"""The task pages through Django's test client: My tasks, check off in place, the task form,
the lead/contact panels (tasks and processes), notifications and the bell, the admin and the demo."""

import datetime as dt
import io
import random
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from crm.models import Notification
from crm.notifications import notify
from tasks import demo
from tasks.models import Process, Task
from tests.factories import LeadFactory, UserFactory
from tests.tasks.factories import ProcessFactory, TaskFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
MY_TASKS = reverse("tasks:my_tasks")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def client_sam(client, sales_user):
    client.force_login(sales_user)
    return client


def section(html: str, key: str) -> str:
    match = re.search(rf'<section class="task-group group-{key}".*?</section>', html, re.S)
    assert match, key
    return match.group(0)


@pytest.mark.parametrize("url", [MY_TASKS, reverse("tasks:task_create"), reverse("tasks:notification_list")])
def test_pages_need_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("crm:login"))


def test_my_tasks_groups_overdue_today_upcoming_and_done(client_sam, sales_user, other_sales_user):
    now = timezone.now()
    TaskFactory(assignee=sales_user, title="Late one", due_at=now - dt.timedelta(days=1))
    TaskFactory(assignee=sales_user, title="Soon today", due_at=now + dt.timedelta(minutes=1))
    TaskFactory(assignee=sales_user, title="Next week", due_at=now + dt.timedelta(days=6))
    TaskFactory(assignee=sales_user, title="Someday")
    TaskFactory(assignee=sales_user, title="Finished", completed=True, completed_at=now)
    TaskFactory(assignee=other_sales_user, title="Not mine", due_at=now)

    html = client_sam.get(MY_TASKS).content.decode()

    assert "Late one" in section(html, "overdue")
    assert "Soon today" in section(html, "today") or "Soon today" in section(html, "upcoming")  # near midnight
    assert "Next week" in section(html, "upcoming")
    assert "Someday" in section(html, "later")
    assert "Finished" in section(html, "done")
    assert "Not mine" not in html
    assert 'hx-post="/tasks/' in html  # checked off in place


def test_my_tasks_empty_states(client_sam):
    html = client_sam.get(MY_TASKS).content.decode()
    assert "Nothing overdue" in html and "No completed tasks yet" in html and "Nothing open" in html


def test_my_tasks_query_count_is_constant(client_sam, sales_user, django_assert_num_queries):
    now = timezone.now()
    for i in range(8):
        TaskFactory(assignee=sales_user, lead=LeadFactory(owner=sales_user), due_at=now + dt.timedelta(days=i - 3))
    # session + user, then one query per section (overdue, today, upcoming, later, undated, done)
    with django_assert_num_queries(8):
        assert client_sam.get(MY_TASKS).status_code == 200


def test_quick_add_on_my_tasks(client_sam, sales_user):
    response = client_sam.post(MY_TASKS, {"title": "Quick one", "due_day": "2026-11-30", "priority": "high"})
    assert response.status_code == 302
    task = Task.objects.get(title="Quick one")
    assert task.assignee == sales_user and task.due_all_day and task.priority == "high"
    assert client_sam.post(MY_TASKS, {"title": "", "priority": "high"}).status_code == 400


def test_check_off_in_place_with_htmx_and_reopen(client_sam, sales_user):
    task = TaskFactory(assignee=sales_user, title="Tick me")
    url = reverse("tasks:task_toggle", args=[task.pk])

    response = client_sam.post(url, {"completed": "true"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith(f'<li id="task-{task.pk}"') and "is-done" in html
    task.refresh_from_db()
    assert task.completed and task.completed_at

    client_sam.post(url, {"completed": "false"}, **HTMX)
    task.refresh_from_db()
    assert not task.completed and task.completed_at is None

    # Without JavaScript: a redirect back.
    response = client_sam.post(url, {"completed": "true", "next": MY_TASKS})
    assert response.status_code == 302 and response.url == MY_TASKS


def test_someone_elses_task_is_404_everywhere(client_sam, other_sales_user):
    task = TaskFactory(assignee=other_sales_user, title="Hidden")
    for name in ("task_toggle", "task_delete"):
        assert client_sam.post(reverse(f"tasks:{name}", args=[task.pk])).status_code == 404
    assert client_sam.get(reverse("tasks:task_edit", args=[task.pk])).status_code == 404
    task.refresh_from_db()
    assert not task.completed


def test_create_task_for_a_lead_from_its_page(client_sam, sales_user):
    lead = LeadFactory(owner=sales_user, first_name="Alice", last_name="Johnson")
    url = reverse("tasks:task_create") + f"?lead={lead.pk}"
    html = client_sam.get(url).content.decode()
    assert "Alice Johnson" in html and f'name="lead" value="{lead.pk}"' in html

    response = client_sam.post(reverse("tasks:task_create"), {
        "lead": str(lead.pk), "title": "Send proposal", "due_day": "2026-11-30", "due_time": "14:30",
        "priority": "high", "assignee": sales_user.pk,
    })
    assert response.status_code == 302 and response.url == reverse("leads:lead_detail", args=[lead.pk])
    task = Task.objects.get(title="Send proposal")
    assert task.lead == lead and task.due_at == dt.datetime(2026, 11, 30, 14, 30, tzinfo=dt.UTC)
    assert not task.due_all_day


def test_create_form_errors_and_invisible_lead(client_sam, other_sales_user):
    assert client_sam.post(reverse("tasks:task_create"), {"title": "", "priority": "low"}).status_code == 400
    assert client_sam.post(reverse("tasks:task_create"), {"title": "x", "priority": "low",
                                                          "due_time": "10:00"}).status_code == 400
    hidden = LeadFactory(owner=other_sales_user)
    assert client_sam.get(reverse("tasks:task_create") + f"?lead={hidden.pk}").status_code == 404
    assert client_sam.get(reverse("tasks:task_create") + "?lead=garbage").status_code == 404
    assert not Task.objects.exists()


def test_edit_and_delete(client_sam, sales_user):
    task = TaskFactory(assignee=sales_user, title="Old", due_at=dt.datetime(2026, 11, 30, tzinfo=dt.UTC),
                       due_all_day=True)
    url = reverse("tasks:task_edit", args=[task.pk])
    assert 'value="2026-11-30"' in client_sam.get(url).content.decode()
    response = client_sam.post(url, {"title": "New", "priority": "low", "due_day": "2026-12-01",
                                     "assignee": sales_user.pk})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.title == "New" and task.due_at.date() == dt.date(2026, 12, 1) and task.due_all_day

    assert client_sam.post(reverse("tasks:task_delete", args=[task.pk])).status_code == 302
    assert not Task.objects.exists()


# --- Panels -----------------------------------------------------------------------------------------


def test_lead_page_loads_the_panel_by_htmx(client_sam, sales_user):
    lead = LeadFactory(owner=sales_user)
    html = client_sam.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert f'hx-get="{reverse("tasks:lead_panel", args=[lead.pk])}"' in html


def test_lead_panel_lists_open_tasks_adds_and_checks_off(client_sam, sales_user):
    lead = LeadFactory(owner=sales_user)
    TaskFactory(assignee=sales_user, lead=lead, title="Open on lead")
    TaskFactory(assignee=sales_user, lead=lead, title="Done on lead", completed=True, completed_at=timezone.now())
    url = reverse("tasks:lead_panel", args=[lead.pk])

    html = client_sam.get(url, **HTMX).content.decode()
    assert "Open on lead" in html and "Done on lead" not in html and "1 completed" in html
    assert "No follow-up process yet" in html

    response = client_sam.post(url, {"title": "Added from panel", "due_day": "", "priority": "medium"}, **HTMX)
    assert response.status_code == 200 and "Added from panel" in response.content.decode()
    assert Task.objects.get(title="Added from panel").lead == lead

    bad = client_sam.post(url, {"title": "", "priority": "medium"}, **HTMX)
    assert bad.status_code == 400 and 'id="tasks-panel"' in bad.content.decode()


def test_panel_links_come_back_to_the_page_around_it(client_sam, sales_user):
    lead = LeadFactory(owner=sales_user)
    task = TaskFactory(assignee=sales_user, lead=lead)
    page = reverse("leads:lead_detail", args=[lead.pk])
    html = client_sam.get(reverse("tasks:lead_panel", args=[lead.pk]), HTTP_HX_CURRENT_URL=f"http://testserver{page}",
                          **HTMX).content.decode()
    assert f'edit/?next={page}"' in html
    row = client_sam.post(reverse("tasks:task_toggle", args=[task.pk]), {"completed": "true", "compact": "1"},
                          HTTP_HX_CURRENT_URL=f"http://testserver{page}", **HTMX).content.decode()
    assert f'name="next" value="{page}"' in row
    # A foreign page in the header is ignored.
    html = client_sam.get(reverse("tasks:lead_panel", args=[lead.pk]), HTTP_HX_CURRENT_URL="https://evil.example/x",
                          **HTMX).content.decode()
    assert "evil" not in html


def test_lead_panel_starts_pauses_and_completes_a_process(client_sam, sales_user):
    lead = LeadFactory(owner=sales_user)
    response = client_sam.post(reverse("tasks:lead_process_create", args=[lead.pk]), {
        "name": "Nurture", "channel": "phone", "next_followup": "2026-11-22T15:00", "interval_days": "",
    }, **HTMX)
    assert response.status_code == 200, response.content
    process = Process.objects.get()
    assert process.lead == lead and process.created_by == sales_user and process.status == "active"
    assert process.next_followup_at == dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC)
    assert "Nurture" in response.content.decode() and "Pause" in response.content.decode()

    status_url = reverse("tasks:process_status", args=[process.pk])
    assert "Resume" in client_sam.post(status_url, {"status": "paused"}, **HTMX).content.decode()
    process.refresh_from_db()
    assert process.status == "paused"
    client_sam.post(status_url, {"status": "completed"}, **HTMX)
    process.refresh_from_db()
    assert process.status == "completed"
    assert client_sam.post(status_url, {"status": "exploded"}, **HTMX).status_code == 400

    bad = client_sam.post(reverse("tasks:lead_process_create", args=[lead.pk]),
                          {"name": "", "channel": "pigeon"}, **HTMX)
    assert bad.status_code == 400 and Process.objects.count() == 1


def test_panels_of_invisible_records_are_404(client_sam, other_sales_user):
    lead = LeadFactory(owner=other_sales_user)
    contact = Contact.objects.create(first_name="Hidden", owner=other_sales_user)
    theirs = ProcessFactory(lead=lead, created_by=other_sales_user)
    assert client_sam.get(reverse("tasks:lead_panel", args=[lead.pk])).status_code == 404
    assert client_sam.post(reverse("tasks:lead_panel", args=[lead.pk]), {"title": "x"}).status_code == 404
    assert client_sam.post(reverse("tasks:lead_process_create", args=[lead.pk]), {"name": "x"}).status_code == 404
    assert client_sam.post(reverse("tasks:process_status", args=[theirs.pk]), {"status": "paused"}).status_code == 404
    assert client_sam.get(reverse("tasks:contact_panel", args=[contact.pk])).status_code == 404
    assert not Task.objects.exists()


def test_contact_panel_lists_and_adds(client_sam, sales_user):
    contact = Contact.objects.create(first_name="Cleo", owner=sales_user)
    url = reverse("tasks:contact_panel", args=[contact.pk])
    response = client_sam.post(url, {"title": "Intro", "priority": "low"}, **HTMX)
    assert response.status_code == 200 and "Intro" in response.content.decode()
    assert "Follow-up processes" not in response.content.decode()
    assert Task.objects.get().contact == contact


# --- Notifications ----------------------------------------------------------------------------------


def test_notification_list_open_mark_read_and_all(client_sam, sales_user, other_sales_user):
    lead = LeadFactory(owner=sales_user)
    first = notify(sales_user, kind="lead_assigned", title="Lead A assigned to you", key="a",
                   url=reverse("leads:lead_detail", args=[lead.pk]))
    second = notify(sales_user, kind="task_due", title="Due today: B", key="b")
    notify(other_sales_user, kind="task_due", title="Someone else's", key="c")

    html = client_sam.get(reverse("tasks:notification_list")).content.decode()
    assert "Lead A assigned to you" in html and "Due today: B" in html and "Someone else" not in html
    assert "2 unread" in html

    response = client_sam.get(reverse("tasks:notification_open", args=[first.pk]))
    assert response.status_code == 302 and response.url == reverse("leads:lead_detail", args=[lead.pk])
    first.refresh_from_db()
    assert first.read_at is not None

    row = client_sam.post(reverse("tasks:notification_read", args=[second.pk]), **HTMX)
    assert row.status_code == 200 and row["HX-Trigger"] == "notificationsChanged"
    assert "Mark read" not in row.content.decode()

    notify(sales_user, kind="task_due", title="Third", key="d")
    client_sam.post(reverse("tasks:notification_read_all"))
    assert not Notification.objects.filter(user=sales_user, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=other_sales_user, read_at__isnull=True).count() == 1

    other = Notification.objects.get(user=other_sales_user)
    assert client_sam.post(reverse("tasks:notification_read", args=[other.pk])).status_code == 404
    assert client_sam.get(reverse("tasks:notification_open", args=[other.pk])).status_code == 404


def test_notification_list_empty_state(client_sam):
    assert "No notifications yet" in client_sam.get(reverse("tasks:notification_list")).content.decode()


def test_bell_badge_counts_unread_with_one_query(client_sam, sales_user, django_assert_num_queries):
    for i in range(3):
        notify(sales_user, kind="task_due", title=f"n{i}", key=f"k{i}")
    Notification.objects.filter(key="k0").update(read_at=timezone.now())
    url = reverse("tasks:notification_badge")
    client_sam.get(url)  # warm the session
    with django_assert_num_queries(3):  # session, user, the COUNT
        html = client_sam.get(url).content.decode()
    assert 'data-unread="2"' in html


def test_layout_has_tasks_nav_and_bell(client_sam, sales_user):
    html = client_sam.get(MY_TASKS).content.decode()
    assert f'href="{MY_TASKS}" aria-current="page"' in html
    assert reverse("tasks:notification_badge") in html and reverse("tasks:notification_list") in html


# --- Admin, demo --------------------------------------------------------------------------------


def test_admin_pages_and_actions(client, admin_user):
    client.force_login(admin_user)
    lead = LeadFactory(owner=admin_user)
    task = TaskFactory(assignee=admin_user, lead=lead, title="Admin task")
    process = ProcessFactory(lead=lead, created_by=admin_user, next_followup_at=timezone.now())
    notify(admin_user, kind="task_due", title="Bell", key="x")
    for model in ("tasks/task", "tasks/process", "crm/notification"):
        assert client.get(f"/admin/{model}/").status_code == 200
    assert client.get(f"/admin/tasks/task/{task.pk}/change/").status_code == 200

    response = client.post("/admin/tasks/task/add/", {
        "title": "Made in admin", "description": "", "due_at_0": "2026-11-30", "due_at_1": "10:00:00",
        "priority": "urgent", "assignee": admin_user.pk,
    })
    assert response.status_code == 200 and not Task.objects.filter(title="Made in admin").exists()
    response = client.post("/admin/tasks/task/add/", {
        "title": "Made in admin", "description": "", "due_at_0": "2026-11-30", "due_at_1": "10:00:00",
        "due_all_day": "on", "priority": "high", "assignee": admin_user.pk, "lead": str(lead.pk),
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    made = Task.objects.get(title="Made in admin")
    assert made.due_all_day and made.lead == lead and made.created_by == admin_user

    client.post("/admin/tasks/task/", {"action": "mark_completed", "_selected_action": [str(task.pk)]})
    task.refresh_from_db()
    assert task.completed
    client.post("/admin/tasks/process/", {"action": "run_due_now", "_selected_action": [str(process.pk)]})
    assert Task.objects.filter(process=process).count() == 1


def test_demo_seeds_once(db):
    users = {name: UserFactory(username=name, role=role) for name, role in
             (("admin", "admin"), ("manager", "manager"), ("sales1", "sales"), ("sales2", "sales"),
              ("sales3", "sales"))}
    for user in users.values():
        for _ in range(4):
            LeadFactory(owner=user)
    out = io.StringIO()
    demo.seed(users=users, rng=random.Random(1), force=False, stdout=out)
    assert Task.objects.count() == 40 and Task.objects.filter(completed=True).count() == 8
    assert Process.objects.count() == 8
    assert Task.objects.overdue().exists()
    assert Notification.objects.filter(kind="task_overdue").exists()
    assert Process.objects.due(timezone.now() + dt.timedelta(minutes=11)).count() == 4
    demo.seed(users=users, rng=random.Random(1), force=False, stdout=out)
    assert Task.objects.count() == 40
