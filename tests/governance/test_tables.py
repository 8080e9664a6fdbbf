"""How the audit trail reads a change (governance/tables.py)."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry

from governance.tables import audit_changes_text
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db


def test_a_create_lists_what_was_entered_not_the_relations_seen_from_the_other_side():
    initiative = InitiativeFactory(name="Claims triage")
    entry = LogEntry.objects.get_for_object(initiative).filter(action=LogEntry.Action.CREATE).get()
    assert "monthly_costs" in entry.changes_dict  # what the library records on a create: the empty managers
    text = audit_changes_text(entry)
    assert "name: — → Claims triage" in text
    assert ".None" not in text and "monthly_costs" not in text
