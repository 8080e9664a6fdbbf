"""Licence waste: seats bought and not used, with the seat count to keep and what the rest cost."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from governance.signals.rules.base import (
    HIGH,
    HUNDRED,
    LICENCE_WASTE,
    MEDIUM,
    MONEY,
    Candidate,
    Number,
    cents,
    money,
    month_of,
    plain,
    subject_key,
)
from governance.signals.rules.facts import PoolFacts


def suggested_seats(*, active_in_window: int, assigned_in_window: int, buffer_pct: Decimal, purchased: int) -> int:
    """ceil((seats active in the inactivity window + seats assigned within it) x (1 + buffer)), never more than
    the seats purchased."""
    needed = Decimal(active_in_window + assigned_in_window) * (1 + buffer_pct / HUNDRED)
    return min(purchased, int(needed.to_integral_value(rounding=ROUND_CEILING)))


def licence_waste(
    pool: PoolFacts, *, floor_pct: Decimal, window_days: int, buffer_pct: Decimal
) -> Candidate | None:
    """Seat utilisation (seats active in the last 30 days / seats purchased) below `floor_pct` percent."""
    if pool.purchased <= 0:
        return None
    utilisation = Decimal(pool.active_30d) / pool.purchased * HUNDRED
    if utilisation >= floor_pct:
        return None
    idle = max(0, pool.purchased - pool.active_30d)
    suggested = suggested_seats(active_in_window=pool.active_in_window, assigned_in_window=pool.assigned_in_window,
                                buffer_pct=buffer_pct, purchased=pool.purchased)
    saving = cents((pool.purchased - suggested) * pool.price_per_seat)
    return Candidate(
        type=LICENCE_WASTE,
        subject=subject_key(LICENCE_WASTE, "pool", str(pool.id)),
        initiative_ids=pool.initiative_ids,
        period=month_of(pool.month),
        severity=HIGH if utilisation * 2 < floor_pct else MEDIUM,
        metric=utilisation.quantize(Decimal("0.01")),
        higher_is_worse=False,
        rule=(f"Seat utilisation (seats active in the last 30 days / seats purchased) below {plain(floor_pct)}%; "
              f"suggested seats = ceil((active in the last {window_days} days + assigned within them) x "
              f"(1 + {plain(buffer_pct)}%))."),
        policies={"licence.utilisation_floor_pct": plain(floor_pct),
                  "licence.inactivity_window_days": str(window_days), "licence.buffer_pct": plain(buffer_pct)},
        numbers=(
            Number("Licence pool", pool.tool, pool.url),
            Number("Seats purchased", str(pool.purchased), pool.url),
            Number("Seats active in the last 30 days", str(pool.active_30d), pool.url),
            Number("Utilisation (%)", plain(utilisation, 1), pool.url),
            Number("Idle seats", str(idle), pool.url),
            Number("Idle-seat cost per month", money(idle * pool.price_per_seat), pool.url, unit=MONEY),
            Number(f"Seats active in the last {window_days} days", str(pool.active_in_window), pool.url),
            Number(f"Seats assigned in the last {window_days} days, not used yet", str(pool.assigned_in_window),
                   pool.url),
            Number("Suggested seat count", str(suggested), pool.url),
            Number("Price per seat per month", money(pool.price_per_seat), pool.url, unit=MONEY),
        ),
        monthly_saving=saving,
    )
