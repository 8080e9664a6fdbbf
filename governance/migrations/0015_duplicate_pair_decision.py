"""Reviewers' verdicts on possible-duplicate pairs ("duplicate of", "not a duplicate"), one row per pair."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0014_sprawl_confidence_evidence_pair_model'),
        ('portfolio', '0015_approved_versions_of_running_initiatives'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='DuplicatePairDecision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('verdict', models.CharField(choices=[('duplicate', 'Duplicate of'), ('not_duplicate', 'Not a duplicate')], max_length=20)),
                ('reason', models.CharField(blank=True, max_length=500)),
                ('decided_at', models.DateTimeField()),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('initiative_a', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='portfolio.initiative')),
                ('initiative_b', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='portfolio.initiative')),
            ],
            options={
                'ordering': ['-decided_at', '-pk'],
                'constraints': [models.UniqueConstraint(fields=('initiative_a', 'initiative_b'), name='unique_duplicate_pair'), models.CheckConstraint(condition=models.Q(('initiative_a__lt', models.F('initiative_b'))), name='duplicate_pair_ordered')],
            },
        ),
    ]
