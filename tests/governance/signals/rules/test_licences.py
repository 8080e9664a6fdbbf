"""Licence waste at, just below and just above the utilisation floor; the suggested seat count."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from governance.signals.rules.facts import PoolFacts
from governance.signals.rules.licences import licence_waste, suggested_seats

POOL = PoolFacts(id=3, tool="GitHub Copilot Business", url="/portfolio/licences/?q=GitHub", initiative_ids=(7,),
                 month=date(2026, 9, 1), purchased=1000, active_30d=399, active_in_window=450, assigned_in_window=20,
                 price_per_seat=Decimal("19"))


def waste(**changes):
    return licence_waste(replace(POOL, **changes), floor_pct=Decimal("40"), window_days=60, buffer_pct=Decimal("10"))


def test_suggested_seats_round_up_with_the_buffer():
    assert suggested_seats(active_in_window=450, assigned_in_window=20, buffer_pct=Decimal("10"), purchased=1000) == 517
    assert suggested_seats(active_in_window=10, assigned_in_window=0, buffer_pct=Decimal("10"), purchased=1000) == 11
    assert suggested_seats(active_in_window=1, assigned_in_window=0, buffer_pct=Decimal("10"), purchased=1000) == 2
    assert suggested_seats(active_in_window=0, assigned_in_window=0, buffer_pct=Decimal("10"), purchased=1000) == 0
    assert suggested_seats(active_in_window=990, assigned_in_window=0, buffer_pct=Decimal("10"), purchased=1000) == 1000


def test_utilisation_below_the_floor_raises_with_idle_seats_their_cost_and_the_seats_to_keep():
    found = waste()
    assert found is not None
    numbers = {n.label: n.value for n in found.numbers}
    assert numbers["Utilisation (%)"] == "39.9"
    assert numbers["Idle seats"] == "601"
    assert numbers["Idle-seat cost per month"] == "11419.00"
    assert numbers["Suggested seat count"] == "517"
    assert found.monthly_saving == Decimal("9177.00")  # (1000 - 517) x 19
    assert (found.subject, found.period, found.metric, found.severity) == ("licence_waste:pool:3", "2026-09",
                                                                         Decimal("39.90"), "medium")
    assert found.policies == {"licence.utilisation_floor_pct": "40", "licence.inactivity_window_days": "60",
                              "licence.buffer_pct": "10"}


def test_utilisation_at_or_above_the_floor_does_not():
    assert waste(active_30d=400) is None
    assert waste(active_30d=401) is None


def test_far_below_the_floor_is_high_and_an_empty_pool_is_skipped():
    found = waste(active_30d=199)
    assert found is not None and found.severity == "high"
    assert waste(purchased=0, active_30d=0) is None


def test_an_unattached_pool_is_still_waste():
    found = waste(initiative_ids=())
    assert found is not None and found.initiative_ids == ()
