"""The board pack's charts: drawn once per distinct data, then read from the cache."""

from __future__ import annotations

import pytest

from portfolio.calculations import Quarter
from portfolio.dashboard import svg
from portfolio.dashboard.selectors import board_pack
from tests.portfolio.dashboard.test_selectors import portfolio  # noqa: F401 - the hand-built fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def drawings(monkeypatch):
    """The charts matplotlib draws (their SVG), in order."""
    drawn: list[str] = []
    draw = svg._svg

    def counted(figure):
        drawn.append(draw(figure))
        return drawn[-1]

    monkeypatch.setattr(svg, "_svg", counted)
    return drawn


def test_the_board_pack_draws_its_charts_once_for_the_same_data(portfolio, drawings):  # noqa: F811
    first = board_pack(quarter=Quarter.parse("2026-Q3"))
    charts = [chart for chart in first["svg"].values() if chart]
    assert len(charts) >= 3 and drawings == charts  # spend, departments and licences (no forecast here)
    again = board_pack(quarter=Quarter.parse("2026-Q3"))
    assert drawings == charts, "the second pack drew its charts again"
    assert again["svg"] == first["svg"]


def test_other_data_draws_a_chart_anew(drawings):
    busy = svg.licence_utilisation([{"pool": "Copilot", "utilisation": 80}])
    idle = svg.licence_utilisation([{"pool": "Copilot", "utilisation": 20}])
    assert len(drawings) == 2 and busy != idle
    assert svg.licence_utilisation([{"pool": "Copilot", "utilisation": 20}]) == idle and len(drawings) == 2
