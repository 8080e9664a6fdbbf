"""Nothing to do going forward. Going back, before KPIs could be stated, every entry needed an actual: an entry that
holds only a stated value and evidence cannot exist in that schema, so rolling back removes it (its value is lost
with the stated KPIs themselves, whose kind the portfolio rollback forgets too)."""

from django.db import migrations


def drop_entries_without_an_actual(apps, schema_editor):
    apps.get_model("reviews", "KpiActual").objects.filter(actual__isnull=True).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("reviews", "0002_kpi_stated_value"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, drop_entries_without_an_actual),
    ]
