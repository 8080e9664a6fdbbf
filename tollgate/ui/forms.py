"""Form parts the apps' pages share."""

from __future__ import annotations

from typing import Any

from django import forms

from tollgate.text import possessive


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


# A value that is not one of the choices, named with what is expected -------------------------------------------------


def whole_number(value: Any) -> bool:
    text = str(value).strip()
    return text.isascii() and text.isdigit()


def choice_values(choices: Any) -> list[str]:
    """The values of a field's choices (option groups flattened), without the empty "any" choice."""
    values: list[str] = []
    for value, label in choices:
        if isinstance(label, list | tuple):
            values += choice_values(label)
        elif value not in ("", None):
            values.append(str(value))
    return values


def unknown_record_message(name: str, noun: str, value: Any, *, key: str | None = None) -> str:
    """"No department with id 9999." for an id no record has, "department must be a department's id (a whole
    number), not 'abc'." for something that is no id at all; `key` names another lookup field (an external id)."""
    shown = str(value)[:60]
    if key is not None:
        return f"No {noun} with {key.replace('_', ' ')} '{shown}'."
    if not whole_number(value):
        return f"{name} must be {_article(noun)} {possessive(noun)} id (a whole number), not '{shown}'."
    return f"No {noun} with id {shown.strip()}."


def unknown_choice_message(name: str, value: Any, choices: list[str]) -> str:
    """"'bogus' is not a stage; one of: proposed, in_review, ..." ("role" for a list of roles)."""
    return f"'{str(value)[:60]}' is not {_article(name)} {name}; one of: {', '.join(choices)}."


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"


def named_choice_errors(form: forms.BaseForm) -> None:
    """Replace Django's "Select a valid choice. That choice is not one of the available choices." on the form's
    choice fields with what was sent and what is expected (unknown_record_message, unknown_choice_message): a page's
    or API list's filter, or the dashboard's department, sent `?department=9999` and learnt neither."""
    for name in list(form.errors):
        field = form.fields.get(name)
        if field is None or not isinstance(field, forms.ChoiceField | forms.ModelChoiceField):
            continue
        errors = form.errors[name].as_data()
        if not any(error.code in ("invalid_choice", "invalid_pk_value") for error in errors):
            continue
        label = name.replace("_", " ")
        messages: list[str] = []
        for error in errors:
            if error.code not in ("invalid_choice", "invalid_pk_value"):
                messages += error.messages
                continue
            params = error.params or {}
            value = params.get("value", params.get("pk", form.data.get(form.add_prefix(name), "")))
            if isinstance(field, forms.ModelChoiceField) and field.queryset is not None:
                model = field.queryset.model
                key = field.to_field_name if field.to_field_name not in (None, "pk", "id") else None
                messages.append(unknown_record_message(label, str(model._meta.verbose_name), value, key=key))
            else:
                messages.append(unknown_choice_message(label, value, choice_values(field.choices)))
        form.errors[name] = form.error_class(list(dict.fromkeys(messages)), renderer=form.renderer)


class NamedChoiceErrorsForm(forms.BaseForm):
    """A form whose choice fields say what was sent and what is expected (named_choice_errors)."""

    def full_clean(self) -> None:
        super().full_clean()
        if self.is_bound:
            named_choice_errors(self)
