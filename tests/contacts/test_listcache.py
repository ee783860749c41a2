"""The shared contact-list cache (contacts/listcache.py): a repeated list is served without a
query, and any write to what a contact row shows — through the services, a queryset, the bulk
API, a company or tag, an owner's name, or raw SQL — makes the next list fresh. Scopes never
share a page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts import services
from contacts.listcache import is_contact_write
from contacts.models import Contact
from tests.contacts.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

CONTACTS = "/api/v1/contacts"


@pytest.fixture(autouse=True)
def list_cache_on(settings):
    settings.CONTACT_LIST_CACHE_SECONDS = 60


def rows(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def names(response) -> list[str]:
    return [row["name"] for row in rows(response)]


def queries_for(client, url: str) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    return len(ctx.captured_queries), names(response)


def test_a_repeated_list_is_served_from_the_cache(manager_api):
    ContactFactory(first_name="Ada", last_name="Lovelace")
    first = queries_for(manager_api, CONTACTS)
    again = queries_for(manager_api, CONTACTS)
    assert first[0] > 0
    assert again == (0, first[1]) == (0, ["Ada Lovelace"])
    assert queries_for(manager_api, f"{CONTACTS}?status=new")[0] > 0  # another query string


def test_service_and_queryset_writes_invalidate(manager_api, manager):
    contact = ContactFactory(first_name="Ada", last_name="Lovelace")
    names(manager_api.get(CONTACTS))
    services.contact_update(contact=contact, user=manager, first_name="Augusta")
    assert names(manager_api.get(CONTACTS)) == ["Augusta Lovelace"]
    Contact.objects.filter(pk=contact.pk).update(last_name="King")
    assert names(manager_api.get(CONTACTS)) == ["Augusta King"]
    services.contact_delete(contact=contact, user=manager)
    assert names(manager_api.get(CONTACTS)) == []


def test_bulk_api_links_tags_and_company_renames_invalidate(manager_api, manager):
    contact = ContactFactory(first_name="Ada", last_name="Lovelace")
    company = CompanyFactory(name="Analytical Engines")
    assert rows(manager_api.get(CONTACTS))[0]["companies"] == []
    services.contact_link_company(contact=contact, company=company, user=manager, role="Founder")
    assert [c["name"] for c in rows(manager_api.get(CONTACTS))[0]["companies"]] == ["Analytical Engines"]
    services.company_update(company=company, user=manager, name="Difference Engines")
    assert [c["name"] for c in rows(manager_api.get(CONTACTS))[0]["companies"]] == ["Difference Engines"]
    services.contact_update(contact=contact, user=manager, tags=["vip"])
    assert rows(manager_api.get(CONTACTS))[0]["tags"] == ["vip"]
    response = manager_api.post(f"{CONTACTS}/bulk", {"contacts": [{"first_name": "Bulk", "last_name": "One"}]},
                                format="json")
    assert response.status_code == 201, response.content
    assert sorted(names(manager_api.get(CONTACTS))) == ["Ada Lovelace", "Bulk One"]


def test_raw_sql_and_owner_renames_invalidate(manager_api, sales_user):
    ContactFactory(first_name="Ada", last_name="Lovelace", owner=sales_user)
    assert rows(manager_api.get(CONTACTS))[0]["owner_name"] == sales_user.full_name
    with connection.cursor() as cursor:
        cursor.execute("UPDATE contacts_contact SET first_name = 'Raw'")
    assert names(manager_api.get(CONTACTS)) == ["Raw Lovelace"]
    sales_user.first_name, sales_user.last_name = "Samuel", "Renamed"
    sales_user.save()
    assert rows(manager_api.get(CONTACTS))[0]["owner_name"] == "Samuel Renamed"


def test_scopes_never_share_a_page(manager_api, api, other_sales_user):
    ContactFactory(first_name="Hidden", owner=other_sales_user)
    ContactFactory(first_name="Open", owner=None)
    assert sorted(n.split()[0] for n in names(manager_api.get(CONTACTS))) == ["Hidden", "Open"]
    assert [n.split()[0] for n in names(api.get(CONTACTS))] == ["Open"]
    assert sorted(n.split()[0] for n in names(manager_api.get(CONTACTS))) == ["Hidden", "Open"]


def test_off_without_a_shared_cache(settings, manager_api):
    settings.CONTACT_LIST_CACHE_SECONDS = 0
    ContactFactory()
    assert queries_for(manager_api, CONTACTS)[0] > 0
    assert queries_for(manager_api, CONTACTS)[0] > 0


@pytest.mark.parametrize(("sql", "writes"), [
    ("INSERT INTO `contacts_contact` (`id`) VALUES (%s)", True),
    ("  update contacts_contacttag set tag_id = 1", True),
    ("DELETE FROM `crm_user` WHERE id = 1", True),
    ("REPLACE INTO contacts_tag VALUES (1, 'x')", True),
    ("SELECT * FROM contacts_contact", False),
    ("UPDATE leads_lead SET first_name = 'x'", False),
    ("INSERT INTO crm_interaction (id) VALUES (1)", False),
])
def test_which_statements_count_as_contact_writes(sql, writes):
    assert is_contact_write(sql) is writes
