"""A lead whose E.164 phone another live lead has: 409 naming the match (the contacts' shape)
unless ``allow_duplicate`` / the form's "create anyway" box; seed 004's per-agent rules kept."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.models import Interaction
from leads import services
from leads.models import Lead
from tests.calling.factories import AgentFactory
from tests.factories import LeadFactory
from tests.leads.test_api import LEADS, assert_error, db_state, lead_url

pytestmark = pytest.mark.django_db

PHONE = "+14155552670"


@pytest.fixture
def existing(sales_user):
    return services.lead_create(user=sales_user, name="Ada Lovelace", email="ada@example.com", phone=PHONE)


# --- API: create -----------------------------------------------------------------------------------


def test_create_with_a_known_phone_answers_409_naming_the_existing_lead(api, existing):
    before = db_state()

    response = api.post(LEADS, {"name": "Ada Again", "phone": "(415) 555-2670"}, format="json")

    data = assert_error(response, 409, "duplicate_lead")
    assert data["existing_id"] == str(existing.pk)
    assert data["existing"] == {"id": str(existing.pk), "name": "Ada Lovelace", "email": "ada@example.com",
                                "phone": PHONE}
    assert "Ada Lovelace" in data["detail"] and "allow_duplicate" in data["detail"]
    assert data["errors"] == {"phone": [data["detail"]]}
    assert db_state() == before


def test_allow_duplicate_creates_it_anyway(api, existing):
    response = api.post(LEADS, {"name": "Ada Again", "phone_e164": PHONE, "allow_duplicate": True}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["phone"] == PHONE and "allow_duplicate" not in body
    assert Lead.objects.live().filter(phone=PHONE).count() == 2
    assert Lead.objects.get(pk=body["id"]).interactions.filter(kind=Interaction.Kind.LEAD_CREATED).exists()


def test_allow_duplicate_false_or_garbage_does_not_bypass(api, existing):
    before = db_state()
    assert_error(api.post(LEADS, {"name": "X", "phone": PHONE, "allow_duplicate": False}, format="json"), 409)
    response = api.post(LEADS, {"name": "X", "phone": PHONE, "allow_duplicate": "maybe"}, format="json")
    data = assert_error(response, 400)
    assert "allow_duplicate" in data["errors"]
    assert db_state() == before


def test_a_deleted_lead_or_another_number_is_no_match(api, sales_user, existing):
    assert api.post(LEADS, {"name": "Other", "phone": "+14155552671"}, format="json").status_code == 201
    services.lead_delete(lead=existing, user=sales_user)
    assert api.post(LEADS, {"name": "Ada Again", "phone": PHONE}, format="json").status_code == 201


def test_email_stays_a_hard_rule_even_with_allow_duplicate(api, existing):
    before = db_state()

    response = api.post(LEADS, {"name": "Ada Again", "email": "ADA@example.com", "allow_duplicate": True},
                        format="json")

    data = assert_error(response, 400, "duplicate_lead")
    assert data["existing_id"] == str(existing.pk)
    assert db_state() == before


def test_a_sales_user_is_warned_about_another_users_lead_too(api, other_sales_user):
    other = LeadFactory(owner=other_sales_user, first_name="Olga", last_name="Lead", phone=PHONE)

    data = assert_error(api.post(LEADS, {"name": "Mine", "phone": PHONE}, format="json"), 409, "duplicate_lead")

    assert data["existing"]["id"] == str(other.pk)


# --- seed 004: agents -----------------------------------------------------------------------------


def test_same_phone_for_another_agent_is_allowed_without_warning(api):
    agent, other_agent = str(AgentFactory().pk), str(AgentFactory().pk)
    assert api.post(LEADS, {"name": "John", "phone": PHONE, "agent_id": agent}, format="json").status_code == 201

    response = api.post(LEADS, {"name": "John", "phone": PHONE, "agent_id": other_agent}, format="json")

    assert response.status_code == 201, response.content
    assert Lead.objects.filter(phone=PHONE).count() == 2


def test_same_phone_and_agent_stays_a_hard_400_even_with_allow_duplicate(api):
    agent = str(AgentFactory().pk)
    first = api.post(LEADS, {"name": "John", "phone": PHONE, "agent_id": agent}, format="json").json()
    before = db_state()

    response = api.post(LEADS, {"name": "Johnny", "phone": "(415) 555-2670", "agent_id": agent,
                                "allow_duplicate": True}, format="json")

    data = assert_error(response, 400, "duplicate_lead")
    assert data["detail"] == "Lead with this phone number already exists for this agent"
    assert data["existing_id"] == first["id"]
    assert db_state() == before


def test_an_agent_lead_matching_an_unqueued_lead_is_warned(api, existing):
    """Only two leads with two different agents are exempt; a lead without an agent is a match."""
    agent = str(AgentFactory().pk)

    data = assert_error(api.post(LEADS, {"name": "Queued", "phone": PHONE, "agent_id": agent}, format="json"), 409)

    assert data["existing_id"] == str(existing.pk)
    # ...and the other way round: an unqueued lead matching a queued one.
    Lead.objects.filter(pk=existing.pk).update(agent_id=AgentFactory().pk)
    data = assert_error(api.post(LEADS, {"name": "Plain", "phone": PHONE}, format="json"), 409)
    assert data["existing_id"] == str(existing.pk)


# --- API: PATCH -----------------------------------------------------------------------------------


def test_patching_the_phone_to_another_leads_phone_warns(api, sales_user, existing):
    lead = services.lead_create(user=sales_user, name="Bob", phone="+14155552671")
    before = db_state()

    response = api.patch(lead_url(lead), {"phone": PHONE, "company": "Bobco"}, format="json")

    data = assert_error(response, 409, "duplicate_lead")
    assert data["existing"]["id"] == str(existing.pk)
    assert db_state() == before

    response = api.patch(lead_url(lead), {"phone": PHONE, "company": "Bobco", "allow_duplicate": True},
                         format="json")
    assert response.status_code == 200, response.content
    lead.refresh_from_db()
    assert (lead.phone, lead.company) == (PHONE, "Bobco")


def test_patching_other_fields_of_a_known_duplicate_does_not_warn_again(api, sales_user, existing):
    twin = services.lead_create(user=sales_user, name="Twin", phone=PHONE, allow_duplicate=True)

    response = api.patch(lead_url(twin), {"company": "Twinco", "phone": "(415) 555-2670"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["company"] == "Twinco"


# --- services -------------------------------------------------------------------------------------


def test_service_raises_possible_duplicate_and_writes_nothing(sales_user, existing):
    count = Lead.objects.count()
    with pytest.raises(services.PossibleDuplicate) as exc:
        services.lead_create(user=sales_user, name="Again", phone="415-555-2670", region="US")
    assert exc.value.status_code == 409 and exc.value.field == "phone"
    assert exc.value.extra["existing_id"] == str(existing.pk)
    assert Lead.objects.count() == count

    lead = services.lead_create(user=sales_user, name="Again", phone="415-555-2670", region="US",
                                allow_duplicate=True)
    assert lead.phone == PHONE


def test_the_check_is_one_limited_lookup_by_phone(sales_user, existing):
    """One LIMIT 1 lookup by phone (the lead_phone index), never the table."""
    with CaptureQueriesContext(connection) as ctx, pytest.raises(services.PossibleDuplicate):
        services.lead_create(user=sales_user, name="Again", phone=PHONE)
    lookups = [q["sql"] for q in ctx.captured_queries if '"phone" =' in q["sql"] or "`phone` =" in q["sql"]]
    assert len(lookups) == 1 and "LIMIT 1" in lookups[0]


# --- pages ----------------------------------------------------------------------------------------


FORM = {"first_name": "Carla", "last_name": "Create", "phone": "415 555 2670", "status": "new", "score": "0",
        "value": "0", "call_status": "new", "custom_fields": "{}"}


def test_create_page_warns_with_a_link_and_offers_create_anyway(client, sales_user, existing):
    client.force_login(sales_user)
    count = Lead.objects.count()

    response = client.post(reverse("leads:lead_create"), FORM)

    assert response.status_code == 400
    html = response.content.decode()
    warning = re.search(r'<div class="dup-warning[^"]*" role="alert">(.*?)</div>', html, re.S).group(1)
    assert "Ada Lovelace" in warning and PHONE in warning
    assert f'href="{reverse("leads:lead_detail", args=[existing.pk])}"' in warning
    assert 'name="allow_duplicate"' in html
    phone_error = re.search(r'id="id_phone_error">(.*?)</small>', html, re.S).group(1)
    assert "Ada Lovelace already has this phone number." in phone_error and "allow_duplicate" not in phone_error
    assert 'value="Carla"' in html  # what was typed stays
    assert Lead.objects.count() == count

    response = client.post(reverse("leads:lead_create"), {**FORM, "allow_duplicate": "on"})

    assert response.status_code == 302
    created = Lead.objects.get(first_name="Carla")
    assert response.url == reverse("leads:lead_detail", args=[created.pk])
    assert created.phone == PHONE


def test_create_page_has_no_create_anyway_box_until_warned(client, sales_user):
    client.force_login(sales_user)
    html = client.get(reverse("leads:lead_create")).content.decode()
    assert 'name="allow_duplicate"' not in html


def test_create_page_does_not_link_an_invisible_match(client, sales_user, other_sales_user):
    LeadFactory(owner=other_sales_user, first_name="Olga", last_name="Lead", phone=PHONE)
    client.force_login(sales_user)

    html = client.post(reverse("leads:lead_create"), FORM).content.decode()

    assert "Possible duplicate" in html and "Open the existing lead" not in html
    assert not Lead.objects.filter(first_name="Carla").exists()


def test_edit_page_warns_on_a_new_phone_and_saves_anyway(client, sales_user, existing):
    lead = services.lead_create(user=sales_user, name="Bob Edit", phone="+14155552671")
    client.force_login(sales_user)
    url = reverse("leads:lead_edit", args=[lead.pk])
    form = {**FORM, "first_name": "Bob", "last_name": "Edit", "owner": sales_user.pk}

    response = client.post(url, form)

    assert response.status_code == 400
    assert "Possible duplicate" in response.content.decode()
    lead.refresh_from_db()
    assert lead.phone == "+14155552671"

    assert client.post(url, {**form, "allow_duplicate": "on"}).status_code == 302
    lead.refresh_from_db()
    assert lead.phone == PHONE
