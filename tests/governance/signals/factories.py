"""Signals as the computation stores them, for page and API tests."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from governance.choices import SignalSeverity, SignalStatus, SignalType
from governance.models import Signal


class SignalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signal
        skip_postgeneration_save = True

    type = SignalType.COST_OVERRUN
    subject = factory.Sequence(lambda n: f"cost_overrun:TEST-{n:05d}")
    period = "2026-Q3"
    severity = SignalSeverity.HIGH
    metric = Decimal("60")
    monthly_saving = Decimal("1200.00")
    status = SignalStatus.OPEN
    evidence = factory.LazyAttribute(lambda s: {
        "rule": "The quarter's TCO more than 25% above the business case's TCO for it.",
        "policies": {"kill.cost_overrun_pct": "25"},
        "numbers": [{"label": "TCO, 2026-Q3 (partly estimated)", "value": "11760.00",
                     "url": "/portfolio/initiatives/1/#actual-cost", "unit": "money"},
                    {"label": "Over by (%)", "value": "60.0", "url": "", "unit": ""}],
    })
    first_seen_at = factory.LazyFunction(timezone.now)
    evidence_changed_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def initiatives(self, create, extracted, **kwargs):
        """SignalFactory(initiatives=[a]) links them."""
        if create and extracted:
            self.initiatives.set(extracted)
