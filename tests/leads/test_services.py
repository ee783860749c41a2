"""leads.services: the rules every door shares (status history, duplicates, soft delete, purge)."""

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from crm.errors import DuplicateRecord, ServiceError
from crm.models import Interaction
from leads import services
from leads.models import Lead, LeadStageCount, LeadStageDayCount
from tests.calling.factories import AgentFactory
from tests.factories import InteractionFactory, LeadFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def hours(n: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=n)


def move(lead: Lead, status: str, at: dt.datetime, user=None) -> Lead:
    """Change status through the service, then pin the entry to an explicit time."""
    lead = services.lead_change_status(lead=lead, status=status, user=user)
    entry = lead.interactions.filter(kind="status_change").latest_first().first()
    Interaction.objects.filter(pk=entry.pk).update(occurred_at=at)
    return lead


# --- status history -------------------------------------------------------------------------------


def test_status_durations_over_several_changes(sales_user):
    lead = LeadFactory(owner=sales_user, created_at=T0)
    lead = move(lead, "contacted", hours(1), sales_user)
    lead = move(lead, "qualified", hours(3), sales_user)
    lead = move(lead, "contacted", hours(4), sales_user)

    spans = services.lead_status_durations(lead, now=hours(10))

    assert [(s.status, s.seconds, s.current) for s in spans] == [
        ("new", 3600.0, False),
        ("contacted", 2 * 3600.0 + 6 * 3600.0, True),  # two visits summed
        ("qualified", 3600.0, False),
    ]
    assert [s.human for s in spans] == ["1h 0m", "8h 0m", "1h 0m"]
    assert spans[1].label == "Contacted"


def test_status_durations_without_changes_is_one_span(sales_user):
    lead = LeadFactory(owner=sales_user, created_at=T0, status="new")
    assert [(s.status, s.seconds, s.human) for s in services.lead_status_durations(lead, now=hours(50))] == [
        ("new", 50 * 3600.0, "2d 2h")]


def test_status_durations_from_given_changes_runs_no_query(sales_user, django_assert_num_queries):
    lead = LeadFactory(owner=sales_user, created_at=T0, status="lost")
    changes = [
        Interaction(kind="status_change", occurred_at=hours(0.5), metadata={"from": "new", "to": "lost"}),
    ]
    with django_assert_num_queries(0):
        spans = services.lead_status_durations(lead, changes=changes, now=hours(1))
    assert [(s.status, s.seconds) for s in spans] == [("new", 1800.0), ("lost", 1800.0)]


def test_change_status_writes_from_to_by_and_same_status_is_a_no_op(sales_user):
    lead = LeadFactory(owner=sales_user)

    lead = services.lead_change_status(lead=lead, status="proposal", user=sales_user)
    services.lead_change_status(lead=lead, status="proposal", user=sales_user)

    entries = list(lead.interactions.filter(kind="status_change"))
    assert len(entries) == 1
    assert entries[0].metadata == {"from": "new", "to": "proposal", "by": sales_user.full_name}
    assert "New → Proposal" in entries[0].body
    assert Lead.objects.get(pk=lead.pk).status == "proposal"


def test_change_status_by_the_system_says_so():
    lead = LeadFactory()
    services.lead_change_status(lead=lead, status="lost", user=None)
    entry = lead.interactions.get(kind="status_change")
    assert entry.metadata["by"] == "system" and entry.user is None


def test_unknown_status_is_refused(sales_user):
    lead = LeadFactory(owner=sales_user)
    with pytest.raises(ServiceError) as exc:
        services.lead_change_status(lead=lead, status="won", user=sales_user)
    assert exc.value.code == "invalid_status" and exc.value.field == "status"
    assert Lead.objects.get(pk=lead.pk).status == "new"
    assert not lead.interactions.exists()


def test_lead_update_with_bad_status_rolls_back_the_other_fields(sales_user):
    lead = LeadFactory(owner=sales_user, company="Before")
    with pytest.raises(ServiceError):
        services.lead_update(lead=lead, user=sales_user, company="After", status="won")
    assert Lead.objects.get(pk=lead.pk).company == "Before"


# --- create, owner --------------------------------------------------------------------------------


def test_create_splits_name_normalises_phone_and_defaults_owner(sales_user):
    lead = services.lead_create(user=sales_user, name="  Ana  de la Cruz ", phone="001-315-224-3556 x7",
                                email="Ana@Example.COM")

    lead.refresh_from_db()
    assert (lead.first_name, lead.last_name) == ("Ana", "de la Cruz")
    assert (lead.phone, lead.phone_extension, lead.phone_verified) == ("+13152243556", "7", True)
    assert lead.owner == sales_user
    assert lead.live_email == "ana@example.com"
    assert lead.interactions.get().kind == "lead_created"


def test_create_needs_a_name(sales_user):
    with pytest.raises(ServiceError) as exc:
        services.lead_create(user=sales_user, name="   ")
    assert exc.value.code == "name_required"
    assert not Lead.objects.exists()


def test_create_refuses_unknown_fields(sales_user):
    with pytest.raises(TypeError):
        services.lead_create(user=sales_user, name="X", favourite_colour="blue")


def test_sales_user_assigns_only_to_themselves_managers_to_anyone(sales_user, other_sales_user, manager):
    with pytest.raises(ServiceError) as exc:
        services.lead_create(user=sales_user, name="X", owner=other_sales_user)
    assert exc.value.code == "forbidden_owner"
    assert services.lead_create(user=sales_user, name="Unassigned", owner=None).owner is None
    assert services.lead_create(user=manager, name="Y", owner=other_sales_user).owner == other_sales_user


# --- duplicates -------------------------------------------------------------------------------------


def test_duplicate_email_is_case_insensitive_and_names_the_existing_lead(sales_user):
    first = services.lead_create(user=sales_user, name="Alice Johnson", email="alice@example.com")

    with pytest.raises(DuplicateRecord) as exc:
        services.lead_create(user=sales_user, name="Other", email="  ALICE@Example.com ".strip())

    assert exc.value.extra == {"existing_id": str(first.pk)}
    assert "Alice Johnson" in exc.value.detail and str(first.pk) in exc.value.detail
    assert exc.value.field == "email"
    assert Lead.objects.count() == 1


def test_update_to_a_taken_email_is_refused_but_keeping_your_own_is_fine(sales_user):
    services.lead_create(user=sales_user, name="Alice", email="alice@example.com")
    bob = services.lead_create(user=sales_user, name="Bob", email="bob@example.com")

    with pytest.raises(DuplicateRecord):
        services.lead_update(lead=bob, user=sales_user, email="Alice@example.com")
    services.lead_update(lead=bob, user=sales_user, email="BOB@example.com", company="Bobco")

    bob.refresh_from_db()
    assert (bob.email, bob.live_email, bob.company) == ("BOB@example.com", "bob@example.com", "Bobco")


def test_phone_is_unique_per_agent_only(sales_user):
    agent, other_agent = "53420311-13b0-44c5-93df-30f38985e7a0", "fe3e7b28-a9d5-4967-a78c-1e18bad870c4"
    AgentFactory(id=uuid.UUID(agent)), AgentFactory(id=uuid.UUID(other_agent))  # unknown agents are refused
    first = services.lead_create(user=sales_user, name="John", phone="+14155552670", agent_id=agent)

    with pytest.raises(DuplicateRecord) as exc:
        services.lead_create(user=sales_user, name="Johnny", phone="(415) 555-2670", agent_id=agent)
    assert exc.value.detail == "Lead with this phone number already exists for this agent"
    assert exc.value.extra["existing_id"] == str(first.pk)

    services.lead_create(user=sales_user, name="John", phone="+14155552670", agent_id=other_agent)
    # No agent: no hard rule (the phone warning is tests/leads/test_duplicates.py's).
    services.lead_create(user=sales_user, name="John", phone="+14155552670", allow_duplicate=True)
    assert Lead.objects.filter(phone="+14155552670").count() == 3


def test_a_deleted_leads_email_and_phone_are_free_again(sales_user):
    agent = "53420311-13b0-44c5-93df-30f38985e7a0"
    AgentFactory(id=uuid.UUID(agent))
    old = services.lead_create(user=sales_user, name="Old", email="a@example.com", phone="+14155552670",
                               agent_id=agent)
    services.lead_delete(lead=old, user=sales_user)

    new = services.lead_create(user=sales_user, name="New", email="A@example.com", phone="+14155552670",
                               agent_id=agent)
    assert new.live_email == "a@example.com"


def test_a_deleted_lead_can_be_edited_without_false_duplicates(sales_user):
    # Regression: a deleted lead's live_email is NULL, which once matched every live lead
    # without an email and refused the edit.
    services.lead_create(user=sales_user, name="No Email")
    gone = services.lead_create(user=sales_user, name="Gone", email="gone@example.com")
    services.lead_delete(lead=gone, user=sales_user)

    services.lead_update(lead=gone, user=sales_user, email="still-gone@example.com")

    gone.refresh_from_db()
    assert gone.email == "still-gone@example.com" and gone.live_email is None


def test_restore_is_refused_when_a_live_lead_took_the_email(sales_user, manager):
    gone = services.lead_create(user=sales_user, name="Gone", email="gone@example.com")
    services.lead_delete(lead=gone, user=sales_user)
    taker = services.lead_create(user=manager, name="Taker", email="Gone@Example.com")

    with pytest.raises(DuplicateRecord) as exc:
        services.lead_restore(lead=gone, user=manager)

    assert exc.value.extra["existing_id"] == str(taker.pk)
    gone.refresh_from_db()
    assert gone.deleted_at is not None and gone.live_email is None


def test_restore_brings_the_lead_back(sales_user, manager):
    gone = services.lead_create(user=sales_user, name="Gone", email="gone@example.com")
    services.lead_delete(lead=gone, user=sales_user)

    services.lead_restore(lead=gone, user=manager)

    gone.refresh_from_db()
    assert gone.deleted_at is None and gone.live_email == "gone@example.com"
    assert Lead.objects.visible_to(sales_user).filter(pk=gone.pk).exists()


def test_live_email_unique_index_backs_the_rule(sales_user):
    # Two writers that both passed the check: the database's unique index stops the second.
    services.lead_create(user=sales_user, name="A", email="race@example.com")
    from django.db import IntegrityError

    twin = Lead(first_name="B", email="race@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()


# --- delete, purge, counts --------------------------------------------------------------------------


def test_delete_is_soft_and_keeps_the_timeline(sales_user):
    lead = services.lead_create(user=sales_user, name="Soft", email="soft@example.com")

    services.lead_delete(lead=lead, user=sales_user)
    services.lead_delete(lead=lead, user=sales_user)  # twice is harmless

    lead.refresh_from_db()
    assert lead.deleted_at is not None and lead.live_email is None
    assert lead.interactions.exists()
    assert not Lead.objects.visible_to(sales_user).filter(pk=lead.pk).exists()


def test_stage_counts_follow_create_status_owner_delete_restore(sales_user, manager):
    def counts():
        return {(row.owner_id, row.status): row.n for row in LeadStageCount.objects.all() if row.n}

    def day_counts():
        return {(row.owner_id, row.status, row.day): row.n for row in LeadStageDayCount.objects.all() if row.n}

    lead = services.lead_create(user=sales_user, name="Counted")
    day = services.created_day(lead.created_at)
    assert counts() == {(sales_user.pk, "new"): 1}
    assert day_counts() == {(sales_user.pk, "new", day): 1}
    lead = services.lead_change_status(lead=lead, status="contacted", user=sales_user)
    assert counts() == {(sales_user.pk, "contacted"): 1}
    assert day_counts() == {(sales_user.pk, "contacted", day): 1}
    services.lead_update(lead=lead, user=manager, owner=None)
    assert counts() == {(0, "contacted"): 1}
    assert day_counts() == {(0, "contacted", day): 1}
    services.lead_delete(lead=lead, user=manager)
    assert counts() == {} and day_counts() == {}
    services.lead_restore(lead=lead, user=manager)
    assert counts() == {(0, "contacted"): 1}
    assert day_counts() == {(0, "contacted", day): 1}
    assert services.stage_counts_rebuild() == 1 and counts() == {(0, "contacted"): 1}
    assert day_counts() == {(0, "contacted", day): 1}


def test_day_counts_use_the_utc_day_of_created_at(sales_user):
    # 23:30 on Dec 31 in New York is already Jan 1 in UTC: the bucket is the UTC day.
    created = dt.datetime(2026, 12, 31, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    LeadFactory(owner=sales_user, created_at=created)
    row = LeadStageDayCount.objects.get()
    assert (row.day, row.n) == (dt.date(2027, 1, 1), 1)
    services.stage_counts_rebuild()
    assert list(LeadStageDayCount.objects.values_list("day", "n")) == [(dt.date(2027, 1, 1), 1)]


def test_purge_removes_only_leads_deleted_long_enough_ago(sales_user):
    now = timezone.now()
    old = LeadFactory(deleted_at=now - dt.timedelta(days=40))
    InteractionFactory(lead=old)
    recent = LeadFactory(deleted_at=now - dt.timedelta(days=1))
    live = LeadFactory()
    InteractionFactory(lead=live)

    assert services.lead_purge(older_than=dt.timedelta(days=30)) == 1

    assert set(Lead.objects.values_list("pk", flat=True)) == {recent.pk, live.pk}
    assert not Interaction.objects.filter(lead_id=old.pk).exists()
    assert Interaction.objects.filter(lead=live).count() == 1
    assert services.lead_purge(older_than=dt.timedelta(days=30)) == 0


# --- timeline ---------------------------------------------------------------------------------------


def test_add_interaction_moves_last_interaction_at_forward_only(sales_user):
    lead = LeadFactory(owner=sales_user)

    services.lead_add_interaction(lead=lead, user=sales_user, kind="call", body="now", occurred_at=hours(5))
    services.lead_add_interaction(lead=lead, user=sales_user, kind="note", body="older", occurred_at=hours(1))

    lead.refresh_from_db()
    assert lead.last_interaction_at == hours(5)


@pytest.mark.parametrize("kind", ["fax", "status_change", ""])
def test_add_interaction_refuses_bad_kinds(sales_user, kind):
    lead = LeadFactory(owner=sales_user)
    with pytest.raises(ServiceError) as exc:
        services.lead_add_interaction(lead=lead, user=sales_user, kind=kind, body="x")
    assert exc.value.code == "invalid_type"
    assert not lead.interactions.exists()


def test_status_changes_cannot_be_edited_or_deleted(sales_user):
    lead = services.lead_change_status(lead=LeadFactory(owner=sales_user), status="lost", user=sales_user)
    entry = lead.interactions.get(kind="status_change")

    with pytest.raises(ServiceError):
        services.interaction_update(entry=entry, user=sales_user, body="rewrite")
    with pytest.raises(ServiceError):
        services.interaction_delete(entry=entry, user=sales_user)
    entry.refresh_from_db()
    assert entry.metadata["to"] == "lost" and entry.body != "rewrite"


def test_an_entry_cannot_be_turned_into_a_status_change(sales_user):
    entry = InteractionFactory(lead=LeadFactory(owner=sales_user), kind="note")
    with pytest.raises(ServiceError):
        services.interaction_update(entry=entry, user=sales_user, kind="status_change")
    entry.refresh_from_db()
    assert entry.kind == "note"
