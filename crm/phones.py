"""Phone numbers to E.164 with libphonenumber (DESIGN.md decision 10).

A number that parses and is *possible* (right length for its country) is kept, flagged
``verified=False`` when libphonenumber cannot confirm the range is assigned: real exports are full
of such numbers. Only a number that does not parse or is impossible is an error.
"""

from dataclasses import dataclass

import phonenumbers
from django.conf import settings


class InvalidPhoneNumber(ValueError):
    """Raised for a phone that does not parse or cannot exist; ``str()`` is the user message."""


@dataclass(frozen=True, slots=True)
class ParsedPhone:
    """A normalised phone: ``e164`` like ``+14155552671``, ``extension`` digits or ``""``."""

    e164: str
    extension: str
    verified: bool


def normalize_phone(raw: str, region: str | None = None) -> ParsedPhone:
    """Parse ``raw`` (any common notation, ``x123``/``ext. 123`` extensions, ``00``/``001`` prefixes).

    ``region`` is an ISO 3166 alpha-2 code for numbers written without a country code; it
    defaults to ``settings.DEFAULT_PHONE_REGION``. Raises :class:`InvalidPhoneNumber`.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber("Phone number is empty")
    region = (region or settings.DEFAULT_PHONE_REGION or "US").upper()
    if text.startswith("00"):
        # "00" is the international prefix almost everywhere ("001-…" = +1); libphonenumber only
        # strips the default region's own prefix (011 in the US), so rewrite it as "+".
        dialable = "+" + text[2:].lstrip(" -.")
    else:
        dialable = text
    try:
        number = phonenumbers.parse(dialable, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber(f"Invalid phone number format: {text}") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhoneNumber(f"Invalid phone number format: {text}")
    return ParsedPhone(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        extension=number.extension or "",
        verified=phonenumbers.is_valid_number(number),
    )
