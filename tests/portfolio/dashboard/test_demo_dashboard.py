"""The demo company's dashboard tells its story: spend to the cent of the cost reports, value, and a board pack."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from portfolio.costs.connectors.base import Period
from portfolio.costs.selectors import cost_report
from portfolio.dashboard.selectors import dashboard, default_quarter, unallocated_keys


def test_demo_dashboard_adds_up_to_the_cost_reports(demo, client, executive):
    quarter = default_quarter()
    board = dashboard(quarter=quarter)
    reports = [cost_report(period=Period.month(m.year, m.month)) for m in quarter.months]
    assert board["spend"] == sum(r["total"] for r in reports) > 0
    assert board["unallocated"] == sum(r["unallocated"] for r in reports) > 0
    assert board["value"] and board["value_per_dollar"]
    assert board["unallocated_keys"] and board["licence_utilisation"] and board["sprawl"]
    # Each unallocated record counts under one key: the rows, and all the keys, add up to at most the unallocated
    # spend (the biggest ten used to add up to more, a FOCUS record counting under its resource and each of its tags).
    # Keys past the ten biggest are one last row: the rows add up to it, to the cent of each row's rounding.
    shown = board["unallocated_keys"]
    assert abs(sum(k["amount"] for k in shown) - board["unallocated"]) <= Decimal("0.005") * len(shown)
    every_key = unallocated_keys(quarter, limit=100_000)
    # ... to the cent of each row's rounding
    assert abs(sum(k["amount"] for k in every_key) - board["unallocated"]) <= Decimal("0.005") * len(every_key)
    assert not any(k["key"] == "tag:env" for k in board["unallocated_keys"])
    assert board["kill_candidates"] and board["scale_candidates"] and board["forecast"]["backtest_mape"] is not None
    # Its sources were read all along: the months since are owed (missing), none unread, so no notice.
    assert (board["unread_months"], board["unread_note"]) == ([], "")
    client.force_login(executive)
    assert client.get(reverse("portfolio:dashboard")).status_code == 200
    assert client.get(reverse("portfolio:board_pack_pdf", args=[quarter.name])).status_code == 200


def test_demo_kill_candidates_show_every_kind_and_departments_mark_estimated_costs(demo):
    """On the demo, 39 high signals of one rule without a saving used to fill the dashboard's 20 and the pack's 12 by
    database id, leaving out the orphans, the licence waste and the cost overrun; and IT's value cost, with
    $40,186.05 of the business cases' estimated maintenance in it, carried no `*`."""
    from governance.choices import LIVE_SIGNAL_STATUSES
    from governance.models import Signal
    from governance.signals.selectors import KILL_TYPES
    from portfolio.dashboard.selectors import board_pack

    quarter = default_quarter()
    kinds = set(Signal.objects.filter(status__in=LIVE_SIGNAL_STATUSES, type__in=KILL_TYPES)
                .values_list("type", flat=True))
    assert {"no_active_owner", "licence_waste", "cost_overrun"} <= kinds
    board = dashboard(quarter=quarter)
    assert {c.type for c in board["kill_candidates"]} == kinds
    assert {c.type for c in board_pack(quarter=quarter)["kill_listed"]} == kinds
    assert board["kill_candidates"][0].type == "no_active_owner"  # high, no saving: the orphans lead
    it = next(d for d in board["departments"] if d["name"] == "IT")
    assert it["value_cost_estimated"] is True
