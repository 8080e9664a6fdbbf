"""Forms of the cost ingestion pages: "run now" for a source, and an allocation rule with its preview."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from portfolio.costs.connectors.base import Period
from portfolio.costs.selectors import source_reads_files, source_uploaded_by_hand
from portfolio.costs.services.runs import max_file_bytes, period_check
from portfolio.costs.uploads import limit_label, run_upload_error
from portfolio.models import AllocationRule, CostSource, CurrencyRate, Initiative, reporting_currency


def current_month() -> str:
    return f"{timezone.localdate():%Y-%m}"


class RunNowForm(forms.Form):
    """The period to read and, for file-based sources, the export to read it from."""

    period = forms.CharField(
        label="Period (YYYY-MM)", max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM", "pattern": r"\d{4}-\d{2}"}),
        help_text="The month to read. Reading a month again replaces what was read for it before.",
    )
    file = forms.FileField(
        label="Export file", required=False,
        allow_empty_file=True,  # an empty file is refused naming it, as the API does (run_upload_error)
        help_text="Optional: without a file, the source's configured path is read.",
    )
    replace_with_nothing = forms.BooleanField(
        label="Replace with nothing", required=False,
        help_text="Tick only to empty the month on purpose. Unticked, a read that finds no records fails when the "
                  "month holds records of this source, and they are kept.",
    )

    def __init__(self, *args: Any, source: CostSource, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"period": current_month()})
        super().__init__(*args, **kwargs)
        self.source = source
        self.reads_files = source_reads_files(source)
        if self.reads_files:
            kinds = f"CSV, gzip CSV{' or Parquet' if source.type == 'focus' else ''}"
            if source.type == "m365_copilot":
                kinds = "CSV or JSON"
            if source_uploaded_by_hand(source):
                self.fields["file"].help_text = (f"Required ({kinds}), at most {limit_label(max_file_bytes())}: this "
                                                 "source has no configured path to read its export from.")
            else:
                self.fields["file"].help_text = (f"Optional ({kinds}), at most {limit_label(max_file_bytes())}. "
                                                 "Without a file, the source's configured path is read.")
        else:
            del self.fields["file"]

    def clean_period(self) -> Period:
        try:
            period = Period.parse(self.cleaned_data["period"])
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        try:
            period_check(period)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["period"]) from None
        return period

    def clean_file(self) -> UploadedFile | None:
        upload: UploadedFile | None = self.cleaned_data.get("file")
        error = run_upload_error(self.source, upload)
        if error:
            raise ValidationError(error)
        return upload


class InitiativeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Initiative) -> str:
        return f"{obj.external_id} · {obj.name}"


class AllocationRuleForm(forms.ModelForm):
    """An allocation rule; the model validates the key form and the regular expression (AllocationRule.clean)."""

    initiative = InitiativeChoiceField(queryset=Initiative.objects.order_by("external_id"))

    class Meta:
        model = AllocationRule
        fields = ("source", "order", "key", "match", "value", "initiative")
        help_texts = {
            "order": "Rules of a source are tried from the lowest order up; the first that matches wins.",
            "key": "tag:<name>, label:<name>, billing_account_id, sub_account_id, resource_id, service_name, "
                   "project_id, workspace_id, api_key_id or namespace.",
            "value": "Compared with the record's key: exactly, as a prefix, or as a regular expression (search).",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["source"]).queryset = CostSource.objects.order_by("name")
        if self.instance.pk:
            self.fields["source"].disabled = True  # a rule belongs to its source; make a new rule for another
        else:  # as in the API, a new rule without an order goes after its source's last (allocation_rule_create)
            self.fields["order"].required = False
            self.fields["order"].initial = None  # not the model's default 0, which is an order like any other
            if "order" not in (kwargs.get("initial") or {}):
                self.initial.pop("order", None)
            self.fields["order"].help_text = (
                "Rules of a source are tried from the lowest order up; the first that matches wins. Leave it empty to "
                "put the rule after the source's last one.")

    def clean_key(self) -> str:
        return (self.cleaned_data.get("key") or "").strip()


class CurrencyRateForm(forms.ModelForm):
    """A rate. The model checks its fields; portfolio.costs.services.currency_rates adds the business rules (not the
    reporting currency, above 0) and saves it."""

    class Meta:
        model = CurrencyRate
        fields = ("currency", "valid_from", "rate_to_reporting")
        widgets = {"valid_from": forms.DateInput(attrs={"type": "date"}),
                   "currency": forms.TextInput(attrs={"maxlength": 3, "placeholder": "EUR"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].help_text = "ISO 4217 code of the billing currency, e.g. EUR or GBP."
        self.fields["valid_from"].help_text = "Applies from this day until the currency's next rate."
        self.fields["rate_to_reporting"].label = f"Value of 1 unit in {reporting_currency()}"

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "").strip().upper()


class CostSourceForm(forms.ModelForm):
    """A source. The model checks its fields; portfolio.costs.services.sources adds the rest (settings without
    secrets, a seat source's licence pool key) and saves it with its audit row."""

    settings = forms.JSONField(
        required=False, initial=dict,  # a new source starts from {}, not the text "null"
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text=CostSource._meta.get_field("settings").help_text + " A JSON object, e.g. {\"org\": \"northwind\"}.",
    )

    class Meta:
        model = CostSource
        fields = ("name", "type", "schedule", "credential_env", "settings", "enabled")
        widgets = {"name": forms.TextInput(attrs={"placeholder": "azure-focus"})}

    def clean_settings(self) -> dict[str, Any]:
        settings = self.cleaned_data.get("settings")
        if settings in (None, ""):
            return {}
        if not isinstance(settings, dict):
            raise ValidationError("Settings are a JSON object: names and their values, in braces.")
        return cast(dict[str, Any], settings)
