"""Explicit audit-trail rows for decisions and state changes, beside django-auditlog's field history.

One writer for every app, so the audit page reads one shape: additional_data["event"] names what happened (the page
labels an event it has no choice for by its name, "allocation_rule_created" -> "Allocation rule created").
"""

from __future__ import annotations

from typing import Any

from auditlog.models import LogEntry
from django.db.models import Model

from tollgate.types import Actor


def audit_event(
    instance: Model, *, actor: Actor | None, event: str, changes: dict[str, list[Any]] | None = None,
    action: int = LogEntry.Action.UPDATE, **extra: Any,
) -> LogEntry:
    """One explicit audit-trail row for `instance` (before deleting it: the row keeps its id and text); `extra` goes
    into additional_data beside the event name."""
    return LogEntry.objects.log_create(
        instance, force_log=True, action=action, actor=actor, actor_email=getattr(actor, "email", None),
        changes=changes or {}, additional_data={"event": event, **extra},
    )
