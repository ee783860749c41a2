"""The provider interface and registry: one module per provider (integrations.md section 2).

A provider module defines a :class:`Provider` subclass and decorates it with :func:`register`;
every module of this package is imported by :func:`load`, so adding Twilio or Bland is one new
file (``calling/providers/twilio.py``) and nothing else. The CRM talks to providers only in the
provider-neutral shapes below: :class:`PlaceCall` out, :class:`PlacedCall` back, and
:class:`CallEvent` from webhooks.
"""

import hashlib
import hmac
import importlib
import json
import logging
import pkgutil
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings

log = logging.getLogger(__name__)

# Outcome and disposition values (calling.models.Call.Outcome / Disposition).
ANSWERED, NO_ANSWER, BUSY, FAILED = "answered", "no_answer", "busy", "failed"
COMPLETED, NOT_INTERESTED, HUNG_UP = "completed", "not_interested", "hung_up"
# Below this many seconds a customer-ended answered call counts as hung up.
HUNG_UP_SECONDS = 20


class ProviderError(Exception):
    """The provider refused or could not take the call; ``str()`` says why (kept on the call)."""


@dataclass
class PlaceCall:
    """CRM -> adapter: place one call.

    ``to_e164``/``from_e164`` are E.164 numbers; ``assistant_id`` the provider's assistant or
    agent id; ``phone_number_id`` the provider's id of the caller number (Vapi);
    ``variables`` go to the assistant's prompt; ``metadata`` comes back in webhooks
    (``call_id``, ``lead_id``, ``attempt``, ``idempotency_key``).
    """

    call_id: str
    lead_id: str
    attempt: int
    to_e164: str
    from_e164: str
    assistant_id: str
    phone_number_id: str
    customer_name: str
    variables: dict
    idempotency_key: str
    metadata: dict = field(default_factory=dict)


@dataclass
class PlacedCall:
    """Adapter -> CRM: the provider accepted the call under ``provider_call_id`` ("" when the
    provider reports back by our call id, as the simulated one does)."""

    provider_call_id: str
    raw: dict = field(default_factory=dict)


@dataclass
class CallEvent:
    """Webhook -> CRM, provider-neutral (integrations.md "Provider-neutral contract").

    ``kind``: ``progress`` (status only), ``ended`` (final outcome) or ``analyzed`` (summary and
    analysis after the end). ``call_ref``: our call id from the metadata, when present.
    ``status``: a :class:`calling.models.Call.Status` value for progress events.
    ``retryable``: False for failures a retry cannot fix (an invalid destination).
    """

    provider: str
    provider_call_id: str
    dedupe_key: str
    kind: str
    call_ref: str = ""
    status: str = ""
    outcome: str | None = None
    disposition: str | None = None
    ended_reason: str = ""
    duration_seconds: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    transcript: str | None = None
    summary: str | None = None
    recording_url: str | None = None
    retryable: bool = True
    raw: dict = field(default_factory=dict)


class Provider:
    """One calling provider. Subclasses set ``name``/``label`` and implement the methods.

    ``place_call`` raises :class:`ProviderError`; ``verify_webhook`` must check the signature
    over the raw body before anything is parsed; ``parse_webhook`` returns the events of one
    verified payload (empty for messages the CRM does not use).
    """

    name = ""
    label = ""
    #: settings that must be non-empty for the provider to be usable
    required_settings: tuple[str, ...] = ()
    #: True when the provider reports back through /api/v1/calls/webhooks/<name>
    uses_webhooks = True

    def configured(self) -> bool:
        return all(getattr(settings, key, "") for key in self.required_settings)

    def place_call(self, request: PlaceCall) -> PlacedCall:
        raise NotImplementedError

    def verify_webhook(self, raw: bytes, headers) -> bool:
        return False

    def parse_webhook(self, payload: dict) -> list[CallEvent]:
        return []


_REGISTRY: dict[str, Provider] = {}
_loaded = False


def register(cls: type[Provider]) -> type[Provider]:
    """Class decorator: make ``cls()`` available under ``cls.name``."""
    _REGISTRY[cls.name] = cls()
    return cls


def load() -> dict[str, Provider]:
    """Import every module of this package once (each registers itself); returns the registry."""
    global _loaded
    if not _loaded:
        package = importlib.import_module("calling.providers")
        for module in pkgutil.iter_modules(package.__path__):
            if module.name != "base":
                importlib.import_module(f"calling.providers.{module.name}")
        _loaded = True
    return _REGISTRY


def get(name: str) -> Provider | None:
    """The provider registered as ``name``, or None."""
    return load().get(name)


def names() -> list[str]:
    """Registered provider names, ``simulated`` first."""
    return sorted(load(), key=lambda n: (n != "simulated", n))


# --- helpers the adapters share ----------------------------------------------------------------

def post_json(url: str, body: dict, headers: dict) -> dict:
    """POST ``body`` as JSON; returns the decoded JSON answer. Raises ProviderError on a
    network error, a non-2xx status (with the provider's message) or a non-JSON answer."""
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=settings.CALL_PROVIDER_HTTP_TIMEOUT) as response:
            text = response.read().decode() or "{}"
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:500]
        raise ProviderError(f"HTTP {exc.code} from {url}: {detail}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ProviderError(f"Could not reach {url}: {exc}") from None
    try:
        answer = json.loads(text)
    except ValueError:
        raise ProviderError(f"Not JSON from {url}: {text[:200]}") from None
    if not isinstance(answer, dict):
        raise ProviderError(f"Unexpected answer from {url}: {text[:200]}")
    return answer


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def answered_disposition(*, interested, customer_ended: bool, duration: int | None, successful=None) -> str:
    """integrations.md "Disposition rules" for an answered call: ``not_interested`` when the
    analysis says ``interested == false``; ``hung_up`` when the customer ended it early
    (under :data:`HUNG_UP_SECONDS`, or the analysis says unsuccessful); else ``completed``."""
    if interested is False:
        return NOT_INTERESTED
    if customer_ended and ((duration is not None and duration < HUNG_UP_SECONDS) or successful is False):
        return HUNG_UP
    return COMPLETED
