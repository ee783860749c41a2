"""Demo companies and contacts for ``manage.py seed_demo`` (runs after the leads demo).

About ten companies, sixty contacts linked to them with roles and tags, a few timeline entries
per contact, and two planted duplicate pairs (same email; same phone) to find on the
duplicates page and merge. Everything goes through ``contacts.services``. Idempotent: adds
nothing when contacts exist, unless ``force``.
"""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from contacts import services
from contacts.models import Company, Contact
from crm.models import Interaction

COMPANIES = [
    # name, domain, industry, size
    ("Northwind Traders", "northwind.example", "Wholesale", "51-200"),
    ("Contoso Health", "contoso-health.example", "Healthcare", "201-500"),
    ("Fabrikam Robotics", "fabrikam.example", "Manufacturing", "51-200"),
    ("Tailspin Airlines", "tailspin.example", "Travel", "1000+"),
    ("Litware Software", "litware.example", "Software", "11-50"),
    ("Proseware Labs", "proseware.example", "Biotech", "11-50"),
    ("Adatum Energy", "adatum.example", "Energy", "501-1000"),
    ("Wingtip Toys", "wingtip.example", "Retail", "11-50"),
    ("Coho Winery", "coho.example", "Food & beverage", "1-10"),
    ("Lucerne Publishing", "lucerne.example", "Media", "51-200"),
]
FIRST = ["Ana", "Ben", "Chloe", "Diego", "Emma", "Felix", "Gita", "Hannah", "Ivan", "Julia", "Kenji", "Lena",
         "Marco", "Nora", "Omar", "Priya", "Rafael", "Sara", "Theo", "Uma"]
LAST = ["Andersen", "Brooks", "Costa", "Dimitrov", "Eriksen", "Fischer", "Garcia", "Hughes", "Ito", "Jensen",
        "Khan", "Lopez", "Meyer", "Nakamura", "Olsen"]
TITLES = ["CEO", "CFO", "Head of Procurement", "IT Director", "Operations Manager", "Buyer", "VP Sales"]
ROLES = ["decision maker", "champion", "influencer", "user", "gatekeeper"]
TAGS = ["enterprise", "smb", "partner", "newsletter", "conference-2026", "vip"]
NOTES = ["Quarterly review booked.", "Asked for the security questionnaire.", "Renewal due in March.",
         "Interested in the analytics add-on.", "Prefers calls in the morning."]


def seed(*, users: dict, rng: random.Random, force: bool = False, stdout=None) -> None:
    """Create the demo companies, contacts, links, timelines and duplicate pairs."""
    if Contact.objects.exists() and not force:
        if stdout:
            stdout.write("Demo contacts already present; none added (use --force to add more).")
        return
    owners = [users["sales1"], users["sales2"], users["sales3"], users["manager"], None]
    with transaction.atomic():
        companies = []
        for name, domain, industry, size in COMPANIES:
            company = Company.objects.filter(live_domain=domain).first() or services.company_create(
                user=None, name=name, domain=domain, website=f"https://www.{domain}", industry=industry, size=size,
                owner_id=rng.choice(owners), tags=rng.sample(TAGS, 2))
            companies.append(company)
        contacts = []
        base = Contact.objects.count()
        for i in range(60):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            company = companies[i % len(companies)]
            contact = services.contact_create(
                user=None, allow_duplicate=True, first_name=first, last_name=last,
                email=f"{first}.{last}.{base + i}@{company.domain}".lower(),
                phone=f"+1 212 555 {1000 + base + i:04d}", job_title=rng.choice(TITLES), role=rng.choice(ROLES),
                status=rng.choice(["new", "active", "active", "qualified", "customer"]),
                owner_id=rng.choice(owners), primary_company_id=company, tags=rng.sample(TAGS, rng.randint(0, 2)),
                notes=rng.choice(NOTES) if rng.random() < 0.4 else "",
            )
            services.contact_link_company(contact=contact, company=company, user=None, role=contact.role)
            if rng.random() < 0.25:  # advisors and board members at a second company
                services.contact_link_company(contact=contact, company=rng.choice(companies), user=None,
                                              role=rng.choice(["advisor", "board member"]))
            contacts.append(contact)
        now = timezone.now()
        for contact in contacts:
            for _ in range(rng.randint(0, 3)):
                services.interaction_add(
                    user=contact.owner or users["manager"], contact=contact, company=contact.primary_company,
                    kind=rng.choice(["call", "email", "meeting", "note"]),
                    direction=rng.choice(["outbound", "inbound"]), subject=rng.choice(
                        ["Intro call", "Follow-up email", "Pricing discussion", "Quarterly review"]),
                    body=rng.choice(NOTES), occurred_at=now - timedelta(days=rng.uniform(0, 90)),
                )
        # Planted duplicates: someone typed these in again (same email; same phone, new address).
        a, b = contacts[0], contacts[1]
        services.contact_create(user=None, allow_duplicate=True, first_name=a.first_name, last_name=a.last_name,
                                email=a.email.upper(), job_title="", owner_id=a.owner, tags=["conference-2026"])
        services.contact_create(user=None, allow_duplicate=True, first_name=b.first_name, last_name=b.last_name,
                                email=f"{b.first_name}@gmail.com".lower(), phone=b.phone, owner_id=b.owner)
    if stdout:
        entries = Interaction.objects.filter(contact__in=contacts).count()
        stdout.write(f"Created {len(companies)} companies, {len(contacts) + 2} contacts (2 planted duplicates) "
                     f"and {entries} contact timeline entries.")
