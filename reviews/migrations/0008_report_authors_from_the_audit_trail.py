"""Fill ValueReport.authors for the reports written before it existed: whoever submitted a report, uploaded evidence
to it, or (per the audit trail) changed its fields, its KPI entries or its attachments. Without it, a reviewer who
wrote a report as a delegate and then stopped being one could still judge it."""

import json

from django.db import migrations

# The report's own fields an owner or delegate fills in (reviews.services.REPORT_FIELDS, as of this migration).
REPORT_FIELDS = {"outcome_count", "active_users", "oversight_hours", "narrative", "stated_value",
                 "stated_value_evidence"}


def _changes(raw):
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return raw if isinstance(raw, dict) else {}


def _report_named(changes):
    """The report id an entry of a KPI entry or attachment names ("report": [old, new], as text), or None."""
    for value in changes.get("report") or ():
        if value is not None and str(value).isdigit():
            return int(value)
    return None


def backfill(apps, schema_editor):
    ValueReport = apps.get_model("reviews", "ValueReport")
    KpiActual = apps.get_model("reviews", "KpiActual")
    ReportAttachment = apps.get_model("reviews", "ReportAttachment")
    ContentType = apps.get_model("contenttypes", "ContentType")
    LogEntry = apps.get_model("auditlog", "LogEntry")
    pairs = set(ValueReport.objects.filter(submitted_by__isnull=False).values_list("pk", "submitted_by_id"))
    pairs |= set(ReportAttachment.objects.filter(uploaded_by__isnull=False).values_list("report_id", "uploaded_by_id"))
    types = {ct.model: ct.pk for ct in ContentType.objects.filter(
        app_label="reviews", model__in=("valuereport", "kpiactual", "reportattachment"))}
    if "valuereport" in types:
        for object_id, actor_id, raw, data in LogEntry.objects.filter(
                content_type_id=types["valuereport"], actor__isnull=False).values_list(
                "object_id", "actor_id", "changes", "additional_data").iterator():
            submitted = isinstance(data, dict) and data.get("event") == "value_report_submitted"
            if object_id is not None and (submitted or REPORT_FIELDS & set(_changes(raw))):
                pairs.add((object_id, actor_id))
    for name, model in (("kpiactual", KpiActual), ("reportattachment", ReportAttachment)):
        if name not in types:
            continue
        report_of = dict(model.objects.values_list("pk", "report_id"))
        entries = list(LogEntry.objects.filter(content_type_id=types[name]).values_list(
            "object_id", "actor_id", "changes"))
        for object_id, _, raw in entries:  # rows deleted since: the report their entries name
            if object_id is not None and object_id not in report_of:
                report = _report_named(_changes(raw))
                if report is not None:
                    report_of[object_id] = report
        pairs |= {(report_of[object_id], actor_id) for object_id, actor_id, _ in entries
                  if actor_id is not None and object_id in report_of}
    authors = ValueReport._meta.get_field("authors")
    reports = set(ValueReport.objects.values_list("pk", flat=True))
    users = set(authors.related_model.objects.values_list("pk", flat=True))
    through = authors.remote_field.through
    report_column, user_column = authors.m2m_field_name(), authors.m2m_reverse_field_name()
    through.objects.bulk_create(
        [through(**{f"{report_column}_id": report, f"{user_column}_id": user}) for report, user in sorted(pairs)
         if report in reports and user in users],
        batch_size=2000, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0007_report_authors"),
        ("auditlog", "0017_add_actor_email"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
