"""Licence pools: seats of a seat-based tool bought in bulk, optionally attached to the initiative that uses them."""

from __future__ import annotations

from decimal import Decimal

from auditlog.context import set_actor
from django.db import transaction

from portfolio.models import Initiative, LicencePool, Vendor
from portfolio.services.initiatives import _ensure_can_write
from tollgate.types import Actor


@transaction.atomic
def licence_pool_save(
    *,
    actor: Actor | None,
    tool: str,
    vendor: Vendor,
    seats_purchased: int,
    price_per_seat_month: Decimal,
    initiative: Initiative | None = None,
    pool: LicencePool | None = None,
) -> LicencePool:
    """Create a pool, or update `pool`; only changed fields are written so re-imports leave no audit noise."""
    _ensure_can_write(actor)
    values = {
        "tool": tool.strip(),
        "vendor": vendor,
        "seats_purchased": seats_purchased,
        "price_per_seat_month": price_per_seat_month,
        "initiative": initiative,
    }
    with set_actor(actor):
        pool = pool or LicencePool()
        changed = [f for f, v in values.items() if getattr(pool, f, None) != v]
        for field_name in changed:
            setattr(pool, field_name, values[field_name])
        if pool.pk is None or changed:
            pool.full_clean()
            pool.save()
    return pool
