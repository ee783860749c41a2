"""Factories for contacts and companies (saved directly: tests of the rules go through the services)."""

import factory

from contacts.models import Company, Contact, ContactCompany, Tag


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag{n}")


class CompanyFactory(factory.django.DjangoModelFactory):
    """A live company; set ``owner`` explicitly (None = unassigned)."""

    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")
    domain = factory.Sequence(lambda n: f"company{n}.example")
    industry = "Software"
    owner = None


class ContactFactory(factory.django.DjangoModelFactory):
    """A live contact; set ``owner`` explicitly (None = unassigned)."""

    class Meta:
        model = Contact

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    phone = factory.Sequence(lambda n: f"+1415666{n % 10000:04d}")
    owner = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Saved directly (not through contact_create), so keep the services' count rollups in
        # step, or every list total in a test would be off. Links and tags added later as rows
        # bypass the tag and company rollups: tests that read those totals go through the services.
        from contacts.services import contact_counts_apply, counted

        contact = super()._create(model_class, *args, **kwargs)
        if contact.deleted_at is None:
            contact_counts_apply(before={}, after={contact.pk: counted(contact)})
        return contact


class ContactCompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactCompany

    contact = factory.SubFactory(ContactFactory)
    company = factory.SubFactory(CompanyFactory)
    role = ""
