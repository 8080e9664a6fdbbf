"""Licence pools keep the history of their terms (LicencePoolTerms): every existing pool gets one row, from the month
it was created (the month the roll-ups charge it from until now), with its current seats, price and initiative."""

import django.core.validators
import django.db.models.deletion
from decimal import Decimal
from django.db import migrations, models


def first_terms(apps, schema_editor) -> None:
    pool_model = apps.get_model("portfolio", "LicencePool")
    terms_model = apps.get_model("portfolio", "LicencePoolTerms")
    terms_model.objects.bulk_create(
        terms_model(pool_id=pool.pk, effective_from=pool.created_at.date().replace(day=1),
                    seats_purchased=pool.seats_purchased, price_per_seat_month=pool.price_per_seat_month,
                    initiative_id=pool.initiative_id)
        for pool in pool_model.objects.order_by("pk").iterator()
    )


class Migration(migrations.Migration):

    dependencies = [
        ('portfolio', '0035_monthly_gpu_usage'),
    ]

    operations = [
        migrations.CreateModel(
            name='LicencePoolTerms',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('effective_from', models.DateField(help_text='First day of the month these terms apply from.')),
                ('seats_purchased', models.PositiveIntegerField(validators=[django.core.validators.MaxValueValidator(10000000)])),
                ('price_per_seat_month', models.DecimalField(decimal_places=4, default=0, max_digits=12, validators=[django.core.validators.MinValueValidator(Decimal('0'))], verbose_name='price per seat per month')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('initiative', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='portfolio.initiative')),
                ('pool', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='terms', to='portfolio.licencepool')),
            ],
            options={
                'verbose_name': 'licence pool terms',
                'verbose_name_plural': 'licence pool terms',
                'ordering': ['pool', 'effective_from'],
                'constraints': [models.UniqueConstraint(fields=('pool', 'effective_from'), name='licence_pool_terms_unique_month')],
            },
        ),
        migrations.RunPython(first_terms, migrations.RunPython.noop),
    ]
