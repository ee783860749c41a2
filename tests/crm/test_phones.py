"""Phones to E.164 (DESIGN.md decision 10), with numbers taken from the customers CSV."""

import pytest
from django.test import override_settings

from crm.phones import InvalidPhoneNumber, ParsedPhone, normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Rows of /work/shared/data/customers-10000.csv, as written there.
        ("+1-313-882-4167", ParsedPhone("+13138824167", "", True)),
        ("8352752061", ParsedPhone("+18352752061", "", True)),
        ("(209)172-7124x3651", ParsedPhone("+12091727124", "3651", False)),
        ("+1-134-348-0265x9132", ParsedPhone("+11343480265", "9132", False)),
        ("+1-605-640-1833x70183", ParsedPhone("+16056401833", "70183", True)),
        ("254-621-7128x7573", ParsedPhone("+12546217128", "7573", True)),
        ("001-315-224-3556", ParsedPhone("+13152243556", "", True)),
        ("001-184-153-9683x1497", ParsedPhone("+11841539683", "1497", False)),
        ("001-887-543-3745x055", ParsedPhone("+18875433745", "055", False)),
        ("915.112.1727", ParsedPhone("+19151121727", "", False)),
        ("552.051.2979x342", ParsedPhone("+15520512979", "342", False)),
        # Other common notations.
        ("(415) 555-2671", ParsedPhone("+14155552671", "", True)),
        ("415-555-2671 ext. 45", ParsedPhone("+14155552671", "45", True)),
        ("415.555.2671 x123", ParsedPhone("+14155552671", "123", True)),
        ("+1 415 555 2671 ext. 45", ParsedPhone("+14155552671", "45", True)),
        ("  +442071838750  ", ParsedPhone("+442071838750", "", True)),
        ("0044 20 7183 8750", ParsedPhone("+442071838750", "", True)),
    ],
)
def test_normalize_to_e164_with_extension_and_verification(raw, expected):
    assert normalize_phone(raw) == expected


def test_unverified_but_possible_numbers_are_kept():
    # Area code 043 is not assigned, so libphonenumber cannot confirm it; the length is right.
    parsed = normalize_phone("043-797-5229")
    assert parsed.e164 == "+10437975229"
    assert parsed.verified is False


@pytest.mark.parametrize("raw", ["12", "hello", "+1 555", "415-555-267", "+99912345678901234567",
                                 "415-555-2671 x1234567890", "00", "++", "-"])
def test_impossible_or_unparseable_numbers_are_rejected(raw):
    with pytest.raises(InvalidPhoneNumber) as exc:
        normalize_phone(raw)
    assert raw.strip() in str(exc.value)


@pytest.mark.parametrize("raw", ["", "   ", None])
def test_empty_is_rejected(raw):
    with pytest.raises(InvalidPhoneNumber, match="empty"):
        normalize_phone(raw)


def test_region_parameter_reads_national_numbers():
    assert normalize_phone("020 7183 8750", "GB").e164 == "+442071838750"
    assert normalize_phone("020 7183 8750", "gb").e164 == "+442071838750"
    assert normalize_phone("98765 43210", "IN") == ParsedPhone("+919876543210", "", True)
    # A number with its own country code ignores the region.
    assert normalize_phone("+14155552671", "GB").e164 == "+14155552671"
    with pytest.raises(InvalidPhoneNumber):
        normalize_phone("020 7183 8750")  # not a US number


@override_settings(DEFAULT_PHONE_REGION="GB")
def test_default_region_comes_from_settings():
    assert normalize_phone("020 7183 8750").e164 == "+442071838750"


def test_unknown_region_is_an_invalid_number_not_a_crash():
    with pytest.raises(InvalidPhoneNumber):
        normalize_phone("415 555 2671", "ZZ")


def test_every_phone_in_the_customers_csv_either_normalises_or_is_rejected_cleanly():
    import csv
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "shared" / "data" / "customers-10000.csv"
    if not path.exists():
        pytest.skip("shared data set not present")
    kept = rejected = 0
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            for raw in (row["Phone 1"], row["Phone 2"]):
                try:
                    parsed = normalize_phone(raw)
                except InvalidPhoneNumber:
                    rejected += 1
                    continue
                kept += 1
                assert parsed.e164.startswith("+") and parsed.e164[1:].isdigit() and len(parsed.e164) <= 16
                assert parsed.extension.isdigit() or parsed.extension == ""
                assert len(parsed.extension) <= 10  # fits Lead.phone_extension
    # Nearly every real-world row is a possible number; only a few are impossible.
    assert kept > 19_000 and rejected < 1_000


def _variants(digits: str) -> list[str]:
    a, b, c = digits[:3], digits[3:6], digits[6:]
    bodies = [digits, f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"({a}) {b}-{c}", f"({a}){b}-{c}", f"{a} {b} {c}",
              f"1-{a}-{b}-{c}", f"1 {a} {b} {c}", f"1{digits}", f"+1-{a}-{b}-{c}", f"+1 ({a}) {b} {c}",
              f"+1{digits}", f"001-{a}-{b}-{c}", f"+{digits}", f"+11{digits}", f"{a}-{b}-{c[:3]}",
              f"{digits}5", f"0{digits}", f"+1 {a} {b} {c[:2]}"]
    suffixes = ["", "x1", "x0551", " x 42", "X1234567", "x12345678", "ext. 45", "x", " #12"]
    return [body + suffix for body in bodies for suffix in suffixes]


@pytest.mark.parametrize("region", ["US", "CA", "GB", "DE"])
def test_the_north_american_shortcut_agrees_with_libphonenumber(region):
    """crm.phones skips phonenumbers.parse for plain North American numbers; wherever it takes
    the shortcut, the result must be exactly what parse gives."""
    import random

    import phonenumbers

    from crm.phones import _parse_nanp

    rng = random.Random(4)
    samples = ["2125550123", "4155552671", "0123456789", "1234567890", "9999999999", "2000000000"]
    samples += ["".join(rng.choice("0123456789") for _ in range(10)) for _ in range(40)]
    taken = 0
    for digits in samples:
        for text in _variants(digits):
            fast = _parse_nanp(text, region)
            if fast is None:
                continue
            taken += 1
            assert fast == phonenumbers.parse(text, region), (text, region)
    assert taken > 400  # the shortcut does take the common shapes (only "+1 …" ones outside +1 regions)


def test_the_shortcut_covers_most_rows_of_the_customers_csv():
    import csv
    from pathlib import Path

    from crm.phones import _parse_nanp

    path = Path(__file__).resolve().parents[3] / "shared" / "data" / "customers-10000.csv"
    if not path.exists():
        pytest.skip("shared data set not present")
    import phonenumbers

    taken = total = 0
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            for raw in (row["Phone 1"], row["Phone 2"]):
                total += 1
                fast = _parse_nanp(raw.strip(), "US")
                if fast is not None:
                    taken += 1
                    assert fast == phonenumbers.parse(raw.strip(), "US"), raw
    assert taken > total // 3
