"""Remove the empty business cases that saving the initiative form created for an initiative without one (every amount
$0.00, every text blank): saving only its tags added "Business case added" with nothing in it, and an initiative with
a business case is estimated from it rather than from its declared monthly cost.

Only where nothing depends on the row: the initiative has never been approved (no business-case version, approved or
not, records its plan) and is not running (no stored cost estimate was computed from the case). A running initiative
with such a case (an imported pilot edited through the form) is left alone: its estimates and its plan's versions were
computed from the case, and removing it is an administrator's decision through the Django admin (business_case_delete
recomputes the estimates and writes the audit row). Each removal here is recorded in the audit trail."""

from django.db import migrations
from django.utils import timezone

CASE_TEXTS = ("problem", "process_replaced", "outcome_unit", "targets", "success_criteria")
CASE_EMPTY_NUMBERS = ("baseline_cost_per_outcome", "expected_monthly_volume", "expected_monthly_value",
                      "min_viable_scale")
CASE_AMOUNTS = ("tco_inference", "tco_compute", "tco_storage", "tco_licences", "oversight_hours_per_month",
                "loaded_hourly_rate", "tco_maintenance")
RUNNING = ("approved", "pilot", "production")
EVENT = "empty_business_case_removed"
REASON = "An empty business case (every amount $0.00) created by saving the initiative form; removed by a migration."


def _empty_cases(BusinessCase):
    return (BusinessCase.objects.filter(**{name: "" for name in CASE_TEXTS},
                                        **{f"{name}__isnull": True for name in CASE_EMPTY_NUMBERS},
                                        **{name: 0 for name in CASE_AMOUNTS})
            .exclude(initiative__stage__in=RUNNING)
            .exclude(initiative__stage="in_review")
            .exclude(initiative__business_case_versions__isnull=False))


def remove_empty_cases(apps, schema_editor):
    BusinessCase = apps.get_model("portfolio", "BusinessCase")
    cases = list(_empty_cases(BusinessCase).select_related("initiative").order_by("pk"))
    if not cases:
        return
    ContentType = apps.get_model("contenttypes", "ContentType")
    LogEntry = apps.get_model("auditlog", "LogEntry")
    Link = apps.get_model("portfolio", "AuditEntryInitiative")
    content_type, _ = ContentType.objects.get_or_create(app_label="portfolio", model="businesscase")
    now = timezone.now()
    for case in cases:
        entry = LogEntry.objects.create(
            content_type=content_type, object_pk=str(case.pk), object_id=case.pk,
            object_repr=f"Business case of {case.initiative.external_id} {case.initiative.name}"[:200],
            action=2, changes={}, timestamp=now,  # 2: a deletion
            additional_data={"event": EVENT, "reason": REASON, "initiative": case.initiative_id})
        Link.objects.create(entry=entry, initiative_id=case.initiative_id)
    BusinessCase.objects.filter(pk__in=[case.pk for case in cases]).delete()


def restore_empty_cases(apps, schema_editor):
    """Give the initiatives whose empty case this removed an empty one again (the audit rows stay: the trail is
    append-only)."""
    BusinessCase = apps.get_model("portfolio", "BusinessCase")
    Initiative = apps.get_model("portfolio", "Initiative")
    LogEntry = apps.get_model("auditlog", "LogEntry")
    ids = {entry.additional_data.get("initiative") for entry in LogEntry.objects.filter(additional_data__event=EVENT)}
    for initiative in Initiative.objects.filter(pk__in=[pk for pk in ids if pk], business_case__isnull=True):
        BusinessCase.objects.create(initiative=initiative)


class Migration(migrations.Migration):

    dependencies = [
        ("portfolio", "0042_gpu_cost"),
        ("auditlog", "0017_add_actor_email"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(remove_empty_cases, restore_empty_cases)]
