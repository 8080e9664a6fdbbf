"""The forms of a signal's lifecycle buttons: one text field, a reason to dismiss or a note when resolving."""

from __future__ import annotations

from django import forms


class SignalReasonForm(forms.Form):
    # The service judges a missing reason (dismissing needs one, resolving not): the field only carries the text.
    reason = forms.CharField(
        required=False, max_length=4000, label="Reason or note",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Why it is dismissed, or how it was resolved"}),
    )
