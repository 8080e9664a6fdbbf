"""Explicit audit-trail rows for decisions and state changes, beside django-auditlog's field history.

One writer for every app, so the audit page reads one shape: additional_data["event"] names what happened, one of
tollgate.audit_events.AuditEvent (a name it does not declare is refused, so the page's Event filter offers every event
the trail shows; an older row's event no longer declared is labelled by its name).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from auditlog.cid import get_cid
from auditlog.context import auditlog_value
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.utils import timezone

from tollgate.audit_events import audit_event_check
from tollgate.types import Actor

# Which initiative a record is about, by model (registered by the app that owns the model): every entry about such a
# record is linked to that initiative when it is written (portfolio.AuditEntryInitiative).
InitiativeOf = Callable[[Any], "int | None"]
_initiative_of: dict[type[Model], InitiativeOf] = {}


def register_initiative_of(model: type[Model], initiative_of: InitiativeOf) -> None:
    """`initiative_of(instance)` is the id of the initiative an instance of `model` belongs to (None: none)."""
    _initiative_of[model] = initiative_of


def entries_link_initiative(entries: Sequence[LogEntry], instances: Sequence[Model]) -> None:
    """Link each entry to the initiative its record belongs to, read from the record as it was when the entry was
    written (a deleted KPI actual still knows its report): the initiative filter then finds the entry for good."""
    from portfolio.models import AuditEntryInitiative

    links = []
    for entry, instance in zip(entries, instances, strict=True):
        initiative_of = _initiative_of.get(type(instance))
        initiative_id = initiative_of(instance) if initiative_of and entry.pk is not None else None
        if initiative_id is not None:
            links.append(AuditEntryInitiative(entry=entry, initiative_id=initiative_id))
    AuditEntryInitiative.objects.bulk_create(links)


def entry_logged(sender: type[Model], *, instance: Model, log_entry: LogEntry | None = None, **kwargs: Any) -> None:
    """auditlog's post_log: the field-history entry it just wrote is linked like the explicit ones."""
    if log_entry is not None:
        entries_link_initiative([log_entry], [instance])


def audit_event(
    instance: Model, *, actor: Actor | None, event: str, changes: dict[str, list[Any]] | None = None,
    action: int = LogEntry.Action.UPDATE, **extra: Any,
) -> LogEntry:
    """One explicit audit-trail row for `instance` (before deleting it: the row keeps its id and text); `extra` goes
    into additional_data beside the event name.

    Inside an auditlog context that carries additional_data (an import run marks its rows so), auditlog would put the
    context's data in place of ours when the row is saved: the row gets both, the event's keys winning.
    """
    audit_event_check(event)
    data = {"event": event, **extra}
    ambient = auditlog_value.get(None)
    token = None
    if ambient is not None and isinstance(ambient.get("additional_data"), dict):
        data = {**ambient["additional_data"], **data}
        token = auditlog_value.set({**ambient, "additional_data": data})
    try:
        entry = LogEntry.objects.log_create(
            instance, force_log=True, action=action, actor=actor, actor_email=getattr(actor, "email", None),
            changes=changes or {}, additional_data=data,
        )
        entries_link_initiative([entry], [instance])
        return entry
    finally:
        if token is not None:
            auditlog_value.reset(token)


def audit_events(
    instances: Sequence[Model], *, actor: Actor | None, event: str, changes: dict[str, list[Any]] | None = None,
    action: int = LogEntry.Action.UPDATE, **extra: Any,
) -> list[LogEntry]:
    """audit_event for many rows of one model at once, in one insert per batch: a computation that raises or
    resolves thousands of findings writes its trail without a round trip per row. Same rows as audit_event."""
    audit_event_check(event)
    if not instances:
        return []
    data = {"event": event, **extra}
    ambient = auditlog_value.get(None)
    if ambient is not None and isinstance(ambient.get("additional_data"), dict):
        data = {**ambient["additional_data"], **data}
    content_type = ContentType.objects.get_for_model(instances[0])
    cid = get_cid()
    now = timezone.now()
    entries = [
        LogEntry(content_type=content_type, object_pk=str(instance.pk), object_id=instance.pk,
                 object_repr=str(instance), action=action, actor=actor, actor_email=getattr(actor, "email", None),
                 changes=changes or {}, additional_data=data, cid=cid, timestamp=now)
        for instance in instances
    ]
    created = LogEntry.objects.bulk_create(entries, batch_size=2000)
    entries_link_initiative(created, instances)
    return created


def audit_table_event(
    model: type[Model], *, actor: Actor | None, event: str, what: str, changes: dict[str, list[Any]] | None = None,
    action: int = LogEntry.Action.DELETE, **extra: Any,
) -> LogEntry:
    """One explicit audit-trail row about many rows of `model` at once rather than one of them (`what` says which:
    "logins before 2026-11-07"), for a write whose row must not copy what it removed, such as a prune of the login
    history (its names and addresses are what a retention prune is for). Same shape as audit_event's rows."""
    audit_event_check(event)
    data = {"event": event, **extra}
    ambient = auditlog_value.get(None)
    if ambient is not None and isinstance(ambient.get("additional_data"), dict):
        data = {**ambient["additional_data"], **data}
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(model), object_pk="", object_id=None, object_repr=what,
        action=action, actor=actor, actor_email=getattr(actor, "email", None), changes=changes or {},
        additional_data=data, cid=get_cid(),
    )
