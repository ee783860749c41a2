"""Contact and company pages, the duplicates page and merge screen, and the lead convert button."""

import pytest
from django.urls import reverse

from contacts.models import Company, Contact, ContactCompany, ContactTag
from crm.models import Interaction
from tests.contacts.factories import CompanyFactory, ContactFactory, TagFactory
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sam(client, sales_user):
    client.force_login(sales_user)
    return client


def test_pages_need_login(client):
    response = client.get(reverse("contacts:contact_list"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_contact_list_empty_state_then_rows_filters_and_nav(sam, sales_user, other_sales_user):
    response = sam.get(reverse("contacts:contact_list"))
    assert response.status_code == 200
    assert b"No contacts yet" in response.content
    assert reverse("contacts:company_list").encode() in response.content  # nav entry

    acme = CompanyFactory(name="Acme Corp")
    mine = ContactFactory(owner=sales_user, first_name="Alice", primary_company=acme, status="customer")
    ContactTag.objects.create(contact=mine, tag=TagFactory(name="vip"))
    ContactFactory(owner=other_sales_user, first_name="Hidden")
    response = sam.get(reverse("contacts:contact_list"))
    assert b"Alice" in response.content and b"Acme Corp" in response.content and b"vip" in response.content
    assert b"Hidden" not in response.content

    response = sam.get(reverse("contacts:contact_list") + "?status=new", HTTP_HX_REQUEST="true")
    assert b"No contacts match these filters" in response.content and b"<html" not in response.content
    response = sam.get(reverse("contacts:contact_list") + "?status=bogus")
    assert response.status_code == 200 and b"Some filters were ignored" in response.content


def test_contact_detail_shows_timeline_companies_and_the_tasks_panel(sam, sales_user, other_sales_user):
    acme = CompanyFactory(name="Acme Corp")
    contact = ContactFactory(owner=sales_user, first_name="Alice", primary_company=acme)
    ContactCompany.objects.create(contact=contact, company=acme, role="Buyer")
    Interaction.objects.create(contact=contact, kind="call", subject="Discovery call")

    response = sam.get(reverse("contacts:contact_detail", args=[contact.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Discovery call" in html and "Buyer" in html and "Acme Corp" in html
    assert "tasks/_contact_panel.html" in [t.name for t in response.templates]
    hidden = ContactFactory(owner=other_sales_user)
    assert sam.get(reverse("contacts:contact_detail", args=[hidden.pk])).status_code == 404


def test_create_contact_warns_on_duplicate_then_creates_anyway(sam, sales_user):
    existing = ContactFactory(owner=sales_user, first_name="Alice", last_name="Morgan", email="alice@acme.com")
    url = reverse("contacts:contact_create")
    data = {"first_name": "Alice", "last_name": "M.", "email": "ALICE@acme.com", "status": "new",
            "company": "Acme", "tags": "a, b"}

    response = sam.post(url, data)

    assert response.status_code == 400
    assert b"Possible duplicate" in response.content and b"Alice Morgan" in response.content
    assert reverse("contacts:contact_detail", args=[existing.pk]).encode() in response.content
    assert Contact.objects.count() == 1

    response = sam.post(url, {**data, "allow_duplicate": "on"})
    assert response.status_code == 302
    created = Contact.objects.exclude(pk=existing.pk).get()
    assert created.primary_company.name == "Acme" and sorted(t.name for t in created.tags.all()) == ["a", "b"]


def test_edit_contact_changes_only_changed_fields(sam, sales_user):
    contact = ContactFactory(owner=sales_user, first_name="Alice", email="alice@acme.com", phone="")
    url = reverse("contacts:contact_edit", args=[contact.pk])
    assert sam.get(url).status_code == 200
    response = sam.post(url, {"first_name": "Alicia", "email": "alice@acme.com", "status": "active",
                              "owner": sales_user.pk, "phone": "(415) 555-2671"})
    assert response.status_code == 302, response.content
    contact.refresh_from_db()
    assert (contact.first_name, contact.status, contact.phone) == ("Alicia", "active", "+14155552671")


def test_link_unlink_and_log_a_call_from_the_contact_page(sam, sales_user):
    contact = ContactFactory(owner=sales_user)
    CompanyFactory(name="Globex")

    sam.post(reverse("contacts:contact_link_company", args=[contact.pk]), {"company": "globex", "role": "CFO"})
    link = ContactCompany.objects.get(contact=contact)
    assert link.company.name == "Globex" and link.role == "CFO"
    sam.post(reverse("contacts:contact_link_company", args=[contact.pk]), {"company": "Globex"})
    assert ContactCompany.objects.filter(contact=contact).count() == 1

    response = sam.post(reverse("contacts:contact_add_interaction", args=[contact.pk]),
                        {"kind": "call", "direction": "outbound", "subject": "Pricing call"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"Pricing call" in response.content
    contact.refresh_from_db()
    assert contact.last_contacted is not None
    response = sam.post(reverse("contacts:contact_add_interaction", args=[contact.pk]), {"kind": "call"})
    assert response.status_code == 400 and Interaction.objects.count() == 1

    sam.post(reverse("contacts:contact_unlink_company", args=[contact.pk, link.company_id]))
    assert not ContactCompany.objects.filter(contact=contact).exists()


def test_duplicates_page_and_merge_screen(sam, sales_user):
    a = ContactFactory(owner=sales_user, first_name="Alice", email="same@x.com", job_title="")
    b = ContactFactory(owner=sales_user, first_name="Alicia", email="same@x.com", job_title="CTO")
    Interaction.objects.create(contact=b, kind="email", subject="From b")

    response = sam.get(reverse("contacts:duplicates"))
    assert response.status_code == 200 and b"same@x.com" in response.content
    merge_url = reverse("contacts:contact_merge", args=[a.pk]) + f"?other={b.pk}"
    assert merge_url.encode() in response.content

    screen = sam.get(merge_url)
    assert screen.status_code == 200
    assert b'name="first_name"' in screen.content and b'name="job_title"' in screen.content

    response = sam.post(reverse("contacts:contact_merge", args=[a.pk]),
                        {"other": str(b.pk), "first_name": "other", "job_title": "other"})
    assert response.status_code == 302
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.first_name, a.job_title) == ("Alicia", "CTO")
    assert b.merged_into_id == a.pk and Interaction.objects.get(subject="From b").contact_id == a.pk
    assert b"No likely duplicates" in sam.get(reverse("contacts:duplicates")).content


def test_company_pages(sam, sales_user, other_sales_user):
    response = sam.get(reverse("contacts:company_list"))
    assert b"No companies yet" in response.content

    response = sam.post(reverse("contacts:company_create"), {"name": "Acme", "domain": "https://www.acme.com/x",
                                                             "owner": sales_user.pk})
    assert response.status_code == 302
    acme = Company.objects.get()
    assert acme.domain == "acme.com"
    response = sam.post(reverse("contacts:company_create"), {"name": "Acme 2", "domain": "acme.com"})
    assert response.status_code == 400 and b"already exists" in response.content

    contact = ContactFactory(owner=sales_user, first_name="Zoe")
    ContactCompany.objects.create(contact=contact, company=acme, role="Buyer")
    response = sam.get(reverse("contacts:company_detail", args=[acme.pk]))
    assert b"Zoe" in response.content and b"Buyer" in response.content
    sam.post(reverse("contacts:company_add_interaction", args=[acme.pk]), {"kind": "meeting", "subject": "QBR"})
    assert Interaction.objects.get(company=acme).subject == "QBR"
    assert b"Acme" in sam.get(reverse("contacts:company_list") + "?search=acm").content
    hidden = CompanyFactory(owner=other_sales_user)
    assert sam.get(reverse("contacts:company_detail", args=[hidden.pk])).status_code == 404
    assert sam.get(reverse("contacts:company_edit", args=[acme.pk])).status_code == 200


def test_lead_page_convert_button_converts_once(sam, sales_user):
    lead = LeadFactory(owner=sales_user, company="Initech", email="peter@initech.com")
    page = sam.get(reverse("leads:lead_detail", args=[lead.pk]))
    assert reverse("leads:lead_convert", args=[lead.pk]).encode() in page.content

    response = sam.post(reverse("leads:lead_convert", args=[lead.pk]))
    lead.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:contact_detail", args=[lead.converted_contact_id])
    page = sam.get(reverse("leads:lead_detail", args=[lead.pk]))
    assert b"Converted" in page.content and b"View contact" in page.content

    again = sam.post(reverse("leads:lead_convert", args=[lead.pk]), follow=True)
    assert b"already converted" in again.content
    assert Contact.objects.count() == 1
