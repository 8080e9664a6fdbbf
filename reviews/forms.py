"""Forms of the review pages: they validate and shape input; the writes go through reviews.services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import timezone

from portfolio.choices import KpiKind
from portfolio.models import KPI
from portfolio.models.base import KPI_FIGURE
from reviews.choices import CycleStatus, Decision
from reviews.models import ReportAttachment, ReviewCycle, ValueReport
from reviews.selectors import KpiRow, ReportFigures, next_cycle_to_open
from reviews.services import (
    EVIDENCE_MAX_CHARS,
    MAX_ATTACHMENT_BYTES,
    NARRATIVE_MAX_CHARS,
    PERIOD_ENDS_BEFORE_START,
    RATIONALE_MAX_CHARS,
    REOPEN_REASON_MAX_CHARS,
    REPORT_FIELDS,
    REPORT_TEXT_LIMITS,
    StatedKpiValue,
    attachment_too_large,
    kpi_percent_actual_errors,
)
from tollgate.formatting import money_label
from tollgate.ui.forms import LineBreaksForm

KPI_PREFIX = "kpi_"
KPI_STATED_PREFIX = "kpi_stated_"
KPI_EVIDENCE_PREFIX = "kpi_evidence_"
ACCEPT = ".pdf,.png,.jpg,.jpeg,.csv,.xlsx,.docx,.txt"


class KpiFormRow(NamedTuple):
    """One KPI's row of the report form: its inputs (stated value and evidence only for a stated KPI) and figures."""

    kpi: KPI
    actual: forms.BoundField
    stated_value: forms.BoundField | None
    evidence: forms.BoundField | None
    figures: KpiRow | None


class ValueReportForm(LineBreaksForm, forms.ModelForm):
    """The report's figures plus one 'actual' input per KPI of the initiative (fields kpi_<id>) and an attachment."""

    attachment = forms.FileField(
        required=False,
        help_text="Evidence: pdf, png, jpg, csv, xlsx, docx or txt, at most 10 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )

    class Meta:
        model = ValueReport
        fields = REPORT_FIELDS
        labels = {"stated_value": money_label("Owner-stated value"), "oversight_hours": "Human oversight hours"}
        help_texts = {
            "outcome_count": "Outcomes delivered in the whole period (e.g. tickets resolved in the quarter).",
            "active_users": "People who used the initiative in the period.",
            "oversight_hours": "Hours people spent checking or correcting the AI in the period.",
            "narrative": (f"What happened this quarter, in a few sentences (at most {NARRATIVE_MAX_CHARS:,} "
                          "characters)."),
            "stated_value_evidence": (f"How the stated value was measured; required with a stated value (at most "
                                      f"{EVIDENCE_MAX_CHARS:,} characters)."),
        }
        widgets = {
            "narrative": forms.Textarea(attrs={"rows": 4}),
            "stated_value_evidence": forms.Textarea(attrs={"rows": 2}),
        }

    remove_attachments = forms.ModelMultipleChoiceField(
        queryset=ReportAttachment.objects.none(), required=False, widget=forms.CheckboxSelectMultiple,
        label="Attached", help_text="Tick a file to take it off the draft when you save.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, limit in REPORT_TEXT_LIMITS.items():  # the service's limits, said before it
            text = self.fields[name]
            assert isinstance(text, forms.CharField)
            text.max_length = limit
            text.validators.append(MaxLengthValidator(limit))
            text.widget.attrs["maxlength"] = str(limit)
        remove = self.fields["remove_attachments"]
        assert isinstance(remove, forms.ModelMultipleChoiceField)
        remove.queryset = self.instance.attachments.all() if self.instance.pk else ReportAttachment.objects.none()
        entries = {a.kpi_id: a for a in self.instance.actuals.all()}
        self.kpis = list(self.instance.initiative.kpis.all())
        for kpi in self.kpis:
            entry = entries.get(kpi.pk)
            stated = kpi.kind == KpiKind.STATED
            self.fields[f"{KPI_PREFIX}{kpi.pk}"] = forms.DecimalField(
                # The range is KPI_FIGURE's, in its one sentence: the column's digit count (12 before the point)
                # would name another limit beside it.
                label=f"Actual of {kpi.name}", decimal_places=4, required=False, validators=KPI_FIGURE,
                initial=entry.actual if entry else None,
                help_text="Optional for a stated KPI: it tells whether the target was met." if stated else "",
            )
            if stated:
                self.fields[f"{KPI_STATED_PREFIX}{kpi.pk}"] = forms.DecimalField(
                    label=money_label(f"Stated value of {kpi.name}"), max_digits=14, decimal_places=2, required=False,
                    initial=entry.stated_value if entry else None,
                    help_text="The value this KPI delivered in the period.",
                )
                self.fields[f"{KPI_EVIDENCE_PREFIX}{kpi.pk}"] = forms.CharField(
                    label=f"Evidence for {kpi.name}", required=False, max_length=EVIDENCE_MAX_CHARS,
                    initial=entry.evidence if entry else "", widget=forms.Textarea(attrs={"rows": 2}),
                    help_text="How the stated value was measured; required with it.",
                )

    def kpi_rows(self, figures: ReportFigures | None = None) -> list[KpiFormRow]:
        """A row per KPI: its actual input, the stated value and evidence inputs of a stated KPI, and the KPI's
        figures as last saved (value or the reason it has none)."""
        saved = {row.kpi.pk: row for row in figures.rows} if figures else {}
        return [
            KpiFormRow(
                kpi, self[f"{KPI_PREFIX}{kpi.pk}"],
                self[f"{KPI_STATED_PREFIX}{kpi.pk}"] if kpi.kind == KpiKind.STATED else None,
                self[f"{KPI_EVIDENCE_PREFIX}{kpi.pk}"] if kpi.kind == KpiKind.STATED else None,
                saved.get(kpi.pk),
            )
            for kpi in self.kpis
        ]

    def clean_attachment(self):
        upload = self.cleaned_data.get("attachment")
        if upload and upload.size > MAX_ATTACHMENT_BYTES:
            raise forms.ValidationError(attachment_too_large(upload.size))
        return upload

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in REPORT_FIELDS}

    def clean(self) -> dict[str, Any]:
        """The service's range check of the KPIs' actuals (a percent between 0 and 100) on the actuals that parsed,
        so it is said with the other fields' errors rather than once they are fixed (the service checks it again)."""
        cleaned = super().clean() or self.cleaned_data
        parsed = {kpi: cleaned[f"{KPI_PREFIX}{kpi.pk}"] for kpi in self.kpis if f"{KPI_PREFIX}{kpi.pk}" in cleaned}
        if errors := kpi_percent_actual_errors(parsed):
            self.take_kpi_actual_errors(ValidationError({"kpi_actuals": errors}))
        return cleaned

    def service_actuals(self) -> dict[int, Decimal | None]:
        return {kpi.pk: self.cleaned_data.get(f"{KPI_PREFIX}{kpi.pk}") for kpi in self.kpis}

    def add_missing_kpi_errors(self, service_errors: set[str]) -> None:
        """Point the service's "missing" errors (kpi_actuals, kpi_stated) at the inputs of the KPIs concerned."""
        for kpi in self.kpis:
            if kpi.kind != KpiKind.STATED:
                if "kpi_actuals" in service_errors and self.cleaned_data.get(f"{KPI_PREFIX}{kpi.pk}") is None:
                    self.add_error(f"{KPI_PREFIX}{kpi.pk}", "Give the actual of this KPI.")
            elif "kpi_stated" in service_errors:
                if self.cleaned_data.get(f"{KPI_STATED_PREFIX}{kpi.pk}") is None:
                    self.add_error(f"{KPI_STATED_PREFIX}{kpi.pk}", "State the value of this KPI.")
                elif not (self.cleaned_data.get(f"{KPI_EVIDENCE_PREFIX}{kpi.pk}") or "").strip():
                    self.add_error(f"{KPI_EVIDENCE_PREFIX}{kpi.pk}", "Give the evidence of this stated value.")

    def take_kpi_actual_errors(self, error: ValidationError) -> ValidationError:
        """Put the service's refusals of one KPI's actual (those naming it: params "kpi", e.g. a percent past 100) on
        that KPI's input; returns the rest of the error for the form's other fields."""
        if not hasattr(error, "error_dict") or "kpi_actuals" not in error.error_dict:
            return error
        inputs = {kpi.pk: f"{KPI_PREFIX}{kpi.pk}" for kpi in self.kpis}
        rest: list[ValidationError] = []
        for item in error.error_dict["kpi_actuals"]:
            name = inputs.get((item.params or {}).get("kpi"))
            if name is None:
                rest.append(item)
            else:
                self.add_error(name, item.message % item.params)
        errors = {key: value for key, value in error.error_dict.items() if key != "kpi_actuals"}
        if rest:
            errors["kpi_actuals"] = rest
        return ValidationError(errors)

    def service_stated(self) -> dict[int, StatedKpiValue]:
        return {
            kpi.pk: StatedKpiValue(self.cleaned_data.get(f"{KPI_STATED_PREFIX}{kpi.pk}"),
                                   self.cleaned_data.get(f"{KPI_EVIDENCE_PREFIX}{kpi.pk}") or "")
            for kpi in self.kpis if kpi.kind == KpiKind.STATED
        }


class VerdictForm(LineBreaksForm, forms.Form):
    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.RadioSelect)
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=RATIONALE_MAX_CHARS,
        help_text="Why: the owner reads it. A kill verdict also kills the initiative.",
    )


class ReopenForm(LineBreaksForm, forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=REOPEN_REASON_MAX_CHARS,
        help_text="What the owner should correct.",
    )


class ReviewCycleForm(forms.ModelForm):
    """Open a cycle by hand; the dates default to the cycle the scheduler would open today."""

    class Meta:
        model = ReviewCycle
        fields = ("name", "period_start", "period_end", "opens_on", "due_on")
        widgets = {f: forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
                   for f in ("period_start", "period_end", "opens_on", "due_on")}
        help_texts = {
            "name": ("Named after the period reviewed: 2026-Q3 for July to September 2026, 2026-H2 for a half-year, "
                     "2026 for a year. Opening an existing cycle again with the same dates adds only missing "
                     "reports; its dates change on its own page (Change dates)."),
            "due_on": "Owners are reminded before this date and escalated after it.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        planned = next_cycle_to_open(timezone.localdate())
        self.initial.update(name=planned.name, period_start=planned.period_start, period_end=planned.period_end,
                            opens_on=planned.opens_on, due_on=planned.due_on)

    def validate_unique(self) -> None:
        # Re-opening an existing name is allowed (the service is idempotent).
        pass

    def clean(self) -> dict[str, Any]:
        # Said here too (the service says it to the API): "Check this period" writes nothing, so reaches no service.
        cleaned = super().clean() or self.cleaned_data
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", PERIOD_ENDS_BEFORE_START)
        return cleaned

    def period(self) -> tuple[date, date] | None:
        """The period the form shows: the proposal before anything is typed, else the dates given once they are
        valid (None while either is missing or wrong, or the period ends before it starts)."""
        if not self.is_bound:
            return self.initial["period_start"], self.initial["period_end"]
        if not self.is_valid() and ("period_start" in self.errors or "period_end" in self.errors):
            return None
        start, end = self.cleaned_data.get("period_start"), self.cleaned_data.get("period_end")
        return (start, end) if start and end and start <= end else None


class ReviewCycleDatesForm(forms.Form):
    """Move a cycle's due date, or the opening date of one not yet open (services.review_cycle_reschedule)."""

    opens_on = forms.DateField(label="Opens on", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                               help_text="Changes only while the cycle has not opened.")
    due_on = forms.DateField(label="Due on", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                             help_text=("Owners are reminded before this date and escalated after it; the owners of "
                                        "drafts still owed are told of a new date."))

    def __init__(self, *args: Any, cycle: ReviewCycle, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.update(opens_on=cycle.opens_on, due_on=cycle.due_on)
        if cycle.status != CycleStatus.UPCOMING:
            self.fields["opens_on"].disabled = True
