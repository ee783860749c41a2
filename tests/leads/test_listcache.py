"""The shared lead-list cache (leads/listcache.py): a repeated list is served without a query,
and every kind of lead write — services, queryset updates, deletes, the CSV import's rollup,
owner renames — makes the next list fresh. Scopes never share a page."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads import services
from leads.models import Lead
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

LEADS = "/api/v1/leads"


@pytest.fixture(autouse=True)
def list_cache_on(settings):
    settings.LEAD_LIST_CACHE_SECONDS = 60


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


def queries_for(client, url: str) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    return len(ctx.captured_queries), names(response)


def test_a_repeated_list_is_served_from_the_cache(manager_api):
    LeadFactory(first_name="Ada", last_name="Lovelace")
    first = queries_for(manager_api, LEADS)
    again = queries_for(manager_api, LEADS)
    assert first[0] > 0
    assert again == (0, first[1])
    other_query = queries_for(manager_api, f"{LEADS}?status=new")
    assert other_query[0] > 0  # a different query string is a different page


def test_service_writes_invalidate(manager_api, manager):
    lead = LeadFactory(first_name="Ada", last_name="Lovelace")
    names(manager_api.get(LEADS))
    services.lead_create(user=manager, name="Grace Hopper")
    assert "Grace Hopper" in names(manager_api.get(LEADS))
    services.lead_update(lead=lead, user=manager, name="Ada King")
    assert "Ada King" in names(manager_api.get(LEADS))
    services.lead_delete(lead=lead, user=manager)
    assert "Ada King" not in names(manager_api.get(LEADS))


def test_queryset_updates_and_deletes_invalidate(manager_api):
    lead = LeadFactory(first_name="Ada", last_name="Lovelace")
    names(manager_api.get(LEADS))
    Lead.objects.filter(pk=lead.pk).update(first_name="Augusta")
    assert names(manager_api.get(LEADS)) == ["Augusta Lovelace"]
    Lead.objects.filter(pk=lead.pk).delete()
    assert names(manager_api.get(LEADS)) == []


def test_the_rollup_bump_invalidates_rows_written_by_raw_sql(manager_api):
    # The CSV import INSERTs rows with raw SQL, then bumps the (owner, status) rollup.
    LeadFactory(first_name="Ada", last_name="Lovelace")
    assert names(manager_api.get(LEADS)) == ["Ada Lovelace"]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE leads_lead SET first_name = 'Raw'")
    assert names(manager_api.get(LEADS)) == ["Ada Lovelace"]  # cached: raw SQL alone bypasses it
    services.stage_counts_bump({(None, "new", dt.date.today()): 0})
    assert names(manager_api.get(LEADS)) == ["Raw Lovelace"]


def test_an_owner_rename_invalidates(manager_api, sales_user):
    LeadFactory(owner=sales_user)
    assert manager_api.get(LEADS).json()["results"][0]["owner_name"] == sales_user.full_name
    sales_user.first_name, sales_user.last_name = "Samuel", "Renamed"
    sales_user.save()
    assert manager_api.get(LEADS).json()["results"][0]["owner_name"] == "Samuel Renamed"


def test_scopes_never_share_a_page(manager_api, api, other_sales_user):
    LeadFactory(first_name="Hidden", owner=other_sales_user)
    LeadFactory(first_name="Open", owner=None)
    assert sorted(n.split()[0] for n in names(manager_api.get(LEADS))) == ["Hidden", "Open"]
    assert [n.split()[0] for n in names(api.get(LEADS))] == ["Open"]
    assert sorted(n.split()[0] for n in names(manager_api.get(LEADS))) == ["Hidden", "Open"]


def test_off_by_default_without_a_shared_cache(settings, manager_api):
    settings.LEAD_LIST_CACHE_SECONDS = 0
    LeadFactory()
    assert queries_for(manager_api, LEADS)[0] > 0
    assert queries_for(manager_api, LEADS)[0] > 0
