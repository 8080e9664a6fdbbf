"""Explicit audit-trail rows of portfolio writes, in the shape governance writes them (additional_data["event"]).

The audit page (governance) labels an event it does not know by its name ("allocation_rule_created" -> "Allocation
rule created"), so portfolio events need no entry in governance's choices.
"""

from __future__ import annotations

from typing import Any

from auditlog.models import LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Model


def audit_write(
    instance: Model, *, actor: AbstractBaseUser | None, event: str, action: int,
    changes: dict[str, list[Any]] | None = None, **extra: Any,
) -> LogEntry:
    """One explicit audit row for `instance` (call before deleting it: the row keeps its id and text)."""
    return LogEntry.objects.log_create(
        instance, force_log=True, action=action, actor=actor, actor_email=getattr(actor, "email", None),
        changes=changes or {}, additional_data={"event": event, **extra},
    )
