"""Licence pools: seats of a seat-based tool bought in bulk, optionally attached to the initiative that uses them.

Written only through licence_pool_save and licence_pool_delete (pages, API, inventory import, Django admin, demo): a
pool's seats x price is the licence cost of its initiative in the monthly roll-ups, so each write recomputes the
months that count the pool and writes one explicit audit row, in one transaction.
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.db import transaction

from portfolio.models import Initiative, LicencePool, MonthlyCost, SeatActivity, Vendor
from portfolio.services.business_cases import ensure_not_ended, stage_now
from tollgate.audit import audit_event
from tollgate.roles import may
from tollgate.types import Actor

POOL_FIELDS = ("tool", "vendor", "seats_purchased", "price_per_seat_month", "initiative")


def _values(pool: LicencePool) -> dict[str, str]:
    return {
        "tool": pool.tool, "vendor": str(pool.vendor) if pool.vendor_id else "",
        "seats_purchased": str(pool.seats_purchased),
        "price_per_seat_month": format(Decimal(pool.price_per_seat_month).normalize(), "f"),
        "initiative": pool.initiative.external_id if pool.initiative else "",
    }


def _months_counting(pool: LicencePool) -> set[date]:
    """Months whose roll-ups count the pool: those already rolled up from the month it was created, and those with
    its seat data (rollups._pools_charged_in is the rule)."""
    months = set(SeatActivity.objects.filter(licence_pool=pool).values_list("period", flat=True).distinct())
    if pool.created_at is not None:
        first = pool.created_at.date().replace(day=1)
        months |= set(MonthlyCost.objects.filter(month__gte=first).values_list("month", flat=True).distinct())
    return months


def _recompute(months: set[date]) -> list[str]:
    from portfolio.costs.services.rollups import rollups_recompute

    if months:
        rollups_recompute(months=months)
    return sorted(f"{month:%Y-%m}" for month in months)


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
    """Create a pool, or update `pool`; only a change is written (and audited), so re-imports leave no noise.

    Administrators buy pools; whoever may edit the pool's initiative may adjust it, and moving it to another
    initiative needs that right on the destination too. An ended initiative is read-only (its licence cost is part of
    its history): no pool is bought for it, moved to it, or changed (moved away included) while it serves it.
    """
    if pool is None:
        if actor is not None and not may(actor, "portfolio.add_licencepool"):
            raise PermissionDenied("Only administrators buy licence pools.")
        stored = LicencePool()
        before: dict[str, str] = {}
    else:
        stored = (LicencePool.objects.select_for_update(of=("self",)).select_related("vendor", "initiative")
                  .get(pk=pool.pk))
        if actor is not None and not may(actor, "portfolio.change_licencepool", stored):
            raise PermissionDenied(f"You may not change the licence pool {stored.tool}.")
        before = _values(stored)
        if initiative != stored.initiative and actor is not None and not may(
                actor, "portfolio.change_licencepool", initiative):
            raise PermissionDenied("You may not move this licence pool to that initiative.")
    served_before = stored.initiative
    months_before = _months_counting(stored) if stored.pk else set()
    values = {"tool": (tool or "").strip(), "vendor": vendor, "seats_purchased": seats_purchased,
              "price_per_seat_month": price_per_seat_month, "initiative": initiative}
    for name, value in values.items():
        setattr(stored, name, value)
    stored.full_clean()
    after = _values(stored)
    changes = {name: [before.get(name), after[name]] for name in after if before.get(name) != after[name]}
    if stored.pk is not None and not changes:
        return stored
    for served in {i.pk: i for i in (served_before, initiative) if i is not None}.values():
        ensure_not_ended(served, stage_now(served))
    created = stored.pk is None
    with disable_auditlog():  # the explicit row below says it all, with the months recomputed
        stored.save()
    months = _recompute(months_before | _months_counting(stored))
    audit_event(stored, actor=actor, event="licence_pool_created" if created else "licence_pool_changed",
                action=LogEntry.Action.CREATE if created else LogEntry.Action.UPDATE, changes=changes,
                months_recomputed=months)
    if pool is not None:
        pool.refresh_from_db()
    return stored


@transaction.atomic
def licence_pool_delete(*, actor: Actor | None, pool: LicencePool) -> set[date]:
    """Delete a pool (administrators); its licence cost leaves the roll-ups of the months that counted it.

    Allowed on an ended initiative too, unlike a change: a pool has no end date, so it charges its initiative every
    month until it goes, and an administrator removes it once the seats are cancelled."""
    stored = LicencePool.objects.select_for_update(of=("self",)).select_related("vendor", "initiative").get(pk=pool.pk)
    if actor is not None and not may(actor, "portfolio.delete_licencepool", stored):
        raise PermissionDenied("Only administrators delete licence pools.")
    months = _months_counting(stored)
    before = _values(stored)
    deleted = copy.copy(stored)  # keeps the id for the audit row; delete() clears it on `stored`
    with disable_auditlog():
        stored.delete()
    recomputed = _recompute(months)
    audit_event(deleted, actor=actor, event="licence_pool_deleted", action=LogEntry.Action.DELETE,
                changes={name: [value, None] for name, value in before.items()}, months_recomputed=recomputed)
    return months
