"""Allocation: which initiative a cost or usage record belongs to, by the source's ordered rules.

The first rule that matches a record's keys wins. A record that states an initiative's external id itself (the plain
CSV's `initiative` column, key "initiative") goes to that initiative; a run refuses a row naming one that does not
exist (services/writer.py), and a record whose initiative was deleted since falls to the rules. Anything else stays
unallocated, which is a headline figure, not an error.

Rules are written only through allocation_rule_create / _update / _delete and allocation_rules_reorder: each
validates, saves, re-allocates the source's existing records (and their roll-ups) and writes one explicit audit row,
in one transaction. The pages and the API call these; `apply_cost_config` replaces whole rule sets its own way.
Within a source an order is held by one rule (a tie would leave the winner to the ids): a clash is refused naming the
rule that holds the order, and the database holds the same rule.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Sum

from portfolio.costs.calculations import Rule, first_match
from portfolio.costs.services.references import cost_references_lock
from portfolio.models import AllocationRule, CostRecord, CostSource, Initiative, UsageRecord
from tollgate.audit import audit_event
from tollgate.roles import may
from tollgate.types import Actor

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
    if model is CostRecord:  # no foreign-key constraint: the targets are checked and held here
        cost_references_lock(initiative_ids=[target for target in moves if target is not None])
    for target, pks in moves.items():
        for start in range(0, len(pks), UPDATE_CHUNK):
            model.objects.filter(pk__in=pks[start:start + UPDATE_CHUNK]).update(initiative_id=target)
    return months


@transaction.atomic
def allocation_rules_reapply(*, source: CostSource | None = None) -> set[date]:
    """Re-allocate existing records after rules changed and recompute the roll-ups of the months that moved."""
    from portfolio.costs.services.rollups import rollups_recompute

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
    if rule.order is None:  # a new rule without an order goes after the source's last, as saving it would
        rule = copy.copy(rule)
        rule.order = allocation_rule_next_order(source=rule.source)
    rule.full_clean(exclude=["source", "initiative"])
    _ensure_order_free(rule)
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


# Writing rules -------------------------------------------------------------------------------------------------------

RULE_FIELDS = ("order", "key", "match", "value", "initiative")


@dataclass(frozen=True)
class RuleChange:
    """What a rule write did: the rule (unsaved again after a delete) and the months whose records moved."""

    rule: AllocationRule
    months: set[date] = field(default_factory=set)


def _ensure_may(actor: Actor | None, action: str) -> None:
    # actor None: the system (demo load, configuration as code); a person needs the role's permission.
    if actor is not None and not may(actor, f"portfolio.{action}_allocationrule"):
        raise PermissionDenied(f"Only administrators may {action} allocation rules.")


def _rule_values(rule: AllocationRule) -> dict[str, str]:
    return {
        "source": rule.source.name, "order": str(rule.order), "key": rule.key, "match": rule.match,
        "value": rule.value, "initiative": rule.initiative.external_id if rule.initiative_id else "",
    }


def _order_error(rule: AllocationRule) -> dict[str, str]:
    """Why `rule` may not take its order, or nothing: another rule of its source holds it. Rules are tried by order,
    and a tie would leave which one wins to their ids, shown nowhere; the refusal names the rule that holds the order
    and the next order free after it."""
    others = AllocationRule.objects.filter(source_id=rule.source_id).exclude(pk=rule.pk)
    holder = others.filter(order=rule.order).select_related("initiative").order_by("pk").first()
    if holder is None:
        return {}
    taken = set(others.filter(order__gt=rule.order).values_list("order", flat=True))
    free = rule.order + 1
    while free in taken:
        free += 1
    return {"order": (
        f"Order {rule.order} is already held by rule #{holder.pk} of {rule.source.name} ({holder.key} "
        f"{holder.get_match_display().lower()} {holder.value!r} → {holder.initiative.external_id}): rules of a source "
        f"are tried by order, so two with the same one would leave which wins unsaid. Give order {free}, the next "
        "free one, or move the rules on the source's rule list.")}


def _ensure_order_free(rule: AllocationRule) -> None:
    if errors := _order_error(rule):
        raise ValidationError(errors)


def _save_rule(rule: AllocationRule) -> None:
    """Save a validated rule without its own audit entry (the caller writes one). Another request may take the same
    order between the check and the write: the database's constraint then refuses it, answered as the check would."""
    try:
        with transaction.atomic(), disable_auditlog():
            rule.save()
    except IntegrityError:
        _ensure_order_free(rule)
        raise


def _reapply(source: CostSource) -> list[str]:
    return sorted(f"{month:%Y-%m}" for month in allocation_rules_reapply(source=source))


def allocation_rule_next_order(*, source: CostSource) -> int:
    """The order a new rule of `source` takes when none is given: after the source's last rule."""
    return (source.rules.aggregate(last=Max("order"))["last"] or 0) + 1


@transaction.atomic
def allocation_rule_create(
    *, actor: Actor | None, source: CostSource, key: str, value: str, initiative: Initiative,
    match: str = "exact", order: int | None = None,
) -> RuleChange:
    """A new rule (order: after the source's last rule unless given); the source's records are re-allocated."""
    _ensure_may(actor, "add")
    if order is None:
        order = allocation_rule_next_order(source=source)
    rule = AllocationRule(source=source, order=order, key=(key or "").strip(), match=match, value=value,
                          initiative=initiative)
    rule.full_clean()
    _ensure_order_free(rule)
    _save_rule(rule)  # the explicit row below says it all, with the re-allocation
    months = _reapply(source)
    audit_event(rule, actor=actor, event="allocation_rule_created", action=LogEntry.Action.CREATE,
                changes={name: [None, after] for name, after in _rule_values(rule).items()},
                source=source.name, months_reallocated=months)
    return RuleChange(rule, {date.fromisoformat(f"{m}-01") for m in months})


@transaction.atomic
def allocation_rule_update(*, actor: Actor | None, rule: AllocationRule, **values: Any) -> RuleChange:
    """Change order, key, match, value and/or initiative of a rule (a rule stays with its source)."""
    _ensure_may(actor, "change")
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown rule field(s): {', '.join(sorted(unknown))} (a rule keeps its source).")
    stored = AllocationRule.objects.select_for_update().select_related("source", "initiative").get(pk=rule.pk)
    before = _rule_values(stored)
    for name, value in values.items():
        setattr(stored, name, value.strip() if name == "key" and isinstance(value, str) else value)
    stored.full_clean()
    after = _rule_values(stored)
    changes = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    if not changes:
        return RuleChange(stored)
    if "order" in changes:
        _ensure_order_free(stored)
    _save_rule(stored)
    months = _reapply(stored.source)
    audit_event(stored, actor=actor, event="allocation_rule_changed", action=LogEntry.Action.UPDATE,
                changes=changes, source=stored.source.name, months_reallocated=months)
    return RuleChange(stored, {date.fromisoformat(f"{m}-01") for m in months})


@transaction.atomic
def allocation_rule_delete(*, actor: Actor | None, rule: AllocationRule) -> RuleChange:
    """Delete a rule; what it allocated goes to the next matching rule or back to unallocated."""
    _ensure_may(actor, "delete")
    stored = AllocationRule.objects.select_for_update().select_related("source", "initiative").get(pk=rule.pk)
    source = stored.source
    before = _rule_values(stored)
    deleted = copy.copy(stored)  # keeps the id for the audit row; delete() clears it on `stored`
    with disable_auditlog():
        stored.delete()
    months = _reapply(source)
    audit_event(deleted, actor=actor, event="allocation_rule_deleted", action=LogEntry.Action.DELETE,
                changes={name: [old, None] for name, old in before.items()}, source=source.name,
                months_reallocated=months)
    return RuleChange(stored, {date.fromisoformat(f"{m}-01") for m in months})


@transaction.atomic
def allocation_rules_reorder(
    *, actor: Actor | None, source: CostSource, rule_ids: Sequence[int]
) -> list[AllocationRule]:
    """Put the source's rules in the order given (every rule of the source, each once); orders become 1..n.

    Returns the rules in their new order. Nothing is written (and nothing audited) when the order is already so.
    """
    _ensure_may(actor, "change")
    locked = AllocationRule.objects.select_for_update(of=("self",)).select_related("initiative", "source")
    rules = {r.pk: r for r in locked.filter(source=source)}
    try:
        wanted = [int(pk) for pk in rule_ids]
    except (TypeError, ValueError):
        raise ValidationError({"rules": "Rules are listed by their ids (whole numbers)."}) from None
    if len(set(wanted)) != len(wanted):
        raise ValidationError({"rules": "A rule is listed more than once."})
    missing, foreign = set(rules) - set(wanted), set(wanted) - set(rules)
    if missing or foreign:
        problems = [f"rule(s) of {source.name} not listed: {', '.join(map(str, sorted(missing)))}"] if missing else []
        problems += [f"not rules of {source.name}: {', '.join(map(str, sorted(foreign)))}"] if foreign else []
        raise ValidationError({"rules": "; ".join(problems) + ". List every rule of the source once."})
    before = [r.pk for r in sorted(rules.values(), key=lambda r: (r.order, r.pk))]
    changed = [rules[pk] for position, pk in enumerate(wanted, start=1) if rules[pk].order != position]
    ordered = [rules[pk] for pk in wanted]
    if not changed:
        return ordered
    with disable_auditlog():
        orders_write({rule.pk: position for position, rule in enumerate(ordered, start=1)}, rules=rules.values())
    for position, rule in enumerate(ordered, start=1):
        rule.order = position
    months = _reapply(source)
    audit_event(source, actor=actor, event="allocation_rules_reordered", action=LogEntry.Action.UPDATE,
                changes={"rule order": [", ".join(map(str, before)), ", ".join(map(str, wanted))]},
                source=source.name, months_reallocated=months)
    return ordered


def orders_write(wanted: Mapping[int, int], *, rules: Iterable[AllocationRule]) -> None:
    """Give the rules (`rules`: all of one source, as stored) the orders `wanted` ({rule id: order}, all distinct).

    An order is unique within a source, and the database checks it row by row even inside one statement, so swapping
    two orders directly would clash: the rules that change are first parked on orders nobody holds or wants, then
    given theirs."""
    rules = list(rules)
    changed = [rule for rule in rules if rule.pk in wanted and rule.order != wanted[rule.pk]]
    if not changed:
        return
    held = {rule.order for rule in rules} | set(wanted.values())
    parking = (order for order in range(len(held) + len(changed) + 1) if order not in held)
    for rule, order in zip(changed, parking, strict=False):
        rule.order = order
    AllocationRule.objects.bulk_update(changed, ["order"])
    for rule in changed:
        rule.order = wanted[rule.pk]
    AllocationRule.objects.bulk_update(changed, ["order"])


def allocation_rule_delete_preview(*, rule: AllocationRule) -> dict[str, Any]:
    """What deleting `rule` would do to its source's cost records: how many move, their amount, and how much of it
    would become unallocated (the rest goes to a later matching rule). Nothing is changed."""
    others = _rules(r for r in rule.source.rules.all() if r.pk != rule.pk)
    initiative_ids = _initiative_ids()
    current, without = Allocator(_rules(rule.source.rules.all()), initiative_ids), Allocator(others, initiative_ids)
    moved, amount, unallocated = 0, Decimal("0"), Decimal("0")
    records = CostRecord.objects.filter(source=rule.source).values_list("keys", "amount_reporting")
    for keys, value in records.iterator(chunk_size=5_000):
        keys = keys or {}
        after = without.allocate(keys)
        if after == current.allocate(keys):
            continue
        moved += 1
        amount += value
        if after is None:
            unallocated += value
    return {"moved_records": moved, "amount": amount, "becomes_unallocated": unallocated}


def unallocated_total(*, source: CostSource, period: date) -> Decimal:
    return CostRecord.objects.filter(source=source, period=period, initiative__isnull=True).aggregate(
        total=Sum("amount_reporting")
    )["total"] or Decimal("0")


@transaction.atomic
def allocation_rule_move(*, actor: Actor | None, rule: AllocationRule, direction: str) -> int | None:
    """Swap a rule with its neighbour above ("up") or below ("down") among its source's rules, re-allocating as
    allocation_rules_reorder does. Returns the rule's new position (1 = first), or None when it is already first
    (up) or last (down) and nothing changed."""
    if direction not in ("up", "down"):
        raise ValidationError({"direction": "Say which way to move the rule: up or down. Nothing was changed."})
    ids = list(AllocationRule.objects.select_for_update().filter(source_id=rule.source_id)
               .order_by("order", "pk").values_list("pk", flat=True))
    position = ids.index(rule.pk)
    target = position - 1 if direction == "up" else position + 1
    if not 0 <= target < len(ids):
        return None
    ids[position], ids[target] = ids[target], ids[position]
    allocation_rules_reorder(actor=actor, source=rule.source, rule_ids=ids)
    return target + 1
