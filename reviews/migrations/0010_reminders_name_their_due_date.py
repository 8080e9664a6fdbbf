"""A reminder or escalation records the due date it was about, so that a cycle whose due date was moved
(services.review_cycle_reschedule) reminds once more against the new date; existing rows were about their cycle's
current due date, which no page could change before."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def due_dates_of_their_cycles(apps, schema_editor) -> None:
    ReminderLog = apps.get_model("reviews", "ReminderLog")
    ValueReport = apps.get_model("reviews", "ValueReport")
    ReminderLog.objects.update(due_on=Subquery(
        ValueReport.objects.filter(pk=OuterRef("report_id")).values("cycle__due_on")[:1]))


class Migration(migrations.Migration):

    dependencies = [("reviews", "0009_audit_entries_name_their_initiative")]

    operations = [
        migrations.AddField(
            model_name="reminderlog", name="due_on",
            field=models.DateField(null=True, help_text="The cycle's due date the reminder or escalation was about."),
        ),
        migrations.RunPython(due_dates_of_their_cycles, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="reminderlog", name="due_on",
            field=models.DateField(help_text="The cycle's due date the reminder or escalation was about."),
        ),
        migrations.RemoveConstraint(model_name="reminderlog", name="one_reminder_per_kind"),
        migrations.AddConstraint(
            model_name="reminderlog",
            constraint=models.UniqueConstraint(fields=("report", "kind", "due_on"),
                                               name="one_reminder_per_kind_and_due_date"),
        ),
    ]
