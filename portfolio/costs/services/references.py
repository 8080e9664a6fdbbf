"""The references of cost records, checked once per write instead of once per record by the database."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from portfolio.costs.connectors.base import ConnectorError
from portfolio.models import CostSource, IngestionRun, Initiative

# The IN lists of cost_references_lock are sent in chunks of this many ids (SQLite's limit on parameters is 999 in
# older builds).
REFERENCE_CHUNK = 900


def cost_references_lock(*, initiative_ids: Iterable[int], source_id: int | None = None,
                         run_id: int | None = None) -> None:
    """Check that what cost records are about to name exists, and keep it so until the transaction ends.

    Cost records carry no foreign-key constraints (see CostRecord): this is their check, once per run instead of
    once per record. Each referenced row is locked FOR KEY SHARE, the lock the constraint's own check takes, so it
    cannot be deleted before the records commit; a missing one fails the write, naming it, and nothing is written.
    """
    lock = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""
    for model, label, wanted in ((Initiative, "initiative", initiative_ids), (CostSource, "cost source", [source_id]),
                                 (IngestionRun, "ingestion run", [run_id])):
        ids = sorted({int(pk) for pk in wanted if pk is not None})
        found: set[int] = set()
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            for start in range(0, len(ids), REFERENCE_CHUNK):
                chunk = ids[start:start + REFERENCE_CHUNK]
                cursor.execute(f"SELECT id FROM {table} WHERE id IN ({', '.join(['%s'] * len(chunk))}){lock}", chunk)
                found.update(pk for (pk,) in cursor.fetchall())
        missing = [pk for pk in ids if pk not in found]
        if missing:
            raise ConnectorError(
                f"{label} {missing[0]} no longer exists (deleted meanwhile); records naming it would name nothing, "
                "so none were written. Run it again."
            )
