"""Licence pools: seats of a seat-based tool bought in bulk, optionally attached to the initiative that uses them.

Written only through licence_pool_save and licence_pool_delete (pages, API, inventory import, Django admin, demo): a
pool's seats x price is the licence cost of its initiative in the monthly roll-ups, so each write recomputes the
months that count the pool and writes one explicit audit row, in one transaction.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from portfolio import calculations
from portfolio.models import Initiative, LicencePool, LicencePoolTerms, MonthlyCost, SeatActivity, Vendor
from portfolio.services.business_cases import ensure_not_ended, stage_now
from tollgate.audit import audit_event
from tollgate.roles import may
from tollgate.types import Actor

POOL_FIELDS = ("tool", "vendor", "seats_purchased", "price_per_seat_month", "initiative")
TERMS_FIELDS = ("seats_purchased", "price_per_seat_month", "initiative")


def _values(pool: LicencePool) -> dict[str, str]:
    return {
        "tool": pool.tool, "vendor": str(pool.vendor) if pool.vendor_id else "",
        "seats_purchased": str(pool.seats_purchased),
        "price_per_seat_month": format(Decimal(pool.price_per_seat_month).normalize(), "f"),
        "initiative": pool.initiative.external_id if pool.initiative else "",
    }


def _terms_key(row: LicencePool | LicencePoolTerms) -> tuple[int, Decimal, int | None]:
    return row.seats_purchased, Decimal(row.price_per_seat_month).normalize(), row.initiative_id


def this_month() -> date:
    return timezone.now().date().replace(day=1)


def first_terms_month(pool: LicencePool) -> date | None:
    """The month the pool charges from (its first terms row); None for a pool not saved yet."""
    return LicencePoolTerms.objects.filter(pool=pool).order_by("effective_from").values_list(
        "effective_from", flat=True).first()


def _months_counting(pool: LicencePool, first: date | None) -> set[date]:
    """Months whose roll-ups count the pool: those already rolled up from its first terms month, and those with its
    seat data (rollups._pool_terms_in is the rule)."""
    months = set(SeatActivity.objects.filter(licence_pool=pool).values_list("period", flat=True).distinct())
    if first is not None:
        months |= set(MonthlyCost.objects.filter(month__gte=first).values_list("month", flat=True).distinct())
    return months


def _recompute(months: set[date]) -> list[str]:
    from portfolio.costs.services.rollups import rollups_recompute

    if months:
        rollups_recompute(months=months)
    return sorted(f"{month:%Y-%m}" for month in months)


def _effective_month(effective_from: date | None, first: date | None) -> date:
    """The month new terms apply from: the current month unless given; refused (naming the field) after the current
    month, whose costs are not known yet, or before the pool's first month, which it has no terms for."""
    now = this_month()
    if effective_from is None:
        return now if first is None or first <= now else first
    month = effective_from.replace(day=1)
    if month > now:
        raise ValidationError({"effective_from": (
            f"Effective from {month:%Y-%m} is after the current month ({now:%Y-%m}): new terms apply from this month "
            "or an earlier one; nothing was changed.")})
    if first is not None and month < first:
        raise ValidationError({"effective_from": (
            f"Effective from {month:%Y-%m} is before the pool's first month ({first:%Y-%m}); choose {first:%Y-%m} to "
            "correct its terms throughout; nothing was changed.")})
    return month


def _describe(rows: list[LicencePoolTerms]) -> str:
    return "; ".join(
        f"from {row.effective_from:%Y-%m}: {row.seats_purchased} seats at "
        f"{format(Decimal(row.price_per_seat_month).normalize(), 'f')}"
        f"{' for ' + row.initiative.external_id if row.initiative else ''}"
        for row in rows
    )


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
    effective_from: date | None = None,
) -> LicencePool:
    """Create a pool, or update `pool`; only a change is written (and audited), so re-imports leave no noise.

    New seats, price or initiative apply from the month `effective_from` (default: the current month) on: the terms
    row of that month replaces those from it on, earlier months keep the terms they had and only the months from it on
    are recomputed (the pool's first month corrects its terms throughout). A pool is created with its first terms
    from `effective_from` (a pool bought earlier charges from then) or the current month.

    Administrators buy pools; whoever may edit the pool's initiative may adjust it, and moving it to another
    initiative (from any month) needs that right on the destination and on the initiatives it leaves too. An ended
    initiative is read-only (its licence cost is part of its history): no pool is bought for it, moved to it, or
    changed (moved away included) while it serves it.
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
    first = first_terms_month(stored) if stored.pk else None
    month = _effective_month(effective_from, first)
    history = list(LicencePoolTerms.objects.filter(pool=stored).select_related("initiative")) if stored.pk else []
    earlier = [row for row in history if row.effective_from < month]
    replaced = [row for row in history if row.effective_from >= month]
    in_effect = replaced[:1] if not earlier or (replaced and replaced[0].effective_from == month) else earlier[-1:]
    if stored.pk is not None and actor is not None:
        # The initiatives the pool serves from `month` on (its current one included) and would stop serving.
        left = {row.initiative for row in [*in_effect, *replaced]} | {stored.initiative}
        if any(gone != initiative for gone in left) and not may(actor, "portfolio.change_licencepool", initiative):
            raise PermissionDenied("You may not move this licence pool to that initiative.")
        if any(gone is not None and gone not in (initiative, stored.initiative)
               and not may(actor, "portfolio.change_licencepool", gone) for gone in left):
            raise PermissionDenied("You may not move this licence pool away from an initiative you may not edit.")
    served_before = stored.initiative
    values = {"tool": (tool or "").strip(), "vendor": vendor, "seats_purchased": seats_purchased,
              "price_per_seat_month": price_per_seat_month, "initiative": initiative}
    for name, value in values.items():
        setattr(stored, name, value)
    stored.full_clean()
    after = _values(stored)
    changes = {name: [before.get(name), after[name]] for name in after if before.get(name) != after[name]}
    # The terms change unless those in effect at `month` are the new ones and nothing later replaces them.
    terms_change = stored.pk is None or bool([row for row in replaced if row.effective_from > month]) or not (
        in_effect and _terms_key(in_effect[0]) == _terms_key(stored))
    if stored.pk is not None and not changes and not terms_change:
        return stored
    if terms_change and history and not changes:  # the current terms stay: only the history says what changed
        new_row = LicencePoolTerms(effective_from=month, seats_purchased=stored.seats_purchased,
                                   price_per_seat_month=stored.price_per_seat_month, initiative=initiative)
        changes["terms"] = [_describe([*in_effect, *(r for r in replaced if r.effective_from > month)]),
                            _describe([new_row])]
    served = {i.pk: i for i in (served_before, initiative) if i is not None}
    if terms_change:
        served |= {row.initiative.pk: row.initiative for row in [*in_effect, *replaced] if row.initiative}
    for one in served.values():
        ensure_not_ended(one, stage_now(one))
    created = stored.pk is None
    months_before = _months_counting(stored, first) if not created else set()
    with disable_auditlog():  # the explicit row below says it all, with the months recomputed
        stored.save()
    if terms_change:
        _write_terms(stored, month, earlier)
    # Months before `month` keep their terms; before the first month (seat data) they follow the first row.
    now_first = first_terms_month(stored)
    counting = months_before | _months_counting(stored, now_first)
    if terms_change:
        months = {m for m in counting if m >= month or month == now_first}
    else:  # a new name or vendor: no amount changes, but the months rebuilt keep the roll-ups current
        months = {m for m in counting if m >= month}
    recomputed = _recompute(months)
    audit_event(stored, actor=actor, event="licence_pool_created" if created else "licence_pool_changed",
                action=LogEntry.Action.CREATE if created else LogEntry.Action.UPDATE, changes=changes,
                months_recomputed=recomputed, effective_from=f"{month:%Y-%m}")
    if pool is not None:
        pool.refresh_from_db()
    return stored


def _write_terms(pool: LicencePool, month: date, earlier: list[LicencePoolTerms]) -> None:
    """The pool's terms from `month` on are its current ones: later rows go, and a row at `month` says them (unless the
    row before already does, so the history lists only changes)."""
    LicencePoolTerms.objects.filter(pool=pool, effective_from__gte=month).delete()
    if earlier and _terms_key(earlier[-1]) == _terms_key(pool):
        return
    LicencePoolTerms.objects.create(pool=pool, effective_from=month, seats_purchased=pool.seats_purchased,
                                    price_per_seat_month=pool.price_per_seat_month, initiative=pool.initiative)


@dataclass(frozen=True)
class PoolMonthCharge:
    """One month a pool counts in: the initiative it charged then and what it charged (None: no initiative, so no
    licence cost)."""

    month: date
    initiative: Initiative | None
    seats_purchased: int
    price_per_seat_month: Decimal
    cost: Decimal | None


def licence_pool_delete_preview(*, pool: LicencePool) -> list[PoolMonthCharge]:
    """What deleting `pool` takes out of the roll-ups, month by month: the months licence_pool_delete recomputes, each
    with the terms in effect then (before the first terms month, on the first terms, as the roll-ups count seat data).
    Nothing is changed."""
    history = list(LicencePoolTerms.objects.filter(pool=pool).select_related("initiative").order_by("effective_from"))
    if not history:
        return []
    charges = []
    for month in sorted(_months_counting(pool, history[0].effective_from)):
        terms = next((row for row in reversed(history) if row.effective_from <= month), history[0])
        cost = (calculations.licence_pool_monthly_cost(terms.seats_purchased, terms.price_per_seat_month)
                if terms.initiative_id is not None else None)
        charges.append(PoolMonthCharge(month, terms.initiative, terms.seats_purchased, terms.price_per_seat_month,
                                       cost))
    return charges


@transaction.atomic
def licence_pool_delete(*, actor: Actor | None, pool: LicencePool) -> set[date]:
    """Delete a pool (administrators); its licence cost leaves the roll-ups of the months that counted it.

    Allowed on an ended initiative too, unlike a change: a pool has no end date, so it charges its initiative every
    month until it goes, and an administrator removes it once the seats are cancelled."""
    stored = LicencePool.objects.select_for_update(of=("self",)).select_related("vendor", "initiative").get(pk=pool.pk)
    if actor is not None and not may(actor, "portfolio.delete_licencepool", stored):
        raise PermissionDenied("Only administrators delete licence pools.")
    months = _months_counting(stored, first_terms_month(stored))
    before = _values(stored)
    deleted = copy.copy(stored)  # keeps the id for the audit row; delete() clears it on `stored`
    with disable_auditlog():
        stored.delete()
    recomputed = _recompute(months)
    audit_event(deleted, actor=actor, event="licence_pool_deleted", action=LogEntry.Action.DELETE,
                changes={name: [value, None] for name, value in before.items()}, months_recomputed=recomputed)
    return months
