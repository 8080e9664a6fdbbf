"""Rules of one source that share an order get distinct ones before the database makes the order unique
(0039_rule_orders_unique).

Rules were tried by (order, id), so a tie was decided by the id: walking each source's rules in that order, a rule
keeps its order unless the one before now holds it or a higher one, and then takes the next after it. Which rule wins
for every record stays exactly as it was (nothing needs re-allocating); rules without a tie keep their order where
they can. The reverse leaves the orders as they are: they mean what the ties meant."""

from collections.abc import Iterable

from django.db import migrations


def renumbered(rules: Iterable[tuple[int, int, int]]) -> dict[int, int]:
    """{rule id: its new order} for the rules (source id, order, id) whose order must change."""
    changes: dict[int, int] = {}
    previous: dict[int, int] = {}  # source id -> the order of its last rule walked
    for source_id, order, pk in sorted(rules):
        if source_id in previous and order <= previous[source_id]:
            order = changes[pk] = previous[source_id] + 1
        previous[source_id] = order
    return changes


def renumber(apps, schema_editor) -> None:
    rule_model = apps.get_model("portfolio", "AllocationRule")
    rows = rule_model.objects.values_list("source_id", "order", "pk")
    for pk, order in sorted(renumbered(rows).items()):
        rule_model.objects.filter(pk=pk).update(order=order)


class Migration(migrations.Migration):

    dependencies = [
        ('portfolio', '0037_initiative_external_id_lower'),
    ]

    operations = [
        migrations.RunPython(renumber, migrations.RunPython.noop),
    ]
