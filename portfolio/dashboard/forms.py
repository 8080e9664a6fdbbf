"""The dashboard's filters: a quarter (YYYY-Qn) and optionally a department."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from portfolio.calculations import Quarter
from portfolio.dashboard.selectors import quarter_not_begun
from portfolio.models import Department, MonthlyCost
from tollgate.ui.forms import NamedChoiceErrorsForm


def quarters_with_data() -> list[str]:
    """Quarters that have cost data, newest first, for the quarter picker."""
    months = MonthlyCost.objects.order_by().values_list("month", flat=True).distinct()
    return sorted({Quarter.of(month).name for month in months}, reverse=True)


class DashboardFilterForm(NamedChoiceErrorsForm, forms.Form):
    quarter = forms.CharField(required=False, help_text="YYYY-Qn, e.g. 2026-Q3; empty: the last complete quarter.")
    department = forms.ModelChoiceField(queryset=Department.objects.order_by("name"), required=False,
                                        empty_label="All departments")

    def clean_quarter(self) -> Quarter | None:
        """A quarter that has begun: one still to come has no figures, and today's would read as its."""
        text = (self.cleaned_data.get("quarter") or "").strip()
        if not text:
            return None
        try:
            quarter = Quarter.parse(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        refused = quarter_not_begun(quarter)
        if refused:
            raise ValidationError(refused)
        return quarter
