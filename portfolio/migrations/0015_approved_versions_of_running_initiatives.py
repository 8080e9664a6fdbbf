"""Give every running initiative (approved, pilot, production) without a business-case version an approved version 1:
its plan as it stands when versions arrive, so later edits no longer move what overrun and value are measured against.
Who approved it and when is in the audit trail; the version says it was recorded by this migration."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations
from django.utils import timezone

RUNNING = ("approved", "pilot", "production")
CASE_FIELDS = (
    "problem", "process_replaced", "baseline_cost_per_outcome", "outcome_unit", "expected_monthly_volume", "targets",
    "tco_inference", "tco_compute", "tco_storage", "tco_licences", "oversight_hours_per_month", "loaded_hourly_rate",
    "tco_maintenance", "expected_monthly_value", "min_viable_scale", "success_criteria",
)
KPI_FIELDS = ("name", "unit", "kind", "baseline", "target", "direction", "value_per_unit")
REASON = "The plan in force when business-case versions were introduced (recorded by a migration)."
CENT = Decimal("0.01")


def _json(value):
    return str(value) if isinstance(value, Decimal) else value


def _tco(case):
    run = sum((case.tco_inference, case.tco_compute, case.tco_storage, case.tco_licences, case.tco_maintenance),
              Decimal("0"))
    oversight = (case.oversight_hours_per_month * case.loaded_hourly_rate).quantize(CENT, ROUND_HALF_UP)
    return (run + oversight).quantize(CENT, ROUND_HALF_UP)


def record_versions(apps, schema_editor):
    Initiative = apps.get_model("portfolio", "Initiative")
    BusinessCase = apps.get_model("portfolio", "BusinessCase")
    KPI = apps.get_model("portfolio", "KPI")
    BusinessCaseVersion = apps.get_model("portfolio", "BusinessCaseVersion")
    now = timezone.now()
    running = Initiative.objects.filter(stage__in=RUNNING, business_case_versions__isnull=True)
    cases = {case.initiative_id: case for case in BusinessCase.objects.filter(initiative__in=running)}
    kpis: dict[int, list] = {}
    for kpi in KPI.objects.filter(initiative__in=running).order_by("pk"):
        kpis.setdefault(kpi.initiative_id, []).append(
            {"id": kpi.pk, **{name: _json(getattr(kpi, name)) for name in KPI_FIELDS}})
    versions = []
    for initiative in running.order_by("pk"):
        case = cases.get(initiative.pk)
        figures = {name: _json(getattr(case, name)) for name in CASE_FIELDS} if case else {}
        figures["declared_monthly_cost"] = _json(initiative.declared_monthly_cost)
        versions.append(BusinessCaseVersion(
            initiative_id=initiative.pk, number=1, figures=figures, kpis=kpis.get(initiative.pk, []),
            tco_monthly=_tco(case) if case else None, reason=REASON, approved_at=now,
        ))
    BusinessCaseVersion.objects.bulk_create(versions, batch_size=1000)


def forget_versions(apps, schema_editor):
    apps.get_model("portfolio", "BusinessCaseVersion").objects.filter(reason=REASON).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("portfolio", "0014_business_case_versions"),
    ]

    operations = [migrations.RunPython(record_versions, forget_versions)]
