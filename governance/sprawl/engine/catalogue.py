"""The use-case catalogue file: its shape and its parser. Pure: reads text, returns field values, touches no database.

The loader (governance.sprawl.services.use_cases) writes what this returns; the tuning script and the analysis read
a catalogue file through the same parser without the database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.utils.text import slugify

CATALOGUE_PATH = Path(__file__).resolve().parents[2] / "data" / "use_case_catalogue.yaml"  # the shipped one

# YAML key -> model field. Every key is required in every entry.
CATALOGUE_TEXT_KEYS = {"code": "code", "name": "name", "job": "job"}
CATALOGUE_LIST_KEYS = {"functions": "functions", "inputs": "inputs", "outputs": "outputs", "synonyms": "synonyms",
                       "vendor_products": "vendor_products"}
# Keys earlier catalogue versions had, with why they went: an operator's own file that still has one is refused with
# the reason, rather than a bare "unknown key" or, worse, a silent drop that would leave them thinking it counts.
CATALOGUE_REMOVED_KEYS = {
    "not": "'not' was removed in catalogue 2026.12: the scorer never used it; delete the key",
}
CATALOGUE_FIELDS = [*CATALOGUE_TEXT_KEYS.values(), *CATALOGUE_LIST_KEYS.values()]


class CatalogueError(ValidationError):
    """The catalogue file cannot be loaded; every problem names its entry. Nothing was written."""


def use_case_catalogue_parse(text: str, *, source: str = "catalogue") -> tuple[str, list[dict[str, Any]]]:
    """The catalogue's version and its entries as model field values, or CatalogueError listing every problem.

    Shape: {version: "2026.11", use_cases: [{code, name, job, functions, inputs, outputs, synonyms,
    vendor_products}, ...]}; the lists hold strings. Any other key is refused, a removed one with the reason.
    """
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml when available
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogueError(f"{source}: expected a mapping with 'version' and 'use_cases' at the top level.")
    errors: list[str] = []
    unknown_top = sorted(set(data) - {"version", "use_cases"})
    if unknown_top:
        errors.append(f"{source}: unknown top-level key(s): {', '.join(map(str, unknown_top))}.")
    version = data.get("version")
    version = str(version).strip() if version is not None else ""
    if not version:
        errors.append(f"{source}: 'version' is missing (e.g. version: \"2026.11\").")
    elif len(version) > 20:
        errors.append(f"{source}: 'version' is longer than 20 characters.")
    entries = data.get("use_cases")
    if not isinstance(entries, list) or not entries:
        errors.append(f"{source}: 'use_cases' must be a non-empty list.")
        raise CatalogueError(errors)

    parsed: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    allowed = set(CATALOGUE_TEXT_KEYS) | set(CATALOGUE_LIST_KEYS)
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            errors.append(f"Entry {number}: expected a mapping of keys, got {type(entry).__name__}.")
            continue
        label = f"Entry {number} ({entry['code']!r})" if isinstance(entry.get("code"), str) else f"Entry {number}"
        problems: list[str] = []
        keys = set(map(str, entry))
        problems.extend(reason for key, reason in CATALOGUE_REMOVED_KEYS.items() if key in keys)
        unknown = sorted(keys - allowed - set(CATALOGUE_REMOVED_KEYS))
        if unknown:
            problems.append(f"unknown key(s) {', '.join(unknown)}")
        missing = [key for key in (*CATALOGUE_TEXT_KEYS, *CATALOGUE_LIST_KEYS) if key not in entry]
        if missing:
            problems.append(f"missing key(s) {', '.join(missing)}")
        values: dict[str, Any] = {}
        for key, name in CATALOGUE_TEXT_KEYS.items():
            if key not in entry:
                continue
            value = entry[key]
            if not isinstance(value, str) or not value.strip():
                problems.append(f"'{key}' must be non-empty text")
                continue
            values[name] = " ".join(value.split()) if key != "job" else value.strip()
        code = values.get("code")
        if code is not None:
            if slugify(code) != code or len(code) > 80:
                problems.append(f"'code' must be a slug of at most 80 characters (lowercase letters, digits, "
                                f"hyphens), e.g. {slugify(code)[:80]!r}")
            elif code in seen:
                problems.append(f"code {code!r} is already used by entry {seen[code]}")
            else:
                seen[code] = number
        if "name" in values and len(values["name"]) > 200:
            problems.append("'name' is longer than 200 characters")
        for key, name in CATALOGUE_LIST_KEYS.items():
            value = entry.get(key, [])
            if value is None:
                value = []
            if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
                problems.append(f"'{key}' must be a list of non-empty texts")
                continue
            values[name] = [item.strip() for item in value]
        if problems:
            errors.append(f"{label}: {'; '.join(problems)}.")
        else:
            parsed.append(values)
    if errors:
        raise CatalogueError(errors)
    return version, parsed

