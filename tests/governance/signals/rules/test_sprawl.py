"""An open sprawl cluster as a signal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from governance.signals.rules.facts import ClusterFacts
from governance.signals.rules.sprawl import sprawl


def test_an_open_cluster_is_a_signal_with_its_saving():
    cluster = ClusterFacts(id=4, title="Meeting notes", url="/governance/sprawl/4/", initiative_ids=(1, 2),
                           external_ids=("INV-1", "INV-2"), monthly_spend=Decimal("1000"),
                           estimated_saving=Decimal("400"), basis="Keep the largest; half the rest moves with it.")
    found = sprawl(cluster, today=date(2026, 12, 3), variable_share_pct=Decimal("50"))
    assert (found.subject, found.initiative_ids, found.monthly_saving, found.severity, found.period) == (
        "sprawl:cluster:4", (1, 2), Decimal("400"), "low", "2026-12")
    assert found.policies == {"sprawl.variable_share_pct": "50"}
    assert found.evidence()["numbers"][1] == {"label": "Members", "value": "INV-1, INV-2",
                                              "url": "/governance/sprawl/4/", "unit": ""}
    assert found.evidence()["numbers"][2]["unit"] == "money"  # the combined spend: printed as money on the page
