"""Reads: policy values, the intake panel, available transitions and initiative history."""

from __future__ import annotations

from decimal import Decimal

import pytest

from governance.selectors import (
    available_transitions,
    initiative_history,
    initiative_history_rows,
    intake_panel,
    policy_rows,
)
from governance.services import initiative_transition, policy_set
from portfolio.choices import Category, Stage
from portfolio.services import business_case_save, initiative_create, initiative_update
from tests.factories import CostCenterFactory, DepartmentFactory, UserFactory, VendorFactory
from tests.governance.conftest import score_all
from tollgate.roles import Role

pytestmark = pytest.mark.django_db


def test_policy_rows_cover_every_definition(admin_user):
    policy_set(actor=admin_user, key="intake.approval_score", value="3.5")
    rows = {r.key: r for r in policy_rows()}
    assert rows["intake.quorum"].is_default and rows["intake.quorum"].value == 2
    assert not rows["intake.approval_score"].is_default
    score = rows["intake.approval_score"]
    assert score.value == Decimal("3.5") and score.updated_by == admin_user


def test_intake_panel(reviewer, second_reviewer, in_review, rubric):
    panel = intake_panel(in_review)
    assert panel.submission.round == 1 and panel.weighted_score is None and panel.quorum == 2
    score_all(reviewer, in_review, rubric, [5, 5, 5, 5, 5, 5])
    score_all(second_reviewer, in_review, rubric, [3, 3, 3, 3, 1, 1])  # (75+75+45+45+10+10)/100 = 2.6
    panel = intake_panel(in_review)
    assert panel.quorum_met and panel.weighted_score == Decimal("3.8")
    assert [c.score if c else None for c in panel.reviewers[0].cells] in ([5] * 6, [3, 3, 3, 3, 1, 1])


def test_available_transitions_per_role(owner, reviewer, executive, admin_user, in_review):
    assert [t.name for t in available_transitions(reviewer, in_review)] == ["request_changes", "approve", "reject"]
    assert [t.name for t in available_transitions(owner, in_review)] == ["withdraw"]
    assert available_transitions(executive, in_review) == []
    assert [t.name for t in available_transitions(admin_user, in_review)] == ["withdraw"]
    in_review.stage = Stage.PILOT
    assert [t.name for t in available_transitions(owner, in_review)] == ["promote", "retire"]
    assert [t.name for t in available_transitions(admin_user, in_review)] == ["promote", "retire", "kill"]


def test_history_includes_business_case_changes_and_transitions(owner, reviewer, in_review):
    initiative_transition(actor=reviewer, initiative=in_review, transition="request_changes", reason="More data.")
    business_case_save(actor=owner, initiative=in_review, problem="A sharper problem statement")
    history = initiative_history(in_review)
    assert history[0].content_type.model == "businesscase"
    transition = next(e for e in history if (e.additional_data or {}).get("event") == "transition")
    assert transition.additional_data["reason"] == "More data."
    assert len(initiative_history(in_review, limit=2)) == 2


def test_history_rows_speak_the_business_language(owner, reviewer, in_review):
    """Field labels and choice labels, related records by name, no relations seen from the other side or bookkeeping
    fields, times to the minute, who by name and the reason given."""
    other = DepartmentFactory(name="Claims Operations")
    centre = CostCenterFactory(department=other, code="CC-7777", name="Claims desk")
    initiative_update(actor=owner, initiative=in_review, department=other, cost_center=centre)
    initiative_transition(actor=reviewer, initiative=in_review, transition="request_changes", reason="More data.")
    # The declared cost is locked in review; sent back, the owner may change it.
    initiative_update(actor=owner, initiative=in_review, declared_monthly_cost=Decimal("2500.00"))

    rows = initiative_history_rows(in_review)

    cost_edit, decision, edit = rows[0], rows[1], rows[2]
    assert {c.label: (c.before, c.after) for c in cost_edit.changes} == {
        "Declared monthly cost": ("$1,200.00", "$2,500.00")}
    assert decision.what == "Changes requested" and decision.reason == "More data."
    assert decision.who == (reviewer.get_full_name() or reviewer.get_username())
    assert [(c.label, c.before, c.after) for c in decision.changes] == [("Stage", "In review", "Changes requested")]
    changes = {c.label: (c.before, c.after) for c in edit.changes}
    assert changes["Department"][1] == "Claims Operations" and changes["Cost center"][1] == str(centre)
    assert edit.what == "Initiative changed"
    assert any(r.what == "Submitted for review" for r in rows)
    registered = next(r for r in rows if r.what == "Initiative registered")
    assert all(c.before is None for c in registered.changes)  # what was entered, not "— → value"
    assert {c.label for c in registered.changes} >= {"Name", "Stage", "Department", "Owner"}
    assert dict((c.label, c.after) for c in registered.changes)["Stage"] == "Proposed"
    texts = [f"{c.label} {c.before} {c.after}" for r in rows for c in r.changes]
    assert not [t for t in texts if ".None" in t or "portfolio." in t or "Created at" in t or "Updated at" in t]
    assert not [t for t in texts if "Cost records" in t or "Value reports" in t or t.startswith("Id ")]
    assert all(r.when.second == 0 and r.when.microsecond == 0 for r in rows)
    business_case = next(r for r in rows if r.what == "Business case added")
    assert "Initiative" not in {c.label for c in business_case.changes}  # the history is about it already


def test_history_rows_name_people_and_keep_a_registration_with_its_vendors(owner, admin_user):
    vendor = VendorFactory(name="Acme AI")
    delegate = UserFactory(first_name="Yusuf", last_name="Demir", username="yusuf.demir@example.com",
                           role=Role.OWNER)
    initiative = initiative_create(actor=admin_user, name="Claims triage", description="Triage claims.",
                                   category=Category.CLASSIFICATION, department=DepartmentFactory(),
                                   owner=owner, declared_monthly_cost=Decimal("10"), vendors=[vendor],
                                   delegates=[delegate])

    rows = initiative_history_rows(initiative)

    assert len(rows) == 1 and rows[0].what == "Initiative registered"
    changes = {c.label: c.after for c in rows[0].changes}
    assert changes["Owner"] == (owner.get_full_name() or owner.get_username())
    assert changes["Vendors"] == "Acme AI"
    assert changes["Delegates"] == "Yusuf Demir"  # by name, as the facts panel shows them, not by e-mail
    assert rows[0].who == (admin_user.get_full_name() or admin_user.get_username())


def test_history_shows_the_value_reports_submissions_reopenings_and_verdicts_not_their_drafts(owner, reviewer):
    from reviews.models import KpiActual
    from tests.factories import KPIFactory, ValueReportFactory
    from tollgate.audit import audit_event

    report = ValueReportFactory(initiative__owner=owner, cycle__name="2026-Q3")
    initiative = report.initiative
    KpiActual.objects.create(report=report, kpi=KPIFactory(initiative=initiative), actual=Decimal("3"))
    audit_event(report, actor=owner, event="value_report_submitted", changes={"status": ["draft", "submitted"]})
    audit_event(report, actor=reviewer, event="value_report_reopened", reason="Count the weekend too.")
    audit_event(report, actor=reviewer, event="verdict", reason="Keep going.", changes={"verdict": [None, "scale"]},
                decision="scale")
    ValueReportFactory(cycle=report.cycle)  # another initiative's report
    rows = initiative_history_rows(initiative)
    assert [r.what for r in rows[:3]] == ["Verdict on 2026-Q3: Scale", "Value report reopened: 2026-Q3",
                                          "Value report submitted: 2026-Q3"]
    assert rows[1].reason == "Count the weekend too." and rows[0].reason == "Keep going."
    assert not any("actual" in r.what.lower() for r in rows)
