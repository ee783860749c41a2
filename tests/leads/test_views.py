"""The lead pages through Django's test client: list, board, detail, the HTMX endpoints, create,
edit and delete, visibility, and pinned query counts (STYLE.md 4)."""

import datetime as dt
import json
import re

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from crm.models import Interaction, User
from leads import services
from leads.models import Lead
from tests.factories import InteractionFactory, LeadFactory, UserFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The default PBKDF2 costs ~0.5 s per test user; these tests are not about hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LIST = reverse("leads:lead_list")
BOARD = reverse("leads:lead_board")


@pytest.fixture
def sam(sales_user):
    sales_user.first_name, sales_user.last_name = "Sam", "Seller"
    sales_user.save()
    return sales_user


@pytest.fixture
def client_sam(client, sam):
    client.force_login(sam)
    return client


def names_in(html: str) -> list[str]:
    """Lead names in table order (the list's first column links)."""
    return re.findall(r'<td class="col-name"><a href="[^"]+">([^<]+)</a>', html)


def detail(lead) -> str:
    return reverse("leads:lead_detail", args=[lead.pk])


# --- Login and visibility -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["lead_list", "lead_board", "lead_create"])
def test_pages_need_login(client, db, name):
    response = client.get(reverse(f"leads:{name}"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("crm:login") + "?next=")


def test_sales_user_sees_own_and_unassigned_leads_only(client_sam, sam, other_sales_user):
    LeadFactory(first_name="Mine", owner=sam)
    LeadFactory(first_name="Nobodys", owner=None)
    LeadFactory(first_name="Olgas", owner=other_sales_user)
    html = client_sam.get(LIST).content.decode()
    assert sorted(n.split()[0] for n in names_in(html)) == ["Mine", "Nobodys"]
    assert "1–2 of 2" in html


def test_manager_sees_every_lead(client, manager, other_sales_user):
    LeadFactory(first_name="Olgas", owner=other_sales_user)
    LeadFactory(first_name="Nobodys", owner=None)
    client.force_login(manager)
    html = client.get(LIST).content.decode()
    assert len(names_in(html)) == 2
    # Managers can filter by any user.
    assert f'<option value="{other_sales_user.pk}"' in html


@pytest.mark.parametrize("method,name,data", [
    ("get", "lead_detail", None),
    ("get", "lead_edit", None),
    ("post", "lead_edit", {"first_name": "Hacked"}),
    ("get", "lead_delete", None),
    ("post", "lead_delete", {}),
    ("post", "lead_set_status", {"status": "lost"}),
    ("post", "lead_add_interaction", {"kind": "note", "notes": "hi"}),
])
def test_another_users_lead_is_404_and_unchanged(client_sam, other_sales_user, method, name, data):
    lead = LeadFactory(first_name="Olga", owner=other_sales_user)
    response = getattr(client_sam, method)(reverse(f"leads:{name}", args=[lead.pk]), data or {})
    assert response.status_code == 404
    lead.refresh_from_db()
    assert (lead.first_name, lead.status, lead.deleted_at) == ("Olga", "new", None)
    assert not lead.interactions.exists()


def test_unknown_and_deleted_leads_are_404(client_sam, sam):
    lead = LeadFactory(owner=sam, deleted_at=timezone.now())
    assert client_sam.get(detail(lead)).status_code == 404
    assert client_sam.get("/leads/00000000-0000-0000-0000-000000000000/").status_code == 404


# --- List: search, filters, sorting, pagination ---------------------------------------------------


def test_list_search_by_name_email_company(client_sam, sam):
    LeadFactory(first_name="Alice", last_name="Johnson", company="Acme", owner=sam)
    LeadFactory(first_name="Bob", last_name="Stone", company="Globex", email="bob@globex.io", owner=sam)
    assert names_in(client_sam.get(LIST, {"search": "alice jo"}).content.decode()) == ["Alice Johnson"]
    assert names_in(client_sam.get(LIST, {"search": "globex"}).content.decode()) == ["Bob Stone"]
    assert names_in(client_sam.get(LIST, {"q": "bob@glo"}).content.decode()) == ["Bob Stone"]


def test_list_filters_use_the_api_parameter_names(client_sam, sam):
    LeadFactory(first_name="A", last_name="New", owner=sam, source="Website")
    LeadFactory(first_name="B", last_name="Won", owner=sam, status=Lead.Status.CLOSED, source="Referral")
    LeadFactory(first_name="C", last_name="Free", owner=None, call_status=Lead.CallStatus.DONE, source="Website")
    old = LeadFactory(first_name="D", last_name="Old", owner=sam, source="Website")
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=30))

    def names(**params):
        return sorted(names_in(client_sam.get(LIST, params).content.decode()))

    assert names(status="closed") == ["B Won"]
    assert names(status="new,closed") == ["A New", "B Won", "C Free", "D Old"]
    assert names(call_status="done") == ["C Free"]
    assert names(owner="me") == ["A New", "B Won", "D Old"]
    assert names(owner="none") == ["C Free"]
    assert names(source="website") == ["A New", "C Free", "D Old"]
    week_ago = (timezone.now() - dt.timedelta(days=7)).date().isoformat()
    assert names(created_before=week_ago) == ["D Old"]
    assert names(created_after=week_ago, source="Website", owner="me") == ["A New"]


def test_list_filter_form_shows_current_values(client_sam, sam):
    html = client_sam.get(LIST, {"search": "acme", "status": "qualified", "owner": "none",
                                 "created_after": "2026-01-01"}).content.decode()
    assert 'name="search" value="acme"' in html
    assert '<option value="qualified" selected>' in html
    assert '<option value="none" selected>' in html
    assert 'name="created_after" value="2026-01-01"' in html
    assert 'hx-get="/leads/"' in html and 'hx-target="#lead-results"' in html and 'hx-push-url="true"' in html


def test_list_bad_filter_is_reported_not_500(client_sam, sam):
    LeadFactory(owner=sam)
    response = client_sam.get(LIST, {"created_after": "yesterday", "page": "x"})
    assert response.status_code == 200
    assert b"Some filters were ignored" in response.content
    assert len(names_in(response.content.decode())) == 1


def test_list_sorts_by_column(client_sam, sam):
    for name, value, score in [("Low", 100, 90), ("High", 900, 10), ("Mid", 500, 50)]:
        LeadFactory(first_name=name, last_name="X", value=value, score=score, owner=sam)
    assert names_in(client_sam.get(LIST, {"ordering": "value"}).content.decode()) == ["Low X", "Mid X", "High X"]
    assert names_in(client_sam.get(LIST, {"ordering": "-value"}).content.decode()) == ["High X", "Mid X", "Low X"]
    html = client_sam.get(LIST, {"sort": "score_desc"}).content.decode()  # seed 000's spelling
    assert names_in(html) == ["Low X", "Mid X", "High X"]
    # The active header links to the other direction and keeps the filters; the ordering
    # is also a field of the filter form, so filtering keeps the sort.
    html = client_sam.get(LIST, {"ordering": "-value", "owner": "me"}).content.decode()
    assert 'aria-sort="descending"' in html
    assert 'href="?ordering=value&amp;owner=me"' in html
    assert '<input type="hidden" name="ordering" value="-value" form="lead-filters">' in html


def test_list_paginates_with_page_and_limit_offset(client_sam, sam):
    for i in range(25):
        LeadFactory(first_name=f"L{i:02d}", last_name="X", owner=sam,
                    created_at=timezone.now() - dt.timedelta(minutes=i))
    html = client_sam.get(LIST).content.decode()
    assert "1–20 of 25" in html
    assert names_in(html)[0] == "L00 X"
    assert 'href="/leads/?page=2"' in html
    html = client_sam.get(LIST, {"page": 2}).content.decode()
    assert "21–25 of 25" in html
    assert names_in(html) == [f"L{i} X" for i in range(20, 25)]
    assert 'href="/leads/"' in html  # previous = first page
    html = client_sam.get(LIST, {"limit": 10, "offset": 10}).content.decode()
    assert "11–20 of 25" in html
    assert 'href="/leads/?limit=10&amp;offset=20"' in html
    html = client_sam.get(LIST, {"page": 9}).content.decode()
    assert "Nothing on this page" in html and "Back to the first page" in html


def test_list_shows_capped_count_as_n_plus(client_sam, sam, settings):
    settings.LEAD_COUNT_CAP = 3
    for i in range(5):
        LeadFactory(first_name="Capped", last_name=str(i), owner=sam, source="Fair")
    # A source filter cannot be answered from the rollups, so the total is a capped count.
    html = client_sam.get(LIST, {"source": "fair", "per_page": 2}).content.decode()
    assert "1–2 of 3+" in html
    assert 'href="/leads/?source=fair&amp;per_page=2&amp;page=2"' in html
    # A search narrowed to a few leads (by index, at most LEAD_SEARCH_ID_CAP) counts them exactly.
    html = client_sam.get(LIST, {"search": "capped", "per_page": 2}).content.decode()
    assert "1–2 of 5" in html and "of 5+" not in html


def test_list_empty_state_has_call_to_action(client_sam):
    html = client_sam.get(LIST).content.decode()
    assert "No leads yet" in html
    assert f'href="{reverse("leads:lead_create")}" role="button">+ Add a lead' in html
    html = client_sam.get(LIST, {"search": "zzz"}).content.decode()
    assert "No leads match these filters" in html


def test_list_htmx_request_gets_only_the_rows_partial(client_sam, sam):
    LeadFactory(first_name="Partial", owner=sam)
    response = client_sam.get(LIST, {"search": "part"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<nav class=\"pager\"" in html and "<table" in html
    assert "Partial" in html
    assert "HX-Request" in response["Vary"]
    # A history restore (back button after the cache is gone) wants the whole page.
    response = client_sam.get(LIST, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert b"<html" in response.content


def test_a_deep_page_of_the_list_shows_the_right_leads(client_sam, sam, settings):
    settings.LEAD_DAY_SEEK_OFFSET = 3  # found through the per-day rollup from the 4th row on
    base = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)
    for i in range(12):  # two a day, newest last
        LeadFactory(owner=sam if i % 3 else None, first_name=f"L{i:02d}", last_name="Deep",
                    created_at=base + dt.timedelta(hours=12 * i))
    LeadFactory(owner=UserFactory(role=User.Role.SALES), first_name="Hidden", created_at=base)
    html = client_sam.get(LIST, {"limit": 4, "offset": 5}).content.decode()
    assert names_in(html) == ["L06 Deep", "L05 Deep", "L04 Deep", "L03 Deep"]
    oldest_first = client_sam.get(LIST, {"limit": 4, "offset": 5, "ordering": "created_at"}).content.decode()
    assert names_in(oldest_first) == ["L05 Deep", "L06 Deep", "L07 Deep", "L08 Deep"]


@pytest.mark.parametrize("n", [5, 50])
def test_list_query_count_is_constant(client_sam, sam, django_assert_num_queries, n):
    owners = [sam, None, UserFactory(role=User.Role.SALES)]
    for i in range(n):
        LeadFactory(owner=owners[i % 2])  # visible to sam
    # 1 session, 2 user, 3 total from the (owner, status) rollup, 4 the page's ids,
    # 5 those leads with their owners
    with django_assert_num_queries(5):
        response = client_sam.get(LIST)
    assert len(names_in(response.content.decode())) == min(n, 20)


@pytest.mark.parametrize("n", [5, 50])
def test_list_query_count_for_a_manager_with_search(client, manager, django_assert_num_queries, n):
    owners = [UserFactory(), UserFactory(), None]
    for i in range(n):
        LeadFactory(first_name="Searchable", owner=owners[i % 3])
    client.force_login(manager)
    # 1 session, 2 user, 3 the word's ids (one UNION over the first name, last name, email and
    # company indexes), 4 the visible ones in list order (the total and the page), 5 those leads
    # with owners, 6 owner choices; on MySQL/MariaDB the optimizer's estimate of the word first
    with django_assert_num_queries(7 if connection.vendor == "mysql" else 6):
        client.get(LIST, {"search": "searchable"})


# --- Board ----------------------------------------------------------------------------------------


def test_board_has_a_column_per_status_with_counts_and_cards(client_sam, sam):
    nina = LeadFactory(first_name="Nina", last_name="New", company="Acme", value=1234, owner=sam)
    LeadFactory(first_name="Walt", last_name="Won", status=Lead.Status.CLOSED, owner=None)
    html = client_sam.get(BOARD).content.decode()
    for status in Lead.Status.values:
        assert f'class="board-column" data-status="{status}"' in html
    new_column = html.split('class="board-column" data-status="new"')[1].split('class="board-column"')[0]
    assert 'data-count="1"' in new_column and "Nina New" in new_column and "Acme" in new_column
    assert "1,234" in new_column and "Sam Seller" in new_column
    closed_column = html.split('class="board-column" data-status="closed"')[1].split('class="board-column"')[0]
    assert "Walt Won" in closed_column and "Unassigned" in closed_column
    assert f'data-status-url="{reverse("leads:lead_set_status", args=[nina.pk])}"' in html
    assert "/static/js/app.js" in html


def test_board_shows_newest_cards_and_a_more_link(client_sam, sam, settings):
    settings.LEAD_BOARD_CARDS = 2
    for i in range(3):
        LeadFactory(first_name=f"N{i}", last_name="X", owner=sam, source="Web",
                    created_at=timezone.now() - dt.timedelta(hours=i))
    html = client_sam.get(BOARD, {"source": "Web"}).content.decode()
    assert "N0 X" in html and "N1 X" in html and "N2 X" not in html
    assert f'href="{LIST}?source=Web&amp;status=new">All 3 in the list' in html


def test_board_applies_filters_and_ignores_status(client_sam, sam):
    LeadFactory(first_name="Mine", last_name="X", owner=sam, status=Lead.Status.QUALIFIED)
    LeadFactory(first_name="Free", last_name="X", owner=None)
    html = client_sam.get(BOARD, {"owner": "me", "status": "new"}).content.decode()
    assert "Mine X" in html and "Free X" not in html
    html = client_sam.get(BOARD, {"search": "free"}, **HTMX).content.decode()
    assert "<html" not in html and "Free X" in html and "Mine X" not in html


def test_board_query_count_is_constant(client_sam, sam, django_assert_num_queries):
    for i, status in enumerate(Lead.Status.values * 3):
        LeadFactory(owner=sam if i % 2 else None, status=status)
    # 1 session, 2 user, then per status column: a total from the rollup and its newest cards
    with django_assert_num_queries(2 + 2 * len(Lead.Status.values)):
        client_sam.get(BOARD)


# --- Status changes (the board's drag and drop) ---------------------------------------------------


def test_set_status_from_htmx_returns_the_card_and_writes_the_timeline(client_sam, sam):
    lead = LeadFactory(first_name="Drag", owner=sam)
    url = reverse("leads:lead_set_status", args=[lead.pk])
    response = client_sam.post(url, {"status": "qualified"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="lead-card-{lead.pk}"' in html and 'data-status="qualified"' in html
    assert json.loads(response["HX-Trigger"]) == {
        "leadStatusChanged": {"id": str(lead.pk), "from": "new", "to": "qualified"}}
    lead.refresh_from_db()
    assert lead.status == "qualified"
    entry = lead.interactions.get(kind=Interaction.Kind.STATUS_CHANGE)
    assert entry.metadata["from"] == "new" and entry.metadata["to"] == "qualified"
    assert entry.user == sam


def test_set_status_without_js_redirects_to_next_or_the_lead(client_sam, sam):
    lead = LeadFactory(owner=sam)
    url = reverse("leads:lead_set_status", args=[lead.pk])
    response = client_sam.post(url, {"status": "contacted", "next": BOARD})
    assert response.status_code == 302 and response.url == BOARD
    response = client_sam.post(url, {"status": "lost", "next": "https://evil.example/"})
    assert response.url == detail(lead)
    response = client_sam.get(response.url)
    assert b"moved to Lost" in response.content


def test_set_status_rejects_unknown_status(client_sam, sam):
    lead = LeadFactory(owner=sam)
    url = reverse("leads:lead_set_status", args=[lead.pk])
    response = client_sam.post(url, {"status": "bogus"}, **HTMX)
    assert response.status_code == 400
    assert b"is not a valid status" in response.content
    assert client_sam.get(url).status_code == 405
    lead.refresh_from_db()
    assert lead.status == "new" and not lead.interactions.exists()


# --- Detail ---------------------------------------------------------------------------------------


def test_detail_shows_fields_custom_fields_durations_and_timeline(client_sam, sam):
    lead = services.lead_create(user=sam, name="Dana Detail", phone="(415) 555-2671 x12", email="dana@x.io",
                                company="Acme", custom_fields={"budget": "50k"}, ai_summary="Warm lead.")
    Lead.objects.filter(pk=lead.pk).update(created_at=timezone.now() - dt.timedelta(hours=5))
    lead.refresh_from_db()
    services.lead_change_status(lead=lead, status="contacted", user=sam)
    html = client_sam.get(detail(lead)).content.decode()
    assert "Dana Detail" in html and "+14155552671" in html and "ext. 12" in html and "dana@x.io" in html
    assert "<dt>budget</dt><dd>50k</dd>" in html and "Warm lead." in html
    assert "Time in each status" in html
    durations = html.split('class="durations"')[1].split("</table>")[0]
    assert "New" in durations and "Contacted" in durations and "5h 0m" in durations
    assert "New → Contacted by Sam Seller" in html and "Lead created" in html
    assert f'action="{reverse("leads:lead_set_status", args=[lead.pk])}"' in html
    assert f'href="{reverse("leads:lead_edit", args=[lead.pk])}"' in html
    assert f'href="{reverse("leads:lead_delete", args=[lead.pk])}"' in html


def test_detail_query_count(client_sam, sam, django_assert_num_queries):
    lead = LeadFactory(owner=sam)
    for _ in range(30):
        InteractionFactory(lead=lead, user=sam)
    # 1 session, 2 user, 3 the lead with its owner, 4 one page of timeline entries with their
    # users, 5 the status changes for the time-in-status table
    with django_assert_num_queries(5):
        client_sam.get(detail(lead))


def test_detail_timeline_loads_more_with_htmx(client_sam, sam):
    lead = LeadFactory(owner=sam)
    start = timezone.now() - dt.timedelta(days=1)
    for i in range(25):
        InteractionFactory(lead=lead, subject=f"entry {i:02d}", occurred_at=start + dt.timedelta(minutes=i))
    html = client_sam.get(detail(lead)).content.decode()
    subjects = re.findall(r"entry (\d\d)", html)
    assert subjects == [f"{i:02d}" for i in range(24, 4, -1)]  # latest 20, newest first
    more = re.search(r'hx-get="([^"]+before=[^"]+)"', html).group(1)
    # An entry added meanwhile does not shift the next page (keyset paging).
    InteractionFactory(lead=lead, subject="entry 99")
    response = client_sam.get(more, **HTMX)
    html = response.content.decode()
    assert "<html" not in html
    assert re.findall(r"entry (\d\d)", html) == ["04", "03", "02", "01", "00"]
    assert "Load older entries" not in html


def test_add_interaction_with_htmx_returns_the_entry_and_a_fresh_form(client_sam, sam):
    lead = LeadFactory(owner=sam)
    url = reverse("leads:lead_add_interaction", args=[lead.pk])
    response = client_sam.post(url, {"kind": "call", "direction": "outbound", "subject": "Intro call",
                                      "notes": "Wants a demo."}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<li") and "Intro call" in html and "Wants a demo." in html
    assert 'id="interaction-form"' in html and 'hx-swap-oob="true"' in html
    entry = lead.interactions.get()
    assert (entry.kind, entry.direction, entry.subject, entry.body, entry.user) == (
        "call", "outbound", "Intro call", "Wants a demo.", sam)
    lead.refresh_from_db()
    assert lead.last_interaction_at == entry.occurred_at


def test_add_interaction_errors_come_back_in_the_form(client_sam, sam):
    lead = LeadFactory(owner=sam)
    url = reverse("leads:lead_add_interaction", args=[lead.pk])
    response = client_sam.post(url, {"kind": "note", "subject": "", "notes": " "}, **HTMX)
    assert response["HX-Retarget"] == "#interaction-form" and response["HX-Reswap"] == "outerHTML"
    assert b"Write a subject or some notes." in response.content
    response = client_sam.post(url, {"kind": "status_change", "notes": "sneaky"})
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content
    assert not lead.interactions.exists()


def test_add_interaction_without_js_redirects(client_sam, sam):
    lead = LeadFactory(owner=sam)
    response = client_sam.post(reverse("leads:lead_add_interaction", args=[lead.pk]),
                               {"kind": "email", "notes": "Sent the deck."})
    assert response.status_code == 302 and response.url == detail(lead)
    assert lead.interactions.get().body == "Sent the deck."


# --- Create, edit, delete -------------------------------------------------------------------------

VALID = {"first_name": "Carla", "last_name": "Create", "email": "carla@acme.io", "phone": "415 555 2671",
         "company": "Acme", "status": "interested", "source": "Referral", "score": "40", "value": "1500.50",
         "call_status": "new", "custom_fields": '{"industry": "retail"}'}


def test_create_calls_the_service_and_redirects(client_sam, sam):
    response = client_sam.post(reverse("leads:lead_create"), {**VALID, "owner": sam.pk})
    lead = Lead.objects.get(email="carla@acme.io")
    assert response.status_code == 302 and response.url == detail(lead)
    assert (lead.phone, lead.status, lead.owner, lead.custom_fields) == (
        "+14155552671", "interested", sam, {"industry": "retail"})
    assert str(lead.value) == "1500.50"
    assert lead.interactions.filter(kind=Interaction.Kind.LEAD_CREATED).exists()


def test_create_form_defaults_owner_to_me_and_offers_sales_only_themselves(client_sam, sam, other_sales_user):
    html = client_sam.get(reverse("leads:lead_create")).content.decode()
    assert f'<option value="{sam.pk}" selected>' in html
    assert f'<option value="{other_sales_user.pk}"' not in html
    response = client_sam.post(reverse("leads:lead_create"), {**VALID, "owner": other_sales_user.pk})
    assert response.status_code == 400
    assert not Lead.objects.exists()


def test_create_shows_bad_phone_on_the_phone_field(client_sam, sam):
    response = client_sam.post(reverse("leads:lead_create"), {**VALID, "phone": "12"})
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'<small class="field-error" id="id_phone_error">Invalid phone number format: 12', html)
    assert 'value="Carla"' in html  # what was typed stays
    assert not Lead.objects.exists()


def test_create_shows_duplicate_email_with_a_link_to_the_existing_lead(client_sam, sam):
    existing = LeadFactory(email="carla@acme.io", owner=sam)
    response = client_sam.post(reverse("leads:lead_create"), {**VALID, "email": "Carla@Acme.io"})
    assert response.status_code == 400
    html = response.content.decode()
    error = re.search(r'<small class="field-error" id="id_email_error">(.*?)</small>', html).group(1)
    assert "A lead with this email already exists" in error
    assert f'href="{detail(existing)}"' in error
    assert Lead.objects.count() == 1


def test_create_duplicate_of_an_invisible_lead_does_not_link_it(client_sam, other_sales_user):
    LeadFactory(email="carla@acme.io", owner=other_sales_user)
    html = client_sam.post(reverse("leads:lead_create"), VALID).content.decode()
    assert "A lead with this email already exists" in html
    assert "Open the existing lead" not in html


def test_create_field_validation(client_sam):
    response = client_sam.post(reverse("leads:lead_create"), {**VALID, "first_name": "", "score": "101",
                                                              "email": "nope", "custom_fields": "[1]"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"first_name", "score", "email", "custom_fields"}


def test_edit_prefills_and_updates_only_what_changed(client_sam, sam):
    lead = services.lead_create(user=sam, name="Eve Edit", phone="+14155552671 x7", email="eve@x.io")
    html = client_sam.get(reverse("leads:lead_edit", args=[lead.pk])).content.decode()
    assert 'value="Eve"' in html and 'value="+14155552671 x7"' in html
    form = client_sam.get(reverse("leads:lead_edit", args=[lead.pk])).context["form"]
    data = {name: ("" if value is None else value) for name, value in form.initial.items()}
    data.update({"owner": sam.pk, "custom_fields": "{}", "company": "NewCo", "status": "proposal"})
    response = client_sam.post(reverse("leads:lead_edit", args=[lead.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    lead.refresh_from_db()
    assert (lead.company, lead.status, lead.phone, lead.phone_extension) == ("NewCo", "proposal", "+14155552671", "7")
    assert lead.interactions.filter(kind=Interaction.Kind.STATUS_CHANGE).count() == 1


def test_edit_shows_service_errors_on_fields(client_sam, sam):
    LeadFactory(email="taken@x.io", owner=sam)
    lead = LeadFactory(first_name="Fay", email="fay@x.io", owner=sam)
    url = reverse("leads:lead_edit", args=[lead.pk])
    base = {"first_name": "Fay", "status": "new", "score": 0, "value": "0", "call_status": "new", "owner": sam.pk}
    response = client_sam.post(url, {**base, "phone": "abc"})
    assert response.status_code == 400 and "phone" in response.context["form"].errors
    response = client_sam.post(url, {**base, "email": "taken@x.io"})
    assert response.status_code == 400
    assert "already exists" in response.context["form"].errors["email"][0]
    lead.refresh_from_db()
    assert lead.email == "fay@x.io"


def test_delete_confirms_then_soft_deletes(client_sam, sam):
    lead = LeadFactory(first_name="Gone", owner=sam)
    url = reverse("leads:lead_delete", args=[lead.pk])
    html = client_sam.get(url).content.decode()
    assert "Delete Gone" in html and f'action="{url}"' in html
    response = client_sam.post(url, follow=True)
    assert response.redirect_chain[-1][0] == LIST
    assert b"deleted." in response.content and b"No leads yet" in response.content
    lead.refresh_from_db()
    assert lead.deleted_at is not None
    assert client_sam.get(detail(lead)).status_code == 404
