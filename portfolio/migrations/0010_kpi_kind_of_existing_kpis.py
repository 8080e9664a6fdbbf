"""Existing KPIs get the kind their name and unit suggest, so their value stops being computed as if every KPI were
a count. The rules are frozen here (a later change of taste must not re-classify an old database differently):
a percentage, score or points is a ratio; a time per something that is not a calendar period, a per-ticket /
e-mail / case / call figure, a handle time or a cost per outcome is per outcome; anything else stays a count.
Nothing is classified as stated: only an owner can say that a KPI's value is theirs to state."""

import re

from django.db import migrations

RATIO_UNIT = re.compile(r"%|\b(percent|percentage|pct|pp|score|scores|points?|pts|csat|nps|rating)\b", re.IGNORECASE)
RATIO_NAME = re.compile(r"\b(csat|nps|score)\b", re.IGNORECASE)
TIME = r"(seconds?|secs?|minutes?|mins?|hours?|hrs?)"
PERIOD = r"(day|week|month|quarter|year|annum)s?"
TIME_PER_OUTCOME = re.compile(rf"\b{TIME}\s+per\s+(?!{PERIOD}\b)\w", re.IGNORECASE)
PER_OUTCOME = re.compile(
    r"handle time|cost per|\bper (ticket|e-?mail|case|call|contact|claim|document|invoice|interaction|conversation"
    r"|chat|letter|request|query|transaction|message)s?\b",
    re.IGNORECASE,
)


def kind_for(name: str, unit: str) -> str:
    """The kind a KPI named `name`, measured in `unit`, most likely is."""
    if RATIO_UNIT.search(unit or "") or RATIO_NAME.search(name or ""):
        return "ratio"
    text = f"{name or ''} {unit or ''}"
    if TIME_PER_OUTCOME.search(text) or PER_OUTCOME.search(text):
        return "per_outcome"
    return "count"


def classify(apps, schema_editor):
    KPI = apps.get_model("portfolio", "KPI")
    by_kind: dict[str, list[int]] = {}
    for pk, name, unit in KPI.objects.values_list("pk", "name", "unit").iterator():
        by_kind.setdefault(kind_for(name, unit), []).append(pk)
    for kind, ids in by_kind.items():
        for start in range(0, len(ids), 500):
            KPI.objects.filter(pk__in=ids[start:start + 500]).update(kind=kind)


def back_to_count(apps, schema_editor):
    """Before kinds, every KPI was valued as a count."""
    apps.get_model("portfolio", "KPI").objects.update(kind="count")


class Migration(migrations.Migration):

    dependencies = [
        ("portfolio", "0009_kpi_kind"),
    ]

    operations = [
        migrations.RunPython(classify, back_to_count),
    ]
