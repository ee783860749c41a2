"""The contacts and companies API (seeds 001 and 003): endpoints, bad input, scoping.

Every bad request answers a 4xx in the ``{detail, code}`` shape and changes nothing; another
sales user's contact or company looks like it does not exist (404).
"""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import Company, Contact, ContactCompany, ContactTag
from crm.models import Interaction
from tests.contacts.factories import CompanyFactory, ContactFactory, TagFactory
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

CONTACTS = "/api/v1/contacts"
COMPANIES = "/api/v1/companies"


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["code"], str) and body["code"]
    if code is not None:
        assert body["code"] == code, body
    return body


def snapshot() -> tuple:
    """Everything a refused request could change."""
    return (
        sorted((str(r["id"]), str(sorted(r.items()))) for r in Contact.objects.values()),
        sorted(str(sorted(r.items())) for r in ContactCompany.objects.values("contact_id", "company_id", "role")),
        sorted(str(r["id"]) for r in Company.objects.values("id")),
        Interaction.objects.count(),
        Contact.tags.through.objects.count(),
    )


@pytest.fixture
def acme(sales_user):
    return CompanyFactory(name="Acme Corp", domain="acme.com", owner=sales_user)


@pytest.fixture
def own_contact(sales_user, acme):
    contact = ContactFactory(owner=sales_user, first_name="Alice", last_name="Morgan", email="alice@acme.com",
                             phone="+442070001234", primary_company=acme)
    ContactCompany.objects.create(contact=contact, company=acme, role="Buyer")
    ContactTag.objects.create(contact=contact, tag=TagFactory(name="enterprise"))
    return contact


@pytest.fixture
def others_contact(other_sales_user):
    return ContactFactory(owner=other_sales_user, first_name="Oscar", last_name="Other", email="oscar@other.com")


# --- create, read, update ------------------------------------------------------------------------


@pytest.mark.parametrize("path", [CONTACTS, CONTACTS + "/"])
def test_create_takes_seed_003_body_and_returns_e164_phone_tags_and_company(api, sales_user, acme, path):
    response = api.post(path, {
        "first_name": "Alice", "last_name": "Morgan", "email": "Alice@Example.com", "phone": "+44 20 7000 1234",
        "job_title": "Operations Director", "status": "new", "tags": ["Enterprise", "uk"],
        "primary_company_id": str(acme.pk),
    }, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Alice Morgan"
    assert body["email"] == "alice@example.com"
    assert body["phone"] == "+442070001234"
    assert body["tags"] == ["enterprise", "uk"]
    assert body["company"] == "Acme Corp" and body["primary_company_id"] == str(acme.pk)
    assert [c["id"] for c in body["companies"]] == [str(acme.pk)]
    assert body["owner_id"] == sales_user.pk
    assert Contact.objects.get(pk=body["id"]).companies.get() == acme


def test_create_accepts_seed_001_name_and_company_text_matching_an_existing_company(api, acme):
    response = api.post(CONTACTS, {"name": "Bob van Dyke", "email": "bob@acme.com", "company": "ACME CORP",
                                   "role": "Champion"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["first_name"], body["last_name"], body["role"]) == ("Bob", "van Dyke", "Champion")
    assert body["company"] == "Acme Corp"
    assert Company.objects.count() == 1


@pytest.mark.parametrize("payload, field", [
    ({}, "name"),
    ({"name": "X", "email": "not-an-email"}, "email"),
    ({"name": "X", "phone": "12"}, "phone"),
    ({"name": "X", "status": "boss"}, "status"),
    ({"name": "X", "primary_company_id": "nope"}, "primary_company_id"),
    ({"name": "X", "tags": "vip"}, "tags"),
    ({"name": "X", "owner_id": "abc"}, "owner_id"),
])
def test_create_bad_input_is_400_on_the_field_and_changes_nothing(api, payload, field):
    before = snapshot()
    body = assert_error(api.post(CONTACTS, payload, format="json"), 400)
    assert field in body["errors"], body
    assert snapshot() == before


def test_create_with_unknown_or_invisible_company_is_400(api, other_sales_user):
    hidden = CompanyFactory(owner=other_sales_user)
    for company_id in (uuid.uuid4(), hidden.pk):
        body = assert_error(api.post(CONTACTS, {"name": "X", "primary_company_id": str(company_id)}, format="json"),
                            400, "company_not_found")
        assert "primary_company_id" in body["errors"]


def test_sales_user_cannot_give_a_contact_to_someone_else(api, other_sales_user):
    assert_error(api.post(CONTACTS, {"name": "X", "owner_id": other_sales_user.pk}, format="json"), 400,
                 "forbidden_owner")
    assert not Contact.objects.exists()


def test_duplicate_email_or_phone_is_409_naming_the_existing_contact_unless_allowed(api, own_contact):
    before = snapshot()
    body = assert_error(api.post(CONTACTS, {"name": "Al M", "email": "ALICE@acme.com"}, format="json"), 409,
                        "duplicate_contact")
    assert body["existing"]["id"] == str(own_contact.pk) and body["existing"]["name"] == "Alice Morgan"
    assert "Alice Morgan" in body["detail"]
    body = assert_error(api.post(CONTACTS, {"name": "Al M", "phone": "+44 20 7000 1234"}, format="json"), 409,
                        "duplicate_contact")
    assert body["errors"] == {"phone": [body["detail"]]}
    assert snapshot() == before

    response = api.post(CONTACTS, {"name": "Al M", "email": "alice@acme.com", "allow_duplicate": True},
                        format="json")
    assert response.status_code == 201, response.content
    assert Contact.objects.filter(email="alice@acme.com").count() == 2


def test_get_returns_companies_with_roles_tags_and_seed_001_fields(api, own_contact):
    response = api.get(f"{CONTACTS}/{own_contact.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["companies"] == [{"id": str(own_contact.primary_company_id), "name": "Acme Corp",
                                  "domain": "acme.com", "role": "Buyer"}]
    assert body["tags"] == ["enterprise"]
    assert body["company"] == "Acme Corp" and "last_contacted" in body


@pytest.mark.parametrize("pk", [uuid.uuid4(), "not-a-uuid"])
def test_unknown_contact_is_404(api, pk):
    assert_error(api.get(f"{CONTACTS}/{pk}"), 404, "contact_not_found")
    assert_error(api.patch(f"{CONTACTS}/{pk}", {"status": "active"}, format="json"), 404)
    assert_error(api.get(f"{CONTACTS}/{pk}/history"), 404)


def test_patch_changes_given_fields_and_replaces_tags(api, own_contact):
    response = api.patch(f"{CONTACTS}/{own_contact.pk}", {"status": "customer", "tags": ["vip"]}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "customer" and response.json()["tags"] == ["vip"]
    own_contact.refresh_from_db()
    assert own_contact.first_name == "Alice"


def test_patch_to_another_contacts_email_is_409(api, own_contact, sales_user):
    other = ContactFactory(owner=sales_user, email="bob@acme.com")
    assert_error(api.patch(f"{CONTACTS}/{other.pk}", {"email": "alice@acme.com"}, format="json"), 409)
    other.refresh_from_db()
    assert other.email == "bob@acme.com"


def test_delete_is_soft_and_the_contact_leaves_the_list(api, own_contact):
    assert api.delete(f"{CONTACTS}/{own_contact.pk}").status_code == 200
    own_contact.refresh_from_db()
    assert own_contact.deleted_at is not None
    assert api.get(CONTACTS).json()["count"] == 0
    assert_error(api.get(f"{CONTACTS}/{own_contact.pk}"), 404)


# --- scoping -------------------------------------------------------------------------------------


def test_sales_user_sees_own_and_unassigned_contacts_only(api, manager_api, own_contact, others_contact):
    unassigned = ContactFactory(owner=None)

    ids = {row["id"] for row in api.get(CONTACTS).json()["results"]}
    assert ids == {str(own_contact.pk), str(unassigned.pk)}
    assert len(manager_api.get(CONTACTS).json()["results"]) == 3


def test_sales_user_cannot_read_change_link_or_merge_others_contact(api, own_contact, others_contact, acme):
    before = snapshot()
    url = f"{CONTACTS}/{others_contact.pk}"
    assert_error(api.get(url), 404, "contact_not_found")
    assert_error(api.patch(url, {"status": "customer"}, format="json"), 404)
    assert_error(api.delete(url), 404)
    assert_error(api.get(url + "/interactions"), 404)
    assert_error(api.post(url + f"/companies/{acme.pk}", {}, format="json"), 404)
    assert_error(api.post(f"{COMPANIES}/{acme.pk}/contacts/{others_contact.pk}", {}, format="json"), 404,
                 "contact_not_found")
    assert_error(api.post(f"{CONTACTS}/{own_contact.pk}/merge", {"other_id": str(others_contact.pk)},
                          format="json"), 404, "contact_not_found")
    assert_error(api.patch(f"{CONTACTS}/bulk", {"contacts": [{"id": str(others_contact.pk), "status": "customer"}]},
                           format="json"), 400, "bulk_invalid")
    assert snapshot() == before


def test_anonymous_is_401(anon_api):
    assert anon_api.get(CONTACTS).status_code == 401
    assert anon_api.get(COMPANIES).status_code == 401


# --- list: search, filters, ordering, pagination, constant queries ------------------------------


def test_list_search_filters_and_ordering(manager_api, sales_user, acme):
    globex = CompanyFactory(name="Globex", domain="globex.com")
    a = ContactFactory(first_name="Alice", last_name="Zed", email="alice@acme.com", status="customer",
                       owner=sales_user, primary_company=acme)
    b = ContactFactory(first_name="Bob", last_name="Young", email="bob@globex.com", phone="+14155550000",
                       primary_company=globex)
    c = ContactFactory(first_name="Carla", last_name="Xu", email="carla@acme.com")
    # As the services keep it: a primary company is always one of the linked companies.
    ContactCompany.objects.create(contact=a, company=acme)
    ContactCompany.objects.create(contact=b, company=globex)
    ContactCompany.objects.create(contact=c, company=globex, role="Advisor")
    ContactTag.objects.create(contact=a, tag=TagFactory(name="vip"))

    def ids(query):
        response = manager_api.get(f"{CONTACTS}?{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids("search=alice") == [str(a.pk)]
    assert ids("q=glob") == [str(b.pk)]  # the primary company's name
    assert ids("search=415555") == [str(b.pk)]  # phone digits
    assert ids("search=acme.com") == []  # no word matches a domain of an email in the middle
    assert set(ids(f"company_id={globex.pk}")) == {str(b.pk), str(c.pk)}
    assert ids("status=customer") == [str(a.pk)]
    assert ids("tag=vip") == [str(a.pk)]
    assert ids(f"owner={sales_user.pk}") == [str(a.pk)]
    assert set(ids("owner=none")) == {str(b.pk), str(c.pk)}
    assert ids("ordering=name") == [str(c.pk), str(b.pk), str(a.pk)]
    assert ids("sort_by=name&sort_order=desc") == [str(a.pk), str(b.pk), str(c.pk)]
    page = manager_api.get(f"{CONTACTS}?limit=2&ordering=name").json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]


@pytest.mark.parametrize("query", ["status=boss", "owner=abc", "company_id=xyz", "limit=abc", "ordering=password"])
def test_list_bad_filter_is_400(manager_api, query):
    assert_error(manager_api.get(f"{CONTACTS}?{query}"), 400)


def test_list_and_detail_use_a_constant_number_of_queries(manager_api, acme, settings):
    settings.CONTACT_LIST_CACHE_SECONDS = 0  # the built page is measured (test_listcache: the cache)

    def run(url):
        with CaptureQueriesContext(connection) as ctx:
            assert manager_api.get(url).status_code == 200
        return len(ctx.captured_queries)

    contact = ContactFactory(primary_company=acme)
    ContactCompany.objects.create(contact=contact, company=acme)
    run(CONTACTS)  # warm-up: the JWT user cache
    few_list, few_detail = run(CONTACTS), run(f"{CONTACTS}/{contact.pk}")
    for i in range(6):
        other = ContactFactory()
        for j in range(3):
            company = CompanyFactory()
            ContactCompany.objects.create(contact=other, company=company)
            ContactTag.objects.create(contact=other, tag=TagFactory(name=f"t{i}-{j}"))
            ContactTag.objects.create(contact=contact, tag=TagFactory(name=f"t{i}-{j}"))
        ContactCompany.objects.create(contact=contact, company=CompanyFactory())
        Interaction.objects.create(contact=contact, kind="call")
    assert run(CONTACTS) == few_list
    assert run(f"{CONTACTS}/{contact.pk}") == few_detail


# --- bulk ----------------------------------------------------------------------------------------


def test_bulk_create_500_returns_them_in_order(api, acme):
    items = [{"first_name": f"P{i}", "email": f"p{i}@bulk.example", "phone": f"+1 415 777 {i:04d}",
              "tags": ["bulk"], "primary_company_id": str(acme.pk)} for i in range(500)]
    response = api.post(f"{CONTACTS}/bulk", {"contacts": items}, format="json")

    assert response.status_code == 201, response.content[:500]
    body = response.json()
    assert body["count"] == 500 and body["results"][7]["email"] == "p7@bulk.example"
    assert body["results"][7]["phone"] == "+14157770007"
    assert Contact.objects.count() == 500
    assert ContactCompany.objects.filter(company=acme).count() == 500
    assert Contact.objects.filter(tags__name="bulk").count() == 500


def test_bulk_create_is_all_or_nothing_with_errors_named_by_index(api, own_contact):
    before = snapshot()
    items = [
        {"first_name": "Ok", "email": "ok@x.example"},
        {"first_name": "Bad", "email": "nope"},
        {"first_name": "Ok2"},
        {"first_name": "Phone", "phone": "12"},
        {"first_name": "Dup", "email": "alice@acme.com"},
        {"first_name": "Twin", "email": "ok@x.example"},
        "not an object",
    ]
    body = assert_error(api.post(f"{CONTACTS}/bulk", {"contacts": items}, format="json"), 400, "bulk_invalid")
    assert set(body["errors"]) == {"1", "6"}  # type errors first: the service is not reached
    assert body["detail"] == "2 of 7 contacts are invalid; nothing was written."
    assert "email" in body["errors"]["1"]
    assert snapshot() == before

    items[1]["email"], items[6] = "fine@x.example", {"first_name": "Last"}
    body = assert_error(api.post(f"{CONTACTS}/bulk", items, format="json"), 400, "bulk_invalid")
    assert set(body["errors"]) == {"3", "4", "5"}
    assert "phone" in body["errors"]["3"] and "email" in body["errors"]["4"]
    assert str(own_contact.pk) in body["errors"]["4"]["email"][0]
    assert snapshot() == before


@pytest.mark.parametrize("payload", [{"contacts": []}, {"contacts": "x"}, {}, [], {"contacts": [{}] * 1001}])
def test_bulk_empty_malformed_or_over_the_limit_is_400(api, payload):
    for method in (api.post, api.patch):
        body = assert_error(method(f"{CONTACTS}/bulk", payload, format="json"), 400)
        assert body["code"] in ("bulk_empty", "bulk_too_large")
    assert not Contact.objects.exists()


def test_bulk_update_by_id_all_or_nothing(api, sales_user):
    contacts = [ContactFactory(owner=sales_user, status="new") for _ in range(3)]
    items = [{"id": str(c.pk), "status": "qualified"} for c in contacts]
    response = api.patch(f"{CONTACTS}/bulk", {"contacts": items}, format="json")
    assert response.status_code == 200, response.content
    assert [r["status"] for r in response.json()["results"]] == ["qualified"] * 3
    assert set(Contact.objects.values_list("status", flat=True)) == {"qualified"}

    before = snapshot()
    items = [{"id": str(contacts[0].pk), "status": "customer"}, {"id": str(uuid.uuid4()), "status": "customer"},
             {"id": str(contacts[1].pk), "phone": "x"}, {"status": "customer"}]
    body = assert_error(api.patch(f"{CONTACTS}/bulk", {"contacts": items}, format="json"), 400, "bulk_invalid")
    assert set(body["errors"]) == {"1", "2", "3"}
    assert body["detail"].startswith("3 of 4 contacts are invalid")
    assert "id" in body["errors"]["1"] and "phone" in body["errors"]["2"] and "id" in body["errors"]["3"]
    assert snapshot() == before


# --- company links -------------------------------------------------------------------------------


def test_link_is_idempotent_and_unlink_removes(api, sales_user, acme):
    contact = ContactFactory(owner=sales_user)
    url = f"{CONTACTS}/{contact.pk}/companies/{acme.pk}"

    first = api.post(url, {"role": "CTO"}, format="json")
    again = api.post(url, {}, format="json")
    assert first.status_code == 201 and again.status_code == 200, (first.content, again.content)
    assert again.json()["company"]["role"] == "CTO"
    assert ContactCompany.objects.filter(contact=contact).count() == 1
    contact.refresh_from_db()
    assert contact.primary_company == acme  # the first company becomes primary

    from_company = api.post(f"{COMPANIES}/{acme.pk}/contacts/{contact.pk}", {"role": "CEO"}, format="json")
    assert from_company.status_code == 200 and from_company.json()["company"]["role"] == "CEO"
    listed = api.get(f"{COMPANIES}/{acme.pk}/contacts").json()
    assert [r["id"] for r in listed["results"]] == [str(contact.pk)]

    assert api.delete(url).status_code == 200
    assert not ContactCompany.objects.filter(contact=contact).exists()
    contact.refresh_from_db()
    assert contact.primary_company is None
    assert api.delete(f"{COMPANIES}/{acme.pk}/contacts/{contact.pk}").status_code == 200


def test_link_to_unknown_or_hidden_company_is_404(api, sales_user, other_sales_user):
    contact = ContactFactory(owner=sales_user)
    hidden = CompanyFactory(owner=other_sales_user)
    for company_id in (uuid.uuid4(), hidden.pk, "nope"):
        assert_error(api.post(f"{CONTACTS}/{contact.pk}/companies/{company_id}", {}, format="json"), 404,
                     "company_not_found")
    assert not ContactCompany.objects.exists()


# --- timeline ------------------------------------------------------------------------------------


def test_interaction_with_contact_and_company_lands_on_both_timelines(api, own_contact, acme):
    response = api.post("/api/v1/interactions", {
        "contact_id": str(own_contact.pk), "company_id": str(acme.pk), "kind": "call", "direction": "outbound",
        "subject": "Discovery call", "body": "Prospect requested pricing follow-up.",
        "occurred_at": "2026-04-19T10:00:00Z",
    }, format="json")

    assert response.status_code == 201, response.content
    entry_id = response.json()["id"]
    assert response.json()["contact_id"] == str(own_contact.pk)
    contact_timeline = api.get(f"{CONTACTS}/{own_contact.pk}/interactions").json()["results"]
    company_timeline = api.get(f"{COMPANIES}/{acme.pk}/interactions").json()["results"]
    assert [e["id"] for e in contact_timeline] == [entry_id] == [e["id"] for e in company_timeline]
    history = api.get(f"{CONTACTS}/{own_contact.pk}/history").json()["results"]
    assert history[0]["type"] == "call" and history[0]["title"] == "Discovery call"
    assert history[0]["entity_type"] == "contact" and history[0]["timestamp"].startswith("2026-04-19T10:00:00")
    own_contact.refresh_from_db()
    assert own_contact.last_contacted.isoformat().startswith("2026-04-19T10:00:00")
    assert api.get(f"/api/v1/interactions/{entry_id}").status_code == 200
    assert [e["id"] for e in api.get(f"/api/v1/interactions?contact_id={own_contact.pk}").json()["results"]] == [
        entry_id]


def test_last_contacted_moves_forward_only_and_ignores_notes(api, own_contact):
    url = f"{CONTACTS}/{own_contact.pk}/interactions"
    api.post(url, {"kind": "email", "occurred_at": "2026-05-01T00:00:00Z"}, format="json")
    api.post(url, {"kind": "call", "occurred_at": "2026-03-01T00:00:00Z"}, format="json")
    api.post(url, {"kind": "note", "occurred_at": "2026-06-01T00:00:00Z"}, format="json")
    own_contact.refresh_from_db()
    assert own_contact.last_contacted.isoformat().startswith("2026-05-01")


def test_interaction_on_a_lead_and_contact_updates_both(api, sales_user, own_contact):
    lead = LeadFactory(owner=sales_user)
    response = api.post("/api/v1/interactions", {"lead_id": str(lead.pk), "contact_id": str(own_contact.pk),
                                                 "kind": "meeting", "subject": "Demo"}, format="json")
    assert response.status_code == 201, response.content
    lead.refresh_from_db()
    own_contact.refresh_from_db()
    assert lead.last_interaction_at is not None and own_contact.last_contacted == lead.last_interaction_at


@pytest.mark.parametrize("payload, status, code", [
    ({"kind": "call"}, 400, "invalid"),
    ({"kind": "call", "contact_id": str(uuid.uuid4())}, 404, "contact_not_found"),
    ({"kind": "call", "company_id": str(uuid.uuid4())}, 404, "company_not_found"),
    ({"kind": "teleport", "contact_id": "OWN"}, 400, "invalid_type"),
    ({"kind": "status_change", "contact_id": "OWN"}, 400, "invalid_type"),
])
def test_interaction_bad_input(api, own_contact, payload, status, code):
    payload = {k: (str(own_contact.pk) if v == "OWN" else v) for k, v in payload.items()}
    before = snapshot()
    assert_error(api.post("/api/v1/interactions", payload, format="json"), status, code)
    assert snapshot() == before


def test_interaction_on_others_contact_is_404(api, others_contact):
    assert_error(api.post("/api/v1/interactions", {"kind": "call", "contact_id": str(others_contact.pk)},
                          format="json"), 404, "contact_not_found")
    assert not Interaction.objects.exists()


# --- companies -----------------------------------------------------------------------------------


def test_company_create_normalises_domain_and_phone_and_refuses_a_second_live_domain(api, sales_user):
    response = api.post(COMPANIES, {"name": "Acme", "domain": "https://www.ACME.com/about", "phone": "(415) 555-2671",
                                    "industry": "Retail", "tags": ["Key"]}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["domain"], body["phone"], body["tags"], body["owner_id"]) == (
        "acme.com", "+14155552671", ["key"], sales_user.pk)

    dup = assert_error(api.post(COMPANIES, {"name": "Acme 2", "domain": "acme.com"}, format="json"), 400,
                       "duplicate_company")
    assert dup["existing_id"] == body["id"]
    assert_error(api.post(COMPANIES, {"name": "Bad", "domain": "not a domain"}, format="json"), 400, "invalid_domain")
    assert_error(api.post(COMPANIES, {"domain": "x.com"}, format="json"), 400)
    assert Company.objects.count() == 1

    assert api.delete(f"{COMPANIES}/{body['id']}").status_code == 200
    again = api.post(COMPANIES, {"name": "Acme again", "domain": "acme.com"}, format="json")
    assert again.status_code == 201, again.content  # the domain is free once the company is deleted


def test_company_list_search_filters_and_scope(api, manager_api, sales_user, other_sales_user):
    mine = CompanyFactory(name="Initech", domain="initech.com", industry="Software", owner=sales_user)
    hidden = CompanyFactory(name="Hooli", domain="hooli.xyz", industry="Software", owner=other_sales_user)
    free = CompanyFactory(name="Globex", domain="globex.com", industry="Energy")
    free.tags.add(TagFactory(name="partner"))

    def ids(client, query=""):
        response = client.get(f"{COMPANIES}?{query}")
        assert response.status_code == 200, response.content
        return [r["id"] for r in response.json()["results"]]

    assert ids(api) == [str(free.pk), str(mine.pk)]  # by name
    assert ids(api, "search=init") == [str(mine.pk)]
    assert ids(manager_api, "search=hooli.x") == [str(hidden.pk)]
    assert ids(manager_api, "industry=software&ordering=-name") == [str(mine.pk), str(hidden.pk)]
    assert ids(api, "tag=partner") == [str(free.pk)]
    assert ids(api, "owner=me") == [str(mine.pk)]
    assert_error(api.get(f"{COMPANIES}/{hidden.pk}"), 404, "company_not_found")
    assert_error(api.patch(f"{COMPANIES}/{hidden.pk}", {"name": "Mine now"}, format="json"), 404)
    response = api.patch(f"{COMPANIES}/{mine.pk}", {"website": "https://initech.io", "size": "11-50"}, format="json")
    assert response.status_code == 200 and response.json()["size"] == "11-50"


# --- duplicates and merge ------------------------------------------------------------------------


def test_duplicates_lists_groups_by_email_and_phone(manager_api):
    a = ContactFactory(email="same@x.com", phone="+14150000001")
    b = ContactFactory(email="same@x.com", phone="+14150000002")
    c = ContactFactory(email="c@x.com", phone="+14150000002")
    ContactFactory(email="alone@x.com", phone="+14150000003")

    body = manager_api.get(f"{CONTACTS}/duplicates").json()
    assert body["count"] == 2
    groups = {(g["field"], g["value"]): {c["id"] for c in g["contacts"]} for g in body["results"]}
    assert groups == {("email", "same@x.com"): {str(a.pk), str(b.pk)},
                      ("phone", "+14150000002"): {str(b.pk), str(c.pk)}}
    second = manager_api.get(f"{CONTACTS}/duplicates?limit=1&offset=1").json()
    assert [g["field"] for g in second["results"]] == ["phone"]


def test_merge_moves_timeline_companies_tags_and_converted_leads(api, sales_user, acme, own_contact):
    globex = CompanyFactory(name="Globex", owner=sales_user)
    other = ContactFactory(owner=sales_user, first_name="Alicia", last_name="Morgan", email="alicia@globex.com",
                           phone="", job_title="VP")
    ContactCompany.objects.create(contact=other, company=globex, role="VP")
    ContactCompany.objects.create(contact=other, company=acme, role="Ignored")
    ContactTag.objects.create(contact=other, tag=TagFactory(name="conference"))
    entry = Interaction.objects.create(contact=other, kind="call")
    lead = LeadFactory(owner=sales_user, converted_contact=other)

    response = api.post(f"{CONTACTS}/{own_contact.pk}/merge",
                        {"other_id": str(other.pk), "fields": {"email": "other", "first_name": "this"}},
                        format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == str(own_contact.pk)
    assert body["email"] == "alicia@globex.com" and body["first_name"] == "Alice"
    assert body["job_title"] == "VP"  # blank here, so the other's value fills it
    assert body["phone"] == "+442070001234"
    assert {c["name"]: c["role"] for c in body["companies"]} == {"Acme Corp": "Buyer", "Globex": "VP"}
    assert body["tags"] == ["conference", "enterprise"]
    entry.refresh_from_db()
    lead.refresh_from_db()
    other.refresh_from_db()
    assert entry.contact_id == own_contact.pk and lead.converted_contact_id == own_contact.pk
    assert other.deleted_at is not None and other.merged_into_id == own_contact.pk
    assert not ContactCompany.objects.filter(contact=other).exists()
    assert Contact.objects.live().count() == 1
    assert_error(api.get(f"{CONTACTS}/{other.pk}"), 404)


@pytest.mark.parametrize("payload, status, code", [
    ({}, 400, "invalid"),
    ({"other_id": "SELF"}, 400, "merge_self"),
    ({"other_id": str(uuid.uuid4())}, 404, "contact_not_found"),
    ({"other_id": "OTHER", "fields": {"password": "other"}}, 400, "invalid_merge_fields"),
    ({"other_id": "OTHER", "fields": {"email": "both"}}, 400, "invalid"),
])
def test_merge_bad_input_changes_nothing(api, sales_user, own_contact, payload, status, code):
    other = ContactFactory(owner=sales_user)
    payload = {k: (str(own_contact.pk) if v == "SELF" else str(other.pk) if v == "OTHER" else v)
               for k, v in payload.items()}
    before = snapshot()
    assert_error(api.post(f"{CONTACTS}/{own_contact.pk}/merge", payload, format="json"), status, code)
    assert snapshot() == before
