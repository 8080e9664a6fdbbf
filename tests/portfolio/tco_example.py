"""A worked example of actual cost against business cases, shared by the page and API tests.

Department "Claims" has three initiatives (months are of 2026; the last complete month is October, the last complete
quarter Q3 = July to September):
- `recorded` (cost center CC-CLAIMS-RUN, production, business case of 2,450 a month: inference 800, storage 50,
  oversight 20 h x 65 = 1,300, maintenance 300) has inference records of 1,000 a month from July to October and 200
  of licences in September. Its TCO: July 2,600, August 2,600, September 2,800 (1,000 + 200 actual, 1,300 + 300
  estimated), October 2,600; Q3 8,000 against 3 x 2,450 = 7,350: +650, +8.8 %.
- `declared` (cost center CC-CLAIMS-PILOT, a pilot since 15 August, no business case, declares 500 a month) has no
  records: 500 estimated in August, September and October; Q3 1,000 against 2 x 500 = 1,000: 0 %.
- `idea` (proposed, no records) has no TCO at all.
Claims in Q3: actual 9,000, business cases 8,350, variance +650 (+7.8 %).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portfolio.choices import Stage
from portfolio.costs.services.tco import tco_recompute
from portfolio.models import CostCenter, Department, Initiative, MonthlyCost
from tests.factories import BusinessCaseFactory, CostCenterFactory, DepartmentFactory, InitiativeFactory

D = Decimal
JULY, AUGUST, SEPTEMBER, OCTOBER = (date(2026, m, 1) for m in (7, 8, 9, 10))


@dataclass
class Example:
    department: Department
    run_center: CostCenter
    pilot_center: CostCenter
    recorded: Initiative
    declared: Initiative
    idea: Initiative


def build_example() -> Example:
    department = DepartmentFactory(name="Claims", code="claims")
    run_center = CostCenterFactory(code="CC-CLAIMS-RUN", department=department)
    pilot_center = CostCenterFactory(code="CC-CLAIMS-PILOT", department=department)
    recorded = InitiativeFactory(name="Claims triage", external_id="INV-0001", department=department,
                                 cost_center=run_center, stage=Stage.PRODUCTION, start_date=date(2026, 1, 1))
    BusinessCaseFactory(initiative=recorded)
    declared = InitiativeFactory(name="Claims letters", external_id="INV-0002", department=department,
                                 cost_center=pilot_center, stage=Stage.PILOT, start_date=date(2026, 8, 15),
                                 declared_monthly_cost=D("500"))
    idea = InitiativeFactory(name="Claims fraud idea", external_id="INV-0003", department=department,
                             cost_center=run_center, stage=Stage.PROPOSED, declared_monthly_cost=D("900"))
    for month in (JULY, AUGUST, SEPTEMBER, OCTOBER):
        MonthlyCost.objects.create(initiative=recorded, month=month, category="inference", amount=D("1000"))
    MonthlyCost.objects.create(initiative=recorded, month=SEPTEMBER, category="licences", amount=D("200"))
    tco_recompute()
    return Example(department, run_center, pilot_center, recorded, declared, idea)


# Months some source read, a gap nobody read, a month in progress (the costs API and the initiative page) -------------

TODAY = date(2026, 12, 7)


def on_day(monkeypatch, day: date = TODAY) -> None:
    """Today is `day`; a given datetime is still converted (when each source was added stays what it was)."""
    from django.utils import timezone

    real = timezone.localdate
    monkeypatch.setattr(timezone, "localdate", lambda value=None, timezone=None: day if value is None
                        else real(value, timezone))


def build_gap(monkeypatch) -> Initiative:
    """7 December 2026. A FOCUS source added on 1 December backfilled 2026-08, 2026-09 and 2026-11 and has read some
    of December so far; nobody read 2026-10, and nothing says it was due (history loaded the day the source was
    added), so it is unread: November is the latest complete month. The initiative (started 15 August 2026, 900 a
    month declared) has inference records of 1,000 a month from September on (400 so far in December); August's cost
    is another initiative's. The TCO covers August to December, so October gets the declared estimate of 900 although
    nobody read it."""
    from datetime import UTC, datetime

    from tests.portfolio.costs.factories import CostSourceFactory, IngestionRunFactory, source_added

    on_day(monkeypatch)
    source = source_added(CostSourceFactory(name="aws-focus"), datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    initiative = InitiativeFactory(name="Claims summaries", external_id="INV-0100", stage=Stage.PRODUCTION,
                                   start_date=date(2026, 8, 15), declared_monthly_cost=D("900"))
    other = InitiativeFactory(stage=Stage.PRODUCTION)
    MonthlyCost.objects.create(initiative=other, month=AUGUST, category="inference", amount=D("50"))
    for month, amount in ((SEPTEMBER, "1000"), (date(2026, 11, 1), "1000"), (date(2026, 12, 1), "400")):
        MonthlyCost.objects.create(initiative=initiative, month=month, category="inference", amount=D(amount))
    for month in (AUGUST, SEPTEMBER, date(2026, 11, 1), date(2026, 12, 1)):
        IngestionRunFactory(source=source, period=month)
    tco_recompute()
    return initiative


def build_august_unread(monkeypatch) -> Initiative:
    """7 December 2026. A FOCUS source added on 1 December backfilled 2026-07, 2026-09, 2026-10 and 2026-11 and has
    read some of December so far; nobody read 2026-08 and nothing says it was due, so it is unread between two
    complete months of 2026-Q3 (November is the latest complete month). The initiative (in production since January,
    a business case of 2,450 a month: inference 800, storage 50, oversight 1,300, maintenance 300) has inference
    records of 1,000 a month: its TCO is 2,600 in July and September (1,000 actual, 1,600 estimated), and August gets
    the business case's estimate of 2,450 although nobody read it. Its 2026-Q3 value report is submitted (10,000 of
    stated value, 100 outcomes)."""
    read = (JULY, SEPTEMBER, OCTOBER, date(2026, 11, 1), date(2026, 12, 1))
    return _claims_triage_read(monkeypatch, {month: D("400") if month.month == 12 else D("1000") for month in read})


def build_september_unread(monkeypatch) -> Initiative:
    """7 December 2026. A FOCUS source added on 1 December backfilled 2026-07 and 2026-08 and nothing since: nobody
    read 2026-09 (nor October and November), so no month is complete and 2026-Q3 ends in a month nobody read. The
    initiative and its 2026-Q3 value report are those of build_august_unread: its TCO is 2,600 in July and August."""
    return _claims_triage_read(monkeypatch, {JULY: D("1000"), AUGUST: D("1000")})


def _claims_triage_read(monkeypatch, inference: dict[date, Decimal]) -> Initiative:
    """On 7 December 2026, the Claims triage initiative of build_august_unread, with a submitted 2026-Q3 value report,
    its inference records in the months a FOCUS source added on 1 December read (each read month one run)."""
    from datetime import UTC, datetime

    from reviews.choices import ReportStatus
    from tests.factories import ReviewCycleFactory, ValueReportFactory
    from tests.portfolio.costs.factories import CostSourceFactory, IngestionRunFactory, source_added

    on_day(monkeypatch)
    source = source_added(CostSourceFactory(name="aws-focus"), datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    initiative = InitiativeFactory(name="Claims triage", external_id="INV-0200", stage=Stage.PRODUCTION,
                                   start_date=date(2026, 1, 1))
    BusinessCaseFactory(initiative=initiative)
    for month, amount in inference.items():
        MonthlyCost.objects.create(initiative=initiative, month=month, category="inference", amount=amount)
        IngestionRunFactory(source=source, period=month)
    tco_recompute()
    cycle = ReviewCycleFactory(name="2026-Q3")
    ValueReportFactory(cycle=cycle, initiative=initiative, status=ReportStatus.SUBMITTED, stated_value=D("10000"),
                       stated_value_evidence="Claims closed faster, measured in the claims system.",
                       outcome_count=100)
    return initiative
