"""factory-boy factories for the calling app."""

import factory

from calling.models import WEEKDAYS, Agent, Call

ALWAYS_OPEN = {day: [["00:00", "24:00"]] for day in WEEKDAYS}


class AgentFactory(factory.django.DjangoModelFactory):
    """An active simulated agent open around the clock (set ``business_hours`` to test hours)."""

    class Meta:
        model = Agent

    name = factory.Sequence(lambda n: f"Agent {n}")
    time_zone = "UTC"
    business_hours = factory.LazyFunction(lambda: {k: [list(w) for w in v] for k, v in ALWAYS_OPEN.items()})
    max_attempts = 3
    retry_delay_minutes = 60
    provider = "simulated"


class CallFactory(factory.django.DjangoModelFactory):
    """A call of ``agent`` to ``lead`` (both required)."""

    class Meta:
        model = Call

    provider = factory.LazyAttribute(lambda c: c.agent.provider)
    attempt = 1
    idempotency_key = factory.LazyAttribute(lambda c: f"{c.lead.pk}:{c.attempt}")
    to_number = factory.LazyAttribute(lambda c: c.lead.phone)
