"""Seed the default intake rubric (weights sum to 100); the reverse removes exactly these criteria if unscored."""

from decimal import Decimal

from django.db import migrations

DEFAULT_RUBRIC = [
    ("Strategic fit", "How directly it serves a stated business priority of the company or department.", "25"),
    ("Strength of the value case", "Baseline, KPIs and the value per outcome are measured, not guessed; the "
     "expected value is plausible.", "25"),
    ("Cost realism", "The TCO covers inference, compute, storage, licences, human oversight and maintenance at the "
     "expected volume.", "15"),
    ("Data readiness and risk", "The data exists, may be used for this purpose, and the privacy, security and "
     "model risks are understood and mitigated.", "15"),
    ("Reuse of shared services / duplication", "It reuses shared platforms and does not duplicate an existing "
     "initiative or tool.", "10"),
    ("Exit plan and vendor lock-in", "It could switch models or vendors, or be switched off, without losing the "
     "process it supports.", "10"),
]


def seed(apps, schema_editor):
    RubricCriterion = apps.get_model("governance", "RubricCriterion")
    for order, (name, description, weight) in enumerate(DEFAULT_RUBRIC, start=1):
        RubricCriterion.objects.get_or_create(
            name=name, defaults={"description": description, "weight": Decimal(weight), "order": order}
        )


def unseed(apps, schema_editor):
    RubricCriterion = apps.get_model("governance", "RubricCriterion")
    RubricCriterion.objects.filter(name__in=[name for name, _, _ in DEFAULT_RUBRIC], scores__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
