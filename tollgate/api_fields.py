"""The API's serializers' shared parts: what a body may hold, and the fields every one of them uses.

A write that cannot be honoured is refused by name. DRF drops a body field its serializer does not know and ignores a
read-only one: `PATCH /api/reviews/reports/<id>/ {"status": "submitted"}` answered 200 with nothing changed, and a
script believed it had submitted the report. So every serializer of the API that reads a body derives from
`Serializer` or `ModelSerializer` below (nested ones and list items included), which answer 400:
- under a field the serializer does not have: "“foo” is not a field of this record; it accepts: ..." (its writable
  fields, and why, for a field a record no longer has: `removed_fields`);
- under a read-only field sent with another value than the record has: "status is read-only: ..." naming the action
  that changes it where there is one (`read_only_hints`). The same value is accepted and ignored, so that a client
  may GET a record, change one value and PUT or PATCH the whole of it back. A field the view leaves out of the
  record's ETag (`untagged_fields`, e.g. a person's last sign-in) changes without anyone editing the record, and is
  not compared. Without a record (a create, an item of a nested list) there is nothing to compare with: a read-only
  field is accepted only empty (null, "", [] or {}), as a client filling in the record's whole shape sends it.
A serializer that only writes a record which a GET answers with another (a person, a use case, a policy) names that
one in `read_as`: its fields are then read-only fields of the write, compared with the record as the GET shows it.
`csrfmiddlewaretoken` and `format` (the browsable API's form) are not fields of a body.

DRF's PrimaryKeyRelatedField hands what the JSON held to the database lookup as it is: 1.5 found record 1, and a
number too large for a float (1e999999, infinity to the parser) answered 500. Every serializer of the API uses IdField
for its references (ModelSerializer below makes it the default for the model's relations)."""

from __future__ import annotations

import decimal
import json
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.text import capfirst
from rest_framework import parsers, serializers
from rest_framework.exceptions import ParseError
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings
from rest_framework.utils import html
from rest_framework.validators import UniqueValidator

from tollgate.ui.forms import one_character_per_line_break, unknown_choice_message, unknown_record_message


def _field_name(field: serializers.Field, *, singular: bool = False) -> str:
    """The name a message calls a field by: its own, or for an item of a list field the list's, in the singular
    ("role" for an item of `roles`)."""
    if field.field_name:
        return field.field_name.replace("_", " ")
    parent = getattr(field, "parent", None)
    name = (getattr(parent, "field_name", "") or "").replace("_", " ")
    if singular and name.endswith("s"):
        name = name[:-1]
    return name or "value"


class IdField(serializers.PrimaryKeyRelatedField):
    """A record named by its id, as a JSON integer or a string of digits; one that does not exist, or is no id, is
    refused naming the value and what is expected ("No department with id 9999.", "department must be a
    department's id (a whole number), not 'abc'.") rather than DRF's 'Invalid pk "9999" - object does not exist.'."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not _whole(data):
            self.fail("incorrect_type", data_type=type(data).__name__, value=data)
        return super().to_internal_value(int(data))

    def fail(self, key: str, **kwargs: Any) -> Any:
        if key in ("does_not_exist", "incorrect_type"):
            queryset = self.get_queryset()
            noun = str(queryset.model._meta.verbose_name) if queryset is not None else "record"
            value = kwargs.get("pk_value", kwargs.get("value", ""))
            if key == "incorrect_type" and not isinstance(value, str | int | float):
                value = json.dumps(value)[:60] if value is not None else "null"
            raise serializers.ValidationError(
                unknown_record_message(_field_name(self, singular=True), noun, value), code=key)
        return super().fail(key, **kwargs)


class ChoiceField(serializers.ChoiceField):
    """A choice refused with what was sent and the accepted values ("'administrator' is not a role; one of: owner,
    reviewer, executive, admin."), not DRF's '"administrator" is not a valid choice.' alone."""

    def fail(self, key: str, **kwargs: Any) -> Any:
        if key == "invalid_choice":
            raise serializers.ValidationError(unknown_choice_message(
                _field_name(self, singular=True), kwargs.get("input", ""), [str(c) for c in self.choices]), code=key)
        return super().fail(key, **kwargs)


def _whole(data: Any) -> bool:
    if isinstance(data, int):
        return True
    if isinstance(data, float):
        return math.isfinite(data) and data.is_integer() and abs(data) < 2**63
    return isinstance(data, str) and data.strip().isascii() and data.strip().lstrip("-").isdigit() \
        and len(data.strip()) < 20


class DecimalField(serializers.DecimalField):
    """DRF's DecimalField that still shows a stored value beyond the column's digits (one an older version left on
    SQLite, which keeps any number: portfolio.models.base.ShapedDecimalField reads it back) rather than answering 500.
    Input is refused beyond max_digits as before: that check comes before any rounding."""

    def quantize(self, value: decimal.Decimal) -> decimal.Decimal:
        try:
            return super().quantize(value)
        except decimal.InvalidOperation:
            if self.decimal_places is None:
                return value
            return value.quantize(decimal.Decimal(1).scaleb(-self.decimal_places), rounding=self.rounding,
                                  context=decimal.Context(prec=330))  # any float SQLite holds, with its places


# The browsable API's form posts these beside the fields; they are not part of the record.
NOT_BODY_FIELDS = frozenset({"csrfmiddlewaretoken"})
# A form's nested field: `kpi_actuals[0]kpi` or `address.city` belong to `kpi_actuals` and `address`.
FORM_NESTED_KEY = re.compile(r"^(?P<name>[^\[.]+)(\[[0-9]+\]|\.)")
EMPTY_VALUES: tuple[Any, ...] = (None, "", [], {})


class Serializer(serializers.Serializer):
    """DRF's Serializer refusing, by name, a body field it would drop and a read-only field it would ignore (the
    module's docstring says when)."""

    # Fields a record no longer has: name -> what to do instead, said in the refusal.
    removed_fields: ClassVar[Mapping[str, str]] = {}
    # Read-only field -> what changes it (or why nothing does), in words after "<field> is read-only: ". `{id}` is the
    # record's id ("<id>" without a record).
    read_only_hints: ClassVar[Mapping[str, str]] = {}
    # The serializer a GET answers the record with, when it is not this one: its fields are read-only fields here.
    read_as: ClassVar[type[serializers.Serializer] | None] = None

    def to_internal_value(self, data: Any) -> Any:
        refused = self.body_field_errors(data)
        data = self._one_character_per_line_break(data)
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if refused and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **refused}) from None
            raise
        if refused:
            raise serializers.ValidationError(refused)
        return value

    def _one_character_per_line_break(self, data: Any) -> Any:
        """The body with CRLF as LF in the text it writes: a line break counts once against a length limit, as on the
        pages (tollgate.ui.forms.LineBreaksForm), and is stored so whichever door the text came through."""
        if not isinstance(data, Mapping):
            return data
        names = [name for name, field in self.fields.items() if isinstance(field, serializers.CharField)
                 and not field.read_only and isinstance(data.get(name), str) and "\r" in data[name]]
        if not names:
            return data
        data = data.copy()  # type: ignore[attr-defined]  # a dict, or a QueryDict's mutable copy
        for name in names:
            data[name] = one_character_per_line_break(data[name])
        return data

    def body_field_errors(self, data: Any) -> dict[str, list[str]]:
        """A message under each field of `data` that cannot be honoured: unknown, or read-only and changed."""
        if not isinstance(data, Mapping):
            return {}  # DRF's own refusal of a body that is not an object
        fields = self.fields
        shown = self._read_as_fields()
        errors: dict[str, list[str]] = {}
        for name in self._sent_names(data):
            field = fields.get(name)
            if field is not None and not field.read_only:
                continue
            if field is None and name not in shown:
                errors[name] = [self.unknown_field_message(name)]
            elif not self._unchanged(name, data):
                errors[name] = [self.read_only_message(name)]
        return errors

    def _sent_names(self, data: Mapping[str, Any]) -> list[str]:
        names = [str(key) for key in data]
        if html.is_html_input(data):  # a form: the parts of a nested field are named after it
            names = [match["name"] if (match := FORM_NESTED_KEY.match(name)) else name for name in names]
        if self.parent is None:
            ignored = NOT_BODY_FIELDS | {api_settings.URL_FORMAT_OVERRIDE}
            names = [name for name in names if name not in ignored]
        return list(dict.fromkeys(names))

    def _read_as_fields(self) -> Mapping[str, serializers.Field]:
        if self.read_as is None:
            return {}
        return self.read_as(context=self.context).fields

    def _record(self) -> Any:
        """The record the body writes, None for a new one (or an item of a nested list)."""
        if self.parent is not None or self.instance is None or isinstance(self.instance, list | tuple):
            return None
        return self.instance

    def _record_id(self) -> str:
        record = self._record()
        key = getattr(record, "pk", None) if record is not None else None
        if key is None and record is not None:
            key = getattr(record, "key", None)
        return "<id>" if key is None else str(key)

    def _shown(self) -> dict[str, Any]:
        """The record as a GET answers it, as JSON (so as the client read it); computed once, when needed."""
        if not hasattr(self, "_shown_record"):
            record = self._record()
            data: Any = (self.read_as(record, context=self.context).data if self.read_as is not None
                         else self.to_representation(record))
            self._shown_record = json.loads(JSONRenderer().render(data))
        return self._shown_record

    def _unchanged(self, name: str, data: Mapping[str, Any]) -> bool:
        sent = _sent_value(data, name, self._record_field(name))
        if self._record() is None:
            return sent is not ... and any(sent == empty and type(sent) is type(empty) for empty in EMPTY_VALUES)
        view = self.context.get("view")
        if self.parent is None and name in getattr(view, "untagged_fields", ()):
            return True
        current = self._shown().get(name)
        if sent is ...:
            return current in EMPTY_VALUES
        return same_value(sent, current, form=html.is_html_input(data))

    def _record_field(self, name: str) -> serializers.Field | None:
        """The field as a GET shows it (this serializer's, else read_as's): whether the client read a list."""
        return self.fields.get(name) or self._read_as_fields().get(name)

    def unknown_field_message(self, name: str) -> str:
        writable = [field_name for field_name, field in self.fields.items() if not field.read_only]
        accepted = f"it accepts: {', '.join(writable)}." if writable else "it accepts none."
        removed = self.removed_fields.get(name)
        return f"“{name[:60]}” is not a field of this record; {accepted}" + (f" {removed}" if removed else "")

    def read_only_message(self, name: str) -> str:
        hint = self.read_only_hints.get(name)
        if hint:
            return f"{name} is read-only: {hint.format(id=self._record_id())}."
        if self._record() is None:
            return f"{name} is read-only: Tollgate sets it; leave it out of a new record (or send it empty)."
        current = self._shown().get(name)
        if current is None or isinstance(current, bool | int | float | str) and len(str(current)) <= 80:
            return (f"{name} is read-only: leave it out, or send it as the record has it "
                    f"({json.dumps(current, ensure_ascii=False)}).")
        return f"{name} is read-only: leave it out, or send it as a GET of the record gives it."


def _sent_value(data: Mapping[str, Any], name: str, field: serializers.Field | None) -> Any:
    """What the body holds under `name`, `...` for nothing (a form's nested part, `name[0]kpi`). A form sends a list
    as the key repeated (`vendor_names=OpenAI&vendor_names=Zendesk`): all of its values, not only the last."""
    if name not in data:
        return ...
    if html.is_html_input(data) and isinstance(field, serializers.ListField | serializers.ManyRelatedField):
        return data.getlist(name)  # type: ignore[attr-defined]
    return data.get(name)


def _instant(text: str) -> datetime | None:
    """A date-time written in any ISO 8601 form (Z or +00:00, with or without a fraction), aware; None otherwise."""
    if len(text) < 19 or text[10:11] not in ("T", " "):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _same_instant(sent: str, shown: datetime) -> bool:
    """Whether `sent` writes the instant shown, to the places it writes: `+00:00` for `Z`, another offset, and a
    shorter fraction (JavaScript's toISOString() keeps milliseconds, a whole-second form none)."""
    moment = _instant(sent)
    if moment is None:
        return False
    fraction = re.search(r"[T ]\d{2}:\d{2}:\d{2}(?:\.(\d+))?", sent)
    places = min(len(fraction.group(1) or ""), 6) if fraction else 6
    unit = 10 ** (6 - places)
    truncated = shown.replace(microsecond=shown.microsecond // unit * unit)
    return moment == truncated


def same_value(sent: Any, current: Any, *, form: bool = False) -> bool:
    """Whether a body's value is the value shown (JSON): the same, or the same number written otherwise
    ("12.50" for 12.5); a form sends text, so there "" is null and "true" is true."""
    if sent == current and type(sent) is type(current):
        return True
    if isinstance(sent, Mapping) and isinstance(current, Mapping):
        return sent.keys() == current.keys() and all(same_value(sent[k], current[k], form=form) for k in sent)
    if isinstance(sent, list) and isinstance(current, list):
        return len(sent) == len(current) and all(same_value(a, b, form=form) for a, b in zip(sent, current,
                                                                                             strict=True))
    if isinstance(sent, bool) or isinstance(current, bool):
        return form and isinstance(current, bool) and str(sent).lower() == str(current).lower()
    if current is None:
        return form and sent == ""
    if isinstance(sent, str) and isinstance(current, str) and (shown := _instant(current)) is not None:
        return _same_instant(sent, shown)
    if isinstance(sent, int | float | str) and isinstance(current, int | float | str):
        try:
            return decimal.Decimal(str(sent).strip()) == decimal.Decimal(str(current))
        except decimal.InvalidOperation:
            return form and str(sent) == str(current)
    return False


class ModelSerializer(Serializer, serializers.ModelSerializer):
    """DRF's ModelSerializer whose references to other records are IdFields and whose decimals are DecimalFields.

    A model field's upper bound given with its own sentence (portfolio.models.base.at_most) is refused in that
    sentence, as the pages say it, rather than in DRF's generic "Ensure this value is less than or equal to ...".
    A body field it cannot honour is refused as by Serializer above."""

    serializer_related_field = IdField
    serializer_choice_field = ChoiceField
    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping,
                                models.DecimalField: DecimalField}

    def build_standard_field(self, field_name: str, model_field: Any) -> tuple[Any, dict[str, Any]]:
        """A field's own limit sentence (a model validator's message) instead of DRF's generic one; and a unique
        field's refusal starts with a capital, as every other message does: DRF fills Django's "%(model_name)s with
        this ..." with the lower-case verbose name ("vendor with this name already exists.")."""
        field_class, field_kwargs = super().build_standard_field(field_name, model_field)
        bound = next((validator for validator in model_field.validators
                      if isinstance(validator, MaxValueValidator) and validator.message != MaxValueValidator.message
                      and field_kwargs.get("max_value") == validator.limit_value), None)
        if bound is not None:
            field_kwargs["error_messages"] = {**field_kwargs.get("error_messages", {}), "max_value": bound.message}
        for validator in field_kwargs.get("validators", []):
            if isinstance(validator, UniqueValidator) and validator.message:
                validator.message = capfirst(str(validator.message))
        return field_class, field_kwargs


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, answering a body nested too deep for Python's parser (a thousand brackets) with the same 400
    as any other malformed JSON, rather than a RecursionError's 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the body is nested too deep.") from exc


def schema_doc_excludes() -> list[type]:
    """drf-spectacular's GET_LIB_DOC_EXCLUDES: the classes whose docstrings never describe a record in the OpenAPI
    schema, DRF's and these bases (without it a serializer with no docstring of its own was described by "DRF's
    Serializer refusing, by name, ...")."""
    from drf_spectacular.plumbing import get_lib_doc_excludes

    return [*get_lib_doc_excludes(), Serializer, ModelSerializer]
