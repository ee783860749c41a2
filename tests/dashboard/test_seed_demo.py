from django.core.management import call_command

from crm.models import Interaction, User
from dashboard.models import LeadDailyStat
from leads.models import Lead


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
