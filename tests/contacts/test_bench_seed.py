"""``contacts.benchmark`` (the seeding behind ``manage.py bench_contacts``): raw INSERTs that keep
every invariant the services keep, rollups exact afterwards, and nothing added the second time."""

import pytest
from django.db import connection

from bench.seed import ensure_users
from contacts import benchmark
from contacts.models import Company, Contact, ContactCompany, ContactTag
from crm.phones import normalize_phone
from tests.conftest import jwt_client
from tests.contacts.test_rollups import stored, truth

pytestmark = [
    pytest.mark.django_db,
    # The seeder writes through a raw MySQLdb cursor (multi-row INSERTs, session checks off).
    pytest.mark.skipif(connection.vendor != "mysql", reason="the benchmark seeds MariaDB/MySQL only"),
]


def scalar(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.fetchone()[0] or 0)


def test_seed_contacts_keeps_the_services_invariants_and_is_idempotent():
    users = ensure_users()
    result = benchmark.seed_contacts(300, users=users, batch=64, log=lambda message: None)

    assert (result.contacts, result.companies) == (300, 50)
    assert Contact.objects.count() == 300 and Company.objects.count() == benchmark.companies_for(300)
    assert result.links == ContactCompany.objects.count() and result.tag_links == ContactTag.objects.count()
    # The primary company is one of the linked ones.
    missing = [c.pk for c in Contact.objects.filter(primary_company__isnull=False)
               if not ContactCompany.objects.filter(contact=c, company_id=c.primary_company_id).exists()]
    assert missing == []
    # Link rows carry their contact's created_at; last_contacted is the newest call/email/meeting.
    assert scalar("SELECT COUNT(*) FROM contacts_contactcompany l JOIN contacts_contact c ON c.id = l.contact_id "
                  "WHERE l.contact_created_at <> c.created_at") == 0
    assert scalar("SELECT COUNT(*) FROM contacts_contact_tags l JOIN contacts_contact c ON c.id = l.contact_id "
                  "WHERE l.contact_created_at <> c.created_at") == 0
    assert scalar("SELECT COUNT(*) FROM contacts_contact c WHERE NOT (c.last_contacted <=> (SELECT MAX(i.occurred_at) "
                  "FROM crm_interaction i WHERE i.contact_id = c.id AND i.kind IN ('call', 'email', 'meeting')))") == 0
    phones = list(Contact.objects.values_list("phone", flat=True))
    assert len(set(phones)) == 300 and all(normalize_phone(p).e164 == p for p in phones[:50])
    assert all(email == email.lower() for email in Contact.objects.values_list("email", flat=True))
    assert stored() == truth()

    live = Contact.objects.filter(deleted_at__isnull=True).count()
    assert jwt_client(users["bench_manager"]).get("/api/v1/contacts").json()["count"] == live

    assert benchmark.seed_contacts(300, users=users, log=lambda message: None) is None
    assert Contact.objects.count() == 300
