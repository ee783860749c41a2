"""The contact list's fast paths give the same rows as the plain ones: deep pages found through
the per-day rollup, one tag's or one company's contacts read from the link indexes, searches
resolved to ids, orderings with a same-direction tie-breaker; a constant number of queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from contacts import services
from contacts.models import Contact
from tests.conftest import jwt_client
from tests.contacts.factories import CompanyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def built_pages(settings):
    """These tests measure how a page is built: the response cache (test_listcache) stays off."""
    settings.CONTACT_LIST_CACHE_SECONDS = 0

CONTACTS = "/api/v1/contacts"
NO_SEEK = 10**9


def make(user, n: int, *, start: dt.datetime, step: dt.timedelta, **fields) -> list[Contact]:
    """``n`` contacts through the services, then dated ``start``, ``start - step``, … (as if
    created then: the day rollup and the link rows are re-dated with a rebuild)."""
    made = []
    for i in range(n):
        contact = services.contact_create(user=user, first_name=f"P{i:02d}", last_name=f"L{(i * 7) % n:02d}",
                                          allow_duplicate=True, **fields)
        when = start - step * i
        Contact.objects.filter(pk=contact.pk).update(created_at=when)
        contact.tag_links.update(contact_created_at=when)
        contact.company_links.update(contact_created_at=when)
        made.append(contact)
    services.contact_counts_rebuild()
    return made


def ids(client, query: str) -> tuple[list[str], dict]:
    response = client.get(f"{CONTACTS}?{query}")
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    return [row["id"] for row in body["results"]], body


@pytest.fixture
def spread(sales_user, other_sales_user, manager):
    """36 contacts over two years, 23 days apart, of three owners and three statuses."""
    start = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
    owners = [sales_user, other_sales_user, None]
    contacts = []
    for k in range(3):
        for status in ("new", "active", "customer"):
            contacts += make(owners[k], 4, start=start - dt.timedelta(days=k * 3 + len(contacts)),
                             step=dt.timedelta(days=23), status=status, owner_id=owners[k])
    return contacts


@pytest.mark.parametrize("who", ["manager", "sales_user"])
@pytest.mark.parametrize("query", ["", "ordering=created_at", "status=active", "owner=none",
                                   "status=new,customer&ordering=-created_at"])
def test_deep_pages_through_the_day_rollup_match_plain_offsets(request, spread, who, query):
    client = jwt_client(request.getfixturevalue(who))
    with override_settings(CONTACT_DAY_SEEK_OFFSET=NO_SEEK):
        expected, body = ids(client, f"{query}&limit=100")
    assert len(expected) == body["count"] > 3
    with override_settings(CONTACT_DAY_SEEK_OFFSET=1):
        for offset in range(0, body["count"] + 2):
            page, seen = ids(client, f"{query}&limit=3&offset={offset}")
            assert page == expected[offset: offset + 3], offset
            assert seen["count"] == body["count"]


def test_deep_page_order_is_creation_order(manager, spread):
    # Newest first; contacts created at the same moment by id, the same way round.
    newest_first = [str(c.pk) for c in sorted(spread, key=lambda c: (Contact.objects.get(pk=c.pk).created_at,
                                                                     str(c.pk)), reverse=True)]
    with override_settings(CONTACT_DAY_SEEK_OFFSET=1):
        assert [row for offset in range(0, 36, 5) for row in ids(jwt_client(manager), f"limit=5&offset={offset}")[0]
                ] == newest_first


def test_one_tag_or_one_company_reads_the_link_index_in_creation_order(manager, sales_user):
    acme = CompanyFactory(name="Acme")
    start = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    tagged = make(sales_user, 6, start=start, step=dt.timedelta(hours=5), tags=["vip"], primary_company_id=acme)
    both = make(sales_user, 2, start=start + dt.timedelta(hours=1), step=dt.timedelta(days=2),
                tags=["vip", "partner"], status="active")
    make(sales_user, 3, start=start, step=dt.timedelta(hours=2), tags=["other"])
    client = jwt_client(manager)

    def newest(contacts):
        return [str(c.pk) for c in sorted(contacts, key=lambda c: Contact.objects.get(pk=c.pk).created_at,
                                          reverse=True)]

    assert ids(client, "tag=vip")[0] == newest(tagged + both)
    assert ids(client, "tag=vip&ordering=created_at")[0] == newest(tagged + both)[::-1]
    assert ids(client, f"company_id={acme.pk}")[0] == newest(tagged)
    assert ids(client, f"company_id={acme.pk}&limit=2&offset=2")[0] == newest(tagged)[2:4]
    assert ids(client, "tag=vip&status=active")[0] == newest(both)
    assert ids(client, "tag=vip,partner")[0] == newest(tagged + both)  # any of them, each once
    assert ids(client, "tag=VIP")[1]["count"] == 8  # tag names are lower-cased
    by_name = ids(client, "tag=vip&ordering=name")[0]
    assert by_name == [str(c.pk) for c in sorted(tagged + both, key=lambda c: (c.last_name, c.first_name))]
    for query, total in (("tag=vip", 8), (f"company_id={acme.pk}", 6), ("tag=vip&status=active", 2),
                         ("tag=vip,partner", 8), ("tag=nobody", 0)):
        assert ids(client, query)[1]["count"] == total, query


def test_same_direction_tie_breaker(manager, sales_user):
    moment = dt.datetime(2026, 3, 3, 3, 3, tzinfo=dt.UTC)
    twins = make(sales_user, 3, start=moment, step=dt.timedelta(0))
    by_id = sorted(str(c.pk) for c in twins)  # UUIDv7 text sorts as the database sorts it
    client = jwt_client(manager)
    assert ids(client, "")[0] == by_id[::-1]
    assert ids(client, "ordering=created_at")[0] == by_id
    assert ids(client, "sort=created_at_asc")[0] == by_id
    Contact.objects.filter(pk__in=[c.pk for c in twins]).update(last_name="Same", first_name="Same")
    assert ids(client, "ordering=name")[0] == by_id
    assert ids(client, "ordering=-name")[0] == by_id[::-1]


def test_search_resolves_rare_words_to_ids_and_common_ones_in_the_scan(manager, sales_user):
    globex = CompanyFactory(name="Globex Logistics")
    gone = CompanyFactory(name="Globetrotter Ltd", deleted_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    ann = services.contact_create(user=sales_user, first_name="Ann", last_name="Zephyr", email="ann@zz.example",
                                  phone="+1 415 555 0101", primary_company_id=globex)
    services.contact_create(user=sales_user, first_name="Bob", last_name="Zephyrine", primary_company_id=gone)
    make(sales_user, 4, start=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), step=dt.timedelta(days=1))  # P00…, L00…
    client = jwt_client(manager)

    page, body = ids(client, "search=zeph")
    assert len(page) == body["count"] == 2 and "count_exact" not in body
    assert ids(client, "search=ann zephyr")[0] == [str(ann.pk)]
    assert ids(client, "search=globex")[0] == [str(ann.pk)]  # the primary company's name
    assert ids(client, "search=globe")[0] == [str(ann.pk)]  # not through a deleted company
    assert ids(client, "search=4155550")[0] == [str(ann.pk)]  # national digits of the phone
    assert ids(client, "search=+1415555")[0] == [str(ann.pk)]
    assert ids(client, "search=100%25")[1]["count"] == 0  # LIKE wildcards are matched literally

    with override_settings(CONTACT_SEARCH_ID_CAP=2):
        page, body = ids(client, "search=p0")  # 4 matches: more than the cap
        assert body["count_exact"] is False and body["count"] == 2
        assert sorted(page) == sorted(ids(client, "search=p0&limit=100")[0]) and len(page) == 4
        assert ids(client, "search=p0 L00")[1]["count"] == 1  # a common word and a rare one


def test_search_queries_one_statement_per_word(manager, sales_user):
    services.contact_create(user=sales_user, first_name="Ann", last_name="Zephyr", phone="+1 415 555 0101")
    client = jwt_client(manager)
    ids(client, "search=ann")  # warm-up

    def queries(query):
        with CaptureQueriesContext(connection) as ctx:
            ids(client, query)
        return len(ctx.captured_queries)

    # one id statement per word, the count over the ids, the rows, the links and tags
    assert queries("search=ann") == 4
    assert queries("search=ann zephyr") == 5
    assert queries("search=ann zephyr 4155550") == 6
    assert queries("search=ann nobody") == 2  # no id matches both words: nothing else to read


@pytest.mark.parametrize("who", ["manager", "sales_user"])
def test_list_queries_stay_constant_on_every_path(request, who, sales_user):
    acme = CompanyFactory(name="Acme")
    make(sales_user, 3, start=dt.datetime(2026, 5, 1, tzinfo=dt.UTC), step=dt.timedelta(days=40),
         tags=["vip"], primary_company_id=acme)
    client = jwt_client(request.getfixturevalue(who))
    paths = ["", "status=new", "tag=vip", f"company_id={acme.pk}", f"owner={sales_user.pk}", "ordering=name",
             "limit=1&offset=2"]

    def queries():
        out = []
        for query in paths:
            ids(client, query)  # warm-up
            with CaptureQueriesContext(connection) as ctx:
                ids(client, query)
            out.append(len(ctx.captured_queries))
        return out

    with override_settings(CONTACT_DAY_SEEK_OFFSET=1):
        few = queries()
        others = [CompanyFactory() for _ in range(4)]
        for contact in make(sales_user, 8, start=dt.datetime(2026, 4, 1, tzinfo=dt.UTC), step=dt.timedelta(days=9),
                            tags=["vip", "a", "b", "c"], primary_company_id=acme):
            for company in others:
                services.contact_link_company(contact=contact, company=company, user=None)
            for _ in range(3):
                services.interaction_add(user=None, kind="call", contact=contact)
        assert queries() == few
    # count, rows (with owners), links and tags; a deep page adds the walk over the day rollup
    assert few == [3] * 6 + [4]


def test_list_rows_are_the_detail_json(manager, sales_user):
    acme, globex = CompanyFactory(name="Acme"), CompanyFactory(name="Globex")
    contact = services.contact_create(user=sales_user, first_name="Ann", email="ann@acme.example",
                                      phone="+14155550101 ext. 12", tags=["b", "a"], primary_company_id=globex)
    services.contact_link_company(contact=contact, company=acme, user=None, role="Advisor")
    services.interaction_add(user=None, kind="call", contact=contact)
    client = jwt_client(manager)
    row = client.get(CONTACTS).json()["results"][0]
    assert row == client.get(f"{CONTACTS}/{contact.pk}").json()
    assert [c["name"] for c in row["companies"]] == ["Acme", "Globex"] and row["company"] == "Globex"
    assert row["tags"] == ["a", "b"] and row["phone_extension"] == "12" and row["last_contacted"]
    assert row["owner_name"] == sales_user.full_name


def test_contacts_page_finds_deep_pages_like_the_api(client, manager, spread):
    client.force_login(manager)
    api = jwt_client(manager)
    every = [str(c.pk) for c in spread]
    with override_settings(CONTACT_DAY_SEEK_OFFSET=1):
        for offset in (0, 7, 20, 33):
            expected, _ = ids(api, f"limit=5&offset={offset}")
            html = client.get(f"/contacts/?limit=5&offset={offset}").content.decode()
            shown = sorted((html.find(f"/contacts/{pk}/"), pk) for pk in every if f"/contacts/{pk}/" in html)
            assert [pk for _, pk in shown] == expected, offset
