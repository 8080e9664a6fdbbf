"""Form parts the apps' pages share."""

from __future__ import annotations

from typing import Any

from django import forms


def one_character_per_line_break(text: str) -> str:
    """CRLF (and a lone CR) as LF: one character per line break, as a textarea's maxlength counts them."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


class LineBreaksForm(forms.BaseForm):
    """A form whose text areas are read with one character per line break. A browser counts a line break as one
    character against a textarea's maxlength but sends it as CRLF (HTML's form encoding): a 10,000-character narrative
    with 700 line breaks arrived as 10,700 and was refused, after the browser had let it through."""

    def full_clean(self) -> None:
        if self.is_bound:
            names = [self.add_prefix(name) for name, field in self.fields.items()
                     if isinstance(field.widget, forms.Textarea)]
            data: Any = self.data.copy()  # type: ignore[attr-defined]  # a QueryDict (or dict) of the request
            for name in names:
                value = data.get(name)
                if isinstance(value, str) and "\r" in value:
                    data[name] = one_character_per_line_break(value)
            self.data = data
        super().full_clean()
