"""What a sprawl cluster costs a month and what consolidating it would save: plain numbers, no ORM.

The assumption is stated with its numbers in one sentence (`Saving.basis`) so a reviewer can check it:
- users known for every member: consolidate onto the member with the lowest cost per user and serve everyone at
  that rate; saving = total spend - lowest cost per user x all users.
- otherwise: consolidate onto the most expensive member, which absorbs the others' usage; a variable share of the
  others' spend (a policy) moves with that usage, the rest is saved; saving = others' spend x (1 - variable share).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from tollgate.formatting import format_money

CENT = Decimal("0.01")
ZERO = Decimal("0")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money(amount: Decimal, currency: str) -> str:
    return format_money(cents(amount), currency=currency)


@dataclass(frozen=True)
class MemberCost:
    """One active member: its monthly spend (allocated from the roll-ups, else declared) and its users, if known."""

    initiative_id: int
    name: str
    monthly_spend: Decimal
    users: int | None = None
    spend_is_allocated: bool = False


@dataclass(frozen=True)
class Saving:
    monthly_spend: Decimal
    estimated_saving: Decimal
    basis: str
    target_id: int | None = None


def member_monthly_spend(*, allocated: Decimal | None, declared: Decimal | None) -> tuple[Decimal, bool]:
    """(spend, is_allocated): the allocated cost of the latest complete month if there is any, else the declared."""
    if allocated is not None:
        return cents(allocated), True
    return cents(declared or ZERO), False


def consolidation_saving(members: Sequence[MemberCost], *, variable_share: Decimal, currency: str) -> Saving:
    """Combined monthly spend of the members and the estimated monthly saving if they consolidated onto one."""
    if not ZERO <= variable_share <= 1:
        raise ValueError(f"variable_share must be between 0 and 1, got {variable_share}")
    total = cents(sum((m.monthly_spend for m in members), ZERO))
    if len(members) < 2:
        return Saving(total, ZERO, "A single member: there is nothing to consolidate.")
    if total <= 0:
        return Saving(total, ZERO, "No member has allocated or declared spend, so no saving can be estimated.")

    counted = [(m, m.users) for m in members if m.users]
    if len(counted) == len(members):
        target, target_users = min(
            counted, key=lambda pair: (pair[0].monthly_spend / pair[1], -pair[1], pair[0].initiative_id)
        )
        rate = target.monthly_spend / target_users
        all_users = sum(users for _, users in counted)
        consolidated = cents(rate * all_users)
        saving = max(ZERO, total - consolidated)
        basis = (f"Consolidating onto {target.name}, the member with the lowest cost per user "
                 f"({money(rate, currency)} for {target_users:,} users), would serve all {all_users:,} users for "
                 f"{money(consolidated, currency)} a month instead of {money(total, currency)}: "
                 f"a saving of {money(saving, currency)} a month.")
        return Saving(total, cents(saving), basis, target.initiative_id)

    target = max(members, key=lambda m: (m.monthly_spend, -m.initiative_id))
    others = total - target.monthly_spend
    saving = cents(others * (1 - variable_share))
    share_pct = f"{(variable_share * 100).normalize():f}%"
    basis = (f"Users are not known for every member, so the saving assumes consolidating onto {target.name}, the "
             f"most expensive member ({money(target.monthly_spend, currency)} a month), where {share_pct} of the "
             f"others' {money(others, currency)} a month is usage that moves with them: a saving of "
             f"{money(saving, currency)} a month.")
    return Saving(total, saving, basis, target.initiative_id)
