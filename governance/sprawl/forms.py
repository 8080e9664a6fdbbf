"""Forms of the sprawl pages: a cluster decision's reason, a member's removal, an initiative's use cases, a verdict on
a possible-duplicate pair."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from governance.choices import DuplicateVerdict
from governance.models import UseCase
from governance.sprawl.services.clusters import REASON_MAX
from portfolio.models import Initiative


class SprawlReasonForm(forms.Form):
    """The reason of a cluster decision or a member removal; the service says when one is required."""

    reason = forms.CharField(required=False, max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="Kept in the audit trail with the decision.")


class SprawlMemberRemoveForm(forms.Form):
    """Which member leaves the cluster, and why (the service requires the reason)."""

    initiative = forms.ModelChoiceField(queryset=Initiative.objects.all(), widget=forms.HiddenInput,
                                        error_messages={"required": "Say which member to remove.",
                                                        "invalid_choice": "That initiative does not exist."})
    reason = forms.CharField(required=False, max_length=REASON_MAX)


class InitiativeUseCasesForm(forms.Form):
    """The use cases a person confirms for an initiative (by code); an empty choice hands it back to suggestions."""

    use_cases = forms.ModelMultipleChoiceField(
        queryset=UseCase.objects.none(), to_field_name="code", required=False,
        help_text="Pick the jobs this initiative does; hold Ctrl / ⌘ to pick several. Confirmed use cases are never "
                  "changed by recomputation.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        use_cases = cast(forms.ModelMultipleChoiceField, self.fields["use_cases"])
        use_cases.queryset = UseCase.objects.filter(is_active=True).order_by("name")
        self.fields["use_cases"].widget.attrs["size"] = 8


class DuplicatePairDecisionForm(forms.Form):
    """A verdict on the initiative and one of its possible duplicates (`other`); the service requires a reason for
    either verdict."""

    other = forms.ModelChoiceField(queryset=Initiative.objects.all(), widget=forms.HiddenInput,
                                   error_messages={"required": "Say which possible duplicate the verdict is about.",
                                                   "invalid_choice": "That initiative does not exist."})
    verdict = forms.ChoiceField(choices=DuplicateVerdict.choices, widget=forms.HiddenInput,
                                error_messages={"required": "Choose “Duplicate of” or “Not a duplicate”.",
                                                "invalid_choice": "That is not a verdict."})
    reason = forms.CharField(required=False, max_length=500)


class SprawlLabelCheckForm(forms.Form):
    """A labels file to measure the detector against, and how (the service checks the file's content)."""

    file = forms.FileField(label="Labels file (.csv, UTF-8, at most 2 MB)",
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))
    top = forms.IntegerField(label="Possible duplicates ranked per initiative", initial=5, min_value=1, max_value=50)
    possible = forms.BooleanField(label="Count possible clusters as found, beside the likely ones", required=False)
    undecided = forms.BooleanField(
        label="Leave out the pairs reviewers have decided: measure only where nobody has looked yet", required=False)
    listed_only = forms.BooleanField(
        label="Measure only the initiatives the file lists: it lists every one I checked, a label of its own for "
              "one that duplicates nothing", required=False)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not (upload.name or "").lower().endswith(".csv"):
            raise forms.ValidationError("Upload a .csv file (in Excel: Save as → CSV UTF-8).")
        return upload
