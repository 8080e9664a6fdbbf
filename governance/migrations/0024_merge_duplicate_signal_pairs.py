"""Merge the duplicate signals an earlier computation left: for one subject and period, a row a run resolved
automatically ("condition no longer holds") and a live (open or acknowledged) row raised afresh when the condition
held again. The computation now reopens the resolved row instead (governance.signals.services._reopens), so such a
pair is one signal counted twice in the history and the signal lists.

The live row is kept, with its state (status, who acknowledged it), the earliest raised date of the pair and every
initiative either names; notifications that linked to the resolved row link to it; the resolved row is deleted.
A row resolved or dismissed by a person is a decision, not a duplicate, and is left alone.

Each merge writes one audit row (event `signal_merged`, no actor: the migration did it) on the kept signal, in the
shape tollgate.audit writes. Not through tollgate.audit itself: a migration runs with the models as they were at
this point of the history, and the writer uses today's (LogEntry's manager, the content type cache, the initiative
links of today's code), so calling it could break a later install; the row is written here with the historical
models instead. The audit trail's earlier rows about the deleted signal stay as they were (the trail is
append-only); the merge row names the id it had.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

AUTOMATIC_RESOLUTION = "condition no longer holds"
LIVE = ("open", "acknowledged")
SIGNAL_URL = "/governance/signals/{}/"


def merge_duplicate_signal_pairs(apps: Any, schema_editor: Any = None) -> int:
    """Merge each duplicate pair (see the module's docstring); returns the number of resolved rows merged away."""
    Signal = apps.get_model("governance", "Signal")
    Notification = apps.get_model("reviews", "Notification")
    LogEntry = apps.get_model("auditlog", "LogEntry")
    ContentType = apps.get_model("contenttypes", "ContentType")

    merged = 0
    live_rows = Signal.objects.filter(status__in=LIVE).order_by("pk")
    for kept in live_rows:
        duplicates = list(Signal.objects.filter(
            subject=kept.subject, period=kept.period, status="resolved", resolved_by__isnull=True,
            resolution=AUTOMATIC_RESOLUTION).exclude(pk=kept.pk).order_by("pk"))
        if not duplicates:
            continue
        earliest = min([kept.first_seen_at, *(row.first_seen_at for row in duplicates)])
        changes: dict[str, list[Any]] = {}
        if earliest != kept.first_seen_at:
            changes["first_seen_at"] = [kept.first_seen_at.isoformat(), earliest.isoformat()]
            kept.first_seen_at = earliest
            kept.save(update_fields=["first_seen_at"])
        initiatives = set(kept.initiatives.values_list("pk", flat=True))
        for row in duplicates:
            added = set(row.initiatives.values_list("pk", flat=True)) - initiatives
            if added:
                kept.initiatives.add(*added)
                initiatives |= added
            Notification.objects.filter(url=SIGNAL_URL.format(row.pk)).update(url=SIGNAL_URL.format(kept.pk))
        content_type, _ = ContentType.objects.get_or_create(app_label="governance", model="signal")
        LogEntry.objects.create(
            content_type=content_type, object_pk=str(kept.pk), object_id=kept.pk,
            object_repr=f"{kept.type} · {kept.period}", action=1, actor=None, changes=changes,
            additional_data={"event": "signal_merged", "merged_ids": [row.pk for row in duplicates],
                             "reason": "a resolved duplicate of the same subject and period"})
        Signal.objects.filter(pk__in=[row.pk for row in duplicates]).delete()
        merged += len(duplicates)
    return merged


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0023_run_triggers_lifecycle"),
        ("reviews", "0011_report_submitted_for"),
        ("auditlog", "0017_add_actor_email"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(merge_duplicate_signal_pairs, migrations.RunPython.noop, elidable=True),
    ]
