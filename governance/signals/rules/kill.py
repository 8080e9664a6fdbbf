"""Kill-or-continue candidates (PRODUCT.md): value per dollar below the floor, KPI targets missed, value reports
overdue, pilots that never reach scale, cost over the business case, and initiatives nobody owns any more."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from governance.signals.rules.base import (
    COST_OVERRUN,
    HIGH,
    HUNDRED,
    KPI_TARGETS_MISSED,
    MEDIUM,
    MONEY,
    NO_ACTIVE_OWNER,
    PILOT_STALE,
    RATIO,
    REPORT_OVERDUE,
    VALUE_PER_DOLLAR_LOW,
    Candidate,
    Number,
    add_months,
    cents,
    money,
    month_of,
    plain,
    subject_key,
    whole_months_between,
)
from governance.signals.rules.facts import InitiativeFacts, QuarterCost, ReviewFacts

PILOT = "pilot"


def _initiative_number(initiative: InitiativeFacts) -> Number:
    return Number("Initiative", f"{initiative.external_id} · {initiative.name}", initiative.url)


def value_per_dollar_low(
    initiative: InitiativeFacts, reviews: ReviewFacts, *, floor: Decimal, quarters: int
) -> Candidate | None:
    """The latest `quarters` submitted value reports all show value per AI dollar below `floor` (a report without
    a value per dollar breaks the run: an unknown figure is not a low one)."""
    latest = reviews.reports[:quarters]
    if quarters < 1 or len(latest) < quarters:
        return None
    if any(r.value_per_dollar is None or r.value_per_dollar >= floor for r in latest):
        return None
    current = latest[0].value_per_dollar
    assert current is not None
    numbers = [_initiative_number(initiative)]
    for report in latest:
        numbers.append(Number(f"Value per AI dollar, {report.quarter}", plain(report.value_per_dollar or 0, 2),
                              report.url, unit=RATIO))
        numbers.append(Number(f"Value, {report.quarter}", money(report.value or Decimal(0)), report.url, unit=MONEY))
        numbers.append(Number(f"Cost, {report.quarter}", money(report.cost or Decimal(0)), report.url, unit=MONEY))
    return Candidate(
        type=VALUE_PER_DOLLAR_LOW,
        subject=subject_key(VALUE_PER_DOLLAR_LOW, initiative.external_id),
        initiative_ids=(initiative.id,),
        period=latest[0].quarter,
        severity=HIGH if current * 2 < floor else MEDIUM,
        metric=current,
        higher_is_worse=False,
        rule=f"Value per AI dollar below {plain(floor)} in each of the last {quarters} quarters reported.",
        policies={"kill.value_per_dollar_floor": plain(floor), "kill.value_per_dollar_quarters": str(quarters)},
        numbers=tuple(numbers),
    )


def kpi_targets_missed(
    initiative: InitiativeFacts, reviews: ReviewFacts, *, share: Decimal, reviews_count: int
) -> Candidate | None:
    """At each of the last `reviews_count` submitted reports, at least `share` of the KPI targets were missed
    (KPIs without a target or an actual do not count; a report with no target to judge breaks the run)."""
    latest = reviews.reports[:reviews_count]
    if reviews_count < 1 or len(latest) < reviews_count:
        return None
    shares = []
    for report in latest:
        judged = report.targets_met + report.targets_missed
        if judged == 0 or Decimal(report.targets_missed) / judged < share:
            return None
        shares.append(Decimal(report.targets_missed) / judged)
    average = sum(shares, Decimal(0)) / len(shares)
    numbers = [_initiative_number(initiative)]
    numbers += [Number(f"Targets missed, {r.quarter}", f"{r.targets_missed} of {r.targets_met + r.targets_missed}",
                       r.url) for r in latest]
    return Candidate(
        type=KPI_TARGETS_MISSED,
        subject=subject_key(KPI_TARGETS_MISSED, initiative.external_id),
        initiative_ids=(initiative.id,),
        period=latest[0].quarter,
        severity=HIGH if all(r.targets_met == 0 for r in latest) else MEDIUM,
        metric=average.quantize(Decimal("0.0001")),
        higher_is_worse=True,
        rule=(f"At least {plain(share * HUNDRED)}% of the KPI targets missed at each of the last {reviews_count} "
              "reviews."),
        policies={"kill.kpi_missed_share": plain(share), "kill.kpi_missed_reviews": str(reviews_count)},
        numbers=tuple(numbers),
    )


def report_overdue(initiative: InitiativeFacts, reviews: ReviewFacts, *, days: int) -> list[Candidate]:
    """One candidate per value report overdue by more than `days` days (each report is its own subject)."""
    found = []
    for report in reviews.overdue:
        if report.days_overdue <= days:
            continue
        found.append(Candidate(
            type=REPORT_OVERDUE,
            subject=subject_key(REPORT_OVERDUE, initiative.external_id, report.quarter),
            initiative_ids=(initiative.id,),
            period=report.quarter,
            severity=HIGH if report.days_overdue > 2 * days else MEDIUM,
            metric=Decimal(report.days_overdue),
            higher_is_worse=True,
            rule=f"A value report overdue by more than {days} days.",
            policies={"kill.report_overdue_days": str(days)},
            numbers=(
                _initiative_number(initiative),
                Number(f"Value report {report.quarter} due on", report.due_on.isoformat(), report.url),
                Number("Days overdue", str(report.days_overdue), report.url),
            ),
        ))
    return found


def pilot_stale(
    initiative: InitiativeFacts, reviews: ReviewFacts, *, today: date, max_months: int
) -> Candidate | None:
    """A pilot older than `max_months` (since it entered pilot; an initiative imported as a pilot since its start
    date, which the evidence then says: the pilot's own start is not recorded) without evidence in a value report
    that it reached its minimum viable scale."""
    since = initiative.pilot_since
    if initiative.stage != PILOT or since is None or reviews.scale_evidence is not None:
        return None
    if add_months(since, max_months) >= today:
        return None
    months = whole_months_between(since, today)
    return Candidate(
        type=PILOT_STALE,
        subject=subject_key(PILOT_STALE, initiative.external_id),
        initiative_ids=(initiative.id,),
        period=month_of(today),
        severity=HIGH if months > 2 * max_months else MEDIUM,
        metric=Decimal(months),
        higher_is_worse=True,
        rule=(f"A pilot older than {max_months} months without evidence that it reached its minimum viable "
              "scale."),
        policies={"kill.pilot_max_months": str(max_months)},
        numbers=(
            _initiative_number(initiative),
            Number("In pilot since" if initiative.pilot_start_recorded
                   else "In pilot since (its start date: the pilot's own start is not recorded)",
                   since.isoformat(), initiative.url),
            Number("Months in pilot", str(months), initiative.url),
            Number("Minimum-viable-scale evidence", "none in any submitted value report", initiative.url),
        ),
    )


def cost_budget(initiative: InitiativeFacts) -> tuple[Decimal, str]:
    """The quarter's expected cost and where it comes from: the business case's TCO x 3, or the declared monthly
    cost x 3 when there is no business case (or it estimates no cost)."""
    if initiative.case_tco_monthly:
        return initiative.case_tco_monthly * 3, "business case TCO"
    return initiative.declared_monthly_cost * 3, "declared monthly cost"


def cost_overrun(initiative: InitiativeFacts, cost: QuarterCost | None, *, overrun_pct: Decimal) -> Candidate | None:
    """The last complete quarter's TCO more than `overrun_pct` percent above the business case's TCO for that
    quarter; only when the quarter's run cost came from cost records (an estimate cannot overrun itself). Its
    oversight and maintenance may still be the case's estimate: the evidence says so rather than call it actual."""
    if cost is None or not cost.has_records:
        return None
    budget, basis = cost_budget(initiative)
    if cost.months != 3:  # a month nobody read is left out of the TCO: so is its business case
        budget = budget / 3 * cost.months
    if budget <= 0:
        return None
    overrun = (cost.total - budget) / budget * HUNDRED
    if overrun <= overrun_pct:
        return None
    return Candidate(
        type=COST_OVERRUN,
        subject=subject_key(COST_OVERRUN, initiative.external_id),
        initiative_ids=(initiative.id,),
        period=cost.quarter,
        severity=HIGH if overrun > 2 * overrun_pct else MEDIUM,
        metric=overrun.quantize(Decimal("0.01")),
        higher_is_worse=True,
        rule=f"The quarter's TCO more than {plain(overrun_pct)}% above the business case's TCO for it.",
        policies={"kill.cost_overrun_pct": plain(overrun_pct)},
        numbers=(
            _initiative_number(initiative),
            Number(f"TCO, {cost.quarter}{' (partly estimated)' if cost.partly_estimated else ''}"
                   f"{f'; {cost.unread_note}' if cost.unread_note else ''}", money(cost.total), cost.url, unit=MONEY),
            Number(f"Expected cost, {cost.quarter} ({basis} x {cost.months})", money(budget), initiative.url,
                   unit=MONEY),
            Number("Over by (%)", plain(overrun, 1), cost.url),
        ),
        monthly_saving=cents((cost.total - budget) / cost.months),
    )


def no_active_owner(initiative: InitiativeFacts, *, today: date) -> Candidate | None:
    """The owner's account is deactivated (or gone) and no delegate has an active account: nobody is accountable."""
    if initiative.owner_active or initiative.active_delegates > 0:
        return None
    return Candidate(
        type=NO_ACTIVE_OWNER,
        subject=subject_key(NO_ACTIVE_OWNER, initiative.external_id),
        initiative_ids=(initiative.id,),
        period=month_of(today),
        severity=HIGH,
        metric=Decimal(1),
        higher_is_worse=True,
        rule="The owner's account is deactivated or gone and no delegate is active.",
        numbers=(
            _initiative_number(initiative),
            Number("Owner", f"{initiative.owner_name or 'none'} (account not active)", initiative.url),
            Number("Active delegates", "0", initiative.url),
        ),
    )
