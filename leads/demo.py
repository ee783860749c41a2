"""Demo users and a few hundred leads with timelines, for ``manage.py seed_demo``.

Idempotent: adds no leads when some exist, unless ``force``. Leads,
status changes and interactions go through ``leads.services``; the command then moves their
timestamps into the past (a demo-only rewrite of history) so the board, the timelines and the
time-in-status figures look like a team that has been at it for a few months.
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from crm.models import Interaction, User
from leads import services
from leads.models import Lead

DEMO_USERS = [
    # username, password, role, first, last
    ("admin", "crm-demo-admin", User.Role.ADMIN, "Ada", "Admin"),
    ("manager", "crm-demo-manager", User.Role.MANAGER, "Maria", "Manager"),
    ("sales1", "crm-demo-sales", User.Role.SALES, "Sam", "Seller"),
    ("sales2", "crm-demo-sales", User.Role.SALES, "Sofia", "Closer"),
    ("sales3", "crm-demo-sales", User.Role.SALES, "Tom", "Hunter"),
]
FIRST = [
    "Alice", "Bob", "Carla", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira",
    "Liam", "Mona", "Nils", "Olga", "Pavel", "Quinn", "Rosa", "Sven", "Tara",
]
LAST = [
    "Johnson", "Okafor", "Schmidt", "Tanaka", "Rossi", "Dubois", "Novak", "Silva", "Larsen",
    "Kowalski", "Haddad", "Murphy", "Chen", "Ivanova", "Berg",
]
COMPANIES = ["Acme Corp", "Globex", "Initech", "Umbrella Health", "Stark Logistics", "Wayne Foods",
             "Hooli", "Vandelay Imports", "Soylent Labs", "Tyrell Energy", ""]
TITLES = ["CEO", "Head of Sales", "Operations Director", "Procurement Manager", "CTO", "Office Manager"]
SOURCES = ["Facebook Ad", "Website", "Referral", "LinkedIn", "Google Ads", "Trade show", "Manual"]
PIPELINE = ["new", "contacted", "interested", "qualified", "proposal", "closed"]
NOTES = [
    "Asked for pricing for 25 seats.", "Left a voicemail, will try again Thursday.",
    "Demo went well; wants a proposal by Friday.", "Budget approved for Q1.",
    "Prefers email. Forwarded the case study.", "Comparing us with two competitors.",
]


def seed(*, count: int = 300, rng: random.Random, force: bool = False, stdout=None) -> dict[str, User]:
    """Create the demo users (always, idempotently) and ``count`` leads unless leads exist and
    not ``force``. Returns the users by username (``admin``, ``manager``, ``sales1``…)."""
    users = _users()
    if Lead.objects.exists() and not force:
        if stdout:
            stdout.write("Demo leads already present; none added (use --force to add more).")
        return users
    owners = [users["sales1"], users["sales2"], users["sales3"], users["manager"], None]
    now = timezone.now()
    for i in range(count):
        with transaction.atomic():
            _lead(i, rng, owners, users, now)
    # The services counted each lead on the day it was created (today); the back-dating above
    # moved it, so the day/month rollups the deep pages are found with are recomputed.
    services.stage_counts_rebuild()
    if stdout:
        stdout.write(f"Created {count} demo leads.")
    return users


def _users() -> dict[str, User]:
    users = {}
    for username, password, role, first, last in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"role": role, "first_name": first, "last_name": last,
                      "email": f"{username}@demo.crm.local",
                      "is_staff": role == User.Role.ADMIN, "is_superuser": role == User.Role.ADMIN},
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        users[username] = user
    return users

def _lead(i: int, rng: random.Random, owners, users, now) -> None:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    owner = rng.choice(owners)
    actor = owner or users["manager"]
    created = now - timedelta(days=rng.uniform(1, 120), minutes=rng.randint(0, 600))
    # Walk part of the pipeline; some leads end lost.
    depth = rng.choices(range(len(PIPELINE)), weights=[30, 22, 16, 12, 9, 11])[0]
    path = PIPELINE[1 : depth + 1]
    if depth and rng.random() < 0.15:
        path = path[:-1] + ["lost"]
    # Random demo phones can collide: a repeat is demo data, not someone's mistake to warn about.
    lead = services.lead_create(
        user=actor, owner=owner, first_name=first, last_name=last, allow_duplicate=True,
        email=f"{first}.{last}.{i}@example.com".lower(),
        phone=f"+1 415 555 {rng.randint(0, 9999):04d}" if rng.random() < 0.9 else "",
        company=rng.choice(COMPANIES), job_title=rng.choice(TITLES), source=rng.choice(SOURCES),
        score=rng.randint(5, 98), value=Decimal(rng.randrange(500, 60000, 250)),
    )
    moments = sorted(created + (now - created) * rng.random() for _ in range(len(path) + 2))
    for status in path:
        services.lead_change_status(lead=lead, status=status, user=actor)
    for _ in range(rng.randint(0, 3)):
        services.lead_add_interaction(
            lead=lead, user=actor, kind=rng.choice(["call", "email", "meeting", "note"]),
            body=rng.choice(NOTES), direction=rng.choice(["outbound", "inbound"]),
        )
    # Demo only: spread this lead's history over its lifetime (see module docstring).
    entries = list(lead.interactions.order_by("occurred_at", "id").values_list("pk", "kind"))
    steps = iter(moments)
    Lead.objects.filter(pk=lead.pk).update(created_at=created)
    Interaction.objects.filter(pk=entries[0][0]).update(occurred_at=created)
    last_status_at = created
    last_interaction = None
    for pk, kind in entries[1:]:
        at = next(steps, now)
        Interaction.objects.filter(pk=pk).update(occurred_at=at)
        if kind == Interaction.Kind.STATUS_CHANGE:
            last_status_at = at
        else:
            last_interaction = at
    Lead.objects.filter(pk=lead.pk).update(status_changed_at=last_status_at,
                                            last_interaction_at=last_interaction)
