"""The Django admin for every model: pages render, and lead writes go through the services."""

import pytest
from django.urls import reverse

from crm.models import Interaction, User
from leads import services
from leads.models import Lead, LeadImport, LeadImportError, LeadStageCount
from tests.factories import InteractionFactory, LeadFactory

pytestmark = pytest.mark.django_db


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def add(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")


@pytest.fixture
def data(sales_user, manager):
    lead = LeadFactory(owner=sales_user, first_name="Alice", last_name="Johnson", email="alice@example.com",
                       company="Acme")
    gone = LeadFactory(owner=None, first_name="Gone", last_name="Girl", email="gone@example.com")
    services.lead_delete(lead=gone, user=manager)
    services.lead_change_status(lead=lead, status="contacted", user=manager)
    note = InteractionFactory(lead=lead, kind="note", subject="Left a voicemail", user=sales_user)
    job = LeadImport.objects.create(file="imports/2026/11/leads.csv", original_name="leads.csv", created_by=manager,
                                    status=LeadImport.Status.COMPLETED, total_rows=200, processed_rows=200,
                                    success_count=50, error_count=150)
    LeadImportError.objects.bulk_create(LeadImportError(job=job, row=i + 2, error=f"Invalid phone number format: {i}")
                                        for i in range(150))
    return {"lead": Lead.objects.get(pk=lead.pk), "gone": Lead.objects.get(pk=gone.pk), "note": note,
            "status_change": lead.interactions.get(kind="status_change"), "job": job,
            "row_error": job.row_errors.first(), "user": sales_user}


@pytest.mark.parametrize("model", [User, Interaction, Lead, LeadImport, LeadImportError, LeadStageCount])
def test_changelists_render(admin_client, data, model):
    response = admin_client.get(changelist(model))
    assert response.status_code == 200


def test_lead_totals_admin_shows_the_rollup_read_only(admin_client, data):
    body = admin_client.get(changelist(LeadStageCount)).content.decode()
    assert "Add lead stage count" not in body
    assert LeadStageCount.objects.filter(n__gt=0).exists()


def test_lead_changelist_shows_deleted_leads_and_filters_them(admin_client, data):
    everything = admin_client.get(changelist(Lead)).content.decode()
    assert "Alice Johnson" in everything and "Gone Girl" in everything

    live = admin_client.get(changelist(Lead), {"deleted": "live"}).content.decode()
    assert "Alice Johnson" in live and "Gone Girl" not in live

    deleted = admin_client.get(changelist(Lead), {"deleted": "deleted"}).content.decode()
    assert "Gone Girl" in deleted and "Alice Johnson" not in deleted


@pytest.mark.parametrize(("params", "shown", "hidden"), [
    ({"q": "alice"}, "Alice Johnson", "Gone Girl"),
    ({"q": "acme"}, "Alice Johnson", "Gone Girl"),
    ({"status__exact": "contacted"}, "Alice Johnson", "Gone Girl"),
    ({"owner__id__exact": "OWNER"}, "Alice Johnson", "Gone Girl"),
])
def test_lead_changelist_search_and_filters(admin_client, data, params, shown, hidden):
    params = {k: (data["user"].pk if v == "OWNER" else v) for k, v in params.items()}
    body = admin_client.get(changelist(Lead), params).content.decode()
    assert shown in body and hidden not in body


def test_interaction_changelist_filters_and_searches(admin_client, data):
    body = admin_client.get(changelist(Interaction), {"kind__exact": "note"}).content.decode()
    assert "Left a voicemail" in body and "Status changed" not in body
    assert "Left a voicemail" in admin_client.get(changelist(Interaction), {"q": "voicemail"}).content.decode()


@pytest.mark.parametrize("key", ["lead", "gone", "note", "status_change", "job", "row_error", "user"])
def test_change_pages_render(admin_client, data, key):
    response = admin_client.get(change(data[key]))
    assert response.status_code == 200


@pytest.mark.parametrize("model", [User, Lead])
def test_add_pages_render(admin_client, data, model):
    assert admin_client.get(add(model)).status_code == 200


def test_import_page_lists_only_the_first_row_errors(admin_client, data):
    body = admin_client.get(change(data["job"])).content.decode()
    assert "Invalid phone number format: 0<" in body or "Invalid phone number format: 0" in body
    assert "Invalid phone number format: 99<" in body or "Invalid phone number format: 99\n" in body
    assert "Invalid phone number format: 149" not in body
    assert "75.0%" not in body and "100.0%" in body


def test_status_change_entries_are_read_only_in_the_admin(admin_client, data):
    entry = data["status_change"]
    body = admin_client.get(change(entry)).content.decode()
    assert 'name="_save"' not in body
    response = admin_client.post(change(entry), {"kind": "note", "body": "rewritten"})
    assert response.status_code == 403
    assert admin_client.get(reverse("admin:crm_interaction_delete", args=[entry.pk])).status_code == 403
    # The bulk delete action refuses a selection that holds one.
    admin_client.post(changelist(Interaction), {"action": "delete_selected", "post": "yes",
                                                "_selected_action": [entry.pk, data["note"].pk]})
    assert Interaction.objects.filter(pk__in=[entry.pk, data["note"].pk]).count() == 2
    admin_client.post(changelist(Interaction), {"action": "delete_selected", "post": "yes",
                                                "_selected_action": [data["note"].pk]})
    assert not Interaction.objects.filter(pk=data["note"].pk).exists()
    assert Interaction.objects.filter(pk=entry.pk).exists()


def _lead_form(lead: Lead | None = None, **overrides) -> dict:
    form = {
        "first_name": "", "last_name": "", "email": "", "phone": "", "company": "", "job_title": "",
        "status": "new", "source": "", "score": "0", "value": "0", "owner": "", "agent_id": "",
        "custom_fields": "{}", "ai_summary": "", "schedule_at_0": "", "schedule_at_1": "", "attempts_count": "0",
        "call_status": "new", "disposition": "",
    }
    if lead is not None:
        for key in form:
            if hasattr(lead, key) and key not in ("owner", "custom_fields", "schedule_at"):
                value = getattr(lead, key)
                form[key] = "" if value is None else str(value)
        form["owner"] = str(lead.owner_id or "")
    form.update(overrides)
    return form


def test_status_change_in_the_admin_writes_a_status_change_entry(admin_client, admin_user, data):
    lead = data["lead"]

    response = admin_client.post(change(lead), _lead_form(lead, status="qualified"))

    assert response.status_code == 302, response.content.decode()[:3000]
    lead.refresh_from_db()
    assert lead.status == "qualified"
    entry = lead.interactions.filter(kind="status_change").latest_first().first()
    assert entry.metadata == {"from": "contacted", "to": "qualified", "by": admin_user.full_name}
    assert entry.user == admin_user


def test_editing_other_fields_in_the_admin_writes_no_status_change(admin_client, data):
    lead = data["lead"]
    before = lead.interactions.filter(kind="status_change").count()

    response = admin_client.post(change(lead), _lead_form(lead, company="Acme Two", phone="(415) 555-2671 x9"))

    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.company == "Acme Two"
    assert (lead.phone, lead.phone_extension) == ("+14155552671", "9")
    assert lead.interactions.filter(kind="status_change").count() == before


def test_adding_a_lead_in_the_admin_goes_through_lead_create(admin_client, admin_user, data):
    response = admin_client.post(add(Lead), _lead_form(first_name="Nina", last_name="New", email="Nina@Example.com",
                                                       phone="001-315-224-3556", status="interested"))

    assert response.status_code == 302, response.content.decode()[:3000]
    lead = Lead.objects.get(first_name="Nina")
    assert lead.phone == "+13152243556" and lead.live_email == "nina@example.com" and lead.status == "interested"
    assert list(lead.interactions.values_list("kind", flat=True)) == ["lead_created"]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"phone": "hello"}, "Invalid phone number format"),
    ({"email": "ALICE@example.com"}, "already exists"),
])
def test_admin_form_shows_service_refusals_and_changes_nothing(admin_client, data, overrides, message):
    other = LeadFactory(first_name="Bob", email="bob@example.com")
    before = Lead.objects.values().get(pk=other.pk)

    response = admin_client.post(change(other), _lead_form(other, **overrides))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert Lead.objects.values().get(pk=other.pk) == before


def test_restore_action(admin_client, data):
    gone = data["gone"]

    response = admin_client.post(changelist(Lead), {"action": "restore_leads", "_selected_action": [gone.pk]},
                                 follow=True)

    assert response.status_code == 200
    gone.refresh_from_db()
    assert gone.deleted_at is None and gone.live_email == "gone@example.com"
    assert "Restored 1 lead" in response.content.decode()


def test_restore_is_refused_when_a_live_lead_took_the_email(admin_client, data, manager):
    gone = data["gone"]
    taker = services.lead_create(user=manager, name="Taker", email="GONE@example.com")

    response = admin_client.post(changelist(Lead), {"action": "restore_leads", "_selected_action": [gone.pk]},
                                 follow=True)

    gone.refresh_from_db()
    assert gone.deleted_at is not None
    assert f"was not restored: A lead with this email already exists: Taker ({taker.pk})" in \
        response.content.decode()


def test_soft_delete_action(admin_client, data):
    lead = data["lead"]

    admin_client.post(changelist(Lead), {"action": "soft_delete_leads", "_selected_action": [lead.pk]})

    lead.refresh_from_db()
    assert lead.deleted_at is not None
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_leads_are_never_hard_deleted_from_the_admin(admin_client, data):
    assert admin_client.get(reverse("admin:leads_lead_delete", args=[data["lead"].pk])).status_code == 403
    admin_client.post(changelist(Lead), {"action": "delete_selected", "post": "yes",
                                         "_selected_action": [data["lead"].pk]})
    assert Lead.objects.filter(pk=data["lead"].pk).exists()


def test_owner_autocomplete(admin_client, data):
    """Finds owners by username, email or name. The fixtures' other users have generated names
    (once ada was a "Samantha"), so they are fixed here."""
    User.objects.exclude(username="sam").update(first_name="Other", last_name="Person")
    response = admin_client.get(reverse("admin:autocomplete"), {
        "app_label": "leads", "model_name": "lead", "field_name": "owner", "term": "sam"})
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["sam"]


def test_user_admin_shows_and_filters_roles(admin_client, data):
    body = admin_client.get(changelist(User), {"role__exact": "manager"}).content.decode()
    assert "maria" in body and ">sam<" not in body


def test_non_staff_cannot_open_the_admin(client, sales_user):
    client.force_login(sales_user)
    response = client.get(changelist(Lead))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_sales_staff_cannot_assign_a_lead_to_someone_else_in_the_admin(client, other_sales_user):
    """The owner rule of the services shows as a field error in the admin, not a 500."""
    from django.contrib.auth.models import Permission

    from crm.models import User
    from leads.models import Lead
    from tests.factories import LeadFactory, UserFactory

    clerk = UserFactory(username="clerk", role=User.Role.SALES, is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_lead", "change_lead"]))
    lead = LeadFactory(owner=clerk)
    client.force_login(clerk)
    url = f"/admin/leads/lead/{lead.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data.update(owner=other_sales_user.pk, custom_fields="{}", value="0.00")
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Sales users can assign leads only to themselves." in response.content.decode()
    lead.refresh_from_db()
    assert lead.owner_id == clerk.pk and Lead.objects.filter(owner=other_sales_user).count() == 0
