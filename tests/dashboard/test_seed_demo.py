import datetime as dt

from django.core.management import call_command
from django.db.models import Count
from django.db.models.functions import TruncDate

from crm.models import Interaction, User
from dashboard.models import LeadDailyStat
from leads.models import Lead, LeadStageDayCount


def test_seed_demo_counts_back_dated_leads_on_their_own_days(db):
    """The demo moves leads into the past after the services counted them today: the per-day
    rollup that deep list pages are found with must follow them."""
    call_command("seed_demo", "--leads", "30", verbosity=0)
    by_day = {row["day"]: row["n"] for row in Lead.objects.live().order_by()
              .values(day=TruncDate("created_at", tzinfo=dt.UTC)).annotate(n=Count("pk"))}
    rolled = {}
    for day, n in LeadStageDayCount.objects.values_list("day", "n"):
        rolled[day] = rolled.get(day, 0) + n
    assert len(by_day) > 5  # spread over months, not all today
    assert {day: n for day, n in rolled.items() if n} == by_day


def test_seed_demo_creates_users_leads_and_timelines_once(db):
    call_command("seed_demo", "--leads", "12", verbosity=0)
    assert set(User.objects.values_list("username", flat=True)) >= {"admin", "manager", "sales1"}
    admin = User.objects.get(username="admin")
    assert admin.check_password("crm-demo-admin") and admin.is_superuser
    # 12 from the leads demo, plus those other apps' demos add (e.g. Meta Lead Ads leads).
    leads = Lead.objects.count()
    assert leads >= 12
    assert Interaction.objects.filter(kind="lead_created").count() == leads
    # The dashboard rollups are rebuilt from the back-dated demo leads.
    assert sum(LeadDailyStat.objects.values_list("created", flat=True)) == leads

    call_command("seed_demo", "--leads", "12", verbosity=0)  # idempotent
    assert Lead.objects.count() == leads
    assert User.objects.filter(username="admin").count() == 1
