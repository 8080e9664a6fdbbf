"""The demo company shows every signal type with evidence that adds up, and its lifecycle on the pages."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

from django.core.management import call_command

from governance.choices import LIVE_SIGNAL_STATUSES, SignalStatus, SignalType
from governance.models import Signal
from portfolio.models import Initiative
from tollgate.demo import data


def test_every_signal_type_is_live_after_load_demo(demo):
    live = Signal.objects.filter(status__in=LIVE_SIGNAL_STATUSES)
    assert set(live.values_list("type", flat=True)) == set(SignalType.values)
    assert Signal.objects.filter(status=SignalStatus.ACKNOWLEDGED, type=SignalType.LICENCE_WASTE).exists()
    assert Signal.objects.filter(status=SignalStatus.DISMISSED).exclude(dismissal_reason="").exists()


def test_the_demo_stories_behind_the_signals(demo):
    def of(signal_type: str) -> list[Signal]:
        return list(Signal.objects.filter(type=signal_type, status__in=LIVE_SIGNAL_STATUSES)
                    .prefetch_related("initiatives"))

    departed = Initiative.objects.filter(owner__email__in=[data.email(p) for p in data.DEPARTED])
    assert {i.pk for s in of(SignalType.NO_ACTIVE_OWNER) for i in s.initiatives.all()} >= set(
        departed.exclude(stage__in=["retired", "rejected", "killed"]).values_list("pk", flat=True))
    stale = {i.external_id for s in of(SignalType.PILOT_STALE) for i in s.initiatives.all()}
    assert stale & set(data.IMPORTED_PILOTS)
    surged = {i.external_id for s in of(SignalType.COST_OVERRUN) for i in s.initiatives.all()}
    assert {s.initiative for s in data.SPEND_SURGES} <= surged
    waste = of(SignalType.LICENCE_WASTE)[0]
    numbers = {n["label"]: n["value"] for n in waste.evidence["numbers"]}
    assert Decimal(numbers["Utilisation (%)"]) < 40
    assert int(numbers["Suggested seat count"]) < int(numbers["Seats purchased"])
    right_size = of(SignalType.RIGHT_SIZE)
    assert right_size and all("claude-3-5-haiku" in s.evidence["rule"] for s in right_size)
    hosting = {n["label"]: n["value"] for n in of(SignalType.SELF_HOST)[0].evidence["numbers"]}
    assert int(hosting["Break-even tokens per month"]) > 0
    assert Decimal(hosting["Self-hosted cost per month"]) < Decimal(hosting["API cost at list prices (cached input "
                                                                           "at a tenth)"])


def test_compute_signals_on_the_demo_prints_every_type_and_changes_nothing(demo):
    before = list(Signal.objects.order_by("pk").values_list("pk", "status", "updated_at"))
    out = StringIO()
    call_command("compute_signals", "--json", stdout=out)
    rows = json.loads(out.getvalue())
    assert {row["type"] for row in rows} == set(SignalType.values)
    assert list(Signal.objects.order_by("pk").values_list("pk", "status", "updated_at")) == before
