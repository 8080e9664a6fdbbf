"""Audit entries name the initiative their record belongs to (AuditEntryInitiative), so that the initiative filter
finds entries about records deleted since. Existing entries about business cases, KPIs and licence pools are linked
here: to the record's initiative when it still exists, else to the initiative its entries' changes name (its creation
and deletion rows carry every field). The trail itself is append-only and is not touched."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from portfolio.migrations._audit_links import link_entries


def link_existing_entries(apps, schema_editor) -> None:
    for model_name in ("businesscase", "kpi", "licencepool"):
        link_entries(apps, "portfolio", model_name, "initiative", lambda initiative_id: initiative_id)


class Migration(migrations.Migration):

    dependencies = [
        ('auditlog', '0017_add_actor_email'),
        ('portfolio', '0031_amounts_currency'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditEntryInitiative',
            fields=[
                ('entry', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='initiative_link', serialize=False, to=settings.AUDITLOG_LOGENTRY_MODEL)),
                ('initiative', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='portfolio.initiative')),
            ],
            options={
                'verbose_name': "audit entry's initiative",
            },
        ),
        migrations.RunPython(link_existing_entries, migrations.RunPython.noop),
    ]
