"""The list orderings' bucket counts (LeadOrderCount, leads.order_buckets): labels sort as their
columns do, every writer keeps the counts equal to a rebuild from the table, and deep pages read
through them."""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads import order_buckets, services
from leads.models import Lead, LeadOrderCount
from tests.factories import LeadFactory, UserFactory
from tests.leads.test_imports import run_import

pytestmark = pytest.mark.django_db
LEADS = "/api/v1/leads"


def counts() -> dict:
    return {(r.ordering, r.owner_id, r.status, r.bucket): r.n for r in LeadOrderCount.objects.all() if r.n}


def assert_counts_match_a_rebuild():
    kept = counts()
    order_buckets.rebuild_order_counts(Lead, LeadOrderCount)
    assert kept == counts()


def test_name_key_folds_case_and_accents_and_sorts_last_then_first():
    assert order_buckets.name_key("García", "Ana") == "garcia\x01ana\x01"
    assert order_buckets.name_key("  O'Brien ", "JOHN  Paul") == "o'brien\x01john paul\x01"
    names = [("Smith", "Zoe"), ("Smithe", "Al"), ("smith", "adam"), ("", "Cher"), ("Åberg", "Bo")]
    ordered = sorted(names, key=lambda n: order_buckets.name_key(*n))
    assert ordered == [("", "Cher"), ("Åberg", "Bo"), ("smith", "adam"), ("Smith", "Zoe"), ("Smithe", "Al")]
    assert len(order_buckets.name_key("x" * 150, "y" * 150)) == order_buckets.NAME_KEY_LENGTH


@pytest.mark.parametrize("ordering", ["score", "value", "updated_at", "last_interaction_at"])
def test_bucket_labels_sort_as_their_values(ordering):
    rng = random.Random(7)
    moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    samples = {
        "score": lambda: rng.randrange(101),
        "value": lambda: Decimal(rng.choice([0, 1, 7, 99, 100, 12345, 10**11])) + Decimal(rng.randrange(100)) / 100,
        "updated_at": lambda: moment + dt.timedelta(minutes=rng.randrange(-10**6, 10**6)),
        "last_interaction_at": lambda: (None if rng.random() < 0.2
                                        else moment + dt.timedelta(hours=rng.randrange(10**4))),
    }[ordering]
    values = [samples() for _ in range(2000)]
    values.sort(key=lambda v: (v is not None, v))  # NULL first, as the databases sort it ascending
    labels = [order_buckets.bucket(ordering, v) for v in values]
    assert labels == sorted(labels)
    assert len(set(labels)) > 5


MONDAY = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)


@pytest.mark.parametrize(("ordering", "value", "neighbours"), [
    ("score", 0, [1]), ("score", 100, [99]),
    ("value", Decimal("0"), [Decimal("1"), Decimal("-0.01")]), ("value", Decimal("99.99"), [Decimal("100")]),
    ("value", Decimal("100"), [Decimal("99.99"), Decimal("110")]), ("value", Decimal("109.99"), [Decimal("110")]),
    ("value", Decimal("123456789.5"), [Decimal("119999999.99"), Decimal("130000000")]),
    ("name", order_buckets.name_key("Zhang", "Wei"), [order_buckets.name_key("Zi", ""),
                                                      order_buckets.name_key("Zg", "")]),
    ("name", order_buckets.name_key("", ""), [order_buckets.name_key("", "a"), order_buckets.name_key("a", "")]),
    ("updated_at", MONDAY, [MONDAY - dt.timedelta(seconds=1), MONDAY + dt.timedelta(days=7)]),
    ("last_interaction_at", None, [MONDAY]),
    ("last_interaction_at", dt.datetime(1850, 1, 1, tzinfo=dt.UTC), [None, dt.datetime(1900, 1, 8, tzinfo=dt.UTC)]),
])
def test_a_buckets_range_holds_its_values_and_not_its_neighbours(ordering, value, neighbours):
    column = order_buckets.ORDERING_COLUMN[ordering]
    lead = LeadFactory()
    label = order_buckets.bucket(ordering, value)
    for neighbour in neighbours:
        assert order_buckets.bucket(ordering, neighbour) != label, neighbour
    Lead.objects.filter(pk=lead.pk).update(**{column: value})
    assert Lead.objects.filter(order_buckets.span_filter(ordering, label, label), pk=lead.pk).exists()
    for neighbour in neighbours:
        other = order_buckets.bucket(ordering, neighbour)
        assert not Lead.objects.filter(order_buckets.span_filter(ordering, other, other), pk=lead.pk).exists(), other


def test_every_writer_keeps_the_counts_equal_to_a_rebuild():
    seller, other = UserFactory(role="sales"), UserFactory(role="sales")
    lead = services.lead_create(user=seller, name="Ana García", phone="+14155550101", score=40,
                                value=Decimal("1500"))
    second = services.lead_create(user=None, name="Bo Smith", phone="+14155550102")
    assert_counts_match_a_rebuild()

    services.lead_update(lead=lead, user=seller, score=90, value=Decimal("99.50"), name="Ana Zubiri")
    services.lead_change_status(lead=lead, status=Lead.Status.QUALIFIED, user=seller)
    services.lead_update(lead=second, user=None, owner=other)
    services.lead_add_interaction(lead=second, user=other, kind="note", body="Called back",
                                  occurred_at=timezone.now() - dt.timedelta(days=40))
    assert_counts_match_a_rebuild()

    services.lead_delete(lead=lead, user=seller)
    assert_counts_match_a_rebuild()
    services.lead_restore(lead=lead, user=seller)
    assert_counts_match_a_rebuild()

    # The queryset writers other apps use, names included.
    Lead.objects.filter(pk=second.pk).update(score=5, last_name="Adams",
                                             updated_at=timezone.now() - dt.timedelta(days=90))
    assert Lead.objects.get(pk=second.pk).name_key == order_buckets.name_key("Adams", "Bo")
    built = Lead.objects.bulk_create([Lead(first_name="Cy", last_name="Young", value=Decimal(7), owner=other),
                                      Lead(first_name="Di", deleted_at=timezone.now())])
    assert built[0].name_key == "young\x01cy\x01"
    built[0].first_name, built[0].score = "Cyrus", 77
    Lead.objects.bulk_update([built[0]], ["first_name", "score"])
    assert_counts_match_a_rebuild()

    # A stale instance saved with update_fields: the unsaved columns keep the row's values.
    stale = Lead.objects.get(pk=second.pk)
    Lead.objects.filter(pk=second.pk).update(status=Lead.Status.LOST)
    stale.score = 61
    stale.save(update_fields=["score"])
    assert_counts_match_a_rebuild()

    Lead.objects.filter(pk__in=[b.pk for b in built]).delete()
    lead.delete()
    assert_counts_match_a_rebuild()
    assert counts()  # the second lead is still counted


def test_a_csv_import_keeps_the_counts(sales_user):
    csv = ("First Name,Last Name,Phone,Email,Score,Value\n"
           "Ana,García,4155550111,ana@example.com,40,1200\n"
           "Émile,Zola,4155550112,emile@example.com,,\n"
           "Bad,,not a phone,,,\n").encode()
    job = run_import(csv, user=sales_user)
    assert job.success_count == 2
    assert sorted(Lead.objects.values_list("name_key", flat=True)) == ["garcia\x01ana\x01", "zola\x01emile\x01"]
    assert_counts_match_a_rebuild()


def test_a_deep_page_in_another_order_is_read_from_its_buckets(manager_api, settings):
    settings.LEAD_DAY_SEEK_OFFSET = 3
    for i in range(30):
        LeadFactory(score=i % 7 * 10, value=Decimal(i * 37 % 1000))
    expected = [str(pk) for pk in Lead.objects.live().order_by("-value", "-id").values_list("pk", flat=True)]
    manager_api.get(LEADS)  # the JWT user, cached
    with CaptureQueriesContext(connection) as queries:
        body = manager_api.get(LEADS, {"ordering": "-value", "limit": 5, "offset": 17}).json()
    assert [row["id"] for row in body["results"]] == expected[17:22]
    assert body["count"] == 30
    assert any("leadordercount" in q["sql"] for q in queries.captured_queries)
    page_query = next(q["sql"] for q in queries.captured_queries if "LIMIT" in q["sql"] and "leads_lead" in q["sql"])
    assert "OFFSET 17" not in page_query  # the buckets before the page are skipped, not walked


@pytest.mark.parametrize("ordering", ["-value", "value", "name", "-name"])
def test_every_page_of_a_big_bucket_is_right_from_either_end(manager_api, settings, ordering):
    """Most leads in one bucket (value 500; last names starting "jo"): a page in its far half is
    read from the bucket's end, every page equals the table's, and the last is short."""
    settings.LEAD_DAY_SEEK_OFFSET = 3
    for i in range(22):
        LeadFactory(value=Decimal(500 if i % 5 else i), last_name=f"Jo{chr(97 + i % 7)}{i}" if i % 5 else f"Ze{i}")
    expected = [str(pk) for pk in Lead.objects.live().order_by(
        *(("name_key", "id") if ordering == "name" else ("-name_key", "-id") if ordering == "-name"
          else (ordering, ordering.replace("value", "id")))).values_list("pk", flat=True)]
    reversed_reads = 0
    for offset in range(3, 22):
        with CaptureQueriesContext(connection) as queries:
            body = manager_api.get(LEADS, {"ordering": ordering, "limit": 4, "offset": offset}).json()
        assert [row["id"] for row in body["results"]] == expected[offset : offset + 4], offset
        page_query = next(q["sql"] for q in queries.captured_queries if "LIMIT" in q["sql"]
                          and "leads_lead" in q["sql"] and "leadordercount" not in q["sql"])
        reversed_reads += ("DESC" in page_query) != ordering.startswith("-")
    assert reversed_reads >= 5
    assert manager_api.get(LEADS, {"ordering": ordering, "limit": 4, "offset": 22}).json()["results"] == []


def test_a_deep_page_stays_right_when_the_bucket_counts_are_out_of_step(manager_api, settings):
    settings.LEAD_DAY_SEEK_OFFSET = 3
    for i in range(20):
        LeadFactory(value=Decimal(i * 5))
    with connection.cursor() as cursor:  # rows moved outside the model (a script, a bulk load)
        cursor.execute("UPDATE leads_lead SET value = value + 1000000")
    expected = [str(pk) for pk in Lead.objects.live().order_by("value", "id").values_list("pk", flat=True)]
    body = manager_api.get(LEADS, {"ordering": "value", "limit": 5, "offset": 6}).json()
    assert body["count"] == 20
    assert [row["id"] for row in body["results"]] == expected[6:11]


def test_memoised_bucket_sums_follow_every_write(manager_api, settings):
    """With the list cache on, a deep page's bucket sums are kept at the list's version: the
    next page after a write that moves rows between buckets is read from the new sums."""
    settings.LEAD_LIST_CACHE_SECONDS = 60
    settings.LEAD_DAY_SEEK_OFFSET = 3
    for i in range(12):
        LeadFactory(score=i * 8)

    def page(offset):
        return [row["id"] for row in manager_api.get(LEADS, {"ordering": "-score", "limit": 3,
                                                             "offset": offset}).json()["results"]]

    def expected(offset):
        rows = Lead.objects.live().order_by("-score", "-id").values_list("pk", flat=True)
        return [str(pk) for pk in rows[offset : offset + 3]]

    assert page(5) == expected(5)
    with CaptureQueriesContext(connection) as queries:
        assert page(6) == expected(6)
    assert not any("leadordercount" in q["sql"] for q in queries.captured_queries)  # the memoised sums
    services.lead_update(lead=Lead.objects.order_by("score").first(), user=None, score=99)
    services.lead_create(user=None, name="New Top", phone="+14155550177", score=100)
    assert page(6) == expected(6)


@pytest.mark.parametrize("ordering", ["name", "-name", "-value", "value", "-updated_at", "score",
                                      "-last_interaction_at"])
def test_deep_pages_read_on_from_the_marks_earlier_pages_left(manager_api, settings, caplog, ordering):
    """With the list cache on, a deep page leaves a mark where it began (leads.filters.PageMarks)
    and a later page after it reads on from there, into the NULLs that sort last too; every page
    equals the table's, before and after a write that moves every mark's position by one."""
    settings.LEAD_LIST_CACHE_SECONDS = 60
    settings.LEAD_DAY_SEEK_OFFSET = 3
    settings.LEAD_PAGE_MARK_STEP = 2
    touched = timezone.now() - dt.timedelta(hours=1)
    for i in range(26):  # most in one bucket of each ordering, with ties on the value and score
        LeadFactory(last_name=f"Jo{chr(97 + i % 5)}", first_name=f"F{i % 3}", value=Decimal(500 + i % 2),
                    score=40 + i % 2, last_interaction_at=touched + dt.timedelta(seconds=i) if i < 18 else None)
    columns = {"name": ("name_key", "id"), "-name": ("-name_key", "-id")}.get(
        ordering, (ordering, "-id" if ordering.startswith("-") else "id"))

    def expected(offset):
        rows = Lead.objects.live().order_by(*columns).values_list("pk", flat=True)
        return [str(pk) for pk in rows[offset : offset + 3]]

    def pages(offsets):
        from_marks = 0
        for offset in offsets:
            with CaptureQueriesContext(connection) as queries:
                body = manager_api.get(LEADS, {"ordering": ordering, "limit": 3, "offset": offset}).json()
            assert [row["id"] for row in body["results"]] == expected(offset), offset
            page_query = next(q["sql"] for q in queries.captured_queries if "LIMIT" in q["sql"]
                              and "leads_lead" in q["sql"] and "leadordercount" not in q["sql"])
            from_marks += "id` <=" in page_query or "id` >=" in page_query or 'id" <=' in page_query \
                or 'id" >=' in page_query
        return from_marks

    offsets = list(range(3, 26))
    random.Random(ordering).shuffle(offsets)
    assert pages(offsets) >= 8
    assert "out of step" not in caplog.text  # no page came up short and fell back to OFFSET
    # A lead that sorts first in this order: every mark's position moves by one.
    new = LeadFactory(**{"name": {"last_name": "Ja"}, "-name": {"last_name": "Jz"}, "-value": {"value": Decimal(502)},
                         "value": {"value": Decimal(499)}, "score": {"score": 39},
                         "-last_interaction_at": {"last_interaction_at": timezone.now()}}.get(ordering, {}))
    assert Lead.objects.live().order_by(*columns).first() == new
    assert pages(offsets) >= 8
    assert "out of step" not in caplog.text


def test_a_write_drops_the_page_marks(manager_api, settings):
    """Marks are kept at the list's version: after a write, a page is read from its buckets."""
    settings.LEAD_LIST_CACHE_SECONDS = 60
    settings.LEAD_DAY_SEEK_OFFSET = 3
    settings.LEAD_PAGE_MARK_STEP = 2
    for i in range(20):
        LeadFactory(score=50, last_name=f"Lee{i}")

    def page_query(offset):
        with CaptureQueriesContext(connection) as queries:
            manager_api.get(LEADS, {"ordering": "-score", "limit": 3, "offset": offset})
        return next(q["sql"] for q in queries.captured_queries if "LIMIT" in q["sql"]
                    and "leads_lead" in q["sql"] and "leadordercount" not in q["sql"])

    page_query(6)
    assert "OFFSET 1" in page_query(7)  # one entry on from the mark the page at 6 left
    services.lead_create(user=None, name="New Lead", email="new.mark@example.org", score=50)
    assert "OFFSET 1" not in page_query(7)
    settings.LEAD_PAGE_MARK_STEP = 0  # off
    services.lead_create(user=None, name="Other Lead", email="other.mark@example.org", score=50)
    page_query(6)
    assert "OFFSET 1" not in page_query(7)


def test_a_list_with_a_second_sort_key_keeps_no_marks(manager_api, settings):
    """``name,-score`` orders the leads of one name by score: a mark's (name, id) position would
    skip or repeat them, so every page is read from its buckets and equals the table's."""
    settings.LEAD_LIST_CACHE_SECONDS = 60
    settings.LEAD_DAY_SEEK_OFFSET = 3
    settings.LEAD_PAGE_MARK_STEP = 2
    for i in range(20):
        LeadFactory(last_name=f"Jo{i % 2}", first_name="Ann", score=i * 7 % 20)
    rows = Lead.objects.live().order_by("name_key", "-score", "-id").values_list("pk", flat=True)
    offsets = list(range(3, 20))
    random.Random(3).shuffle(offsets)
    for offset in offsets:
        with CaptureQueriesContext(connection) as queries:
            body = manager_api.get(LEADS, {"ordering": "name,-score", "limit": 3, "offset": offset}).json()
        assert [row["id"] for row in body["results"]] == [str(pk) for pk in rows[offset : offset + 3]], offset
        assert not any("id` >=" in q["sql"] or 'id" >=' in q["sql"] for q in queries.captured_queries)
