"""The contacts demo data, the admin pages, and the merge signal other apps listen to."""

import random

import pytest
from django.urls import reverse

from contacts import services
from contacts.demo import seed
from contacts.models import Company, Contact, ContactCompany
from contacts.signals import contact_merged
from leads.demo import _users
from tests.contacts.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_demo_seeds_companies_contacts_links_and_planted_duplicates_once():
    users = _users()
    seed(users=users, rng=random.Random(7), force=False, stdout=None)

    assert Company.objects.count() == 10
    assert Contact.objects.count() == 62
    assert ContactCompany.objects.count() >= 60
    _, total = services.duplicate_page(user=users["admin"], limit=20, offset=0)
    assert total == 2
    seed(users=users, rng=random.Random(7), force=False, stdout=None)
    assert Contact.objects.count() == 62


def test_admin_lists_and_creates_through_services(client, admin_user):
    client.force_login(admin_user)
    company = CompanyFactory(name="Acme")
    ContactFactory(first_name="Listed")
    for name in ("contact", "company", "contactcompany", "tag"):
        response = client.get(reverse(f"admin:contacts_{name}_changelist"))
        assert response.status_code == 200, name
    assert b"Listed" in client.get(reverse("admin:contacts_contact_changelist")).content

    response = client.post(reverse("admin:contacts_contact_add"), {
        "first_name": "Ada", "last_name": "Admin", "email": "ADA@x.com", "phone": "(415) 555-2671",
        "status": "new", "primary_company": str(company.pk),
        "company_links-TOTAL_FORMS": "0", "company_links-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302, response.content[:2000]
    ada = Contact.objects.get(first_name="Ada")
    assert (ada.email, ada.phone, ada.primary_company) == ("ada@x.com", "+14155552671", company)
    assert ContactCompany.objects.filter(contact=ada, company=company).exists()

    response = client.post(reverse("admin:contacts_company_add"), {"name": "Dup", "domain": company.domain})
    assert response.status_code == 200 and b"already exists" in response.content


def test_merge_sends_contact_merged_inside_the_transaction(sales_user):
    a, b = ContactFactory(owner=sales_user), ContactFactory(owner=sales_user)
    seen = []

    def receiver(sender, source, target, **kwargs):
        # Sent before the other contact is retired: receivers still see it live.
        seen.append((source.pk, target.pk, Contact.objects.get(pk=source.pk).deleted_at))

    contact_merged.connect(receiver)
    try:
        services.contact_merge(contact=a, other=b, user=sales_user)
    finally:
        contact_merged.disconnect(receiver)
    assert seen == [(b.pk, a.pk, None)]


def test_a_failing_receiver_rolls_the_whole_merge_back(sales_user):
    a, b = ContactFactory(owner=sales_user), ContactFactory(owner=sales_user)

    def boom(sender, **kwargs):
        raise RuntimeError("tasks could not move")

    contact_merged.connect(boom)
    try:
        with pytest.raises(RuntimeError):
            services.contact_merge(contact=a, other=b, user=sales_user)
    finally:
        contact_merged.disconnect(boom)
    b.refresh_from_db()
    assert b.deleted_at is None and b.merged_into_id is None


@pytest.mark.parametrize("raw, domain", [
    ("https://www.Acme.com/about?x=1", "acme.com"), ("acme.co.uk", "acme.co.uk"),
    ("http://shop.acme.io:8080", "shop.acme.io"),
    ("ann@Acme.com", "acme.com"), ("", ""),
])
def test_normalize_domain(raw, domain):
    assert services.normalize_domain(raw) == domain


@pytest.mark.parametrize("raw", ["acme", "not a domain", "http://", "acme..com"])
def test_normalize_domain_refuses_non_hosts(raw):
    with pytest.raises(services.ServiceError):
        services.normalize_domain(raw)


def test_email_domain_ignores_free_mail():
    assert services.email_domain("a@gmail.com") == "" and services.email_domain("a@Initech.com") == "initech.com"
    assert services.email_domain("a@example.com") == "" == services.email_domain("a@shop.test")
