"""factory-boy factories shared by every test folder."""

import factory
from django.utils import timezone

from crm.models import Interaction, User
from leads.models import Lead


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = User.Role.SALES
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create and results:
            instance.save(update_fields=["password"])


class LeadFactory(factory.django.DjangoModelFactory):
    """A live lead; set ``owner`` explicitly (None = unassigned)."""

    class Meta:
        model = Lead

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"lead{n}@example.com")
    phone = factory.Sequence(lambda n: f"+1415555{n % 10000:04d}")
    company = factory.Faker("company")
    source = "Manual"
    owner = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Saved directly (not through lead_create), so keep the services' (owner, status[, day])
        # rollups in step, or every list total and deep page in a test would be off.
        from leads.services import stage_counts_bump, stage_key

        lead = super()._create(model_class, *args, **kwargs)
        if lead.deleted_at is None:
            stage_counts_bump({stage_key(lead): +1})
        return lead


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    lead = factory.SubFactory(LeadFactory)
    kind = Interaction.Kind.NOTE
    body = factory.Faker("sentence")
    occurred_at = factory.LazyFunction(timezone.now)
