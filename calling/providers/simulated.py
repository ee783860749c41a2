"""The embedded default provider: no outside service, calls "end" after a short while.

Placing a call queues the Celery task ``calling.simulated_calls_end`` with a countdown of
``CALL_SIMULATED_DURATION`` seconds; the task then reports each call's end through the same
service a real webhook uses (:func:`calling.services.call_apply_event`), with a weighted
realistic outcome, a transcript and a summary. A lead's custom field ``simulated_outcome``
(``completed``, ``not_interested``, ``hung_up``, ``no_answer``, ``busy`` or ``failed``) forces
the result, for demos and checks.
"""

import random
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from calling.providers import base
from calling.providers.base import (
    ANSWERED,
    BUSY,
    COMPLETED,
    FAILED,
    HUNG_UP,
    NO_ANSWER,
    NOT_INTERESTED,
    CallEvent,
    PlaceCall,
    PlacedCall,
)

# (result, weight): what a cold outbound campaign roughly sees.
WEIGHTS = ((COMPLETED, 30), (NOT_INTERESTED, 15), (HUNG_UP, 10), (NO_ANSWER, 30), (BUSY, 8), (FAILED, 7))
RESULTS = {COMPLETED, NOT_INTERESTED, HUNG_UP, NO_ANSWER, BUSY, FAILED}

SUMMARIES = {
    COMPLETED: [
        "{name} is interested and asked for pricing for their team; agreed to a demo next week.",
        "{name} confirmed the budget is approved and wants a proposal by Friday.",
        "{name} is comparing vendors; asked for a case study and a follow-up call on Thursday.",
    ],
    NOT_INTERESTED: [
        "{name} is not interested at the moment; already under contract with a competitor.",
        "{name} declined politely and asked not to be called again this quarter.",
    ],
    HUNG_UP: ["{name} hung up a few seconds into the call."],
}
TRANSCRIPTS = {
    COMPLETED: "AI: Hi {first}, this is Ana calling about your enquiry. Is now a good time?\n"
               "User: Sure, go ahead.\nAI: Great. What would you like to achieve this quarter?\n"
               "User: We need a better way to follow up on our leads. What does it cost?\n"
               "AI: I'll send you pricing and book a demo. Does Tuesday at 10 work?\nUser: Tuesday works.\n",
    NOT_INTERESTED: "AI: Hi {first}, this is Ana calling about your enquiry.\n"
                    "User: Thanks, but we're not interested right now.\nAI: Understood, thank you for your time.\n",
    HUNG_UP: "AI: Hi {first}, this is Ana calling about—\n",
}


@dataclass
class Simulated:
    """The simulated result of one call: ``result`` is a disposition or a non-answered outcome."""

    result: str
    duration: int
    summary: str
    transcript: str


def simulate(call_id: str, name: str, forced: str = "") -> Simulated:
    """The result of call ``call_id`` (seeded by the id, so replays agree)."""
    rng = random.Random(call_id)
    result = forced if forced in RESULTS else rng.choices([r for r, _ in WEIGHTS], [w for _, w in WEIGHTS])[0]
    first = (name or "there").split()[0]
    if result in SUMMARIES:
        duration = rng.randint(4, 15) if result == HUNG_UP else rng.randint(45, 300)
        summary = rng.choice(SUMMARIES[result]).format(name=name or "The lead")
        return Simulated(result, duration, summary, TRANSCRIPTS[result].format(first=first))
    return Simulated(result, 0, "", "")


def event_for(call_id: str, name: str, forced: str = "") -> CallEvent:
    """The ``ended`` event the simulated call reports."""
    sim = simulate(call_id, name, forced)
    outcome = ANSWERED if sim.result in SUMMARIES else sim.result
    return CallEvent(
        provider="simulated", provider_call_id="", call_ref=call_id, kind="ended",
        dedupe_key=f"sim-{call_id}:ended", outcome=outcome,
        disposition=sim.result if outcome == ANSWERED else None,
        ended_reason=f"simulated-{sim.result}", duration_seconds=sim.duration,
        transcript=sim.transcript, summary=sim.summary,
    )


@base.register
class SimulatedProvider(base.Provider):
    name = "simulated"
    label = "Simulated (built in)"
    uses_webhooks = False

    def place_call(self, request: PlaceCall) -> PlacedCall:
        return self.place_calls([request])[0]

    def place_calls(self, requests: list[PlaceCall]) -> list[PlacedCall]:
        """Accept every call and queue one end-report task for the batch (after commit)."""
        from calling.tasks import simulated_calls_end

        items = [[r.call_id, r.customer_name, str(r.variables.get("simulated_outcome") or "")] for r in requests]
        if items:
            transaction.on_commit(lambda: simulated_calls_end.apply_async(
                args=[items], countdown=settings.CALL_SIMULATED_DURATION))
        # No provider id: the end report finds the call by our id (skips a bulk UPDATE per batch).
        return [PlacedCall(provider_call_id="") for r in requests]
