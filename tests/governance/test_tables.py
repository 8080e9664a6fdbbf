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
    assert "name: — → Claims triage" in text
    assert ".None" not in text and "monthly_costs" not in text


def test_a_roles_change_names_the_roles_by_their_labels(admin_user, owner):
    from portfolio.services.people import person_set_roles
    from tollgate.roles import Role

    person_set_roles(actor=admin_user, user=owner, roles={Role.REVIEWER, Role.ADMIN}, source="people_page")
    entry = LogEntry.objects.get_for_object(owner).get(additional_data__event="roles_changed")
    assert audit_changes_text(entry).startswith("roles: Initiative owner → Administrator, CoE reviewer")


def test_numbers_read_with_their_separators_and_money_as_money_other_values_as_stored():
    case = BusinessCaseFactory(expected_monthly_volume=20000, expected_monthly_value=Decimal("9000.00"))
    case.expected_monthly_volume = 38935
    case.expected_monthly_value = Decimal("13246.49")
    case.outcome_unit = "ticket 12345"
    case.save()
    entry = LogEntry.objects.get_for_object(case).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    text = audit_changes_text(entry)
    assert "expected_monthly_volume: 20,000 → 38,935" in text
    assert "expected_monthly_value: $9,000.00 → $13,246.49" in text
    assert "outcome_unit: ticket triaged → ticket 12345" in text  # text stays as written
    created = audit_changes_text(LogEntry.objects.get_for_object(case).get(action=LogEntry.Action.CREATE))
    assert "min_viable_scale: — → 5,000" in created
    assert f"initiative: — → {case.initiative};" in created  # a reference by name, not its id


def test_references_read_by_name_and_a_deleted_one_by_its_id(admin_user, owner, other_owner):
    """auditlog keeps a foreign key's id ("owner: 43 → 46"): the trail names the record, "—" for none, and the id
    of one deleted since."""
    from portfolio.services.initiatives import initiative_update
    from portfolio.services.people import profile_update

    initiative = InitiativeFactory(owner=owner)
    initiative_update(actor=admin_user, initiative=initiative, owner=other_owner)
    entry = LogEntry.objects.get_for_object(initiative).filter(action=LogEntry.Action.UPDATE).latest("pk")
    assert f"owner: {owner.get_full_name()} → {other_owner.get_full_name()}" in audit_changes_text(entry)
    department = DepartmentFactory(name="Risk & Compliance")
    profile_update(actor=admin_user, user=owner, department=department, title="", delegates=[])
    profile_update(actor=admin_user, user=owner, department=None, title="", delegates=[])
    entry = LogEntry.objects.get_for_object(owner.profile).filter(action=LogEntry.Action.UPDATE).latest("pk")
    assert audit_changes_text(entry) == "department: Risk & Compliance → —"
    gone = department.pk
    department.delete()
    assert audit_changes_text(entry) == f"department: #{gone} (deleted) → —"


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
