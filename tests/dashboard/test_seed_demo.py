from django.core.management import call_command

from crm.models import Interaction, User
from leads.models import Lead


def test_seed_demo_creates_users_leads_and_timelines_once(db):
    call_command("seed_demo", "--leads", "12", verbosity=0)
    assert set(User.objects.values_list("username", flat=True)) >= {"admin", "manager", "sales1"}
    admin = User.objects.get(username="admin")
    assert admin.check_password("crm-demo-admin") and admin.is_superuser
    assert Lead.objects.count() == 12
    assert Interaction.objects.filter(kind="lead_created").count() == 12

    call_command("seed_demo", "--leads", "12", verbosity=0)  # idempotent
    assert Lead.objects.count() == 12
    assert User.objects.filter(username="admin").count() == 1
