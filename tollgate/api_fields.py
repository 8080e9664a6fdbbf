"""The API's reference to another record by id: a whole number, nothing else.

DRF's PrimaryKeyRelatedField hands what the JSON held to the database lookup as it is: 1.5 found record 1, and a
number too large for a float (1e999999, infinity to the parser) answered 500. Every serializer of the API uses this
field for its references (ModelSerializer below makes it the default for the model's relations)."""

from __future__ import annotations

import math
from typing import Any

from rest_framework import parsers, serializers
from rest_framework.exceptions import ParseError


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


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer whose references to other records are IdFields."""

    serializer_related_field = IdField


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, answering a body nested too deep for Python's parser (a thousand brackets) with the same 400
    as any other malformed JSON, rather than a RecursionError's 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the body is nested too deep.") from exc
