"""The dashboard's figures for one quarter (and optionally one department), read in a fixed number of queries.

The page, its API and the board pack all call `dashboard()`, so they show the same numbers. Spend is the cost
roll-ups (portfolio.costs MonthlyCost, the figures `cost_report` prints), value what the owners reported in their
value reports (supplied by the reviews app), candidates and sprawl what governance's signals and clusters say.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from portfolio.calculations import (
    Quarter,
    QuarterReading,
    ValueReading,
    apportion_cents,
    change,
    change_in_points,
    each_kind_first,
    value_per_dollar,
    weighted_mean,
)
from portfolio.choices import CostCategory, RunStatus, Stage
from portfolio.costs.calculations import CostDataReading, add_months, cents, unallocated_key_of
from portfolio.costs.forecast import NO_COMPLETE_MONTH, cost_forecast_latest
from portfolio.costs.selectors import (
    cost_data_reading,
    initiative_tco_by_period,
    last_complete_quarter,
    tco_months_counted,
)
from portfolio.dashboard import providers as registry
from portfolio.models import (
    KPI,
    AllocationRule,
    BusinessCase,
    BusinessCaseVersion,
    CostForecast,
    CostRecord,
    CurrencyRate,
    Department,
    IngestionRun,
    Initiative,
    LicencePool,
    LicencePoolActivity,
    MonthlyCost,
    reporting_currency,
)
from portfolio.selectors import approved_plans

ZERO = Decimal("0")
CACHE_SECONDS = 24 * 3600  # the key changes with the data; this only bounds how long an unused entry stays
TOP = 10
TREND_MONTHS = 12


def default_quarter(*, today: date | None = None) -> Quarter:
    """The last complete quarter: the one the latest complete month of cost data closes, else the one before today's."""
    today = today or timezone.localdate()
    complete = last_complete_quarter(today=today)
    return Quarter.parse(complete[0]) if complete else Quarter.of(today).previous()


def default_quarter_cached() -> Quarter:
    """default_quarter, read once per day and version of the data (it scans the months of every source)."""
    today = timezone.localdate()
    key = f"dashboard:default-quarter:{today}:{data_version()}"
    name = cache.get(key)
    if name is None:
        name = default_quarter(today=today).name
        cache.set(key, name, CACHE_SECONDS)
    return Quarter.parse(name)


def quarter_not_begun(quarter: Quarter, *, today: date | None = None) -> str | None:
    """Why `quarter` cannot be shown, or None: one that has not begun has no figures of its own, and today's
    (initiatives running, candidates, sprawl) would read as its."""
    today = today or timezone.localdate()
    if quarter.first_day <= today:
        return None
    start = quarter.first_day
    return (f"{quarter.name} has not begun yet: it starts on {start.day} {start:%b %Y}. The latest quarter is "
            f"{Quarter.of(today).name}, in progress.")


def snapshot_day(quarter: Quarter, *, today: date | None = None) -> date | None:
    """The day the figures kept only as they stand now (initiatives running and by stage, kill and scale candidates,
    sprawl, the forecast) are labelled with: today, for any quarter but the current one, so that nobody reads them as
    that quarter's. None for the current quarter, which today is in."""
    today = today or timezone.localdate()
    return None if Quarter.of(today) == quarter else today


def board_key(quarter: Quarter, department: Department | None, *, today: date | None = None) -> str:
    """What the figures of a quarter and department are kept under (the page's fragment and the API's JSON too): the
    data's version, and the day their snapshot figures are labelled with, so that tomorrow does not show today's. The
    current quarter's are kept per month too: which of its months are complete (quarter_reading) changes as a month
    ends, with the same data."""
    today = today or timezone.localdate()
    as_of = snapshot_day(quarter, today=today)
    return (f"{quarter.name}:{department.pk if department else 'all'}:{data_version()}:"
            f"{as_of.isoformat() if as_of else f'current-{today:%Y-%m}'}")


def quarter_reading(quarter: Quarter, *, today: date | None = None,
                    cost_data: CostDataReading | None = None) -> QuarterReading:
    """Which months of `quarter` its cost figures cover and what they are compared with (calculations.QuarterReading):
    its complete months, by the rule of the ingestion health page and the default quarter: none after the latest
    complete month (last_complete_month), none an enabled source owes (the page's "missing"), and none nobody read
    (tco_months_counted, the costs API's "unread": its cost is unknown, not $0). `cost_data`: the reading of the
    months already made (costs.selectors.cost_data_reading), else read here."""
    today = today or timezone.localdate()
    cost_data = cost_data or cost_data_reading(today=today)
    counted = tco_months_counted(quarter.months[0], quarter.months[-1], reading=cost_data)
    return QuarterReading.of(quarter, latest_complete=cost_data.latest_complete,
                             owed=cost_data.owed(quarter.months), today=today, unread=counted.unread)


def no_cost_data(reading: QuarterReading) -> str:
    """What a quarter nothing was read for says: "yet" only while it is in progress; its months ended without
    data are not to come."""
    if reading.ended:
        return f"no cost data was read for {reading.quarter.name}"
    return f"no cost data yet for {reading.quarter.name}"


def period_label(reading: QuarterReading, *, has_costs: bool) -> str:
    """The quarter's period as headed on the dashboard and the board pack: a quarter that has ended without any data
    says so, rather than "to date"."""
    if reading.ended and not has_costs:
        return f"{reading.quarter.name} (no cost data was read for it)"
    return reading.period


@dataclass(frozen=True)
class DataStamp:
    """Which data the figures come from, so the same data gives the same page and the same board pack: the last day
    read (a month that has ended: its last day; the month in progress: its latest charge date) and the run that
    wrote that month."""

    cost_data_to: date | None
    ingestion_run: int | None
    in_progress: bool = False  # cost_data_to is in the month still in progress: it is read "so far"

    @property
    def text(self) -> str:
        if self.cost_data_to is None:
            return "no cost data yet"
        run = f", ingestion run {self.ingestion_run}" if self.ingestion_run else ""
        if self.in_progress:
            return f"cost data of {self.cost_data_to:%Y-%m} so far (to {self.cost_data_to:%Y-%m-%d}){run}"
        return f"cost data to {self.cost_data_to:%Y-%m-%d}{run}"


def data_stamp(quarter: Quarter, *, today: date | None = None) -> DataStamp:
    """The stamp of a quarter's figures: its latest month with data, to the last day read, and the latest successful
    run of that month (not the latest run of any month: a backfill of an old month wrote none of it)."""
    today = today or timezone.localdate()
    latest = MonthlyCost.objects.filter(month__lte=quarter.months[-1]).aggregate(m=Max("month"))["m"]
    if latest is None:
        return DataStamp(None, None)
    run = (IngestionRun.objects.filter(status=RunStatus.SUCCEEDED, period=latest)
           .order_by("-pk").values_list("pk", flat=True).first())
    if latest < today.replace(day=1):
        return DataStamp(add_months(latest, 1) - timedelta(days=1), run)
    last_day = CostRecord.objects.filter(period=latest).aggregate(d=Max("charge_date"))["d"]
    return DataStamp(min(last_day or today, today), run, in_progress=True)


@dataclass(frozen=True)
class Figure:
    """One headline figure, its previous-quarter value and what it is computed from."""

    key: str
    label: str
    value: Decimal | int | None
    previous: Decimal | int | None
    unit: str  # money, ratio, count, percent
    basis: str
    url: str
    as_of: date | None = None  # a figure kept only as it stands now, shown for another quarter: the day it was read

    @property
    def change(self) -> Decimal | None:
        """Relative change in percent (for a share too: the API's `change` keeps that meaning)."""
        if self.value is None or self.previous is None:
            return None
        return change(Decimal(self.value), Decimal(self.previous))

    @property
    def change_points(self) -> Decimal | None:
        """A share's change in percentage points, what the page and the board pack show for it; None for others."""
        if self.unit != "percent" or self.value is None or self.previous is None:
            return None
        return change_in_points(Decimal(self.value), Decimal(self.previous))


def _department_entry() -> dict[str, Decimal]:
    # reports: how many valued reports; estimated: how many of their costs are in any part the business case's
    # estimate (no run-cost records, or oversight or maintenance without records).
    return {"spend": ZERO, "value": ZERO, "value_with_cost": ZERO, "reported_cost": ZERO, "reports": ZERO,
            "estimated": ZERO}


@dataclass
class QuarterTotals:
    # Whether anything was read for the quarter, portfolio-wide: without cost records its spend is unknown, not $0
    # (a quarter in progress before its first month is read), and without seat data so is its idle licence cost.
    has_costs: bool = False
    has_seats: bool = False
    spend: Decimal = ZERO
    unallocated: Decimal = ZERO
    value: Decimal | None = None
    value_with_cost: Decimal = ZERO  # value of the reports that have a cost, the numerator of value per dollar
    reported_cost: Decimal = ZERO
    reports: int = 0
    reports_outstanding: int = 0  # reports of the quarter's cycle still owed
    reports_due_on: date | None = None
    cost_per_outcome: Decimal | None = None
    baseline_cost_per_outcome: Decimal | None = None
    idle_licence_cost: Decimal = ZERO
    reports_url: str = ""
    values: dict[int, registry.ReportedValue] = field(default_factory=dict)
    by_department: dict[int, dict[str, Decimal]] = field(default_factory=lambda: defaultdict(_department_entry))

    @property
    def value_per_dollar(self) -> Decimal | None:
        return value_per_dollar(self.value_with_cost, self.reported_cost) if self.value is not None else None


def _initiatives(department_id: int | None):
    initiatives = Initiative.objects.all()
    return initiatives.filter(department_id=department_id) if department_id else initiatives


def _quarter_totals(quarter: Quarter, department_id: int | None, months: Sequence[date],
                    cost_data: CostDataReading | None = None) -> QuarterTotals:
    """The quarter's figures: its cost over `months` (the months read, or the same months of the quarter it is compared
    with; none: no cost figure), its value from its value reports, its idle seats from its latest month of seat data."""
    totals = QuarterTotals(
        has_costs=bool(months) and MonthlyCost.objects.filter(month__in=months).exists(),
        has_seats=LicencePoolActivity.objects.filter(month__in=quarter.months).exists(),
    )
    costs = MonthlyCost.objects.filter(month__in=months)
    if department_id:
        costs = costs.filter(initiative__department_id=department_id)
    for dept, allocated, amount in (
        costs.order_by().values_list("initiative__department_id", "initiative_id").annotate(total=Sum("amount"))
        .values_list("initiative__department_id", "initiative_id", "total")
    ):
        totals.spend += amount or ZERO
        if allocated is None:
            totals.unallocated += amount or ZERO
        else:
            totals.by_department[dept]["spend"] += amount or ZERO
    provider = registry.providers.quarter_values
    if provider is not None:
        ids = None if not department_id else list(_initiatives(department_id).values_list("pk", flat=True))
        value_set = provider(quarter=quarter, initiative_ids=ids, reading=cost_data)
        values, totals.reports_url = value_set.values, value_set.url
        totals.reports_outstanding, totals.reports_due_on = value_set.outstanding, value_set.due_on
        totals.values = values
        departments = dict(Initiative.objects.filter(pk__in=values).values_list("pk", "department_id"))
        # Value is measured against the approved business case (portfolio.selectors.approved_plan).
        baselines = {pk: plan.baseline_cost_per_outcome for pk, plan in approved_plans(list(values)).items()
                     if plan.baseline_cost_per_outcome is not None}
        cpo: list[tuple[Decimal, Decimal]] = []
        base: list[tuple[Decimal, Decimal]] = []
        valued = [v for v in values.values() if v.value is not None]
        totals.value = sum((v.value or ZERO for v in valued), ZERO) if valued else None
        for reported in valued:
            totals.reports += 1
            entry = totals.by_department[departments[reported.initiative_id]]
            entry["value"] += reported.value or ZERO
            entry["reports"] += 1
            if reported.cost:
                totals.value_with_cost += reported.value or ZERO
                totals.reported_cost += reported.cost
                entry["value_with_cost"] += reported.value or ZERO
                entry["reported_cost"] += reported.cost
                entry["estimated"] += 1 if reported.cost_partly_estimated else 0
        for reported in values.values():
            if reported.cost and reported.outcomes:
                cpo.append((reported.cost / reported.outcomes, reported.cost))
                baseline = baselines.get(reported.initiative_id)
                if baseline is not None:
                    base.append((baseline, reported.cost))
        totals.cost_per_outcome = weighted_mean(cpo)
        totals.baseline_cost_per_outcome = weighted_mean(base)
    totals.idle_licence_cost = sum((row["idle_cost"] for row in licence_utilisation(quarter, department_id)), ZERO)
    return totals


def licence_utilisation(quarter: Quarter, department_id: int | None) -> list[dict[str, Any]]:
    """Seats purchased, active in the last 30 days and idle per pool, in the latest month of the quarter with seat
    data; idle cost = idle seats x price per seat per month."""
    activity = LicencePoolActivity.objects.filter(month__in=quarter.months)
    if department_id:
        activity = activity.filter(licence_pool__initiative__department_id=department_id)
    latest = {pool: month for pool, month in activity.order_by().values("licence_pool_id").annotate(
        m=Max("month")).values_list("licence_pool_id", "m")}
    rows = []
    for act in activity.filter(licence_pool_id__in=latest).select_related("licence_pool__initiative").order_by(
            "licence_pool__tool", "month"):
        if act.month != latest[act.licence_pool_id]:
            continue
        pool = act.licence_pool
        idle = max(act.purchased - act.active_30d, 0)
        rows.append({
            "pool": pool.tool, "pool_id": pool.pk, "month": f"{act.month:%Y-%m}", "purchased": act.purchased,
            "active_30d": act.active_30d,
            "utilisation": None if not act.purchased else round(act.active_30d / act.purchased * 100, 1),
            "idle": idle, "idle_cost": cents(idle * pool.price_per_seat_month),
            "initiative": pool.initiative.name if pool.initiative else "",
            "url": pool.initiative.get_absolute_url() if pool.initiative else reverse("portfolio:licencepool_list"),
        })
    return rows


def spend_by_category_month(quarter: Quarter, department_id: int | None) -> list[dict[str, Any]]:
    """Spend per month and category over the twelve months that end with the quarter (unallocated included)."""
    last = quarter.months[-1]
    costs = MonthlyCost.objects.filter(month__gte=add_months(last, 1 - TREND_MONTHS), month__lte=last)
    if department_id:
        costs = costs.filter(initiative__department_id=department_id)
    rows = costs.order_by("month", "category").values("month", "category").annotate(total=Sum("amount"))
    return [{"month": f"{r['month']:%Y-%m}", "category": r["category"],
             "label": CostCategory(r["category"]).label, "amount": cents(r["total"] or ZERO)} for r in rows]


NO_KEY = ("(no key)", "records with no tag, account or resource")
OTHER_KEYS = "(other keys)"
PACK_CANDIDATES = 12  # kill and scale candidates listed in the board pack, which stays within 12 pages
PACK_SPRAWL = 15  # sprawl clusters listed in the board pack
PACK_DECISIONS = 40  # the quarter's decisions listed in the board pack
# The most the unallocated spend (monthly roll-ups, each to the cent) differs from its records' own sum by rounding.
ROLL_UP_ROUNDING = Decimal("1.00")


def unallocated_keys(quarter: Quarter, *, limit: int | None = TOP, months: Sequence[date] | None = None,
                     total: Decimal | None = None) -> list[dict[str, Any]]:
    """The key values (tags, accounts, projects) of the quarter's unallocated cost records (over `months`, its months
    read), biggest first: what an administrator writes allocation rules for. Each record counts once, under its one
    most telling key (calculations.unallocated_key_of), so the rows never count the same money twice; summed in the
    database per set of keys, then attributed here. The records with no key at all count in the unallocated spend too:
    they are one row of their own (`no_key`, NO_KEY's words, no rule to write for it, so no link), always shown. The
    keys past the `limit` biggest are one last row (`other_keys`), so that the rows always add up to the unallocated
    spend: to the cent to `total` (the unallocated spend shown, the sum of the monthly roll-ups), apportioned by
    largest remainder, unless they differ by more than the roll-ups' rounding (ROLL_UP_ROUNDING: roll-ups not yet
    rebuilt from these records), when the rows keep their own sum. `limit` None: every key, each a row."""
    months = quarter.months if months is None else months
    if not months:
        return []
    groups = (
        CostRecord.objects.filter(initiative__isnull=True, period__in=months)
        .order_by().values("keys").annotate(total=Sum("amount_reporting"), records=Count("pk"))
    )
    by_key: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [ZERO, 0])
    keyless: list[Any] = [ZERO, 0]
    for group in groups:
        chosen = unallocated_key_of(group["keys"] or {})
        entry = keyless if chosen is None else by_key[chosen]
        entry[0] += group["total"] or ZERO
        entry[1] += group["records"]
    url = reverse("portfolio:allocationrule_list")
    ranked = sorted(by_key.items(), key=lambda item: (-item[1][0], item[0]))
    rows = [{"key": key, "value": value, "amount": amount, "records": records, "url": url, "no_key": False,
             "other_keys": False}
            for (key, value), (amount, records) in ranked[:limit]]
    if keyless[1]:
        rows.append({"key": NO_KEY[0], "value": NO_KEY[1], "amount": keyless[0], "records": keyless[1],
                     "url": "", "no_key": True, "other_keys": False})
        rows.sort(key=lambda row: -cents(row["amount"]))  # stable: keys of the same amount keep their order
    rest = ranked[limit:] if limit is not None else []
    if rest:  # last, whatever its amount: the keys too small to list one by one, so that the rows add up
        rows.append({"key": OTHER_KEYS, "value": f"{len(rest):,} more key{'s' if len(rest) > 1 else ''}",
                     "amount": sum((amount for _, (amount, _) in rest), ZERO),
                     "records": sum(records for _, (_, records) in rest), "url": url, "no_key": False,
                     "other_keys": True})
    # The records' amounts have more places than a cent: rounded row by row, the rows missed the unallocated spend
    # printed above them by a cent or two; apportioned, they add up to it exactly.
    target = cents(sum((row["amount"] for row in rows), ZERO))
    if total is not None and abs(total - target) < ROLL_UP_ROUNDING:
        target = total
    for row, amount in zip(rows, apportion_cents([row["amount"] for row in rows], target), strict=True):
        row["amount"] = amount
    return rows


def departments(quarter: Quarter, totals: QuarterTotals, department_id: int | None) -> list[dict[str, Any]]:
    names = Department.objects.order_by("name")
    if department_id:
        names = names.filter(pk=department_id)
    rows = []
    for dept in names:
        entry = totals.by_department.get(dept.pk) or _department_entry()
        # Value is None, not 0, where nobody reported one. Value per dollar divides by the cost of the initiatives
        # that reported (their TCO: cost records, and their business case's estimate where none are recorded):
        # `value_cost`, shown beside it, so that it reads right next to a spend of the cost records alone; marked
        # partly estimated when any report's cost holds such an estimate (oversight or maintenance included).
        rows.append({
            "id": dept.pk, "name": dept.name, "spend": cents(entry["spend"]) if totals.has_costs else None,
            "value": cents(entry["value"]) if entry["reports"] else None,
            "value_per_dollar": value_per_dollar(entry["value_with_cost"], entry["reported_cost"]),
            "value_cost": cents(entry["reported_cost"]) if entry["reported_cost"] else None,
            "value_cost_estimated": bool(entry["estimated"]),
            "url": dashboard_url(quarter, dept.pk),
        })
    return rows


TOP_INITIATIVES = 15  # the dashboard's "Where the money goes"; its CSV carries every initiative with spend


def _initiative_costs(quarter: Quarter, department_id: int | None, months: Sequence[date] | None):
    costs = MonthlyCost.objects.filter(month__in=quarter.months if months is None else months,
                                       initiative__isnull=False)
    return costs.filter(initiative__department_id=department_id) if department_id else costs


def initiatives_with_spend(quarter: Quarter, department_id: int | None, *,
                           months: Sequence[date] | None = None) -> int:
    """How many initiatives spent anything in the quarter: what the capped top_initiatives is "N of"."""
    return _initiative_costs(quarter, department_id, months).order_by().values("initiative_id").distinct().count()


def top_initiatives(quarter: Quarter, totals: QuarterTotals, department_id: int | None,
                    limit: int | None = TOP_INITIATIVES, *, months: Sequence[date] | None = None
                    ) -> list[dict[str, Any]]:
    """The initiatives that spent most in the quarter (over `months`, its months read), with their reported value;
    links keep the quarter. `limit` None: every initiative with spend."""
    costs = _initiative_costs(quarter, department_id, months)
    rows = (costs.order_by().values("initiative_id", "initiative__name", "initiative__external_id",
                                    "initiative__department__name", "initiative__stage")
            .annotate(total=Sum("amount")).order_by("-total", "initiative__name")[:limit])
    top = []
    for row in rows:
        reported = totals.values.get(row["initiative_id"])
        top.append({
            "id": row["initiative_id"], "external_id": row["initiative__external_id"], "name": row["initiative__name"],
            "department": row["initiative__department__name"], "stage": Stage(row["initiative__stage"]).label,
            "spend": cents(row["total"] or ZERO), "value": reported.value if reported else None,
            "url": reverse("portfolio:initiative_detail", args=[row["initiative_id"]]) + f"?quarter={quarter.name}",
        })
    return top


def dashboard_url(quarter: Quarter, department_id: int | None = None) -> str:
    query = f"?quarter={quarter.name}" + (f"&department={department_id}" if department_id else "")
    return reverse("portfolio:dashboard") + query


def initiatives_by_stage(department_id: int | None) -> dict[str, int]:
    counts = dict(_initiatives(department_id).order_by().values("stage").annotate(n=Count("pk"))
                  .values_list("stage", "n"))
    return {stage.value: counts.get(stage.value, 0) for stage in Stage}


def candidates(department_id: int | None, *, limit: int | None = registry.TOP_CANDIDATES
               ) -> registry.CandidateSet | None:
    """The kill and scale candidates, the `limit` first of each kind (None: all of them) and how many in all."""
    provider = registry.providers.candidates
    return None if provider is None else provider(department_id=department_id, limit=limit)


def sprawl(department_id: int | None, *, limit: int | None = None) -> list[registry.SprawlRow] | None:
    """The sprawl clusters the dashboard lists, largest saving first: the `limit` first (None: every one)."""
    provider = registry.providers.sprawl
    return None if provider is None else provider(department_id=department_id, limit=limit)


def full_rows(name: str, board: dict[str, Any], *, quarter: Quarter, department: Department | None
              ) -> list[Any] | None:
    """Every row of the dashboard's list `name` where the page shows only the first (candidates, sprawl, top
    initiatives, unallocated keys), for its CSV export: a file that stopped at the page's cap would read as the whole
    list. None for a list the page shows whole."""
    department_id = department.pk if department else None
    if name in ("kill_candidates", "scale_candidates"):
        found = candidates(department_id, limit=None)
        return None if found is None else [c for c in found.candidates if c.kind == name.split("_")[0]]
    if name == "sprawl":
        return sprawl(department_id)
    if name == "top_initiatives":
        cost_data = cost_data_reading()
        reading = quarter_reading(quarter, cost_data=cost_data)
        totals = _quarter_totals(quarter, department_id, reading.months, cost_data)
        return top_initiatives(quarter, totals, department_id, None, months=reading.months)
    if name == "unallocated_keys" and not department_id:
        reading = quarter_reading(quarter)
        return unallocated_keys(quarter, limit=None, months=reading.months, total=board["unallocated"])
    return None


def sprawl_track() -> registry.SprawlTrack | None:
    """The company's sprawl track record (the whole portfolio's: a department's few decisions would say little)."""
    provider = registry.providers.sprawl_track
    return None if provider is None else provider()


def forecast_of(department_id: int | None) -> dict[str, Any] | None:
    """The latest stored forecast (portfolio.costs.forecast): monthly total with its 80 % interval and the Jevons
    scenario, the next four quarters, the backtest's error, and the actual spend of the twelve months before it. For
    a department, the sum of its initiatives' lines (their bands do not add up, so none is given)."""
    stored = cost_forecast_latest()
    if stored is None:
        return None
    payload = stored.payload
    months = payload["months"][:12]
    if department_id:
        lines = stored.initiative_forecasts.filter(initiative__department_id=department_id).values_list(
            "amounts", flat=True)
        total = [round(sum(float(line[i]) for line in lines if i < len(line)), 2) for i in range(len(months))]
        lower = upper = None
        jevons = None
    else:
        total, lower, upper = payload["total"][:12], payload["lower"][:12], payload["upper"][:12]
        jevons = {"total": payload["jevons"]["total"][:12],
                  "price_decline_pct": payload["jevons"].get("price_decline_pct")}
    history: list[dict[str, Any]] = []
    if months:
        # The actual spend the forecast continues from: the twelve months before its first, whatever quarter the
        # board shows (a past quarter's own months would leave the chart blank between that quarter and today).
        last = add_months(date.fromisoformat(months[0] + "-01"), -1)
        costs = MonthlyCost.objects.filter(month__gte=add_months(last, 1 - TREND_MONTHS), month__lte=last)
        if department_id:
            costs = costs.filter(initiative__department_id=department_id)
        history = [{"month": f"{row['month']:%Y-%m}", "amount": cents(row["total"] or ZERO)}
                   for row in costs.order_by("month").values("month").annotate(total=Sum("amount"))]
    quarters = []
    for start in range(0, len(months) - len(months) % 3, 3):
        quarters.append({
            "quarter": Quarter.of(date.fromisoformat(months[start] + "-01")).name,
            "total": cents(Decimal(str(sum(total[start:start + 3])))),
            "lower": None if lower is None else cents(Decimal(str(sum(lower[start:start + 3])))),
            "upper": None if upper is None else cents(Decimal(str(sum(upper[start:start + 3])))),
        })
    return {
        "as_of": f"{stored.as_of:%Y-%m}", "months": months, "total": total, "lower": lower, "upper": upper,
        "jevons": jevons, "quarters": quarters, "history": history,
        "next_year": cents(Decimal(str(sum(total)))),
        "backtest_mape": None if stored.backtest_mape is None else float(stored.backtest_mape),
        "backtest_mape_pct": None if stored.backtest_mape is None else round(float(stored.backtest_mape) * 100, 1),
        "url": reverse("portfolio:cost_forecast"),
    }


def spend_of(totals: QuarterTotals) -> Decimal | None:
    """The quarter's AI spend; None (shown "—", null in the API) when nothing was read for it, not $0."""
    return cents(totals.spend) if totals.has_costs else None


def unallocated_of(totals: QuarterTotals) -> Decimal | None:
    return cents(totals.unallocated) if totals.has_costs else None


def idle_licence_cost_of(totals: QuarterTotals) -> Decimal | None:
    return cents(totals.idle_licence_cost) if totals.has_seats else None


def _months_text(months: Sequence[date]) -> str:
    """"2026-10", "2026-10 to 2026-11", or "2026-10, 2026-12" when a month between is left out (not complete)."""
    if len(months) == 1:
        return f"{months[0]:%Y-%m}"
    if len(months) == 2 and (months[1].year * 12 + months[1].month) - (months[0].year * 12 + months[0].month) > 1:
        return f"{months[0]:%Y-%m}, {months[1]:%Y-%m}"
    return f"{months[0]:%Y-%m} to {months[-1]:%Y-%m}"


def value_reading(quarter: Quarter, totals: QuarterTotals, *, today: date | None = None) -> ValueReading:
    """How many of the quarter's value reports are in (calculations.ValueReading)."""
    return ValueReading(quarter, submitted=len(totals.values), outstanding=totals.reports_outstanding,
                        due_on=totals.reports_due_on, today=today or timezone.localdate())


def previous_value(value_read: ValueReading, now: QuarterTotals, before: QuarterTotals) -> Decimal | None:
    """The previous quarter's value to compare with: all of it once the quarter's reports are all in; while some are
    owed, what the initiatives that reported so far reported then (ValueReading)."""
    if value_read.complete:
        return before.value
    if now.value is None:
        return None
    same = [before.values[pk].value for pk in now.values if pk in before.values]
    valued = [v for v in same if v is not None]
    return sum(valued, ZERO) if valued else None


def _figures(reading: QuarterReading, now: QuarterTotals, before: QuarterTotals, stages: dict[str, int],
             found: registry.CandidateSet | None, forecast: dict[str, Any] | None,
             as_of: date | None = None, value_read: ValueReading | None = None,
             department_id: int | None = None) -> list[Figure]:
    """The headline figures; those kept only as they stand now (running, the forecast, the candidates) carry
    `as_of` (snapshot_day), the others are the quarter's own: its cost over its months read (reading), against the
    same months of the previous quarter."""
    quarter = reading.quarter
    months = _months_text(reading.months)
    over = "the quarter's months" if reading.whole else "that month" if len(reading.months) == 1 else "those months"
    comparison = ""
    if not reading.whole:
        same = "the same month" if len(reading.compared_months) == 1 else "the same months"
        comparison = (f"; {reading.period} against {same} of {quarter.previous().name}, "
                      f"{_months_text(reading.compared_months)}" if reading.compared_months
                      else f"; {reading.period}: compared with nothing")
    costs_url = reverse("portfolio:ingestion_health")
    rules_url = reverse("portfolio:allocationrule_list")
    reports_url = now.reports_url
    signals_url = found.url if found else ""
    kill = None if found is None else found.kill_count
    scale = None if found is None else found.scale_count
    share = None if not now.spend else (now.unallocated / now.spend * 100).quantize(Decimal("0.1"))
    share_before = None if not before.spend else (before.unallocated / before.spend * 100).quantize(Decimal("0.1"))
    running_stages = (Stage.APPROVED, Stage.PILOT, Stage.PRODUCTION)
    running = sum(stages.get(s, 0) for s in running_stages)
    # The portfolio filtered to what the figure counts (and the department's), so the list it opens has its rows.
    running_query = [("stage", str(s)) for s in running_stages]
    if department_id:
        running_query.append(("department", str(department_id)))
    running_url = f"{reverse('portfolio:initiative_list')}?{urlencode(running_query)}"
    no_costs = "" if now.has_costs else f"; {no_cost_data(reading)}"
    value_read = value_read or value_reading(quarter, now)
    value_before = previous_value(value_read, now, before)
    value_basis = f"value of {now.reports} submitted value reports for {quarter.name}"
    if not value_read.complete:
        value_basis = (f"value of the {value_read.submitted} of {value_read.expected} value reports for {quarter.name} "
                       f"in so far, against what the same initiatives reported for {quarter.previous().name}")
    return [
        Figure("spend", "AI spend", spend_of(now), spend_of(before), "money",
               f"cost roll-ups of {months} (the sum of cost_report over {over}){comparison}" if now.has_costs
               # Naming the months would say they were read: nothing was.
               else f"cost roll-ups: {no_cost_data(reading)}", costs_url),
        Figure("unallocated", "Unallocated spend", unallocated_of(now), unallocated_of(before), "money",
               f"cost records no allocation rule maps to an initiative{comparison}{no_costs}", rules_url),
        Figure("unallocated_share", "Unallocated share", share, share_before, "percent",
               "unallocated spend / AI spend", rules_url),
        Figure("value", "Value", cents(now.value) if now.value is not None else None,
               cents(value_before) if value_before is not None else None, "money", value_basis, reports_url),
        Figure("value_per_dollar", "Value per AI dollar", now.value_per_dollar, before.value_per_dollar, "ratio",
               "reported value / the cost of the quarter of the initiatives that reported it", reports_url),
        Figure("cost_per_outcome", "Cost per outcome", now.cost_per_outcome, before.cost_per_outcome, "money",
               "cost / outcomes of each report, weighted by its cost", reports_url),
        Figure("baseline_cost_per_outcome", "Baseline cost per outcome", now.baseline_cost_per_outcome,
               before.baseline_cost_per_outcome, "money",
               "the business cases' cost per outcome before AI, weighted the same way", reports_url),
        Figure("running", "Initiatives running", running, None, "count",
               "approved, in pilot or in production", running_url, as_of),
        Figure("idle_licence_cost", "Idle licence cost per month", idle_licence_cost_of(now),
               idle_licence_cost_of(before), "money",
               "seats not active in the last 30 days x price per seat"
               + ("" if now.has_seats else f"; no seat data yet for {quarter.name}"),
               reverse("portfolio:licencepool_list")),
        Figure("forecast_next_year", "Forecast, next four quarters",
               forecast["next_year"] if forecast else None, None, "money",
               (f"forecast as of {forecast['as_of']}; backtest error (MAPE) "
                + (f"{forecast['backtest_mape_pct']}%" if forecast["backtest_mape_pct"] is not None else "n/a"))
               if forecast else NO_COMPLETE_MONTH, forecast["url"] if forecast else "", as_of),
        Figure("kill_candidates", "Kill candidates", kill, None, "count", "open and acknowledged kill signals",
               (found.kill_url if found else "") or signals_url, as_of),
        Figure("scale_candidates", "Scale candidates", scale, None, "count", "open and acknowledged scale signals",
               (found.scale_url if found else "") or signals_url, as_of),
    ]


def data_version() -> str:
    """The version of the data the dashboard reads: its fingerprint, kept in the cache until a watched model changes
    (providers.data_changed) and for at most providers.VERSION_SECONDS."""
    version = cache.get(registry.VERSION_KEY)
    if version is None:
        version = fingerprint()
        cache.set(registry.VERSION_KEY, version, registry.VERSION_SECONDS)
    return version


def fingerprint() -> str:
    """A fingerprint of everything the dashboard reads: the latest change and the row count of the portfolio's
    records, and what each app built on it reports for its own (registered providers). Cheap aggregate queries."""
    parts: list[Any] = [
        IngestionRun.objects.aggregate(n=Count("pk"), at=Max("finished_at")),
        Initiative.objects.aggregate(n=Count("pk"), at=Max("updated_at")),
        BusinessCase.objects.aggregate(at=Max("updated_at")),
        BusinessCaseVersion.objects.aggregate(n=Count("pk"), at=Max("approved_at")),
        LicencePool.objects.aggregate(n=Count("pk"), at=Max("updated_at")),
        CostForecast.objects.aggregate(n=Count("pk"), at=Max("generated_at")),
        Department.objects.aggregate(n=Count("pk"), at=Max("updated_at")),
        KPI.objects.aggregate(n=Count("pk"), at=Max("updated_at")),
        AllocationRule.objects.aggregate(n=Count("pk"), at=Max("updated_at")),
        CurrencyRate.objects.aggregate(n=Count("pk"), at=Max("updated_at")),
    ]
    parts += [provider() for provider in registry.providers.versions]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def dashboard(*, quarter: Quarter, department: Department | None = None) -> dict[str, Any]:
    """Everything the dashboard shows for `quarter`, as plain values (the API returns it as JSON); computed once per
    quarter, department and version of the data (data_version), then served from the cache. For any quarter but the
    current one, `snapshot_as_of` is the day the figures kept only as they stand now were read (snapshot_day)."""
    today = timezone.localdate()
    key = f"dashboard:{board_key(quarter, department, today=today)}"
    cached = cache.get(key)
    if cached is None:
        cached = _dashboard(quarter=quarter, department=department, as_of=snapshot_day(quarter, today=today),
                            today=today)
        cache.set(key, cached, CACHE_SECONDS)
    return cached


def viewer_links(board: dict[str, Any], *, costs: bool, signals: bool) -> dict[str, Any]:
    """The board as one viewer may follow it: without the links to the cost pages (`costs`: may the viewer read
    them?) or to each candidate's signal (`signals`: may the viewer read every signal?), which would answer 403; the
    figures and names stay. The board itself is shared by every viewer (cached), so it is copied, not changed."""
    if costs and signals:
        return board
    shown = dict(board)
    if not costs:
        closed = reverse("portfolio:ingestion_health")
        shown["figures"] = [replace(f, url="") if f.url.startswith(closed) else f for f in board["figures"]]
        shown["unallocated_keys"] = [{**row, "url": ""} for row in board["unallocated_keys"]]
    if not signals:
        shown["signals_url"] = ""
        for name in ("kill_candidates", "scale_candidates"):
            if board.get(name) is not None:
                shown[name] = [replace(c, url="") for c in board[name]]
    return shown


def _dashboard(*, quarter: Quarter, department: Department | None = None,
               as_of: date | None = None, today: date | None = None) -> dict[str, Any]:
    department_id = department.pk if department else None
    cost_data = cost_data_reading(today=today)
    reading = quarter_reading(quarter, today=today, cost_data=cost_data)
    now = _quarter_totals(quarter, department_id, reading.months, cost_data)
    before = _quarter_totals(quarter.previous(), department_id, reading.compared_months, cost_data)
    value_read = value_reading(quarter, now, today=today)
    stages = initiatives_by_stage(department_id)
    found = candidates(department_id)
    every_cluster = sprawl(department_id)
    clusters = None if every_cluster is None else every_cluster[:registry.TOP_CANDIDATES]
    track = sprawl_track() if clusters is not None else None
    forecast = forecast_of(department_id)
    return {
        "currency": reporting_currency(),
        "quarter": quarter.name,
        "previous_quarter": quarter.previous().name,
        # Which months the cost figures cover and what they are compared with (calculations.QuarterReading).
        "quarter_complete": reading.whole,
        # Only months something was read for: a quarter without cost data (one before the sources began) read none,
        # however complete its months are, and so compares none.
        "months_read": [f"{m:%Y-%m}" for m in reading.months_read] if now.has_costs else [],
        "compared_months": [f"{m:%Y-%m}" for m in reading.compared_months] if now.has_costs else [],
        "period": period_label(reading, has_costs=now.has_costs),
        "compared_with": reading.compared_with if now.has_costs else None,
        "comparison_note": reading.note,
        # Whether the quarter's value reports are all in, and if not how many and by when (calculations.ValueReading).
        "value_complete": value_read.complete,
        "value_reports": {"submitted": value_read.submitted, "expected": value_read.expected,
                          "due_on": value_read.due_on},
        "value_note": value_read.note,
        "department": {"id": department.pk, "name": department.name} if department else None,
        "data": data_stamp(quarter, today=today).text,
        # Ended months no cost source read and none owes (the ingestion health page's "unread"), whatever the
        # quarter: the figures say nothing of them, so the page says it beside the data stamp.
        "unread_months": [f"{m:%Y-%m}" for m in cost_data.unread],
        "unread_note": cost_data.unread_note(),
        "has_cost_data": now.has_costs,
        "snapshot_as_of": as_of,
        "figures": _figures(reading, now, before, stages, found, forecast, as_of, value_read, department_id),
        "spend": spend_of(now),
        "unallocated": unallocated_of(now),
        "value": None if now.value is None else cents(now.value),
        "value_per_dollar": now.value_per_dollar,
        "cost_per_outcome": now.cost_per_outcome,
        "baseline_cost_per_outcome": now.baseline_cost_per_outcome,
        "initiatives_by_stage": stages,
        "idle_licence_cost": idle_licence_cost_of(now),
        "departments": departments(quarter, now, department_id),
        "top_initiatives": top_initiatives(quarter, now, department_id, months=reading.months),
        # How many rows each capped list has in all, and the page listing every one ("10 of 56", "all on ..."):
        # a capped table says what it leaves out.
        "top_initiatives_count": initiatives_with_spend(quarter, department_id, months=reading.months),
        "spend_by_category_month": spend_by_category_month(quarter, department_id),
        "licence_utilisation": licence_utilisation(quarter, department_id),
        "kill_candidates": None if found is None else [c for c in found.candidates if c.kind == "kill"],
        "scale_candidates": None if found is None else [c for c in found.candidates if c.kind == "scale"],
        "kill_count": None if found is None else found.kill_count,
        "scale_count": None if found is None else found.scale_count,
        "signals_url": found.url if found else "",
        "sprawl": clusters,
        "sprawl_count": None if every_cluster is None else len(every_cluster),
        "sprawl_url": track.list_url if track else "",
        "sprawl_track": track,
        "unallocated_keys": [] if department_id else unallocated_keys(quarter, months=reading.months,
                                                                      total=unallocated_of(now)),
        "forecast": forecast,
    }


def monthly_totals(rows: list[dict[str, Any]]) -> list[tuple[str, Decimal]]:
    """Spend per month from spend_by_category_month's rows, oldest first."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[row["month"]] += row["amount"]
    return sorted(totals.items())


def stage_rows(counts: dict[str, int]) -> list[tuple[str, int]]:
    """(stage label, count) in lifecycle order, stages without initiatives left out."""
    return [(Stage(stage).label, n) for stage, n in counts.items() if n]


def board_pack(*, quarter: Quarter) -> dict[str, Any]:
    """The dashboard of the quarter for the whole portfolio plus the quarter's decisions and the charts as SVG."""
    from portfolio.dashboard import svg

    board = dashboard(quarter=quarter)
    decisions = sorted(
        (d for provider in registry.providers.decisions for d in provider(quarter=quarter, department_id=None)),
        key=lambda d: (d.when, d.what, d.initiative),
    )
    history = [{"month": m, "amount": a} for m, a in monthly_totals(board["spend_by_category_month"])]
    departments = [d for d in board["departments"] if d["spend"] or d["value"]]
    currency = board["currency"]
    # The pack lists the first candidates of each kind in the dashboard's order, each type of signal among them as
    # on the dashboard (the dashboard's list holds each type's best); how many more there are is counted from all of
    # them (the figure), not from the dashboard's list, itself capped at TOP_CANDIDATES.
    counts = {f.key: f.value for f in board["figures"]}
    candidates: dict[str, Any] = {}
    for kind in ("kill", "scale"):
        listed = each_kind_first(board[f"{kind}_candidates"] or [], PACK_CANDIDATES, kind=lambda c: c.type)
        total = counts.get(f"{kind}_candidates") or 0
        candidates.update({f"{kind}_listed": listed, f"{kind}_total": total,
                           f"{kind}_more": max(total - len(listed), 0)})
    sprawl_listed = (board["sprawl"] or [])[:PACK_SPRAWL]
    sprawl_total = board.get("sprawl_count") or 0
    return {
        **board,
        **candidates,
        "sprawl_listed": sprawl_listed, "sprawl_total": sprawl_total,
        "sprawl_more": max(sprawl_total - len(sprawl_listed), 0),
        "decisions": decisions[:PACK_DECISIONS], "decisions_total": len(decisions),
        "decisions_more": max(len(decisions) - PACK_DECISIONS, 0),
        "svg": {
            "spend": svg.spend_by_category(board["spend_by_category_month"], currency) if history else None,
            "departments": svg.spend_and_value_by_department(departments, currency) if departments else None,
            "licences": svg.licence_utilisation(board["licence_utilisation"]) if board["licence_utilisation"]
            else None,
            "forecast": svg.forecast(board["forecast"], currency) if board["forecast"] else None,
        },
        "licence_waste": [row for row in board["licence_utilisation"] if row["idle"]],
    }


def initiative_quarter(initiative: Initiative, quarter: Quarter) -> dict[str, Any]:
    """An initiative's TCO and reported value in a quarter, for the dashboard's drill-down onto its page: the TCO of
    the months read (tco_months_counted), as its value report and the costs API count it, naming those left out."""
    cost_data = cost_data_reading()
    counted = tco_months_counted(quarter.months[0], quarter.months[-1], reading=cost_data)
    tco = initiative_tco_by_period(initiative_ids=[initiative.pk], start=quarter.months[0],
                                   end=quarter.months[-1], leaving_out=counted.unread).get(initiative.pk)
    provider = registry.providers.quarter_values
    reported = (provider(quarter=quarter, initiative_ids=[initiative.pk], reading=cost_data).values.get(initiative.pk)
                if provider else None)
    return {
        "quarter": quarter.name, "currency": reporting_currency(),
        "cost": tco.total if tco else None, "estimated": bool(tco and tco.estimated),
        "unread": counted.note if tco else "",
        "value": reported.value if reported else None,
        "back": dashboard_url(quarter, initiative.department_id),
    }
