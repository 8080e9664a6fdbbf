"""Governance fixtures: the rubric, a second reviewer, and an intake ready to submit or already in review."""

from __future__ import annotations

from decimal import Decimal

import pytest

from governance.models import RubricCriterion
from governance.services import initiative_transition, intake_scores_save
from portfolio.choices import Stage
from tests.factories import BusinessCaseFactory, KPIFactory, RubricCriterionFactory, UserFactory
from tollgate.roles import Role

DEFAULT_WEIGHTS = {"Strategic fit": "25", "Strength of the value case": "25", "Cost realism": "15",
                   "Data readiness and risk": "15", "Reuse of shared services / duplication": "10",
                   "Exit plan and vendor lock-in": "10"}


@pytest.fixture
def rubric(db) -> list[RubricCriterion]:
    """The seeded default rubric (recreated if a transactional test flushed it)."""
    for order, (name, weight) in enumerate(DEFAULT_WEIGHTS.items(), start=1):
        RubricCriterionFactory(name=name, weight=Decimal(weight), order=order)
    return list(RubricCriterion.objects.filter(active=True).order_by("order"))


@pytest.fixture
def second_reviewer(db):
    return UserFactory(username="ravi.reviewer@example.com", role=Role.REVIEWER)


@pytest.fixture
def third_reviewer(db):
    return UserFactory(username="tara.reviewer@example.com", role=Role.REVIEWER)


@pytest.fixture
def ready(initiative):
    """The owner's initiative with a complete business case and a KPI with baseline and target."""
    BusinessCaseFactory(initiative=initiative)
    KPIFactory(initiative=initiative)
    return initiative


@pytest.fixture
def in_review(ready, owner, rubric):
    initiative_transition(actor=owner, initiative=ready, transition="submit")
    assert ready.stage == Stage.IN_REVIEW
    return ready


def score_all(reviewer, initiative, criteria, value: int | list[int] = 4):
    """Score every criterion (one value for all, or one per criterion)."""
    values = value if isinstance(value, list) else [value] * len(criteria)
    return intake_scores_save(
        actor=reviewer, initiative=initiative,
        scores=[{"criterion": c.pk, "score": v, "comment": f"{c.name} looks fine"} for c, v in zip(criteria, values,
                                                                                                    strict=True)],
    )
