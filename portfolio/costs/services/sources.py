"""Cost sources: where cost and usage come from. Written only through cost_source_create / _update / _delete.

Each validates the source as the model does (a name that is a slug, a known type, a schedule, settings without
secrets, the credential's environment variable name), saves it and writes one explicit audit row, in one transaction.
Deleting a source takes its records with it, so the roll-ups of the months they covered are recomputed too. The pages,
the API, the Django admin and configuration as code (`apply_cost_config`) call these.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from portfolio.costs.selectors import LicencePoolKeyError, licence_pool_by_key
from portfolio.models import CostRecord, CostSource, SeatActivity, UsageRecord
from tollgate.audit import audit_event
from tollgate.roles import may
from tollgate.types import Actor

SOURCE_FIELDS = ("name", "type", "settings", "credential_env", "schedule", "enabled")


def _ensure_may(actor: Actor | None, action: str) -> None:
    # actor None: the system (demo load, configuration as code); a person needs the role's permission.
    if actor is not None and not may(actor, f"portfolio.{action}_costsource"):
        raise PermissionDenied(f"Only administrators may {action} cost sources.")


def source_settings_validate(settings: dict[str, Any]) -> None:
    """Settings name other objects by stable keys, never database ids: a seat source's `licence_pool` must name
    exactly one pool (portfolio.costs.selectors.licence_pool_by_key), checked when the source is saved."""
    if settings.get("licence_pool") in (None, ""):
        return
    try:
        licence_pool_by_key(settings["licence_pool"])
    except LicencePoolKeyError as exc:
        raise ValidationError({"settings": f"licence_pool: {exc}."}) from None


def _validate(source: CostSource) -> None:
    source.name = (source.name or "").strip()
    source.credential_env = (source.credential_env or "").strip()
    source.schedule = (source.schedule or "").strip() or "daily"
    if source.settings is None:
        source.settings = {}
    if not isinstance(source.settings, dict):
        raise ValidationError({"settings": "Settings are a mapping of names to values (a JSON object)."})
    source.full_clean()
    source_settings_validate(source.settings)


def _values(source: CostSource) -> dict[str, str]:
    """What the audit row shows; the credential is only ever the NAME of its environment variable."""
    return {
        "name": source.name, "type": source.type, "settings": json.dumps(source.settings, sort_keys=True),
        "credential_env": source.credential_env, "schedule": source.schedule, "enabled": str(source.enabled),
    }


@transaction.atomic
def cost_source_create(
    *, actor: Actor | None, name: str, type: str, settings: dict[str, Any] | None = None,
    credential_env: str = "", schedule: str = "daily", enabled: bool = True,
) -> CostSource:
    """A new source; nothing is read until a run (scheduled, "run now" or an upload)."""
    _ensure_may(actor, "add")
    source = CostSource(name=name, type=type, settings=settings if settings is not None else {},
                        credential_env=credential_env, schedule=schedule, enabled=enabled)
    _validate(source)
    with disable_auditlog():  # the explicit row below is the record
        source.save()
    audit_event(source, actor=actor, event="cost_source_created", action=LogEntry.Action.CREATE,
                changes={name: [None, value] for name, value in _values(source).items()})
    return source


@transaction.atomic
def cost_source_update(*, actor: Actor | None, source: CostSource, **values: Any) -> CostSource:
    """Change a source's fields; records already read stay as they are until its next run reads them again."""
    _ensure_may(actor, "change")
    unknown = set(values) - set(SOURCE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown cost source field(s): {', '.join(sorted(unknown))}.")
    stored = CostSource.objects.select_for_update().get(pk=source.pk)
    before = _values(stored)
    for name, value in values.items():
        setattr(stored, name, value)
    _validate(stored)
    after = _values(stored)
    changes = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    if not changes:
        return stored
    with disable_auditlog():
        stored.save()
    audit_event(stored, actor=actor, event="cost_source_changed", action=LogEntry.Action.UPDATE, changes=changes)
    return stored


def _months_of(source: CostSource) -> set[date]:
    months: set[date] = set()
    for model in (CostRecord, UsageRecord, SeatActivity):
        months |= set(model.objects.filter(source=source).values_list("period", flat=True).distinct())
    return months


def cost_source_delete_summary(source: CostSource) -> str:
    """What deleting `source` would remove, in a sentence (its runs, cost lines, months and amount): an API client
    is told it before confirming, as the admin's confirmation page lists it."""
    from django.db.models import Sum

    from portfolio.models import IngestionRun
    from tollgate.formatting import format_money

    runs = IngestionRun.objects.filter(source=source).count()
    lines = CostRecord.objects.filter(source=source)
    amount = lines.aggregate(total=Sum("amount_reporting"))["total"] or 0
    months = sorted(_months_of(source))
    span = (f"{len(months)} months ({months[0]:%Y-%m} to {months[-1]:%Y-%m})" if len(months) > 1
            else f"1 month ({months[0]:%Y-%m})" if months else "no months")
    return (f"Deleting the cost source “{source.name}” removes its {runs} ingestion runs and {lines.count()} cost "
            f"lines covering {span}, {format_money(amount)} in all; the roll-ups of those months are recomputed "
            f"without them.")


@transaction.atomic
def cost_source_delete(*, actor: Actor | None, source: CostSource) -> set[date]:
    """Delete a source with its rules, runs and records; the roll-ups of the months its records covered are
    recomputed without them. Returns those months."""
    from portfolio.costs.services.rollups import rollups_recompute

    _ensure_may(actor, "delete")
    stored = CostSource.objects.select_for_update().get(pk=source.pk)
    months = _months_of(stored)
    before = _values(stored)
    deleted = copy.copy(stored)  # keeps the id for the audit row; delete() clears it on `stored`
    with disable_auditlog():
        stored.delete()
    if months:
        rollups_recompute(months=months)
    audit_event(deleted, actor=actor, event="cost_source_deleted", action=LogEntry.Action.DELETE,
                changes={name: [value, None] for name, value in before.items()},
                months_recomputed=sorted(f"{m:%Y-%m}" for m in months))
    return months
