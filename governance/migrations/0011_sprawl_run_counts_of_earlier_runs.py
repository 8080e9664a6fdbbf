"""Earlier runs did not record their unchanged clusters: derive them so found = new + updated + unchanged holds."""

from django.db import migrations
from django.db.models import F


def derive_unchanged(apps, schema_editor):
    SprawlRun = apps.get_model("governance", "SprawlRun")
    SprawlRun.objects.filter(clusters_found__gt=F("clusters_created") + F("clusters_updated")).update(
        clusters_unchanged=F("clusters_found") - F("clusters_created") - F("clusters_updated"))


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0010_sprawl_run_clusters_unchanged"),
    ]

    operations = [
        migrations.RunPython(derive_unchanged, migrations.RunPython.noop),
    ]
