"""The API's reference to another record by id: a whole number, nothing else.

DRF's PrimaryKeyRelatedField hands what the JSON held to the database lookup as it is: 1.5 found record 1, and a
number too large for a float (1e999999, infinity to the parser) answered 500. Every serializer of the API uses this
field for its references (ModelSerializer below makes it the default for the model's relations)."""

from __future__ import annotations

import decimal
import math
from typing import Any

from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.text import capfirst
from rest_framework import parsers, serializers
from rest_framework.exceptions import ParseError
from rest_framework.validators import UniqueValidator


class IdField(serializers.PrimaryKeyRelatedField):
    """A record named by its id, as a JSON integer or a string of digits."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not _whole(data):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(int(data))


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


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer whose references to other records are IdFields and whose decimals are DecimalFields.

    A model field's upper bound given with its own sentence (portfolio.models.base.at_most) is refused in that
    sentence, as the pages say it, rather than in DRF's generic "Ensure this value is less than or equal to ..."."""

    serializer_related_field = IdField
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
