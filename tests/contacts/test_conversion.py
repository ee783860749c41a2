"""Lead conversion (``POST /api/v1/leads/{id}/convert`` and ``leads.services.lead_convert``)."""

import uuid

import pytest

from contacts.models import Company, Contact, ContactCompany
from crm.events import event_published
from crm.models import Interaction
from leads.models import Lead
from tests.contacts.factories import CompanyFactory, ContactFactory
from tests.factories import InteractionFactory, LeadFactory

pytestmark = pytest.mark.django_db


def convert(api, lead):
    return api.post(f"/api/v1/leads/{lead.pk}/convert", format="json")


def test_convert_creates_contact_and_company_and_links_the_timeline(
        api, sales_user, django_capture_on_commit_callbacks):
    lead = LeadFactory(owner=sales_user, first_name="Alice", last_name="Johnson", email="alice@newco.io",
                       phone="+14155550123", company="NewCo", job_title="CTO", status="closed")
    old = InteractionFactory(lead=lead, kind="call")
    seen = []

    def receiver(sender, event, data, **kwargs):
        seen.append((event, data))

    event_published.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = convert(api, lead)
    finally:
        event_published.disconnect(receiver)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["contact_created"] and body["company_created"]
    contact = Contact.objects.get(pk=body["contact"]["id"])
    company = Company.objects.get(pk=body["company"]["id"])
    assert (contact.name, contact.email, contact.phone, contact.owner, contact.status) == (
        "Alice Johnson", "alice@newco.io", "+14155550123", sales_user, "customer")
    assert (company.name, company.domain) == ("NewCo", "newco.io")
    assert contact.primary_company == company
    assert ContactCompany.objects.get(contact=contact).role == "CTO"
    lead.refresh_from_db()
    assert lead.converted_contact == contact and lead.converted_at is not None
    old.refresh_from_db()
    assert old.contact == contact  # the lead's history shows on the contact too
    note = Interaction.objects.get(lead=lead, metadata__event="lead_converted")
    assert note.contact == contact and note.company == company
    assert contact.last_contacted == old.occurred_at
    history = api.get(f"/api/v1/contacts/{contact.pk}/history").json()["results"]
    assert {h["id"] for h in history} == {str(old.pk), str(note.pk)}
    assert tuple(e for e, _ in seen if e == "lead.converted") == ("lead.converted", )
    data = dict(seen)["lead.converted"]
    assert data["contact_id"] == str(contact.pk) and data["company_id"] == str(company.pk)


def test_converting_twice_is_409_and_changes_nothing(api, sales_user):
    lead = LeadFactory(owner=sales_user, company="Acme")
    assert convert(api, lead).status_code == 200
    counts = (Contact.objects.count(), Company.objects.count(), Interaction.objects.count())

    response = convert(api, lead)

    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "lead_already_converted" and body["contact_id"]
    assert (Contact.objects.count(), Company.objects.count(), Interaction.objects.count()) == counts


@pytest.mark.parametrize("lead_company, lead_email", [
    ("", "bob@acme.com"),  # by domain
    ("ACME corp", "bob@gmail.com"),  # by name, case-insensitively; gmail.com is no company's domain
    ("Some Other Name", "bob@www.acme.com"),  # domain first
])
def test_convert_matches_an_existing_company_instead_of_duplicating(api, sales_user, lead_company, lead_email):
    acme = CompanyFactory(name="Acme Corp", domain="acme.com")
    lead = LeadFactory(owner=sales_user, company=lead_company, email=lead_email)

    body = convert(api, lead).json()

    assert body["company"]["id"] == str(acme.pk) and body["company_created"] is False
    assert Company.objects.count() == 1


def test_free_mail_and_no_company_name_links_no_company(api, sales_user):
    lead = LeadFactory(owner=sales_user, company="", email="someone@gmail.com")
    body = convert(api, lead).json()
    assert body["company"] is None
    assert not Company.objects.exists()


def test_email_only_lead_creates_a_company_named_after_its_domain(api, sales_user):
    lead = LeadFactory(owner=sales_user, company="", email="ann@initech.com")
    body = convert(api, lead).json()
    assert body["company"]["name"] == "Initech" and body["company"]["domain"] == "initech.com"


def test_convert_reuses_a_live_contact_with_the_same_email(api, sales_user):
    existing = ContactFactory(owner=sales_user, email="same@acme.com")
    lead = LeadFactory(owner=sales_user, email="Same@acme.com", company="")
    body = convert(api, lead).json()
    assert body["contact"]["id"] == str(existing.pk) and body["contact_created"] is False
    assert Contact.objects.count() == 1


def test_convert_others_lead_or_unknown_is_404(api, other_sales_user):
    hidden = LeadFactory(owner=other_sales_user)
    for pk in (hidden.pk, uuid.uuid4(), "nope"):
        response = api.post(f"/api/v1/leads/{pk}/convert")
        assert response.status_code == 404 and response.json()["code"] == "lead_not_found"
    assert not Contact.objects.exists()
    assert Lead.objects.get(pk=hidden.pk).converted_contact is None
