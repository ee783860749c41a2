"""Phone numbers to E.164 with libphonenumber (DESIGN.md decision 10).

A number that parses and is *possible* (right length for its country) is kept, flagged
``verified=False`` when libphonenumber cannot confirm the range is assigned: real exports are full
of such numbers. Only a number that does not parse or is impossible is an error.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

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


_NANP_FORMATTING = str.maketrans("", "", " -.()")
_NANP_EXTENSION = re.compile(r" *[xX] *([0-9]{1,7})$")


@lru_cache(maxsize=64)
def _region_code(region: str) -> int:
    return phonenumbers.country_code_for_region(region)


def _parse_nanp(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    """The common case without ``phonenumbers.parse`` (~35 µs a number, most of a CSV row's
    time): a North American number, ``+1`` or a national number in a +1 region, written with
    spaces, dashes, dots or parentheses and an optional ``x123`` extension, whose area code
    starts with 2-9. Returns what ``parse`` returns for it, or None for any other shape (the
    caller then parses it). tests/crm/test_phones.py checks both agree."""
    extension = None
    found = _NANP_EXTENSION.search(text)
    if found:
        extension, text = found.group(1), text[: found.start()]
    digits = text.translate(_NANP_FORMATTING)
    if digits.startswith("+1"):
        digits = digits[2:]
    elif digits.startswith("+") or _region_code(region) != 1:
        return None
    elif len(digits) == 11 and digits[0] == "1":  # the national prefix
        digits = digits[1:]
    if len(digits) != 10 or not (digits.isascii() and digits.isdigit()) or digits[0] in "01":
        return None
    return phonenumbers.PhoneNumber(country_code=1, national_number=int(digits), extension=extension)


def _parse_possible(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    number = _parse_nanp(text, region)
    if number is None:
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
