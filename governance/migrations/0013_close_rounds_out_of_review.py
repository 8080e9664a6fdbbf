"""Close every review round but the current one of an intake still in review: those rounds ended with a decision (or
were sent back) before rounds were closed explicitly. The closing time is not known; the submission time stands in."""

from django.db import migrations
from django.db.models import F, Max, OuterRef, Subquery


def close_rounds(apps, schema_editor):
    IntakeSubmission = apps.get_model("governance", "IntakeSubmission")
    latest = (IntakeSubmission.objects.filter(initiative=OuterRef("initiative")).order_by()
              .values("initiative").annotate(n=Max("round")).values("n"))
    still_open = IntakeSubmission.objects.filter(initiative__stage="in_review", round=Subquery(latest))
    IntakeSubmission.objects.filter(closed_at__isnull=True).exclude(pk__in=still_open.values("pk")).update(
        closed_at=F("submitted_at"))


def reopen_rounds(apps, schema_editor):
    apps.get_model("governance", "IntakeSubmission").objects.update(closed_at=None, closed_by_transition="")


class Migration(migrations.Migration):

    dependencies = [
        ("governance", "0012_intake_round_closed"),
    ]

    operations = [migrations.RunPython(close_rounds, reopen_rounds)]
