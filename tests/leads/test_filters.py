"""LeadFilterSet, shared by the API and the pages: parameters from every seed."""

import datetime as dt
import re
import uuid

import pytest
from django.db import connection
from django.db.models import Q
from django.http import QueryDict
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from crm.filters import normalize_ordering
from leads.filters import LeadFilterSet
from leads.models import Lead, _rare_together, search_branches
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("", ""),
        ("ordering=-score", "-score"),
        ("ordering=name&sort=score_desc", "name"),
        ("sort=created_at_desc", "-created_at"),
        ("sort=created_at_asc", "created_at"),
        ("sort=score", "score"),
        ("sort_by=score&sort_order=desc", "-score"),
        ("sort_by=score&sort_order=DESC", "-score"),
        ("sort_by=score", "score"),
        ("sort_by=value&sort_order=asc", "value"),
    ],
)
def test_normalize_ordering(params, expected):
    assert normalize_ordering(QueryDict(params)) == expected


def _filter(query: str, user):
    request = RequestFactory().get("/leads/?" + query)
    request.user = user
    return LeadFilterSet(request.GET, queryset=Lead.objects.visible_to(user), request=request)


def test_status_accepts_comma_lists_and_repeats(manager, sales_user):
    new = LeadFactory(owner=sales_user, status="new")
    lost = LeadFactory(owner=sales_user, status="lost")
    LeadFactory(owner=sales_user, status="qualified")

    assert set(_filter("status=new,lost", manager).qs) == {new, lost}
    assert set(_filter("status=new&status=lost", manager).qs) == {new, lost}
    assert set(_filter("status=+new+,", manager).qs) == {new}


def test_invalid_values_are_form_errors_not_exceptions(manager):
    fs = _filter("status=nope&owner=x&created_after=2026-02-30&agent_id=1&ordering=secret", manager)
    assert not fs.is_valid()
    assert set(fs.errors) == {"status", "owner", "created_after", "agent_id", "ordering"}


def test_each_filter_form_has_its_own_fields_and_errors(manager):
    """The form class's fields are copied shallowly into each form (crm.filters): a form's
    field objects are its own, so one request's form never sees another's."""
    bad, good = _filter("status=nope&ordering=secret", manager), _filter("status=new&ordering=-score", manager)
    assert not bad.is_valid() and good.is_valid()
    assert set(bad.errors) == {"status", "ordering"} and not good.errors
    assert good.form.cleaned_data["status"] == ["new"]
    for name, field in bad.form.fields.items():
        assert field is not good.form.fields[name]
        assert field is not type(bad.form).base_fields[name]


@pytest.mark.parametrize("value", ["0", "-3", "99999999999999999999999"])
def test_owner_ids_out_of_range_are_errors(manager, value):
    assert "owner" in _filter(f"owner={value}", manager).errors


def test_owner_me_none_and_id(manager, sales_user):
    mine = LeadFactory(owner=manager)
    nobody = LeadFactory(owner=None)
    sams = LeadFactory(owner=sales_user)

    assert list(_filter("owner=me", manager).qs) == [mine]
    assert list(_filter("owner=none", manager).qs) == [nobody]
    assert list(_filter(f"owner_id={sales_user.pk}", manager).qs) == [sams]


def test_date_bounds(manager, sales_user):
    a = LeadFactory(owner=sales_user, created_at=dt.datetime(2026, 5, 1, 23, 59, tzinfo=dt.UTC))
    b = LeadFactory(owner=sales_user, created_at=dt.datetime(2026, 5, 2, 0, 0, tzinfo=dt.UTC))

    assert list(_filter("created_before=2026-05-01", manager).qs) == [a]
    assert list(_filter("created_after=2026-05-02", manager).qs) == [b]
    assert list(_filter("created_before=2026-05-01T23:00:00Z", manager).qs) == []
    # A naive date-time is read as UTC.
    assert list(_filter("created_after=2026-05-01T23:30:00", manager).qs) == [b, a]


def test_default_ordering_is_newest_first_with_a_tie_breaker(manager, sales_user):
    same = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    leads = [LeadFactory(owner=sales_user, created_at=same) for _ in range(3)]
    assert list(_filter("", manager).qs) == sorted(leads, key=lambda lead: lead.pk, reverse=True)
    # An ascending sort breaks ties by ascending id (same direction: the index is read in order).
    assert list(_filter("ordering=score", manager).qs) == sorted(leads, key=lambda lead: lead.pk)
    assert list(_filter("ordering=-score", manager).qs) == sorted(leads, key=lambda lead: lead.pk, reverse=True)


def test_search_and_q_alias(manager, sales_user):
    alice = LeadFactory(owner=sales_user, first_name="Alice", last_name="Smith", company="Zeta")
    LeadFactory(owner=sales_user, first_name="Bob", last_name="Jones", company="Acme")
    assert list(_filter("search=ali", manager).qs) == [alice]
    assert list(_filter("q=zeta", manager).qs) == [alice]
    assert list(_filter("search=alice+smith", manager).qs) == [alice]
    assert list(_filter("search=alice+jones", manager).qs) == []


def test_search_words_are_literal_prefixes_however_often_searched(manager, sales_user):
    """``%``, ``_`` and ``\\`` in a word match themselves, on the first search of a branch
    shape and on later ones (whose SQL is reused, only the prefix changes)."""
    pct = LeadFactory(owner=sales_user, first_name="Ann", company="50%_Off Deals", phone="+14155550100")
    plain = LeadFactory(owner=sales_user, first_name="Ben", company="50 Outlets", phone="+14155550199")
    slash = LeadFactory(owner=sales_user, first_name="Cy", company="A\\B Corp", phone="+442071838750")
    for _ in range(2):
        assert list(_filter("search=50%25_", manager).qs) == [pct]
        assert set(_filter("search=50", manager).qs) == {pct, plain}
        assert list(_filter("search=a%5C", manager).qs) == [slash]
        assert list(_filter("search=a_", manager).qs) == []
        assert list(_filter("search=%2B1415555019", manager).qs) == [plain]
        assert list(_filter("search=ann+50%25", manager).qs) == [pct]


def test_count_matches_the_rows_for_rollup_and_capped_paths(manager, sales_user, other_sales_user):
    LeadFactory(owner=sales_user, status="new")
    LeadFactory(owner=sales_user, status="lost")
    LeadFactory(owner=other_sales_user, status="new")
    LeadFactory(owner=None, status="new", source="Meta")
    for query in ("", "status=new", "owner=none", f"owner={sales_user.pk}", "source=meta", "search=zzz",
                  "status=new,lost&owner=me"):
        for user in (manager, sales_user):
            fs = _filter(query, user)
            assert fs.is_valid()
            assert fs.count() == (fs.qs.count(), True), (query, user)


def test_search_with_a_common_and_a_rare_word_counts_exactly(manager_api, settings):
    """A word with more than LEAD_SEARCH_ID_CAP matches is filtered in the scan; a rare word
    beside it still bounds the candidates, so the total is exact, not the "more than N" cap."""
    from tests.factories import LeadFactory

    settings.LEAD_SEARCH_ID_CAP = 3
    for i in range(5):
        LeadFactory(first_name="Grace", last_name=f"Common{i}")
    LeadFactory(first_name="Grace", last_name="Featherstonhaugh")
    body = manager_api.get("/api/v1/leads", {"search": "Grace Featherstonhaugh"}).json()
    assert body["count"] == 1 and "count_exact" not in body
    assert [row["last_name"] for row in body["results"]] == ["Featherstonhaugh"]
    body = manager_api.get("/api/v1/leads", {"search": "Grace"}).json()
    assert body["count"] == 3 and body["count_exact"] is False and len(body["results"]) == 6


@pytest.mark.skipif(connection.vendor != "mysql", reason="the optimizer's estimates come from MySQL/MariaDB")
def test_a_word_estimated_far_above_the_cap_is_common_without_its_id_scan(manager_api, settings):
    """A word the optimizer estimates at more than 10x LEAD_SEARCH_ID_CAP rows skips its capped
    id scan (it would only find the word common); a word near the cap is still scanned and,
    rare, counted exactly. The results are the same either way."""
    settings.LEAD_SEARCH_ID_CAP = 2
    for i in range(60):
        LeadFactory(first_name=f"Zora{i:02d}", last_name="Common", company="")
    LeadFactory(first_name="Yuri", last_name="Zorakian", company="")

    def search(text):
        with CaptureQueriesContext(connection) as queries:
            body = manager_api.get("/api/v1/leads", {"search": text, "limit": 5}).json()
        return body, [q["sql"] for q in queries.captured_queries if "UNION ALL" in q["sql"] and "LIMIT 6" in q["sql"]]

    body, scans = search("zora")
    assert scans == [] and body["count_exact"] is False
    expected = (Lead.objects.filter(Q(first_name__startswith="Zora") | Q(last_name__startswith="Zora"))
                .order_by("-created_at", "-id")[:5])
    assert [row["id"] for row in body["results"]] == [str(lead.pk) for lead in expected]
    body, scans = search("yuri")
    assert len(scans) == 1 and body["count"] == 1 and "count_exact" not in body


def test_a_common_search_pages_through_its_first_matches_only(manager_api, settings):
    """Past the capped total of a search too common to count, a page is empty (the links stop
    there too) instead of scanning further into the table."""
    settings.LEAD_SEARCH_ID_CAP = 3
    for i in range(6):
        LeadFactory(first_name="Grace", last_name=f"Common{i}")
    body = manager_api.get("/api/v1/leads", {"search": "Grace", "limit": 2, "offset": 2}).json()
    assert len(body["results"]) == 2 and body["next"] is None
    body = manager_api.get("/api/v1/leads", {"search": "Grace", "limit": 2, "offset": 3}).json()
    assert body["results"] == [] and body["count"] == 3 and body["count_exact"] is False


def _lead_id_reads(queries) -> list[str]:
    """The captured statements that read lead ids: word scans and page scans, not the page's rows
    (nor, on MariaDB, the estimate of a common word's matches)."""
    return [q["sql"] for q in queries.captured_queries
            if re.search(r"\bleads_lead\b", q["sql"]) and "first_name" not in q["sql"].split("FROM")[0]
            and not q["sql"].startswith("EXPLAIN ")]


def test_paging_a_common_search_reads_each_match_once_until_a_write(manager_api, api, sales_user, other_sales_user,
                                                                     settings):
    """With the list cache on, a common word's matches are kept in list order at the list's
    version: the next page of the same search is sliced from them without scanning again, a
    deeper one reads further, a write shows at once, and a seller's scope is its own."""
    settings.LEAD_LIST_CACHE_SECONDS = 60
    settings.LEAD_SEARCH_ID_CAP = 10
    for i in range(14):
        LeadFactory(first_name="Grace", last_name=f"Common{i}", company="",
                    owner=(other_sales_user, sales_user, None)[i % 3])
    LeadFactory(first_name="Other", last_name="Person", company="")

    def expected(user_qs, offset, limit=2):
        ordered = user_qs.filter(first_name="Grace").order_by("-created_at", "-id").values_list("pk", flat=True)
        return [str(pk) for pk in ordered[offset : offset + limit]]

    def page(client, offset, limit=2, nocache=""):
        body = client.get("/api/v1/leads", {"search": "grace", "limit": limit, "offset": offset, "n": nocache}).json()
        return [row["id"] for row in body["results"]]

    everyone = Lead.objects.live()
    # (offset, id scans): the first also resolves the word (its id scan); a page within what an
    # earlier one read is sliced from it; a deeper one reads to its end or twice what was held.
    for offset, scans in ((0, 2), (2, 1), (0, 0), (6, 1), (4, 0), (8, 1), (2, 0)):
        want = expected(everyone, offset)
        with CaptureQueriesContext(connection) as queries:
            assert page(manager_api, offset, nocache=f"{offset}-{scans}") == want, offset
        assert len(_lead_id_reads(queries)) == scans, offset

    newest = LeadFactory(first_name="Grace", last_name="Newest", company="")
    assert page(manager_api, 0, nocache="after-write")[0] == str(newest.pk)
    assert page(manager_api, 8) == expected(everyone, 8)

    seller_sees = Lead.objects.visible_to(sales_user)
    assert page(api, 0) == expected(seller_sees, 0)
    assert page(api, 4) == expected(seller_sees, 4)
    # Fewer visible matches than the capped total: the last pages are short, then empty.
    visible = seller_sees.filter(first_name="Grace").count()
    assert page(api, visible - 1, limit=4) == expected(seller_sees, visible - 1, limit=4)
    assert page(api, visible) == []


def test_a_rare_search_is_resolved_once_until_a_write(manager_api, settings):
    """With the list cache on, the words' id scans and the matches in list order are memoised:
    the same search with another page size runs no id scan, and a new match shows at once."""
    settings.LEAD_LIST_CACHE_SECONDS = 60
    first = LeadFactory(first_name="Grace", last_name="Featherstonhaugh", company="")
    LeadFactory(first_name="Grace", last_name="Hopper", company="")
    body = manager_api.get("/api/v1/leads", {"search": "featherstonhaugh grace"}).json()
    assert [row["id"] for row in body["results"]] == [str(first.pk)]
    with CaptureQueriesContext(connection) as queries:
        body = manager_api.get("/api/v1/leads", {"search": "featherstonhaugh grace", "limit": 5}).json()
    assert [row["id"] for row in body["results"]] == [str(first.pk)] and body["count"] == 1
    assert _lead_id_reads(queries) == []
    second = LeadFactory(first_name="Grace", last_name="Featherstonhaugh-Smith", company="")
    body = manager_api.get("/api/v1/leads", {"search": "featherstonhaugh grace", "limit": 5}).json()
    assert [row["id"] for row in body["results"]] == [str(second.pk), str(first.pk)] and body["count"] == 2
    for text in ("nobodyhere", "grace nobodyhere"):  # a rare word without matches: an empty page, twice
        for _ in range(2):
            body = manager_api.get("/api/v1/leads", {"search": text, "n": _}).json()
            assert body["results"] == [] and body["count"] == 0, text


def _read_from_branches(queries) -> list[str]:
    """The statements of a list request that read a common word's page from its branches
    (leads.models.covered_search_sql)."""
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT DISTINCT `pk`")]


@pytest.mark.skipif(connection.vendor != "mysql",
                    reason="a word's branches are read in MariaDB SQL (FORCE INDEX); elsewhere the walk serves")
@pytest.mark.parametrize("ordering", ["-score", "name", "-name", "-created_at"])
def test_a_common_words_pages_read_from_its_branches_equal_the_walk(api, manager_api, manager, sales_user,
                                                                    other_sales_user, settings, ordering):
    """On MariaDB a page of a word too common for ids may be read from the word's branches
    (each from its own index, or their ids joined to the leads) instead of walking the list's
    index: every page equals the ordered queryset's, in the caller's scope and with filters
    the branches' indexes do not carry; by newest or score the first and last names are read
    from their covering indexes alone, by name the first and last names in name order; with
    LEAD_SEARCH_COVER_CAP 0 the index is walked, with the same pages."""
    if not connection.mysql_is_mariadb:
        pytest.skip("MySQL keeps the walk")
    settings.LEAD_SEARCH_ID_CAP = 10  # 18 matches: common, paged through its first 10
    settings.LEAD_LIST_CACHE_SECONDS = 0  # every page read afresh
    for i in range(150):  # leads the seller cannot see: a seller's matches are sparse among all
        LeadFactory(first_name=f"Zed{i}", last_name="Other", company="", owner=other_sales_user)
    for i in range(12):
        LeadFactory(first_name="Grace", last_name=f"Common{i:02d}", company="", score=i * 7 % 100,
                    owner=(other_sales_user, sales_user, None)[i % 3], source=("web", "fair")[i % 2])
    for i in range(6):  # matched by last name: by name, read in order from the name index
        LeadFactory(first_name=f"Ann{i}", last_name=f"Graceson{i}", company="", score=i * 11 % 100,
                    owner=(other_sales_user, sales_user, None)[i % 3], source=("web", "fair")[i % 2])
    columns = {"-score": ("-score", "-id"), "name": ("name_key", "id"), "-name": ("-name_key", "-id"),
               "-created_at": ("-created_at", "-id")}

    def check(client, user, **filters) -> list[str]:
        """Every page against the queryset's; the statements that read from the branches."""
        ordered = (Lead.objects.visible_to(user).filter(Q(first_name="Grace") | Q(last_name__startswith="Graceson"))
                   .filter(**filters))
        params = {"search": "grace", "ordering": ordering, "limit": 2, **filters}
        expected = [str(pk) for pk in ordered.order_by(*columns[ordering]).values_list("pk", flat=True)][:10]
        read = []
        for offset in range(0, 12, 2):
            with CaptureQueriesContext(connection) as queries:
                body = client.get("/api/v1/leads", {**params, "offset": offset}).json()
            assert [row["id"] for row in body["results"]] == expected[offset : offset + 2], (ordering, offset)
            read += _read_from_branches(queries)
        return read

    check(manager_api, manager)
    read = check(api, sales_user)
    assert read, "a seller's sparse matches are read from the word's branches"
    if ordering in ("name", "-name"):  # the first and last names in name order, nothing joined
        assert all("FORCE INDEX (lead_live_name_key)" in sql and "FORCE INDEX (lead_search_first_name)" in sql
                   and "STRAIGHT_JOIN" not in sql for sql in read)
    else:  # names from their covering indexes, the email's ids joined
        assert all("FORCE INDEX (lead_search_first_name)" in sql and "FORCE INDEX (lead_live_name_key)" in sql
                   and "STRAIGHT_JOIN" in sql for sql in read)
    # Filters the covering indexes lack: all ids joined, the same pages.
    for params in ({"source": "web"}, {"status": "new"}):
        read = check(api, sales_user, **params)
        assert read and all("lead_search_first_name" not in sql and "STRAIGHT_JOIN" in sql for sql in read), params
    settings.LEAD_SEARCH_COVER_CAP = 0
    assert check(api, sales_user) == []


@pytest.mark.skipif(connection.vendor != "mysql", reason="MariaDB SQL (FORCE INDEX); elsewhere the walk serves")
@pytest.mark.parametrize("ordering", ["name", "-name"])
def test_a_common_words_pages_by_name_are_read_in_name_order_up_to_the_page(api, manager_api, manager, sales_user,
                                                                             other_sales_user, settings, ordering):
    """By name, a common word's page is read from the branches that hold their leads in name
    order (each first name under the word, the last names), each to the page's depth, and the
    other branches (email, company) only up to the last of those rows: every page equals the
    ordered queryset's, for a first name in two cases, full names shared by several leads
    (ordered by id), leads found by email or company alone on both sides of that bound, a lead
    matched by several branches, a deleted lead and another seller's leads. With more first
    names than LEAD_SEARCH_FIRST_NAMES_MOST, other plans serve the same pages."""
    if not connection.mysql_is_mariadb:
        pytest.skip("MySQL keeps the walk")
    settings.LEAD_SEARCH_ID_CAP = 24  # ~40 matches: common, paged through its first 24
    settings.LEAD_LIST_CACHE_SECONDS = 0  # every page read afresh
    owners = (other_sales_user, sales_user, None)
    for i in range(60):  # leads nobody's search finds
        LeadFactory(first_name=f"Zed{i}", last_name=f"Other{i:02d}", company="", owner=owners[i % 3])
    people = [("John", "Adams"), ("John", "Adams"), ("John", "Adams"), ("JOHN", "Baker"), ("John", "Young"),
              ("Joan", "Carter"), ("Joan", "Abbott"), ("Joan", "Zimmer"), ("Jonas", "Evans"), ("Jonas", "Adams"),
              ("Ann", "Jones"), ("Bea", "Jones"), ("Cy", "Jordan"), ("Al", "Johnson")]
    for i, (first, last) in enumerate(people * 2):
        LeadFactory(first_name=first, last_name=last, company="", email=f"{first}.{last}.{i}@example.com",
                    owner=owners[i % 3])
    for i, last in enumerate(("Aaron", "Able", "Moss", "Zulu", "Abel", "Young")):  # found by email alone
        LeadFactory(first_name="Bob", last_name=last, company="", email=f"jo.bob{i}@example.com", owner=owners[i % 3])
    for i, last in enumerate(("Abe", "Yates")):  # by company alone
        LeadFactory(first_name="Cal", last_name=last, company="Jolly Ltd", owner=owners[i % 3])
    LeadFactory(first_name="John", last_name="Aardvark", company="", owner=None, deleted_at=dt.datetime.now(dt.UTC))
    columns = ("name_key", "id") if ordering == "name" else ("-name_key", "-id")
    matching = (Q(first_name__istartswith="jo") | Q(last_name__istartswith="jo") | Q(email__istartswith="jo")
                | Q(company__istartswith="jo"))

    def check(client, user) -> list[str]:
        """Every page against the queryset's; the statements of the search's reads."""
        expected = [str(pk) for pk in Lead.objects.visible_to(user).filter(matching)
                    .order_by(*columns).values_list("pk", flat=True)][:24]
        read = []
        for offset in range(0, 27, 3):
            with CaptureQueriesContext(connection) as queries:
                body = client.get("/api/v1/leads", {"search": "jo", "ordering": ordering, "limit": 3,
                                                    "offset": offset}).json()
            assert [row["id"] for row in body["results"]] == expected[offset : offset + 3], (user, offset)
            read += [q["sql"] for q in queries.captured_queries if "FORCE INDEX (lead_search_" in q["sql"]]
        return read

    bound = "`name_key` <= " if ordering == "name" else "`name_key` >= "
    for client, user in ((manager_api, manager), (api, sales_user)):
        read = check(client, user)
        in_order = [sql for sql in read if sql.startswith("SELECT DISTINCT `pk`")]
        emails = [sql for sql in read if "FORCE INDEX (lead_search_email)" in sql]
        # Three first names (the two cases of John are one), each read in name order.
        assert in_order and all(sql.count("FORCE INDEX (lead_search_first_name)") == 3
                                and "FORCE INDEX (lead_live_name_key)" in sql for sql in in_order)
        assert any(bound in sql for sql in emails), "the emails are read up to the in-order rows' last"
    settings.LEAD_SEARCH_FIRST_NAMES_MOST = 2
    assert not [sql for sql in check(api, sales_user) if "FORCE INDEX (lead_search_email)" in sql]


def test_search_matches_a_whole_last_name_without_case_or_accents(manager_api):
    """The last name is searched as the start of the name's sort key, a binary NO PAD column: a
    whole name (the key continues with a separator below the space) and a one-letter name match."""
    zhang = LeadFactory(first_name="Wei", last_name="Zhang", company="")
    garcia = LeadFactory(first_name="Ana", last_name="García", company="")
    short = LeadFactory(first_name="Bo", last_name="O", company="")
    LeadFactory(first_name="Zed", last_name="Zhangova", company="")
    for text, expected in (("Zhang", {zhang.pk}), ("zhang wei", {zhang.pk}), ("GARCIA", {garcia.pk}),
                           ("garcía", {garcia.pk}), ("o bo", {short.pk})):
        body = manager_api.get("/api/v1/leads", {"search": text}).json()
        found = {row["id"] for row in body["results"]}
        assert {str(pk) for pk in expected} <= found, text
    assert len(manager_api.get("/api/v1/leads", {"search": "Zhang"}).json()["results"]) == 2


def test_words_common_alone_but_rare_together_are_resolved_to_ids(manager_api, settings):
    """Two words each above LEAD_SEARCH_ID_CAP but matching few leads together are intersected as
    id sets: an exact total, not the "more than N" of a scan; above LEAD_SEARCH_INTERSECT_CAP a
    word goes back to the scan (on MariaDB: one join of the words' id scans, stopped by LIMIT
    ROWS EXAMINED)."""
    settings.LEAD_SEARCH_ID_CAP = 3
    for i in range(5):  # no company: a generated one ("Johnson, Smith and Lee") would match too
        LeadFactory(first_name=f"John{i}", last_name="Brown", company="")
        LeadFactory(first_name="Ann", last_name=f"Smith{i}", company="")
    # The first matches "john" twice (first name and email): still one lead.
    both = [LeadFactory(first_name="John", last_name="Smith", email="john.smith@example.com", company=""),
            LeadFactory(first_name="Johnny", last_name="Smithers", company="")]
    body = manager_api.get("/api/v1/leads", {"search": "smith john"}).json()
    assert body["count"] == 2 and "count_exact" not in body
    assert {row["id"] for row in body["results"]} == {str(lead.pk) for lead in both}
    # The intersection is memoised at the list's version: a new lead shows at once.
    both.append(LeadFactory(first_name="Johnathan", last_name="Smithson", company=""))
    body = manager_api.get("/api/v1/leads", {"search": "smith john", "limit": 10}).json()
    assert {row["id"] for row in body["results"]} == {str(lead.pk) for lead in both}
    words = [search_branches("smith"), search_branches("john")]
    assert {uuid.UUID(str(raw)) for raw in _rare_together(words)} == {lead.pk for lead in both}  # raw ids
    settings.LEAD_SEARCH_INTERSECT_CAP = 4
    assert _rare_together(words) is None  # too common
    body = manager_api.get("/api/v1/leads", {"search": "john smith"}).json()  # (another URL: not cached)
    assert body["count_exact"] is False  # filtered in the scan, the same leads
    assert {row["id"] for row in body["results"]} == {str(lead.pk) for lead in both}


def _matching_both(first: str, second: str) -> set:
    """The leads (live or not) both words match, as the plain ORM filter finds them."""
    either = [Q(), Q()]
    for number, word in enumerate((first, second)):
        for branch in search_branches(word):
            either[number] |= branch
    return set(Lead.objects.filter(either[0]).filter(either[1]).values_list("pk", flat=True))


@pytest.mark.skipif(connection.vendor != "mysql", reason="MariaDB SQL (LIMIT ROWS EXAMINED); elsewhere id sets")
def test_two_common_words_are_intersected_branch_pair_by_pair(settings):
    """On MariaDB two words whose scans are large are intersected one pair of branches at a
    time: a rare branch's rows checked against the other word, a last-name prefix with a first
    name as one name-key range per last name, an email with a last name from the email's index
    alone (it carries the name key). The
    same leads as the plain filter; past _LAST_NAMES_MOST last names the words' whole scans are
    joined, with the same leads again."""
    if not connection.mysql_is_mariadb:
        pytest.skip("MariaDB only")
    settings.LEAD_SEARCH_ID_CAP = 6
    settings.LEAD_SEARCH_INTERSECT_CAP = 40
    for i in range(12):  # each word common (above 6) on its own: last names, first names, emails
        LeadFactory(first_name=f"Ann{i}", last_name=f"Smith{'ers' if i % 2 else ''}", email=f"ann{i}@smith.test",
                    company="")
        LeadFactory(first_name=f"John{i}", last_name="Brown", email=f"john{i}@brown.test", company="")
        LeadFactory(first_name="Mary", last_name=f"Johnson{i}", email=f"mary{i}@x.test", company="")
    both = {
        LeadFactory(first_name="John", last_name="Smith", company="").pk,  # last name + first name
        LeadFactory(first_name="Johnny", last_name="Smithers", company="").pk,  # another last name
        LeadFactory(first_name="Ann", last_name="Smith", email="johnny@a.test", company="").pk,  # email
        LeadFactory(first_name="Smith", last_name="Johnson", company="").pk,  # a rare branch (first name)
        LeadFactory(first_name="Ed", last_name="Smith", company="Johnstone Ltd").pk,  # a rare company
        LeadFactory(first_name="Smithy", last_name="Ray", company="John Deere",  # deleted: the caller scopes
                    deleted_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)).pk,
    }
    for first, second in (("smith", "john"), ("john", "smith"), ("Smith", "JOHN")):
        expected = _matching_both(first, second)
        with CaptureQueriesContext(connection) as queries:
            found = _rare_together([search_branches(first), search_branches(second)])
        assert {uuid.UUID(str(raw)) for raw in found} == expected, (first, second)
        sql = " ".join(q["sql"] for q in queries.captured_queries)
        assert "STRAIGHT_JOIN" in sql and "\x01john" in sql and "ON w1.pk = w0.pk" not in sql, "by pairs"
        assert "FORCE INDEX (lead_search_email)" in sql
    assert expected == both  # each kind of pair found one
    for i in range(17):  # 19 last names under "smith": the words' scans are joined whole instead
        LeadFactory(first_name="Zed", last_name=f"Smith{chr(97 + i)}", company="")
    settings.LEAD_SEARCH_INTERSECT_CAP = 100  # the join's budget of rows examined grows with it
    with CaptureQueriesContext(connection) as queries:
        found = _rare_together([search_branches("smith"), search_branches("john")])
    assert {uuid.UUID(str(raw)) for raw in found} == _matching_both("smith", "john") == both
    assert any("ON w1.pk = w0.pk" in q["sql"] for q in queries.captured_queries)
    settings.LEAD_SEARCH_ID_CAP = 5  # six leads together: too many for ids, by pairs or joined
    assert _rare_together([search_branches("smith"), search_branches("john")]) is None


def test_a_phone_prefix_search_is_a_range_with_the_exact_prefix(manager_api):
    near = [LeadFactory(phone=p) for p in ("+14155550100", "+14195550100", "+14205550100", "+19995550100")]
    for text, expected in (("+1415", [0]), ("1419", [1]), ("+142", [2]), ("+1999", [3]), ("+141", [0, 1])):
        body = manager_api.get("/api/v1/leads", {"search": text}).json()
        assert {row["id"] for row in body["results"]} == {str(near[i].pk) for i in expected}, text
