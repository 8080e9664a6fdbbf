"""Allocation rules: order and first match, exact/prefix/regex, direct initiative ids, reapply and preview."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from portfolio.choices import CostCategory, RuleMatch
from portfolio.costs.calculations import Rule, first_match
from portfolio.costs.services.allocation import Allocator, allocation_rule_preview, allocation_rules_reapply
from portfolio.models import AllocationRule, CostRecord, MonthlyCost
from tests.factories import InitiativeFactory
from tests.portfolio.costs.factories import AllocationRuleFactory, CostRecordFactory, CostSourceFactory

KEYS = {"tag:project": "search-assistant", "sub_account_id": "1234-5678", "namespace": "ml-training"}


def rule(key, match, value, initiative_id, rule_id=None):
    return Rule.build(key=key, match=match, value=value, initiative_id=initiative_id, rule_id=rule_id)


@pytest.mark.parametrize(("key", "match", "value", "matches"), [
    ("tag:project", "exact", "search-assistant", True),
    ("tag:project", "exact", "search", False),
    ("sub_account_id", "prefix", "1234", True),
    ("sub_account_id", "prefix", "5678", False),
    ("namespace", "regex", r"^ml-(training|serving)$", True),
    ("namespace", "regex", r"^serving", False),
    ("tag:team", "exact", "search-assistant", False),  # key absent
])
def test_match_kinds(key, match, value, matches):
    assert rule(key, match, value, 1).matches(KEYS) is matches


def test_first_match_wins_in_order():
    rules = [rule("tag:project", "exact", "other", 1), rule("sub_account_id", "prefix", "12", 2),
             rule("tag:project", "exact", "search-assistant", 3)]
    assert first_match(rules, KEYS).initiative_id == 2
    assert first_match(rules, {"tag:project": "nothing"}) is None


def test_allocator_orders_saved_rules_and_honours_direct_initiative_ids(db):
    source = CostSourceFactory()
    first, second = InitiativeFactory(external_id="INV-1"), InitiativeFactory(external_id="INV-2")
    AllocationRuleFactory(source=source, order=20, key="tag:project", value="search-assistant", initiative=first)
    AllocationRuleFactory(source=source, order=10, key="sub_account_id", match=RuleMatch.PREFIX, value="1234",
                          initiative=second)
    allocator = Allocator.for_source(source)
    assert allocator.allocate(KEYS) == second.pk
    assert allocator.allocate({"initiative": "INV-1", **KEYS}) == first.pk
    assert allocator.allocate({"initiative": "INV-404", "tag:project": "search-assistant"}) == first.pk
    assert allocator.allocate({"tag:project": "unknown"}) is None


@pytest.mark.parametrize(("key", "ok"), [("tag:project", True), ("label:team", True), ("sub_account_id", True),
                                         ("workspace_id", True), ("tag:", False), ("account", False), ("", False)])
def test_rule_keys_are_validated(db, key, ok):
    candidate = AllocationRuleFactory.build(source=CostSourceFactory(), initiative=InitiativeFactory(), key=key)
    if ok:
        candidate.full_clean()
    else:
        with pytest.raises(ValidationError):
            candidate.full_clean()


def test_regex_is_validated(db):
    candidate = AllocationRuleFactory.build(source=CostSourceFactory(), initiative=InitiativeFactory(),
                                            match=RuleMatch.REGEX, value="ml-(")
    with pytest.raises(ValidationError, match="Invalid regular expression"):
        candidate.full_clean()


@pytest.fixture
def records(db):
    """Three June records of one source: search-assistant (allocated), contract-review and an untagged one."""
    source = CostSourceFactory(name="aws")
    search = InitiativeFactory(external_id="INV-1")
    AllocationRuleFactory(source=source, order=1, key="tag:project", value="search-assistant", initiative=search)
    CostRecordFactory(source=source, keys={"tag:project": "search-assistant"}, amount=Decimal("100"),
                      initiative=search)
    CostRecordFactory(source=source, keys={"tag:project": "contract-review"}, amount=Decimal("40"))
    CostRecordFactory(source=source, keys={"namespace": "ml"}, amount=Decimal("5"), category=CostCategory.COMPUTE)
    return source, search


def test_reapply_after_a_rule_change_moves_records_and_roll_ups(records):
    source, search = records
    review = InitiativeFactory(external_id="INV-2")
    AllocationRuleFactory(source=source, order=2, key="tag:project", match=RuleMatch.PREFIX, value="contract",
                          initiative=review)

    months = allocation_rules_reapply(source=source)

    assert {m.isoformat() for m in months} == {"2025-06-01"}
    assert CostRecord.objects.get(amount=Decimal("40")).initiative == review
    totals = {(m.initiative_id, m.category): m.amount for m in MonthlyCost.objects.all()}
    assert totals == {(search.pk, CostCategory.INFERENCE): Decimal("100.00"),
                      (review.pk, CostCategory.INFERENCE): Decimal("40.00"),
                      (None, CostCategory.COMPUTE): Decimal("5.00")}

    AllocationRule.objects.filter(source=source).delete()
    allocation_rules_reapply()
    assert not CostRecord.objects.filter(initiative__isnull=False).exists()
    assert MonthlyCost.objects.get(initiative=None, category=CostCategory.INFERENCE).amount == Decimal("140.00")


def test_reapply_without_changes_touches_nothing(records):
    source, _ = records
    assert allocation_rules_reapply(source=source) == set()


def test_preview_reports_what_a_rule_would_take_without_saving(records):
    source, search = records
    review = InitiativeFactory(external_id="INV-2")
    # Before the existing rule: would take the search record away from INV-1 and the unallocated one.
    candidate = AllocationRule(source=source, order=0, key="tag:project", match=RuleMatch.REGEX,
                               value="^(search|contract)", initiative=review)

    preview = allocation_rule_preview(rule=candidate)

    assert preview == {"matched_records": 2, "amount": Decimal("140"), "currently_unallocated_amount": Decimal("40"),
                       "taken_from_other_initiatives": Decimal("100"), "taken_from": {"INV-1": Decimal("100")}}
    assert AllocationRule.objects.count() == 1 and candidate.pk is None
    assert CostRecord.objects.get(amount=Decimal("100")).initiative == search


def test_preview_of_a_rule_placed_after_a_matching_one_only_counts_what_it_decides(records):
    source, _ = records
    review = InitiativeFactory(external_id="INV-2")
    candidate = AllocationRule(source=source, order=5, key="tag:project", match=RuleMatch.REGEX,
                               value="^(search|contract)", initiative=review)
    preview = allocation_rule_preview(rule=candidate)
    assert (preview["matched_records"], preview["amount"], preview["taken_from_other_initiatives"]) == (
        1, Decimal("40"), Decimal("0"))


def test_preview_rejects_an_invalid_rule(records):
    source, search = records
    with pytest.raises(ValidationError):
        allocation_rule_preview(rule=AllocationRule(source=source, order=1, key="tag:project",
                                                    match=RuleMatch.REGEX, value="(", initiative=search))
