"""The facts the rules read, gathered from the database in bulk: pilot start, owners and delegates, seats, tokens,
clusters; and the candidates in a number of queries that does not grow with the portfolio."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.services import initiative_transition
from governance.signals import selectors
from portfolio.choices import Stage
from portfolio.models import (
    GpuCostBasis,
    LicencePoolActivity,
    MonthlyCost,
    MonthlyGpuUsage,
    MonthlyTokenUsage,
    SeatActivity,
)
from portfolio.services import business_case_save, business_case_version_record
from tests.factories import (
    AIModelFactory,
    BusinessCaseFactory,
    InitiativeFactory,
    LicencePoolFactory,
    UserFactory,
    VendorFactory,
)
from tests.governance.signals.conftest import TODAY
from tests.governance.sprawl.factories import SprawlClusterFactory
from tests.portfolio.costs.factories import CostSourceFactory
from tollgate.roles import Role

pytestmark = pytest.mark.django_db


def facts_of(initiative):
    return next(f for f in selectors.initiative_facts() if f.id == initiative.pk)


def test_a_pilot_started_when_it_entered_pilot_and_an_imported_one_on_its_start_date(owner):
    imported = InitiativeFactory(owner=owner, stage=Stage.PILOT, start_date=date(2025, 11, 2))
    walked = InitiativeFactory(owner=owner, stage=Stage.APPROVED, start_date=date(2024, 1, 1))
    initiative_transition(actor=owner, initiative=walked, transition="start_pilot")
    assert facts_of(imported).pilot_since == date(2025, 11, 2)
    assert facts_of(walked).pilot_since == timezone.localdate()  # the transition's day, not the start date
    assert (facts_of(imported).pilot_start_recorded, facts_of(walked).pilot_start_recorded) == (False, True)
    production = InitiativeFactory(owner=owner, stage=Stage.PRODUCTION, start_date=date(2024, 1, 1))
    assert facts_of(production).pilot_since is None


def test_owner_and_delegates_accounts(owner, initiative):
    assert (facts_of(initiative).owner_active, facts_of(initiative).active_delegates) == (True, 0)
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    assert (facts_of(initiative).owner_active, facts_of(initiative).active_delegates) == (False, 0)
    gone = UserFactory(role=Role.OWNER, is_active=False)
    initiative.delegates.add(gone)
    assert facts_of(initiative).active_delegates == 0
    owner.profile.delegates.add(UserFactory(role=Role.OWNER))
    assert facts_of(initiative).active_delegates == 1


def test_business_case_tco_and_ended_initiatives(initiative):
    assert facts_of(initiative).case_tco_monthly is None
    BusinessCaseFactory(initiative=initiative)
    assert facts_of(initiative).case_tco_monthly == Decimal("2450.00")
    InitiativeFactory(stage=Stage.KILLED)
    assert {f.stage for f in selectors.initiative_facts()} == {Stage.PROPOSED}


def test_overrun_is_measured_against_the_approved_business_case(owner, reviewer, initiative):
    BusinessCaseFactory(initiative=initiative)
    business_case_version_record(initiative=initiative, actor=reviewer, approve=True)
    business_case_save(actor=owner, initiative=initiative, tco_inference=Decimal("80000"))  # after approval
    assert facts_of(initiative).case_tco_monthly == Decimal("2450.00")


def _seat(pool, source, user: str, period: date, last_activity: date | None, assigned: bool = True):
    SeatActivity.objects.create(source=source, licence_pool=pool, period=period, user=user, assigned=assigned,
                                last_activity=last_activity)


def test_pool_seats_active_and_assigned_within_the_window(initiative):
    pool = LicencePoolFactory(initiative=initiative, seats_purchased=100, price_per_seat_month=Decimal("19"))
    source = CostSourceFactory(type="github_copilot")
    september, june = date(2026, 9, 1), date(2026, 6, 1)
    LicencePoolActivity.objects.create(licence_pool=pool, month=date(2026, 8, 1), purchased=100, active_30d=90)
    LicencePoolActivity.objects.create(licence_pool=pool, month=september, purchased=100, active_30d=10)
    # The window: 60 days before 2026-10-01 (the end of September's active window) = from 2026-08-02.
    _seat(pool, source, "active-recently", september, date(2026, 9, 20))
    _seat(pool, source, "active-in-august", september, date(2026, 8, 5))
    _seat(pool, source, "idle-old-seat", september, date(2026, 5, 1))
    _seat(pool, source, "idle-old-seat", june, date(2026, 5, 1))
    _seat(pool, source, "new-not-used-yet", september, None)
    _seat(pool, source, "unassigned", september, None, assigned=False)
    facts = selectors.pool_facts(today=TODAY, window_days=60)
    assert len(facts) == 1
    pool_facts = facts[0]
    assert (pool_facts.month, pool_facts.purchased, pool_facts.active_30d) == (september, 100, 10)
    assert (pool_facts.active_in_window, pool_facts.assigned_in_window) == (2, 1)
    assert pool_facts.initiative_ids == (initiative.pk,) and pool_facts.price_per_seat == Decimal("19")
    assert "?q=GitHub" in pool_facts.url


def test_tokens_are_matched_to_the_catalogue_and_its_substitutes(initiative):
    openai = VendorFactory(name="OpenAI")
    mini = AIModelFactory(provider=openai, name="gpt-4o-mini", tier="small")
    AIModelFactory(provider=openai, name="gpt-4o", tier="frontier", substitute=mini)
    azure_copy = AIModelFactory(provider=VendorFactory(name="Azure"), name="GPT-4o", tier="frontier")
    month = date(2026, 9, 1)
    MonthlyTokenUsage.objects.create(initiative=initiative, month=month, model="gpt-4o-2024-08-06",
                                     input_tokens=10, output_tokens=5)
    MonthlyTokenUsage.objects.create(initiative=initiative, month=month, model="mystery-model", input_tokens=1)
    usage = selectors.token_usage(month=month)[initiative.pk]
    matched = {u.model: u.catalogue for u in usage}
    assert matched["mystery-model"] is None
    assert matched["gpt-4o-2024-08-06"].name == "GPT-4o"  # Azure sorts before OpenAI...
    initiative.ai_models.add(AIModelFactory._meta.model.objects.get(name="gpt-4o"))
    usage = selectors.token_usage(month=month)[initiative.pk]
    chosen = next(u.catalogue for u in usage if u.model == "gpt-4o-2024-08-06")
    assert chosen.name == "gpt-4o" and chosen.substitute.name == "gpt-4o-mini"  # ...unless the initiative says
    assert azure_copy.substitute is None


def test_open_clusters_with_their_active_members(initiative, other_initiative):
    SprawlClusterFactory(initiatives=[initiative, other_initiative])
    SprawlClusterFactory(initiatives=[initiative, other_initiative], status="dismissed")
    SprawlClusterFactory(initiatives=[initiative, other_initiative], confidence="possible")  # waits for a reviewer
    clusters = selectors.open_clusters()
    assert len(clusters) == 1
    linked = SprawlClusterFactory(initiatives=[initiative, other_initiative], confidence="linked")
    assert linked.pk in [c.id for c in selectors.open_clusters()]  # reviewers' verdicts hold it: sprawl too
    assert set(clusters[0].initiative_ids) == {initiative.pk, other_initiative.pk}


def _portfolio(count: int) -> None:
    for _ in range(count):
        MonthlyCost.objects.create(initiative=InitiativeFactory(stage=Stage.PRODUCTION), month=date(2026, 9, 1),
                                   category="inference", amount=Decimal("10"))
        initiative = InitiativeFactory(stage=Stage.PILOT, start_date=TODAY - timedelta(days=400))
        BusinessCaseFactory(initiative=initiative)
        pool = LicencePoolFactory(initiative=initiative)
        LicencePoolActivity.objects.create(licence_pool=pool, month=date(2026, 9, 1), purchased=250, active_30d=20)
        MonthlyTokenUsage.objects.create(initiative=initiative, month=date(2026, 9, 1), model="gpt-4o",
                                         input_tokens=10**6)


def test_the_candidates_cost_the_same_queries_for_any_number_of_initiatives():
    _portfolio(2)
    with CaptureQueriesContext(connection) as few:
        found_few = selectors.signal_candidates(today=TODAY)
    _portfolio(6)
    with CaptureQueriesContext(connection) as many:
        found_many = selectors.signal_candidates(today=TODAY)
    assert len(found_many.candidates) > len(found_few.candidates) > 0
    assert len(many) == len(few)


def test_the_dashboard_s_kill_candidates_show_every_kind_with_the_orphans_and_the_money_first(initiative):
    """39 high signals of one rule without a saving used to fill the top 20 by database id, leaving out the orphans,
    the licence waste (the largest saving) and the cost overrun. Now: severity, then money by saving, then the rules'
    priority (an orphan first), and the best of every type in the top N whenever N has room."""
    from governance.choices import SignalSeverity, SignalStatus, SignalType
    from tests.governance.signals.factories import SignalFactory

    def signal(kind: SignalType, severity: SignalSeverity, saving: str | None, **extra):
        return SignalFactory(type=kind, subject=f"{kind}:{SignalFactory._meta.model.objects.count()}",
                             severity=severity, monthly_saving=None if saving is None else Decimal(saving),
                             initiatives=[initiative], **extra)

    kpis = [signal(SignalType.KPI_TARGETS_MISSED, SignalSeverity.HIGH, None) for _ in range(25)]
    stale = signal(SignalType.PILOT_STALE, SignalSeverity.MEDIUM, None)
    overrun = signal(SignalType.COST_OVERRUN, SignalSeverity.MEDIUM, "3842.14")
    waste = signal(SignalType.LICENCE_WASTE, SignalSeverity.MEDIUM, "32520.00", status=SignalStatus.ACKNOWLEDGED)
    vpd = signal(SignalType.VALUE_PER_DOLLAR_LOW, SignalSeverity.HIGH, None)
    orphan = signal(SignalType.NO_ACTIVE_OWNER, SignalSeverity.HIGH, None)
    saving_kpi = signal(SignalType.KPI_TARGETS_MISSED, SignalSeverity.HIGH, "10.00")
    with CaptureQueriesContext(connection) as queries:
        found = selectors.dashboard_candidates(department_id=None, limit=8)
    assert len(queries) == 5
    urls = [c.url for c in found.candidates]
    assert urls == [s.get_absolute_url() for s in (saving_kpi, orphan, vpd, kpis[0], kpis[1], waste, overrun, stale)]
    assert found.kill_count == 31
    # The full order, with room for everything: severity, money by saving, then the rules' priority, then the oldest.
    everything = [c.url for c in selectors.dashboard_candidates(department_id=None, limit=40).candidates]
    assert everything == [s.get_absolute_url() for s in (saving_kpi, orphan, vpd, *kpis, waste, overrun, stale)]
    # No room for every type: the best types' best, in order.
    assert [c.type for c in selectors.dashboard_candidates(department_id=None, limit=3).candidates] == [
        "kpi_targets_missed", "no_active_owner", "value_per_dollar_low"]


def test_evidence_in_one_line_names_the_rule_and_its_first_numbers_formatted_without_the_initiative():
    evidence = {"rule": "The quarter's TCO more than 25% above the business case's TCO for it.", "numbers": [
        {"label": "Initiative", "value": "NW-0072 · Project Switchboard", "unit": ""},
        {"label": "TCO, 2026-Q3 (partly estimated)", "value": "39042.78", "unit": "money"},
        {"label": "Tokens, 2026-09", "value": "664747557", "unit": ""},
        {"label": "In pilot since", "value": "2025-11-14", "unit": ""},
        {"label": "Over by (%)", "value": "41.9", "unit": ""},
    ]}
    assert selectors.evidence_in_words(evidence) == (
        "The quarter's TCO more than 25% above the business case's TCO for it. TCO, 2026-Q3 (partly estimated): "
        "$39,042.78; Tokens, 2026-09: 664,747,557; In pilot since: 2025-11-14.")
    assert selectors.evidence_in_words({"rule": "No numbers here"}) == "No numbers here."
    assert selectors.evidence_in_words({}) == ""


def test_the_self_hosting_evidence_shows_the_clusters_price_of_the_last_complete_month(initiative):
    """2.2B tokens on a frontier model in 2026-09 (the last complete month): cheaper on GPUs, and the company's own
    clusters ran 144 GPU-hours for $368.64 of GPU cost that month (all initiatives and unallocated together): $2.56
    each. Where a row's cost is its records' whole cost, the label says the price counts both."""
    month = date(2026, 9, 1)
    gpt4o = AIModelFactory(name="gpt-4o", tier="frontier", input_price_per_mtok=Decimal("2.50"),
                           output_price_per_mtok=Decimal("10.00"))
    initiative.ai_models.add(gpt4o)
    MonthlyCost.objects.create(initiative=initiative, month=month, category="inference", amount=Decimal("7000"))
    MonthlyTokenUsage.objects.create(initiative=initiative, month=month, model="gpt-4o-2024-08-06",
                                     input_tokens=2_000_000_000, output_tokens=200_000_000)
    MonthlyGpuUsage.objects.create(initiative=initiative, month=month, gpu_hours=Decimal("96"), cost=Decimal("245.76"),
                                   cost_basis=GpuCostBasis.GPU)
    MonthlyGpuUsage.objects.create(initiative=None, month=month, gpu_hours=Decimal("48"), cost=Decimal("122.88"),
                                   cost_basis=GpuCostBasis.GPU)
    MonthlyGpuUsage.objects.create(initiative=None, month=date(2026, 8, 1), gpu_hours=Decimal("1"), cost=Decimal("9"))

    found = selectors.signal_candidates(today=TODAY)

    (hosting,) = [c for c in found.candidates if c.type == "self_host"]
    numbers = {n.label: n.value for n in hosting.numbers}
    assert numbers["Your clusters: price per GPU-hour (GPU cost), 2026-09"] == "2.56"
    assert numbers["Your clusters: GPU-hours, 2026-09"] == "144.0"
    MonthlyGpuUsage.objects.filter(initiative=None, month=month).update(cost=Decimal("131.98"),
                                                                       cost_basis=GpuCostBasis.RECORDS)
    (mixed,) = [c for c in selectors.signal_candidates(today=TODAY).candidates if c.type == "self_host"]
    assert {n.label: n.value for n in mixed.numbers}[
        "Your clusters: price per GPU-hour (GPU cost where the source gives it, else the records' whole cost), "
        "2026-09"] == "2.62"
    MonthlyGpuUsage.objects.filter(month=month).delete()
    (without,) = [c for c in selectors.signal_candidates(today=TODAY).candidates if c.type == "self_host"]
    assert not any(n.label.startswith("Your clusters") for n in without.numbers)
