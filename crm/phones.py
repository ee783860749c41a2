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


def _parse_possible(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_possible_number(number) else None


def normalize_phone(raw: str, region: str | None = None) -> ParsedPhone:
    """Parse ``raw`` (any common notation, ``x123``/``ext. 123`` extensions, ``00``/``001`` prefixes).

    ``region`` is an ISO 3166 alpha-2 code for numbers written without a country code; it
    defaults to ``settings.DEFAULT_PHONE_REGION``. Raises :class:`InvalidPhoneNumber`.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber("Phone number is empty")
    region = (region or settings.DEFAULT_PHONE_REGION or "US").upper()
    number = _parse_possible(text, region)
    if number is None and text.startswith("00"):
        # "00" is the international prefix almost everywhere ("001-…" = +1); libphonenumber only
        # strips the region's own (011 in the US). Read it as "+" when the national reading is
        # impossible, so a national number that merely starts with 00 is still kept.
        number = _parse_possible("+" + text[2:].lstrip(" -."), region)
    if number is None:
        raise InvalidPhoneNumber(f"Invalid phone number format: {text}")
    return ParsedPhone(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        extension=number.extension or "",
        verified=phonenumbers.is_valid_number(number),
    )
