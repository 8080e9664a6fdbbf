"""Scale candidates: the other side of kill-or-continue (PRODUCT.md)."""

from __future__ import annotations

from decimal import Decimal

from governance.signals.rules.base import (
    LOW,
    MONEY,
    RATIO,
    SCALE_CANDIDATE,
    Candidate,
    Number,
    money,
    plain,
    subject_key,
)
from governance.signals.rules.facts import InitiativeFacts, ReviewFacts


def scale_candidate(initiative: InitiativeFacts, reviews: ReviewFacts, *, minimum: Decimal) -> Candidate | None:
    """The last submitted value report shows value per AI dollar above `minimum` with every KPI target met (and
    at least one target to meet)."""
    if not reviews.reports:
        return None
    latest = reviews.reports[0]
    vpd = latest.value_per_dollar
    if vpd is None or vpd <= minimum or latest.targets_missed or not latest.targets_met:
        return None
    return Candidate(
        type=SCALE_CANDIDATE,
        subject=subject_key(SCALE_CANDIDATE, initiative.external_id),
        initiative_ids=(initiative.id,),
        period=latest.quarter,
        severity=LOW,
        metric=vpd,
        higher_is_worse=True,
        rule=f"Value per AI dollar above {plain(minimum)} with every KPI target met in the last review.",
        policies={"scale.value_per_dollar_min": plain(minimum)},
        numbers=(
            Number("Initiative", f"{initiative.external_id} · {initiative.name}", initiative.url),
            Number(f"Value per AI dollar, {latest.quarter}", plain(vpd, 2), latest.url, unit=RATIO),
            Number(f"Value, {latest.quarter}", money(latest.value or Decimal(0)), latest.url, unit=MONEY),
            Number(f"Cost, {latest.quarter}", money(latest.cost or Decimal(0)), latest.url, unit=MONEY),
            Number(f"Targets met, {latest.quarter}", f"{latest.targets_met} of {latest.targets_met}", latest.url),
        ),
    )
