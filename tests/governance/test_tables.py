"""How the audit trail reads a change (governance/tables.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from governance.tables import audit_changes_text, audit_object_label
from portfolio.models import Department
from tests.factories import BusinessCaseFactory, DepartmentFactory, InitiativeFactory

pytestmark = pytest.mark.django_db


def test_a_create_lists_what_was_entered_not_the_relations_seen_from_the_other_side():
    initiative = InitiativeFactory(name="Claims triage")
    entry = LogEntry.objects.get_for_object(initiative).filter(action=LogEntry.Action.CREATE).get()
    assert "monthly_costs" in entry.changes_dict  # what the library records on a create: the empty managers
    text = audit_changes_text(entry)
    assert "Name: — → Claims triage" in text
    assert ".None" not in text and "monthly_costs" not in text


def test_a_roles_change_names_the_roles_by_their_labels(admin_user, owner):
    from portfolio.services.people import person_set_roles
    from tollgate.roles import Role

    person_set_roles(actor=admin_user, user=owner, roles={Role.REVIEWER, Role.ADMIN}, source="people_page")
    entry = LogEntry.objects.get_for_object(owner).get(additional_data__event="roles_changed")
    assert audit_changes_text(entry).startswith("Roles: Initiative owner → Administrator, CoE reviewer")


def test_numbers_read_with_their_separators_and_money_as_money_other_values_as_stored():
    case = BusinessCaseFactory(expected_monthly_volume=20000, expected_monthly_value=Decimal("9000.00"))
    case.expected_monthly_volume = 38935
    case.expected_monthly_value = Decimal("13246.49")
    case.outcome_unit = "ticket 12345"
    case.save()
    entry = LogEntry.objects.get_for_object(case).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    text = audit_changes_text(entry)
    assert "Expected outcomes per month: 20,000 → 38,935" in text
    assert "Expected value per month: $9,000.00 → $13,246.49" in text
    assert "Outcome unit: ticket triaged → ticket 12345" in text  # text stays as written
    created = audit_changes_text(LogEntry.objects.get_for_object(case).get(action=LogEntry.Action.CREATE))
    assert "Minimum viable scale (outcomes per month): — → 5,000" in created
    assert f"Initiative: — → {case.initiative};" in created  # a reference by name, not its id


def test_references_read_by_name_and_a_deleted_one_by_its_id(admin_user, owner, other_owner):
    """auditlog keeps a foreign key's id ("owner: 43 → 46"): the trail names the record, "—" for none, and the id
    of one deleted since."""
    from portfolio.services.initiatives import initiative_update
    from portfolio.services.people import profile_update

    initiative = InitiativeFactory(owner=owner)
    initiative_update(actor=admin_user, initiative=initiative, owner=other_owner)
    entry = LogEntry.objects.get_for_object(initiative).filter(action=LogEntry.Action.UPDATE).latest("pk")
    assert f"Owner: {owner.get_full_name()} → {other_owner.get_full_name()}" in audit_changes_text(entry)
    department = DepartmentFactory(name="Risk & Compliance")
    profile_update(actor=admin_user, user=owner, department=department, title="", delegates=[])
    profile_update(actor=admin_user, user=owner, department=None, title="", delegates=[])
    entry = LogEntry.objects.get_for_object(owner.profile).filter(action=LogEntry.Action.UPDATE).latest("pk")
    assert audit_changes_text(entry) == "Department: Risk & Compliance → —"
    gone = department.pk
    department.delete()
    assert audit_changes_text(entry) == f"Department: #{gone} (deleted) → —"


def test_an_ingestion_run_is_named_without_the_status_an_older_row_kept(admin_user):
    """Rows written while a run's text carried its status ("(Pending)") named a run that failed or succeeded since
    by that status: the trail names it without, as rows written now do."""
    from portfolio.costs.services.runs import ingestion_run_create
    from tests.portfolio.costs.factories import CostSourceFactory

    run = ingestion_run_create(source=CostSourceFactory(name="aws-focus"), period="2024-09", actor=admin_user)
    entry = LogEntry.objects.get_for_object(run).get()
    assert audit_object_label(entry) == "Ingestion run: aws-focus 2024-09"
    entry.object_repr = "aws-focus 2024-09 (Pending)"  # as such a row was written
    assert audit_object_label(entry) == "Ingestion run: aws-focus 2024-09"
    entry.object_repr, entry.content_type = "Legal (Pending)", ContentType.objects.get_for_model(Department)
    assert audit_object_label(entry) == "Department: Legal (Pending)"  # another record's text is its own


def test_a_creation_leaves_out_the_bookkeeping_fields():
    """"Inventory import (created)" rows listed `created_at`, `updated_at` and `id`: when a row was saved says
    nothing the entry's own time does not."""
    case = BusinessCaseFactory()
    entry = LogEntry.objects.get_for_object(case).get(action=LogEntry.Action.CREATE)
    assert {"id", "created_at", "updated_at"} <= set(entry.changes_dict)  # what auditlog records on a create
    text = audit_changes_text(entry)
    assert "Outcome unit: — → ticket triaged" in text
    labels = {part.split(":")[0] for part in text.split("; ")}
    assert not {"id", "Id", "ID", "created_at", "Created at", "updated_at", "Updated at"} & labels


def test_fields_read_by_their_verbose_names_and_delegates_by_their_full_names(admin_user, owner, other_owner):
    """The trail showed `declared_monthly_cost: …` and "delegates: +executive, reviewer2" where other rows name
    people ("owner: Oscar Owner → Hannah Cole"): field labels and people as the initiative page's History shows
    them."""
    from portfolio.services.initiatives import initiative_update
    from portfolio.services.people import profile_update

    initiative = InitiativeFactory(owner=owner)
    initiative_update(actor=admin_user, initiative=initiative, declared_monthly_cost=Decimal("2400.00"))
    entry = LogEntry.objects.get_for_object(initiative).filter(action=LogEntry.Action.UPDATE).latest("pk")
    assert audit_changes_text(entry) == "Declared monthly cost: $1,200.00 → $2,400.00"
    profile_update(actor=admin_user, user=owner, department=None, title="", delegates=[other_owner])
    entry = LogEntry.objects.get_for_object(owner.profile).latest("pk")
    assert audit_changes_text(entry) == f"Delegates: +{other_owner.get_full_name()}"
    assert other_owner.get_username() not in audit_changes_text(entry)


def test_a_unit_price_reads_as_money_in_the_history_and_the_trail():
    """A new business case read "Baseline cost per outcome: 1.20" beside "$1,200.00": a unit price is money too."""
    from governance.selectors import history_rows

    case = BusinessCaseFactory(baseline_cost_per_outcome=Decimal("1.2000"))
    entry = LogEntry.objects.get_for_object(case).get(action=LogEntry.Action.CREATE)
    assert "Baseline cost per outcome: — → $1.20" in audit_changes_text(entry)
    [row] = history_rows([entry])
    assert any(c.label == "Baseline cost per outcome" and c.after == "$1.20" for c in row.changes)


def test_a_choice_reads_by_its_label_as_in_the_history(reviewer, in_review, rubric):
    """The trail read "Stage: in_review → approved" where the initiative's History read "In review → Approved"."""
    from governance.services import initiative_transition

    initiative_transition(actor=reviewer, initiative=in_review, transition="request_changes", reason="Baseline?")
    entry = LogEntry.objects.get_for_object(in_review).get(additional_data__transition="request_changes")
    assert audit_changes_text(entry) == "Stage: In review → Changes requested"
