"""Segregation of duties holds for superusers too: the role rules decide, not Django's superuser short-circuit.

A superuser counts as an administrator: they administer (the Django admin, policies, sources, registering an
initiative) but score, decide and give verdicts only with the reviewer role, and never on what they own.
Checked through the services, the pages and the API.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from governance.models import IntakeScore, RubricCriterion
from governance.selectors import policy_value
from governance.services import initiative_transition, intake_scores_save, policy_set
from portfolio.choices import Stage
from portfolio.services import business_case_save, initiative_create, kpis_replace
from reviews import services as review_services
from reviews.models import Verdict
from tests.factories import (
    BusinessCaseFactory,
    DepartmentFactory,
    InitiativeFactory,
    KPIFactory,
    RubricCriterionFactory,
    UserFactory,
    ValueReportFactory,
)
from tollgate.roles import Role, may

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser():
    """A superuser in the admin role only, like the demo's `admin` and a fresh `createsuperuser` put in it."""
    return UserFactory(username="admin", role=Role.ADMIN, is_superuser=True, is_staff=True)


@pytest.fixture
def bare_superuser():
    """`createsuperuser` and nothing else: no group at all."""
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def reviewing_superuser():
    """A superuser who also holds the reviewer role."""
    return UserFactory(username="super.reviewer", role=Role.REVIEWER, is_superuser=True, is_staff=True)


@pytest.fixture
def rubric():
    """Every active criterion (the seeded rubric, or one made here if a flush removed it)."""
    RubricCriterionFactory(name="Strategic fit", weight=Decimal("50"))
    return list(RubricCriterion.objects.filter(active=True).order_by("order"))


def in_review(owner, rubric):
    initiative = InitiativeFactory(owner=owner)
    BusinessCaseFactory(initiative=initiative)
    KPIFactory(initiative=initiative)
    initiative_transition(actor=owner, initiative=initiative, transition="submit")
    return initiative


def scores(rubric, value: int = 5) -> list[dict]:
    return [{"criterion": c.pk, "score": value, "comment": "fine"} for c in rubric]


def score_form(rubric, value: int = 5) -> dict:
    data = {}
    for criterion in rubric:
        data[f"score_{criterion.pk}"] = str(value)
        data[f"comment_{criterion.pk}"] = "fine"
    return data


def submitted_report(owner):
    initiative = InitiativeFactory(owner=owner, stage=Stage.PILOT)
    BusinessCaseFactory(initiative=initiative)
    kpi = KPIFactory(initiative=initiative)
    report = ValueReportFactory(initiative=initiative)
    review_services.value_report_save_draft(actor=owner, report=report, fields={"outcome_count": 10},
                                            kpi_actuals={kpi.pk: Decimal("10")})
    return review_services.value_report_submit(actor=owner, report=report)


# The one check -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["superuser", "bare_superuser"])
def test_a_superuser_administers_but_holds_no_other_role(request, who, owner):
    user = request.getfixturevalue(who)
    initiative = InitiativeFactory(owner=owner, stage=Stage.IN_REVIEW)
    assert user.has_perm("governance.score_initiative", initiative)  # Django's short-circuit, kept for the admin
    assert not may(user, "governance.score_initiative", initiative)
    assert not may(user, "governance.decide_initiative", initiative)
    assert not may(user, "reviews.give_verdict", ValueReportFactory(initiative=initiative))
    assert not may(user, "governance.view_reviewqueue")
    assert may(user, "governance.change_policy") and may(user, "portfolio.add_costsource")
    assert may(user, "portfolio.add_initiative")


# Scoring and deciding ------------------------------------------------------------------------------------------------


def test_a_superuser_without_the_reviewer_role_cannot_score_or_approve(client, api_client, superuser, owner, rubric):
    initiative = in_review(owner, rubric)

    with pytest.raises(PermissionDenied):
        intake_scores_save(actor=superuser, initiative=initiative, scores=scores(rubric))
    with pytest.raises(PermissionDenied):
        initiative_transition(actor=superuser, initiative=initiative, transition="approve")

    client.force_login(superuser)
    assert client.get(reverse("governance:score", args=[initiative.pk])).status_code == 403
    assert client.post(reverse("governance:score", args=[initiative.pk]), score_form(rubric)).status_code == 403
    assert client.post(reverse("governance:transition_approve", args=[initiative.pk])).status_code == 403

    api_client.force_authenticate(superuser)
    assert api_client.post(reverse("governance_api:scores", args=[initiative.pk]), {"scores": scores(rubric)},
                           format="json").status_code == 403
    assert api_client.post(reverse("governance_api:transitions", args=[initiative.pk]), {"transition": "approve"},
                           format="json").status_code == 403

    assert not IntakeScore.objects.exists()
    initiative.refresh_from_db()
    assert initiative.stage == Stage.IN_REVIEW


def test_a_superuser_reviewer_cannot_score_or_approve_what_they_own(client, api_client, reviewing_superuser,
                                                                     reviewer, rubric):
    initiative = in_review(reviewing_superuser, rubric)
    policy_set(actor=UserFactory(role=Role.ADMIN), key="intake.quorum", value=1)
    intake_scores_save(actor=reviewer, initiative=initiative, scores=scores(rubric))  # quorum met by another

    with pytest.raises(PermissionDenied):
        intake_scores_save(actor=reviewing_superuser, initiative=initiative, scores=scores(rubric))
    with pytest.raises(PermissionDenied):
        initiative_transition(actor=reviewing_superuser, initiative=initiative, transition="approve")

    client.force_login(reviewing_superuser)
    assert client.post(reverse("governance:transition_approve", args=[initiative.pk])).status_code == 403
    api_client.force_authenticate(reviewing_superuser)
    assert api_client.post(reverse("governance_api:transitions", args=[initiative.pk]), {"transition": "approve"},
                           format="json").status_code == 403

    initiative.refresh_from_db()
    assert initiative.stage == Stage.IN_REVIEW
    # The same superuser scores someone else's intake: the reviewer role is theirs.
    others = in_review(UserFactory(role=Role.OWNER), rubric)
    intake_scores_save(actor=reviewing_superuser, initiative=others, scores=scores(rubric))


# Verdicts ------------------------------------------------------------------------------------------------------------


def test_a_superuser_cannot_give_a_verdict_on_a_value_report(client, api_client, superuser, owner):
    report = submitted_report(owner)
    body = {"decision": "kill", "rationale": "No value."}

    with pytest.raises(PermissionDenied):
        review_services.verdict_give(actor=superuser, report=report, **body)
    client.force_login(superuser)
    assert client.post(reverse("reviews:report_verdict", args=[report.pk]), body).status_code == 403
    api_client.force_authenticate(superuser)
    assert api_client.post(reverse("reviews_api:report-verdict", args=[report.pk]), body,
                           format="json").status_code == 403

    assert not Verdict.objects.exists()
    report.initiative.refresh_from_db()
    assert report.initiative.stage == Stage.PILOT


def test_the_superuser_pages_offer_no_reviewer_actions(client, superuser, owner, rubric):
    initiative = in_review(owner, rubric)
    client.force_login(superuser)
    html = client.get(initiative.get_absolute_url()).content.decode()
    assert reverse("governance:score", args=[initiative.pk]) not in html
    assert reverse("governance:transition_approve", args=[initiative.pk]) not in html
    nav = client.get(reverse("portfolio:initiative_list")).context["nav_items"]
    assert "Review queue" not in [item["label"] for item in nav]
    assert client.get(reverse("admin:index")).status_code == 200  # the Django admin stays theirs


# The demo's admin ----------------------------------------------------------------------------------------------------


def test_the_demo_admin_cannot_score_approve_kill_or_judge_their_own_initiative(superuser, rubric):
    """The sequence the demo `admin` once completed alone. Registering and lowering the quorum are administration
    and stay open to them; every step of judging their own initiative is refused."""
    initiative = initiative_create(actor=superuser, name="Admin's own idea", department=DepartmentFactory(),
                                   owner=superuser)
    business_case_save(actor=superuser, initiative=initiative, problem="p", process_replaced="q",
                       baseline_cost_per_outcome=Decimal("10"), outcome_unit="claim",
                       expected_monthly_volume=100, expected_monthly_value=Decimal("1000"), min_viable_scale=10,
                       success_criteria="s", tco_inference=Decimal("100"))
    kpis_replace(actor=superuser, initiative=initiative,
                 kpis=[{"name": "Claims", "unit": "claims", "baseline": Decimal("1"), "target": Decimal("2")}])
    initiative_transition(actor=superuser, initiative=initiative, transition="submit")

    with pytest.raises(PermissionDenied):
        intake_scores_save(actor=superuser, initiative=initiative, scores=scores(rubric))
    policy_set(actor=superuser, key="intake.quorum", value=1)  # administration: allowed, and audited
    assert policy_value("intake.quorum") == 1
    with pytest.raises(PermissionDenied):
        initiative_transition(actor=superuser, initiative=initiative, transition="approve")

    # An independent reviewer approves it; the admin still may not kill what they own...
    reviewer = UserFactory(role=Role.REVIEWER)
    intake_scores_save(actor=reviewer, initiative=initiative, scores=scores(rubric))
    initiative_transition(actor=reviewer, initiative=initiative, transition="approve")
    initiative_transition(actor=superuser, initiative=initiative, transition="start_pilot")
    with pytest.raises(PermissionDenied):
        initiative_transition(actor=superuser, initiative=initiative, transition="kill", reason="Mine to end.")
    # ...nor give a verdict on its value report.
    report = ValueReportFactory(initiative=initiative)
    kpi = initiative.kpis.get()
    review_services.value_report_save_draft(actor=superuser, report=report, fields={"outcome_count": 10},
                                            kpi_actuals={kpi.pk: Decimal("2")})
    review_services.value_report_submit(actor=superuser, report=report)
    with pytest.raises(PermissionDenied):
        review_services.verdict_give(actor=superuser, report=report, decision="scale", rationale="Great.")
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PILOT and not Verdict.objects.exists()
