"""Synthetic, deterministic lead data for the benchmark: names, emails, phones, companies.

Everything is drawn from a seeded :class:`random.Random`, so two runs with the same ``--leads``
build the same data set. Last names follow a long-tailed distribution (``Smith`` is the most
common, about 3 % of leads) so that a search for a common prefix (:data:`COMMON_PREFIX`) has
many matches and a search for :data:`RARE_FULL_NAME` has only a handful (they are planted).

Emails and phones are unique per lead index: ``first.last.<index in base 36>@domain`` and a
US/UK/German number whose digits are derived from the index.
"""

import random
from datetime import datetime, timedelta


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard "
    "Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty "
    "Anthony Margaret Mark Sandra Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua "
    "Michelle Kenneth Carol Kevin Amanda Brian Dorothy George Melissa Timothy Deborah Ronald "
    "Stephanie Edward Rebecca Jason Sharon Jeffrey Laura Ryan Cynthia Jacob Kathleen Gary Amy "
    "Nicholas Angela Eric Shirley Jonathan Anna Stephen Brenda Larry Pamela Justin Emma Scott "
    "Nicole Brandon Helen Benjamin Samantha Samuel Katherine Gregory Christine Alexander Debra "
    "Frank Rachel Patrick Carolyn Raymond Janet Jack Catherine Dennis Maria Jerry Heather Tyler "
    "Diane Aaron Ruth Jose Julie Adam Olivia Nathan Joyce Henry Virginia Douglas Victoria Zachary "
    "Kelly Peter Lauren Kyle Christina Ethan Joan Walter Evelyn Noah Judith Jeremy Megan Christian "
    "Andrea Keith Cheryl Roger Hannah Terry Jacqueline Gerald Martha Harold Gloria Sean Teresa "
    "Austin Ann Carl Sara Arthur Madison Lawrence Frances Dylan Kathryn Jesse Janice Jordan Jean "
    "Bryan Abigail Billy Alice Joe Julia Bruce Judy Gabriel Sophia Logan Grace Albert Denise "
    "Willie Amber Alan Doris Juan Marilyn Wayne Danielle Elijah Beverly Randy Isabella Roy Theresa "
    "Vincent Diana Ralph Natalie Eugene Brittany Russell Charlotte Bobby Marie Mason Kayla Philip "
    "Alexis Louis Lori Amir Yuki Priya Wei Fatima Mohammed Sofia Lukas Elena Mateo Chloe Hiroshi "
    "Ingrid Pavel Aisha Kwame Lars Astrid Rafael Leila Tomasz Ana"
)

LAST_NAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips "
    "Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers "
    "Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson "
    "Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo "
    "Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell "
    "Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson "
    "Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera "
    "Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez "
    "McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns "
    "Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt "
    "Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice "
    "Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn "
    "Kowalski Okafor Tanaka Rossi Dubois Novak Larsen Haddad Ivanova Berg Yamamoto Schneider "
    "Fischer Weber Becker Hoffmann Moreau Laurent Bianchi Romano Costa Santos Oliveira Nakamura "
    "Kobayashi Singh Kumar Shah Ali Hassan Ahmed Petrov Jansen Visser Lindqvist Nielsen"
)
# Weight ~ 1/(rank + 10): the head is common (Smith ~3 %), the tail still appears hundreds of times.
LAST_WEIGHTS = [1.0 / (rank + 10) for rank in range(len(LAST_NAMES))]
FIRST_WEIGHTS = [1.0 / (rank + 25) for rank in range(len(FIRST_NAMES))]

# A prefix that matches many leads (the most common last name) and a full name planted on a few.
COMMON_PREFIX = "Smi"
# Two words each too common to resolve by ids, whose leads together are few: the ordered scan
# reads far to fill a page (the slowest search there is; docs/benchmarks.md).
COMMON_FULL_NAME = "Smith John"
# A two-letter prefix of ~1 % of leads (first names Fr…, last names Fr…, companies, emails): too
# common for ids, sparse enough that page 40 of it walks ~90,000 index entries (the slowest page
# there is when nothing is memoised; docs/benchmarks.md).
MEDIUM_PREFIX = "fr"
# A common first name, whose matches lie all over the name order (each last name has some), and
# a two-letter prefix of ~10 % of leads: searched by name, a deep page reads every match and
# sorts them (the searches the 50 ms line is still missed by; docs/benchmarks.md, 2026-12-07).
COMMON_FIRST_NAME = "John"
SHORT_PREFIX = "jo"
RARE_FIRST, RARE_LAST = "Grace", "Featherstonhaugh"
RARE_FULL_NAME = f"{RARE_FIRST} {RARE_LAST}"
RARE_EVERY = 200_000  # one planted lead per this many (index 777, 200777, …)

COMPANY_A = _words(
    "Blue Red Green Silver Golden North South East West Pacific Atlantic Summit Pioneer Apex "
    "Evergreen Granite Harbor Iron Lakeside Maple Meridian Nova Orbit Prairie Quantum Redwood "
    "Riverside Sterling Titan Union Vertex Willow Alpine Beacon Cedar Crescent Falcon Horizon"
)
COMPANY_B = _words(
    "Logistics Analytics Health Foods Energy Systems Labs Robotics Media Capital Dynamics "
    "Solutions Manufacturing Software Consulting Retail Networks Partners Holdings Ventures Pharma "
    "Motors Textiles Logic Freight Insurance Realty Foods Security Telecom Biotech Design"
)
COMPANY_C = ("Inc", "LLC", "Ltd", "GmbH", "Group", "Co", "Corp", "SA", "BV", "PLC")
TITLES = (
    "CEO", "CTO", "CFO", "Head of Sales", "Sales Manager", "Operations Director", "Procurement Manager",
    "Office Manager", "Marketing Lead", "IT Manager", "Founder", "Buyer", "Account Executive", "",
)
FREE_MAIL = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com", "gmx.de", "hotmail.co.uk")
SOURCES = ("Website", "Facebook Ad", "Referral", "LinkedIn", "Google Ads", "Trade show", "Manual",
           "Meta Lead Ads", "Cold call", "CSV import")
SOURCE_WEIGHTS = (25, 18, 12, 10, 12, 4, 6, 8, 3, 2)
STATUSES = ("new", "contacted", "interested", "qualified", "proposal", "closed", "lost")
STATUS_WEIGHTS = (30, 20, 14, 12, 8, 7, 9)
NOTES = (
    "Asked for pricing for 25 seats.", "Left a voicemail, will try again Thursday.",
    "Demo went well; wants a proposal by Friday.", "Budget approved for next quarter.",
    "Prefers email. Forwarded the case study.", "Comparing us with two competitors.",
    "Met at the trade show, interested in the API.", "Needs sign-off from their CFO.",
    "Wants a call back after the holidays.", "Requested a security questionnaire.",
)
# Area codes that libphonenumber accepts as valid US numbers.
US_AREAS = _words(
    "201 202 203 205 206 207 208 209 210 212 213 214 215 216 217 218 219 224 225 228 229 231 234 "
    "239 240 248 251 252 253 254 256 260 262 267 269 270 276 281 301 302 303 304 305 307 308 309 "
    "310 312 313 314 315 316 317 318 319 320 321 323 330 334 336 337 339 347 351 352 360 361 386 "
    "401 402 404 405 406 407 408 409 410 412 413 414 415 417 419 423 425 432 434 435 440 443 469 "
    "478 479 480 484 501 502 503 504 505 507 508 509 510 512 513 515 516 517 518 520 530 540 541 "
    "559 561 562 563 567 570 571 573 574 580 585 586 601 602 603 605 606 607 608 609 610 612 614 "
    "615 616 617 618 619 620 623 626 630 631 636 641 646 650 651 660 661 662 678 682 701 702 703 "
    "704 706 707 708 712 713 714 715 716 717 718 719 720 724 727 731 732 734 740 754 757 760 763 "
    "765 770 772 773 774 775 781 785 786 801 802 803 804 805 806 808 810 812 813 814 815 816 817 "
    "818 828 830 831 832 843 845 847 848 850 856 857 858 859 860 862 863 864 865 870 901 903 904 "
    "906 907 908 909 910 912 913 914 915 916 917 918 919 920 925 928 931 936 937 940 941 949 952 "
    "954 956 970 971 972 973 978 979 980 985 989"
)

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def base36(n: int) -> str:
    """``n`` in base 36 (lower case): short, unique tags for emails."""
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _B36[r] + out
        if not n:
            return out


def phone_parts(index: int) -> tuple[str, str, str, str]:
    """A unique phone for ``index``: ``(country code, area, exchange, line)``.

    90 % US numbers (``+1 AAA EEE LLLL``), the rest UK (``+44 20 …``) and German (``+49 30 …``)
    numbers; the digits come from the index, so two indexes never share a number.
    """
    kind = index % 10
    n = index // 10
    if kind == 8:
        return "44", "20", f"{7000 + n // 10_000 % 3000:04d}", f"{n % 10_000:04d}"
    if kind == 9:
        return "49", "30", f"{2000 + n // 10_000 % 8000:04d}", f"{n % 10_000:04d}"
    n = index - index // 10 * 2  # the US share, still unique per index
    area = US_AREAS[n % len(US_AREAS)]
    rest = n // len(US_AREAS)
    return "1", area, f"{200 + rest // 10_000 % 800:03d}", f"{rest % 10_000:04d}"


def phone_e164(index: int) -> str:
    """The E.164 form of :func:`phone_parts` (what the API stores)."""
    return "+" + "".join(phone_parts(index))


def phone_messy(index: int, rng: random.Random) -> str:
    """The same number as :func:`phone_e164` in one of the notations real exports contain."""
    cc, area, exch, line = phone_parts(index)
    if cc != "1":
        return rng.choice((f"+{cc} {area} {exch} {line}", f"00{cc} {area} {exch}{line}",
                           f"+{cc}-{area}-{exch}-{line}"))
    style = rng.randrange(8)
    if style == 0:
        return f"{area}-{exch}-{line}"
    if style == 1:
        return f"({area}){exch}-{line}x{rng.randrange(10, 9999)}"
    if style == 2:
        return f"{area}{exch}{line}"
    if style == 3:
        return f"{area}.{exch}.{line}"
    if style == 4:
        return f"+1-{area}-{exch}-{line}"
    if style == 5:
        return f"001-{area}-{exch}-{line}x{rng.randrange(10, 999)}"
    if style == 6:
        return f"({area}) {exch} {line}"
    return f"1 {area} {exch} {line}"


def company_name(rng: random.Random) -> str:
    """A company such as ``Granite Robotics GmbH`` (~12,000 distinct), or ``""`` for 8 % of leads."""
    if rng.random() < 0.08:
        return ""
    return f"{rng.choice(COMPANY_A)} {rng.choice(COMPANY_B)} {rng.choice(COMPANY_C)}"


def company_domain(company: str) -> str:
    """``Granite Robotics GmbH`` -> ``granite-robotics.com``."""
    words = company.lower().split()[:2]
    return "-".join(words) + ".com"


class PersonMaker:
    """Draws people (first, last, email, company) with the weighted name pools."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        # Weighted draws are slow; pre-draw a table and index it uniformly.
        self._first = rng.choices(FIRST_NAMES, weights=FIRST_WEIGHTS, k=8192)
        self._last = rng.choices(LAST_NAMES, weights=LAST_WEIGHTS, k=8192)

    def person(self, index: int, tag: str = "") -> tuple[str, str, str, str]:
        """``(first, last, email, company)``; ``email`` is unique for ``(index, tag)``."""
        rng = self.rng
        first = self._first[rng.getrandbits(13)]
        last = self._last[rng.getrandbits(13)]
        if index % RARE_EVERY == 777:
            first, last = RARE_FIRST, RARE_LAST
        company = company_name(rng)
        key = base36(index) + tag
        if company and rng.random() < 0.6:
            email = f"{first[0]}{last}.{key}@{company_domain(company)}"
        else:
            email = f"{first}.{last}.{key}@{rng.choice(FREE_MAIL)}"
        return first, last, email.lower(), company


def spread(count: int, start: datetime, end: datetime, rng: random.Random):
    """``count`` increasing datetimes from ``start`` to ``end`` (even spacing with jitter)."""
    span = (end - start).total_seconds()
    step = span / max(count, 1)
    for i in range(count):
        yield start + timedelta(seconds=step * i + rng.random() * step)
