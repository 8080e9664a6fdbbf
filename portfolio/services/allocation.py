"""Allocation: which initiative a cost or usage record belongs to, by the source's ordered rules.

The first rule that matches a record's keys wins. A record that states an initiative's external id itself (the plain
CSV's `initiative` column, key "initiative") goes to that initiative when it exists. Anything else stays unallocated,
which is a headline figure, not an error.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum

from ..cost_calculations import Rule, first_match
from ..models import AllocationRule, CostRecord, CostSource, Initiative, UsageRecord

UPDATE_CHUNK = 2_000


class Allocator:
    """The compiled rules of one source, plus the external ids records may name directly."""

    def __init__(self, rules: Iterable[Rule], initiative_ids: Mapping[str, int] | None = None) -> None:
        self.rules = list(rules)
        self.initiative_ids = dict(initiative_ids or {})

    @classmethod
    def for_source(cls, source: CostSource) -> Allocator:
        return cls(_rules(source.rules.all()), _initiative_ids())

    def allocate(self, keys: Mapping[str, Any]) -> int | None:
        """Initiative id for a record's keys, or None (unallocated)."""
        named = keys.get("initiative")
        if named is not None:
            initiative_id = self.initiative_ids.get(str(named))
            if initiative_id is not None:
                return initiative_id
        rule = first_match(self.rules, keys)
        return rule.initiative_id if rule else None


def _rules(rules: Iterable[AllocationRule]) -> list[Rule]:
    ordered = sorted(rules, key=lambda r: (r.order, r.pk or 0))
    return [Rule.build(key=r.key, match=r.match, value=r.value, initiative_id=r.initiative_id, rule_id=r.pk)
            for r in ordered]


def _initiative_ids() -> dict[str, int]:
    return dict(Initiative.objects.values_list("external_id", "pk"))


def _reallocate(model: type[CostRecord] | type[UsageRecord], source: CostSource, allocator: Allocator) -> set[date]:
    """Move records whose initiative changed; returns the months touched."""
    moves: dict[int | None, list[int]] = defaultdict(list)
    months: set[date] = set()
    rows = model.objects.filter(source=source).values_list("pk", "keys", "initiative_id", "period")
    for pk, keys, current, period in rows.iterator(chunk_size=5_000):
        target = allocator.allocate(keys or {})
        if target != current:
            moves[target].append(pk)
            months.add(period)
    for target, pks in moves.items():
        for start in range(0, len(pks), UPDATE_CHUNK):
            model.objects.filter(pk__in=pks[start:start + UPDATE_CHUNK]).update(initiative_id=target)
    return months


@transaction.atomic
def allocation_rules_reapply(*, source: CostSource | None = None) -> set[date]:
    """Re-allocate existing records after rules changed and recompute the roll-ups of the months that moved."""
    from .ingestion import rollups_recompute

    sources = [source] if source is not None else list(CostSource.objects.all())
    initiative_ids = _initiative_ids()
    months: set[date] = set()
    for each in sources:
        allocator = Allocator(_rules(each.rules.all()), initiative_ids)
        months |= _reallocate(CostRecord, each, allocator)
        months |= _reallocate(UsageRecord, each, allocator)
    if months:
        rollups_recompute(months=months)
    return months


def allocation_rule_preview(*, rule: AllocationRule) -> dict[str, Any]:
    """What saving `rule` (new or edited, not yet saved) would do to its source's existing cost records.

    matched_records / amount: records this rule would decide (first match, with the other rules in place);
    currently_unallocated_amount: the part of that amount that is unallocated today;
    taken_from_other_initiatives: the part now allocated to other initiatives ({external_id: amount} in
    `taken_from`). Amounts are in the reporting currency. Nothing is saved.
    """
    rule.full_clean(exclude=["source", "initiative"])
    others = [r for r in rule.source.rules.all() if r.pk != rule.pk]
    candidate = Rule.build(key=rule.key, match=rule.match, value=rule.value, initiative_id=rule.initiative_id,
                           rule_id=-1)
    rules = _rules(others)
    position = sum(1 for r in others if (r.order, r.pk or 0) <= (rule.order, rule.pk or 0))
    rules.insert(position, candidate)
    allocator = Allocator(rules, _initiative_ids())

    matched, amount, unallocated = 0, Decimal("0"), Decimal("0")
    taken: dict[int, Decimal] = defaultdict(Decimal)
    records = CostRecord.objects.filter(source=rule.source).values_list("keys", "initiative_id", "amount_reporting")
    for keys, current, value in records.iterator(chunk_size=5_000):
        keys = keys or {}
        # Only records the rule itself decides: a record naming an existing initiative never reaches the rules.
        named = keys.get("initiative")
        if named is not None and str(named) in allocator.initiative_ids:
            continue
        if first_match(rules, keys) is not candidate:
            continue
        matched += 1
        amount += value
        if current is None:
            unallocated += value
        elif current != rule.initiative_id:
            taken[current] += value
    names = dict(Initiative.objects.filter(pk__in=taken).values_list("pk", "external_id"))
    return {
        "matched_records": matched,
        "amount": amount,
        "currently_unallocated_amount": unallocated,
        "taken_from_other_initiatives": sum(taken.values(), Decimal("0")),
        "taken_from": {names[pk]: value for pk, value in taken.items()},
    }


def unallocated_total(*, source: CostSource, period: date) -> Decimal:
    return CostRecord.objects.filter(source=source, period=period, initiative__isnull=True).aggregate(
        total=Sum("amount_reporting")
    )["total"] or Decimal("0")
