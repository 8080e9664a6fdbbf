"""A submitted report records whom it was submitted for (the initiative's owner then), so that "on behalf of the
owner, X" keeps naming the owner of the time after a hand-over.

Existing submitted reports are filled from the audit trail where it can say: the submit event's data when it names
the owner (`submitted_for_id`, as submissions record it from now on), else the initiative's field history, whose
first owner change after the submission names the owner it replaced. A report whose initiative's owner never changed
after its submission, or whose trail says nothing usable (entries pruned, the user since deleted), gets the current
owner, which is then the owner it was submitted for as far as anything recorded tells."""

import json

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

SUBMITTED = "submitted"


def _changes(raw):
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return raw if isinstance(raw, dict) else {}


def _user_id(value, users):
    """A user id as an entry stores it (an int, or a foreign key's id as text), if that user still exists."""
    if value is None or not str(value).isdigit():
        return None
    return int(value) if int(value) in users else None


def fill_submitted_for(apps, schema_editor):
    ValueReport = apps.get_model("reviews", "ValueReport")
    ContentType = apps.get_model("contenttypes", "ContentType")
    LogEntry = apps.get_model("auditlog", "LogEntry")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    reports = list(ValueReport.objects.filter(status=SUBMITTED, submitted_for__isnull=True).values_list(
        "pk", "initiative_id", "submitted_at", "initiative__owner_id"))
    if not reports:
        return
    users = set(User.objects.values_list("pk", flat=True))
    types = {(ct.app_label, ct.model): ct.pk for ct in ContentType.objects.filter(
        app_label__in=("reviews", "portfolio"), model__in=("valuereport", "initiative"))}
    # The latest submit event of each report (a report reopened and submitted again counts its last submission).
    submitted_event: dict[int, tuple] = {}
    if ("reviews", "valuereport") in types:
        for object_id, timestamp, data in LogEntry.objects.filter(
                content_type_id=types[("reviews", "valuereport")],
                additional_data__event="value_report_submitted").values_list(
                "object_id", "timestamp", "additional_data").order_by("timestamp", "pk").iterator():
            if object_id is not None:
                submitted_event[object_id] = (timestamp, data if isinstance(data, dict) else {})
    # Each initiative's owner changes, oldest first: (when, owner before).
    owner_changes: dict[int, list[tuple]] = {}
    if ("portfolio", "initiative") in types:
        initiatives = {initiative_id for _, initiative_id, _, _ in reports}
        for object_id, timestamp, raw in LogEntry.objects.filter(
                content_type_id=types[("portfolio", "initiative")], object_id__in=initiatives).values_list(
                "object_id", "timestamp", "changes").order_by("timestamp", "pk").iterator():
            owner = _changes(raw).get("owner")
            if isinstance(owner, list) and len(owner) == 2:
                owner_changes.setdefault(object_id, []).append((timestamp, owner[0]))
    filled = []
    for pk, initiative_id, submitted_at, current_owner in reports:
        when, data = submitted_event.get(pk, (submitted_at, {}))
        owner = _user_id(data.get("submitted_for_id"), users)
        if owner is None and when is not None:
            later = [before for changed_at, before in owner_changes.get(initiative_id, ()) if changed_at > when]
            owner = _user_id(later[0], users) if later else None
        filled.append(ValueReport(pk=pk, submitted_for_id=owner if owner is not None else current_owner))
    ValueReport.objects.bulk_update(filled, ["submitted_for"], batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ("reviews", "0010_reminders_name_their_due_date"),
        ("portfolio", "0037_initiative_external_id_lower"),
        ("auditlog", "0017_add_actor_email"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="valuereport",
            name="submitted_for",
            field=models.ForeignKey(
                blank=True, help_text="The initiative's owner when it was submitted: whom it was submitted for, "
                                      "whoever owns it since.",
                null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+",
                to=settings.AUTH_USER_MODEL),
        ),
        migrations.RunPython(fill_submitted_for, migrations.RunPython.noop),
    ]
