"""The demo's value reports follow the value model: KPIs of every kind, values computed from them (the owner states
a report's value only where no KPI carries money), reasons where a KPI has none, and value per AI dollar spread from
stop candidates to scale candidates."""

from __future__ import annotations

from collections import Counter

import pytest

from portfolio.choices import KpiKind
from portfolio.models import KPI
from reviews.choices import ReportStatus
from reviews.selectors import report_detail_loaded, report_figures
from tollgate.demo.governance import PREVIOUS_CYCLE

pytestmark = pytest.mark.django_db


def test_the_demo_reports_value_their_kpis_by_kind(demo):
    assert set(KPI.objects.values_list("kind", flat=True)) == set(KpiKind.values)
    reports = report_detail_loaded().filter(status=ReportStatus.SUBMITTED, cycle__name=PREVIOUS_CYCLE.name)
    figures = [report_figures(report) for report in reports]
    assert len(figures) > 50
    valued_kinds = Counter(row.kind for f in figures for row in f.rows if row.value is not None)
    assert set(valued_kinds) == set(KpiKind.values)
    reasons = Counter(row.no_value_reason for f in figures for row in f.rows if row.value is None)
    assert reasons["a ratio KPI without a value per point"] > 0 and reasons["no value per unit given"] > 0
    # Computed from the KPIs, except where none of them carries money: then the owner states it, flagged.
    stated = [f for f in figures if f.value.is_stated]
    assert 0 < len(stated) < 0.2 * len(figures)
    assert all(f.value.kpis_valued == 0 for f in stated)
    # Value per AI dollar over the actual TCO where there are cost records: below 1 for some, above 3 for others.
    per_dollar = [f.value_per_dollar for f in figures if f.value_per_dollar is not None]
    assert len(per_dollar) == len(figures)
    assert any(v < 1 for v in per_dollar) and any(v > 3 for v in per_dollar)
    assert any(not f.cost.estimated for f in figures)
