"""The use-case catalogue: the load of the catalogue file, use cases added or edited by administrators, and the use
cases a person confirms for an initiative. Each write runs in one transaction and writes its audit rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import slugify

from governance.choices import AuditEvent, UseCaseOrigin
from governance.models import InitiativeUseCase, UseCase
from governance.sprawl.engine.catalogue import (
    CATALOGUE_FIELDS,
    CATALOGUE_LIST_KEYS,
    CATALOGUE_PATH,
    CatalogueError,
    use_case_catalogue_parse,
)
from portfolio.models import Initiative
from portfolio.services.business_cases import ensure_not_ended
from tollgate.audit import audit_event
from tollgate.roles import may

MAX_USE_CASES_PER_INITIATIVE = 5


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


@transaction.atomic
def use_case_catalogue_load(*, path: Path | str | None = None, actor: Any = None, audit: bool = True) -> CatalogueLoad:
    """Create or update the catalogue's use cases by code, idempotently; nothing is written when nothing changed.

    Entries added by administrators (blank catalogue version) are never deleted; catalogue entries that a newer
    catalogue no longer lists are deactivated, not deleted (initiatives may still point at them). With `audit`, each
    created, updated or retired use case gets an audit row naming the catalogue version (a `load_use_cases` run);
    the load on migrate brings in the catalogue shipped with the release, whose history is the repository's.
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
    if not audit:
        result.created = [u.code for u in created]
        result.updated = [u.code for u, _ in to_update]
        result.retired = [u.code for u in to_retire]
        return result
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
    use_case_catalogue_load(audit=False)


# Initiatives' use cases ----------------------------------------------------------------------------------------------


@transaction.atomic
def initiative_use_cases_set(*, actor: Any, initiative: Initiative, use_case_codes: Iterable[str]) -> list[
        InitiativeUseCase]:
    """Set the initiative's use cases as confirmed by a person; recomputation never overwrites them.

    The person's list replaces every link of the initiative (suggested or confirmed); an empty list hands the
    initiative back to automatic suggestions. Unknown or inactive codes are refused, naming them. An ended initiative
    (killed, retired, rejected) is read-only, its use cases included, as for every other update (ensure_not_ended).
    """
    locked = Initiative.objects.select_for_update().get(pk=initiative.pk)
    if not may(actor, "governance.set_initiative_use_cases", locked):
        raise PermissionDenied(f"You may not set the use cases of {locked}: only those who may edit it, and CoE "
                               "reviewers, may.")
    ensure_not_ended(locked, locked.stage)
    codes = list(dict.fromkeys(str(c).strip() for c in use_case_codes if str(c).strip()))
    found = {u.code: u for u in UseCase.objects.filter(code__in=codes, is_active=True)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationError({"use_cases": [f"Unknown or inactive use case(s): {', '.join(unknown)}."]})
    if len(codes) > MAX_USE_CASES_PER_INITIATIVE:
        raise ValidationError({"use_cases": [f"Choose at most {MAX_USE_CASES_PER_INITIATIVE} use cases."]})
    existing = list(InitiativeUseCase.objects.filter(initiative=locked).select_related("use_case"))
    before = sorted(f"{link.use_case.code} ({link.origin})" for link in existing)
    keep = {link.use_case.code: link for link in existing if link.origin == UseCaseOrigin.CONFIRMED}
    InitiativeUseCase.objects.filter(initiative=locked).exclude(
        pk__in=[link.pk for code, link in keep.items() if code in found]).delete()
    links = []
    for code in codes:
        link = keep.get(code) or InitiativeUseCase.objects.create(
            initiative=locked, use_case=found[code], confidence=Decimal("1.000"), origin=UseCaseOrigin.CONFIRMED)
        links.append(link)
    after = sorted(f"{code} ({UseCaseOrigin.CONFIRMED})" for code in codes)
    if before != after:
        audit_event(locked, actor=actor, event=AuditEvent.USE_CASES_SET, changes={"use_cases": [before, after]},
                    use_cases=codes)
    return links


# Use cases added or edited by administrators -------------------------------------------------------------------------

USE_CASE_EDITABLE = ["name", "job", "functions", "inputs", "outputs", "synonyms", "vendor_products", "is_active"]


def _use_case_clean(values: dict[str, Any]) -> dict[str, Any]:
    problems: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        if key in ("name", "job"):
            if not isinstance(value, str) or not value.strip():
                problems[key] = [f"'{key}' must be non-empty text."]
                continue
            cleaned[key] = value.strip()
        elif key == "is_active":
            cleaned[key] = bool(value)
        elif key in CATALOGUE_LIST_KEYS.values():
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                problems[key] = [f"'{key}' must be a list of non-empty texts."]
                continue
            cleaned[key] = [v.strip() for v in value]
    if problems:
        raise ValidationError(problems)
    return cleaned


@transaction.atomic
def use_case_create(*, actor: Any, code: str, **values: Any) -> UseCase:
    """An administrator adds a use case to the catalogue (catalogue loads never touch it)."""
    if not may(actor, "governance.add_usecase"):
        raise PermissionDenied("Only administrators add use cases.")
    code = (code or "").strip()
    if not code or slugify(code) != code:
        raise ValidationError({"code": [f"“{code}” is not a slug: use lowercase letters, digits and hyphens, e.g. "
                                        f"“{slugify(code) or 'claims-triage'}”."]})
    if UseCase.objects.filter(code=code).exists():
        raise ValidationError({"code": [f"A use case with code “{code}” already exists."]})
    cleaned = _use_case_clean({k: v for k, v in values.items() if k in USE_CASE_EDITABLE})
    for key in ("name", "job"):
        if key not in cleaned:
            raise ValidationError({key: [f"'{key}' is required."]})
    with disable_auditlog():
        use_case = UseCase.objects.create(code=code, catalogue_version="", **cleaned)
    audit_event(use_case, actor=actor, event=AuditEvent.USE_CASE_EDITED, action=LogEntry.Action.CREATE,
                changes={k: [None, str(v)] for k, v in cleaned.items()})
    return use_case


@transaction.atomic
def use_case_update(*, actor: Any, use_case: UseCase, **values: Any) -> UseCase:
    """An administrator edits a use case (a catalogue entry's edit lasts until a new catalogue version changes it)."""
    if not may(actor, "governance.change_usecase", use_case):
        raise PermissionDenied("Only administrators edit use cases.")
    locked = UseCase.objects.select_for_update().get(pk=use_case.pk)
    cleaned = _use_case_clean({k: v for k, v in values.items() if k in USE_CASE_EDITABLE})
    changes = {k: [str(getattr(locked, k)), str(v)] for k, v in cleaned.items() if getattr(locked, k) != v}
    if changes:
        for key in changes:
            setattr(locked, key, cleaned[key])
        with disable_auditlog():
            locked.save(update_fields=[*changes, "updated_at"])
        audit_event(locked, actor=actor, event=AuditEvent.USE_CASE_EDITED, changes=changes)
    return locked


def use_case_deletable(use_case: UseCase) -> bool:
    """Only a use case an administrator added and nothing points at may go: catalogue entries are deactivated."""
    return not use_case.catalogue_version and not use_case.initiative_links.exists()


@transaction.atomic
def use_case_delete(*, actor: Any, use_case: UseCase) -> None:
    """An administrator deletes a use case they added by mistake (nothing links to it; never a catalogue entry)."""
    if not may(actor, "governance.delete_usecase", use_case):
        raise PermissionDenied("Only administrators delete use cases.")
    locked = UseCase.objects.select_for_update().get(pk=use_case.pk)
    if not use_case_deletable(locked):
        raise ValidationError(f"“{locked.name}” comes from the catalogue or is linked to initiatives: deactivate it "
                              "instead (is_active=false).")
    before = {"code": locked.code, "name": locked.name, "job": locked.job}
    deleted_pk = locked.pk
    with disable_auditlog():
        locked.delete()
    locked.pk = deleted_pk  # the audit row names the use case that went
    audit_event(locked, actor=actor, event=AuditEvent.USE_CASE_EDITED, action=LogEntry.Action.DELETE,
                changes={k: [v, None] for k, v in before.items()})
