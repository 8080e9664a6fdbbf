"""URL converter for quarters: /portfolio/board-pack/2026-Q3/ gives the view a Quarter."""

from __future__ import annotations

from portfolio.calculations import Quarter


class QuarterConverter:
    regex = r"\d{4}-Q[1-4]"

    def to_python(self, value: str) -> Quarter:
        return Quarter.parse(value)

    def to_url(self, value: Quarter | str) -> str:
        return str(value)
