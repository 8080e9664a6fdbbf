"""Sprawl: every open sprawl cluster joins the list of signals, with the saving if its members consolidated."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from governance.signals.rules.base import (
    MONEY,
    SPRAWL,
    Candidate,
    Number,
    money,
    month_of,
    opportunity_severity,
    plain,
    subject_key,
)
from governance.signals.rules.facts import ClusterFacts


def sprawl(cluster: ClusterFacts, *, today: date, variable_share_pct: Decimal) -> Candidate:
    """An open cluster: the initiatives doing the same job, their spend and the estimated saving (which assumes
    `variable_share_pct` of the others' spend moves with their usage to the member kept)."""
    return Candidate(
        type=SPRAWL,
        subject=subject_key(SPRAWL, "cluster", str(cluster.id)),
        initiative_ids=cluster.initiative_ids,
        period=month_of(today),
        severity=opportunity_severity(cluster.estimated_saving, cluster.monthly_spend),
        metric=cluster.estimated_saving,
        higher_is_worse=True,
        rule="Initiatives doing the same job in different teams (an open sprawl cluster); the saving if they "
             "consolidated.",
        policies={"sprawl.variable_share_pct": plain(variable_share_pct)},
        numbers=(
            Number("Sprawl cluster", cluster.title, cluster.url),
            Number("Members", ", ".join(cluster.external_ids), cluster.url),
            Number("Combined monthly spend", money(cluster.monthly_spend), cluster.url, unit=MONEY),
            Number("Estimated saving per month", money(cluster.estimated_saving), cluster.url, unit=MONEY),
            Number("How the saving is estimated", cluster.basis, cluster.url),
        ),
        monthly_saving=cluster.estimated_saving,
    )
