"""Writes of sprawl detection: the use-case catalogue load, initiatives' use cases, sprawl recomputation and the
clusters' review lifecycle. Each write runs in one transaction and writes its audit rows.

The detection itself (scoring, embeddings, grouping) is governance.sprawl.analysis; this module stores what it
finds and keeps people's decisions across recomputations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from .choices import AuditEvent
from .models import UseCase

CATALOGUE_PATH = Path(__file__).resolve().parent / "data" / "use_case_catalogue.yaml"

# YAML key -> model field. Every key is required in every entry except "not" (an archetype may have no near miss).
CATALOGUE_TEXT_KEYS = {"code": "code", "name": "name", "job": "job"}
CATALOGUE_LIST_KEYS = {"functions": "functions", "inputs": "inputs", "outputs": "outputs", "synonyms": "synonyms",
                       "vendor_products": "vendor_products", "not": "not_this"}
CATALOGUE_OPTIONAL_KEYS = {"not"}
CATALOGUE_FIELDS = [*CATALOGUE_TEXT_KEYS.values(), *CATALOGUE_LIST_KEYS.values()]


class CatalogueError(ValidationError):
    """The catalogue file cannot be loaded; every problem names its entry. Nothing was written."""


def audit_event(instance: Any, *, actor: Any, event: str, changes: dict[str, list[Any]] | None = None,
                action: int = LogEntry.Action.UPDATE, **extra: Any) -> LogEntry:
    """One explicit audit-trail row (same shape as governance.services.audit_event)."""
    from .services import audit_event as governance_audit_event

    return governance_audit_event(instance, actor=actor, event=event, changes=changes, action=action, **extra)


# Use-case catalogue --------------------------------------------------------------------------------------------------


@dataclass
class CatalogueLoad:
    """What a catalogue load did, by use-case code."""

    version: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.retired)


def use_case_catalogue_parse(text: str, *, source: str = "catalogue") -> tuple[str, list[dict[str, Any]]]:
    """The catalogue's version and its entries as model field values, or CatalogueError listing every problem.

    Shape: {version: "2026.11", use_cases: [{code, name, job, functions, inputs, outputs, synonyms,
    vendor_products, not}, ...]}; the lists hold strings.
    """
    try:
        data = yaml.safe_load(text)
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
        unknown = sorted(set(map(str, entry)) - allowed)
        if unknown:
            problems.append(f"unknown key(s) {', '.join(unknown)}")
        missing = [key for key in (*CATALOGUE_TEXT_KEYS, *CATALOGUE_LIST_KEYS)
                   if key not in entry and key not in CATALOGUE_OPTIONAL_KEYS]
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


@transaction.atomic
def use_case_catalogue_load(*, path: Path | str | None = None, actor: Any = None) -> CatalogueLoad:
    """Create or update the catalogue's use cases by code, idempotently; nothing is written when nothing changed.

    Entries added by administrators (blank catalogue version) are never deleted; catalogue entries that a newer
    catalogue no longer lists are deactivated, not deleted (initiatives may still point at them). Each created,
    updated or retired use case gets an audit row naming the catalogue version.
    """
    path = Path(path) if path is not None else CATALOGUE_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogueError(f"Cannot read the use-case catalogue {path}: {exc.strerror or exc}.") from exc
    version, entries = use_case_catalogue_parse(text, source=path.name)
    result = CatalogueLoad(version=version)
    existing = {u.code: u for u in UseCase.objects.select_for_update()}
    to_create: list[UseCase] = []
    to_update: list[tuple[UseCase, dict[str, list[Any]]]] = []
    for values in entries:
        use_case = existing.get(values["code"])
        if use_case is None:
            to_create.append(UseCase(**values, catalogue_version=version, is_active=True))
            continue
        changes = {name: [getattr(use_case, name), values[name]] for name in CATALOGUE_FIELDS
                   if getattr(use_case, name) != values[name]}
        if changes or use_case.catalogue_version != version:
            if use_case.catalogue_version != version:
                changes["catalogue_version"] = [use_case.catalogue_version, version]
            for name, (_, after) in changes.items():
                setattr(use_case, name, after)
            to_update.append((use_case, changes))
        else:
            result.unchanged.append(use_case.code)
    listed = {values["code"] for values in entries}
    to_retire = [u for code, u in existing.items() if code not in listed and u.catalogue_version and u.is_active]

    with disable_auditlog():  # the explicit rows below are the record, not field-change rows
        created = UseCase.objects.bulk_create(to_create)
        for use_case, changes in to_update:
            use_case.save(update_fields=[*changes, "updated_at"])
        for use_case in to_retire:
            use_case.is_active = False
            use_case.save(update_fields=["is_active", "updated_at"])
    for use_case in created:
        audit_event(use_case, actor=actor, event=AuditEvent.CATALOGUE_LOADED, action=LogEntry.Action.CREATE,
                    version=version)
        result.created.append(use_case.code)
    for use_case, changes in to_update:
        audit_event(use_case, actor=actor, event=AuditEvent.CATALOGUE_LOADED, version=version,
                    changes={k: [str(b), str(a)] for k, (b, a) in changes.items()})
        result.updated.append(use_case.code)
    for use_case in to_retire:
        audit_event(use_case, actor=actor, event=AuditEvent.CATALOGUE_LOADED, version=version,
                    changes={"is_active": ["True", "False"]}, retired=True)
        result.retired.append(use_case.code)
    return result


def use_case_catalogue_load_on_migrate(*, apps: Any = None, **kwargs: Any) -> None:
    """post_migrate: bring the shipped catalogue in after every migrate (and after a test database flush).

    A post_migrate handler rather than a data migration: a new catalogue version ships as a change of the data file
    alone, and every `migrate` picks it up; a migration would freeze the file as it was when the migration first ran
    and need a new migration per catalogue version. The load is idempotent and writes nothing when nothing changed.
    """
    if apps is not None:
        try:
            apps.get_model("governance", "UseCase")
        except LookupError:  # migrated back to before the catalogue existed
            return
    if not CATALOGUE_PATH.exists():
        return
    use_case_catalogue_load()
