"""Existing audit entries about value reports, KPI actuals, attachments and verdicts are linked to their initiative
(portfolio.AuditEntryInitiative), as new ones are when written: through the record's report when it still exists,
else through the report its entries' changes name, so that entries about deleted actuals and attachments stay in
their initiative's trail."""

from django.db import migrations

from portfolio.migrations._audit_links import link_entries


def link_existing_entries(apps, schema_editor) -> None:
    ValueReport = apps.get_model("reviews", "ValueReport")
    initiative_of_report = dict(ValueReport.objects.values_list("pk", "initiative_id"))
    link_entries(apps, "reviews", "valuereport", "initiative", lambda initiative_id: initiative_id)
    for model_name in ("kpiactual", "reportattachment", "verdict"):
        link_entries(apps, "reviews", model_name, "report", initiative_of_report.get)


class Migration(migrations.Migration):

    dependencies = [
        ("portfolio", "0032_audit_entry_initiative"),
        ("reviews", "0008_report_authors_from_the_audit_trail"),
    ]

    operations = [migrations.RunPython(link_existing_entries, migrations.RunPython.noop)]
