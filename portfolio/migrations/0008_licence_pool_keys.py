"""Seat sources name their licence pool by a stable key instead of a database id.

`settings.licence_pool: 12` becomes the external id of the pool's initiative (`INV-0009`), or `INV-0009/<tool>` when
that initiative has several pools. An id that cannot become a key (the pool is gone, belongs to no initiative, or
shares its tool name with another pool of its initiative) is left as it is: the source's next run then fails with a
message saying how to name the pool. The reverse turns keys back into ids.
"""

from django.db import migrations


def _key(pool, pools_of_initiative):
    if pool.initiative_id is None:
        return None
    siblings = pools_of_initiative.get(pool.initiative_id, [])
    if len(siblings) == 1:
        return pool.initiative.external_id
    if sum(1 for other in siblings if other.tool.casefold() == pool.tool.casefold()) > 1:
        return None
    return f"{pool.initiative.external_id}/{pool.tool}"


def _pools(apps):
    LicencePool = apps.get_model("portfolio", "LicencePool")
    pools = list(LicencePool.objects.select_related("initiative"))
    by_initiative = {}
    for pool in pools:
        by_initiative.setdefault(pool.initiative_id, []).append(pool)
    return {pool.pk: pool for pool in pools}, by_initiative


def ids_to_keys(apps, schema_editor):
    CostSource = apps.get_model("portfolio", "CostSource")
    by_pk, by_initiative = _pools(apps)
    for source in CostSource.objects.all():
        value = (source.settings or {}).get("licence_pool")
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
            continue
        pool = by_pk.get(int(value))
        key = _key(pool, by_initiative) if pool is not None else None
        if key is not None:
            source.settings = {**source.settings, "licence_pool": key}
            source.save(update_fields=["settings"])


def keys_to_ids(apps, schema_editor):
    CostSource = apps.get_model("portfolio", "CostSource")
    by_pk, by_initiative = _pools(apps)
    by_key = {}
    for pool in by_pk.values():
        key = _key(pool, by_initiative)
        if key is not None:
            by_key[key.casefold()] = pool.pk
    for source in CostSource.objects.all():
        value = (source.settings or {}).get("licence_pool")
        if isinstance(value, str) and value.strip().casefold() in by_key:
            source.settings = {**source.settings, "licence_pool": by_key[value.strip().casefold()]}
            source.save(update_fields=["settings"])


class Migration(migrations.Migration):

    dependencies = [
        ("portfolio", "0007_cost_forecast"),
    ]

    operations = [
        migrations.RunPython(ids_to_keys, keys_to_ids),
    ]
