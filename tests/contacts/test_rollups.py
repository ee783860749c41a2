"""The contact count rollups (per owner and status, per owner, status and day, per tag and owner,
per company and owner) stay exact through every write: the API, the services, bulk calls,
merges, restores, the admin, and a rebuild after writes made around the services.

``truth()`` recounts from the contacts and link tables; ``stored()`` reads the rollup tables.
"""

import datetime as dt
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from contacts import services
from contacts.models import (
    Contact,
    ContactCompany,
    ContactCompanyCount,
    ContactDayCount,
    ContactStatusCount,
    ContactTag,
    ContactTagCount,
    Tag,
)
from contacts.tasks import rebuild_counts
from tests.conftest import jwt_client
from tests.contacts.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

CONTACTS = "/api/v1/contacts"


def truth() -> dict:
    """Every rollup recounted from the live contacts and their links."""
    live = {c.pk: c for c in Contact.objects.filter(deleted_at__isnull=True)}
    status, day, tag, company = Counter(), Counter(), Counter(), Counter()
    for c in live.values():
        status[(c.owner_id or 0, c.status)] += 1
        day[(c.owner_id or 0, c.status, c.created_at.astimezone(dt.UTC).date())] += 1
    for contact_id, tag_id in ContactTag.objects.values_list("contact_id", "tag_id"):
        if contact_id in live:
            tag[(tag_id, live[contact_id].owner_id or 0)] += 1
    for contact_id, company_id in ContactCompany.objects.values_list("contact_id", "company_id"):
        if contact_id in live:
            company[(company_id, live[contact_id].owner_id or 0)] += 1
    return {"status": dict(status), "day": dict(day), "tag": dict(tag), "company": dict(company)}


def stored() -> dict:
    """The rollup tables, rows with n = 0 left out."""
    return {
        "status": {(r.owner_id, r.status): r.n for r in ContactStatusCount.objects.all() if r.n},
        "day": {(r.owner_id, r.status, r.day): r.n for r in ContactDayCount.objects.all() if r.n},
        "tag": {(r.tag_id, r.owner_id): r.n for r in ContactTagCount.objects.all() if r.n},
        "company": {(r.company_id, r.owner_id): r.n for r in ContactCompanyCount.objects.all() if r.n},
    }


def assert_exact():
    assert stored() == truth()
    # And every link row carries its own contact's created_at (the list's ordered indexes).
    for model in (ContactTag, ContactCompany):
        for link in model.objects.select_related("contact"):
            assert link.contact_created_at == link.contact.created_at, (model.__name__, link.pk)


@pytest.fixture
def acme(sales_user):
    return CompanyFactory(name="Acme", domain="acme.com", owner=None)


@pytest.fixture
def globex():
    return CompanyFactory(name="Globex", domain="globex.com", owner=None)


def test_rollups_follow_create_update_link_unlink_delete_restore(api, sales_user, manager, acme, globex):
    response = api.post(CONTACTS, {"first_name": "Ann", "email": "ann@acme.com", "status": "active",
                                   "tags": ["vip", "newsletter"], "primary_company_id": str(acme.pk)},
                        format="json")
    assert response.status_code == 201, response.content
    ann = Contact.objects.get(pk=response.json()["id"])
    assert stored()["status"] == {(sales_user.pk, "active"): 1}
    assert_exact()

    for change in ({"status": "customer"}, {"tags": ["vip", "partner"]}, {"primary_company_id": str(globex.pk)},
                   {"owner_id": None}, {"notes": "no count moves"}):
        assert api.patch(f"{CONTACTS}/{ann.pk}", change, format="json").status_code == 200, change
        assert_exact()
    assert stored()["company"] == {(acme.pk, 0): 1, (globex.pk, 0): 1}

    assert api.delete(f"{CONTACTS}/{ann.pk}/companies/{acme.pk}").status_code == 200
    assert_exact()
    assert api.post(f"{CONTACTS}/{ann.pk}/companies/{acme.pk}", {"role": "Buyer"}, format="json").status_code == 201
    assert api.post(f"{CONTACTS}/{ann.pk}/companies/{acme.pk}", {}, format="json").status_code == 200  # again: no-op
    assert stored()["company"][(acme.pk, 0)] == 1
    assert_exact()

    assert api.delete(f"{CONTACTS}/{ann.pk}").status_code == 200
    assert stored() == {"status": {}, "day": {}, "tag": {}, "company": {}}
    assert services.contacts_restore(user=manager, pks=[ann.pk]) == 1
    assert services.contacts_restore(user=manager, pks=[ann.pk]) == 0  # live already: nothing counted twice
    assert stored()["status"] == {(0, "customer"): 1}
    assert_exact()


def test_a_refused_write_changes_no_count(api, sales_user, other_sales_user):
    ContactFactory(owner=sales_user, email="taken@x.com")
    before = stored()
    assert api.post(CONTACTS, {"first_name": "Dup", "email": "taken@x.com", "tags": ["vip"]},
                    format="json").status_code == 409
    assert api.post(CONTACTS, {"first_name": "Theirs", "owner_id": other_sales_user.pk},
                    format="json").status_code == 400
    items = [{"first_name": "Ok", "tags": ["vip"]}, {"first_name": "Bad", "phone": "12"}]
    assert api.post(f"{CONTACTS}/bulk", {"contacts": items}, format="json").status_code == 400
    assert stored() == before


def test_rollups_follow_merge(sales_user, manager, acme, globex):
    keep = services.contact_create(user=sales_user, first_name="Keep", status="new", tags=["vip"],
                                   primary_company_id=acme)
    gone = services.contact_create(user=manager, first_name="Gone", status="customer", owner_id=None,
                                   tags=["vip", "partner"], primary_company_id=globex, allow_duplicate=True)
    assert_exact()
    services.contact_merge(contact=keep, other=gone, user=manager, fields={"status": "other", "owner": "other"})
    keep.refresh_from_db()
    assert (keep.status, keep.owner_id) == ("customer", None)
    assert stored()["status"] == {(0, "customer"): 1}
    assert sorted(stored()["tag"].values()) == [1, 1]  # vip once, partner once: the other's are gone
    assert_exact()


def test_rollups_follow_bulk_create_and_bulk_update(api, sales_user, acme, globex):
    items = [{"first_name": f"B{i}", "email": f"b{i}@bulk.example", "status": ("new", "active")[i % 2],
              "tags": ["bulk", f"t{i % 3}"], **({"primary_company_id": str(acme.pk)} if i % 2 else {})}
             for i in range(30)]
    response = api.post(f"{CONTACTS}/bulk", {"contacts": items}, format="json")
    assert response.status_code == 201, response.content[:300]
    assert stored()["status"] == {(sales_user.pk, "new"): 15, (sales_user.pk, "active"): 15}
    assert_exact()

    ids = [row["id"] for row in response.json()["results"]]
    changes = [{"id": ids[0], "status": "customer"}, {"id": ids[1], "owner_id": None},
               {"id": ids[2], "tags": ["other"]}, {"id": ids[3], "primary_company_id": str(globex.pk)},
               {"id": ids[4], "job_title": "CEO"}]
    assert api.patch(f"{CONTACTS}/bulk", {"contacts": changes}, format="json").status_code == 200
    assert_exact()
    assert stored()["company"][(globex.pk, sales_user.pk)] == 1


def test_admin_tag_and_link_edits_keep_the_counts(client, admin_user, sales_user, acme, globex):
    contact = services.contact_create(user=sales_user, first_name="Ada", tags=["vip"], primary_company_id=acme)
    partner = Tag.objects.create(name="partner")
    client.force_login(admin_user)
    link = ContactCompany.objects.get(contact=contact, company=acme)
    response = client.post(reverse("admin:contacts_contact_change", args=[contact.pk]), {
        "first_name": "Ada", "last_name": "", "email": "", "phone": "", "job_title": "", "role": "",
        "status": "new", "notes": "", "owner": str(sales_user.pk), "primary_company": str(acme.pk),
        "tags": [str(partner.pk)],
        "company_links-TOTAL_FORMS": "2", "company_links-INITIAL_FORMS": "1",
        "company_links-0-id": str(link.pk), "company_links-0-contact": str(contact.pk),
        "company_links-0-company": str(acme.pk), "company_links-0-role": "", "company_links-0-DELETE": "on",
        "company_links-1-contact": str(contact.pk), "company_links-1-company": str(globex.pk),
        "company_links-1-role": "Advisor",
    })
    assert response.status_code == 302, response.content[:3000]
    contact.refresh_from_db()
    assert [t.name for t in contact.tags.all()] == ["partner"]
    assert list(contact.company_links.values_list("company_id", "role")) == [(globex.pk, "Advisor")]
    assert contact.primary_company_id == globex.pk  # the unlinked primary was replaced by the next link
    assert ContactTag.objects.get(contact=contact).contact_created_at == contact.created_at
    assert_exact()


def test_admin_restore_action_goes_through_the_service(client, admin_user, sales_user):
    contact = services.contact_create(user=sales_user, first_name="Back", tags=["vip"])
    services.contact_delete(contact=contact, user=sales_user)
    client.force_login(admin_user)
    response = client.post(reverse("admin:contacts_contact_changelist"),
                           {"action": "restore", "_selected_action": [str(contact.pk)]})
    assert response.status_code == 302
    assert stored()["status"] == {(sales_user.pk, "new"): 1}
    assert_exact()


def test_rebuild_heals_writes_made_around_the_services(sales_user, acme):
    kept = services.contact_create(user=sales_user, first_name="Kept", tags=["vip"], primary_company_id=acme)
    ContactFactory.create_batch(3, owner=None, status="customer")
    # Around the services: a raw status change, a stray counter, a link row and a soft delete.
    unassigned = list(Contact.objects.filter(owner=None).order_by("pk"))
    Contact.objects.filter(pk=kept.pk).update(status="inactive")
    ContactStatusCount.objects.create(owner_id=999, status="new", n=7)
    ContactCompany.objects.create(contact=unassigned[0], company=acme)
    Contact.objects.filter(pk=unassigned[-1].pk).update(deleted_at=dt.datetime.now(dt.UTC))
    assert stored() != truth()

    assert services.contact_counts_rebuild() == 3
    assert_exact()
    ContactStatusCount.objects.all().delete()
    out = StringIO()
    call_command("rebuild_contact_counts", stdout=out)
    assert "3 live contacts" in out.getvalue()
    assert rebuild_counts() == 3
    assert_exact()


def test_link_rows_carry_their_contacts_created_at(sales_user, acme, globex):
    contact = services.contact_create(user=sales_user, first_name="Old", tags=["a", "b"], primary_company_id=acme)
    Contact.objects.filter(pk=contact.pk).update(created_at=dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
    contact.refresh_from_db()
    services.contact_link_company(contact=contact, company=globex, user=sales_user)
    services.contact_update(contact=contact, user=sales_user, tags=["c"])
    bulk = services.contacts_bulk_create(user=sales_user, items=[{"first_name": "N", "tags": ["x"],
                                                                  "primary_company_id": acme.pk}])[0]
    assert ContactCompany.objects.get(contact=contact, company=globex).contact_created_at == contact.created_at
    assert ContactTag.objects.get(contact=contact).contact_created_at == contact.created_at
    assert ContactTag.objects.get(contact=bulk).contact_created_at == bulk.created_at
    assert ContactCompany.objects.get(contact=bulk).contact_created_at == bulk.created_at


def test_sales_user_counts_see_own_and_unassigned_only(sales_user, other_sales_user, acme):
    services.contact_create(user=sales_user, first_name="Mine", tags=["vip"], primary_company_id=acme)
    services.contact_create(user=other_sales_user, first_name="Theirs", tags=["vip"], primary_company_id=acme,
                            allow_duplicate=True)
    services.contact_create(user=None, first_name="Free", tags=["vip"], primary_company_id=acme)
    api = jwt_client(sales_user)
    for query in ("", "tag=vip", f"company_id={acme.pk}", "status=new", "owner=me", "owner=none",
                  f"owner={other_sales_user.pk}"):
        body = api.get(f"{CONTACTS}?{query}").json()
        assert body["count"] == len(body["results"]), query
        assert body["count"] == {"owner=me": 1, "owner=none": 1, f"owner={other_sales_user.pk}": 0}.get(query, 2)
