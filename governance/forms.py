"""Forms of the governance pages: a rubric scoring form, a transition reason, a policy value (sprawl's forms are in
governance.sprawl.forms)."""

from __future__ import annotations

from typing import Any

from django import forms

from governance.choices import Score
from governance.models import IntakeScore, RubricCriterion
from governance.policies import PolicyDefinition


class ScoringForm(forms.Form):
    """One 1-5 choice and a comment per active criterion; the service checks completeness and segregation."""

    def __init__(self, *args: Any, criteria: list[RubricCriterion], initial_scores: dict[int, IntakeScore],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for criterion in criteria:
            existing = initial_scores.get(criterion.pk)
            self.fields[f"score_{criterion.pk}"] = forms.TypedChoiceField(
                label=criterion.name, choices=Score.choices, coerce=int, widget=forms.RadioSelect,
                initial=existing.score if existing else None,
                error_messages={"required": f"Score “{criterion.name}” from 1 to 5."},
            )
            self.fields[f"comment_{criterion.pk}"] = forms.CharField(
                label=f"Comment on {criterion.name}", required=False,
                widget=forms.Textarea(attrs={"rows": 2}), initial=existing.comment if existing else "",
            )

    def rows(self) -> list[dict[str, Any]]:
        """Criterion, its fields: what the template lays out as one table row each."""
        return [{"criterion": c, "score": self[f"score_{c.pk}"], "comment": self[f"comment_{c.pk}"]}
                for c in self.criteria]

    def service_scores(self) -> list[dict[str, Any]]:
        return [{"criterion": c.pk, "score": self.cleaned_data[f"score_{c.pk}"],
                 "comment": self.cleaned_data[f"comment_{c.pk}"]} for c in self.criteria]


class TransitionForm(forms.Form):
    reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Kept in the audit trail with the transition.",
    )

    def __init__(self, *args: Any, needs_reason: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The service is the judge of a missing reason; the field only says it up front.
        if needs_reason:
            self.fields["reason"].label = "Reason (required)"
            self.fields["reason"].widget.attrs["required"] = True


class PolicyForm(forms.Form):
    value = forms.CharField(max_length=32)

    def __init__(self, *args: Any, definition: PolicyDefinition, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = "whole number" if definition.kind == "int" else "number"
        self.fields["value"].label = f"{definition.label} ({definition.unit})" if definition.unit else definition.label
        self.fields["value"].help_text = (
            f"A {kind} from {definition.minimum.normalize():f} to {definition.maximum.normalize():f}. "
            f"{definition.help}"
        )
        self.fields["value"].widget.attrs["inputmode"] = "decimal"
