"""One rule per order of a source: rules are tried by order, so a tie would leave which one wins to the ids. The
services refuse it naming the rule that holds the order and the next free one (pages, API, Django admin), the database
holds the same rule, and the migration gave tied rules of an existing database distinct orders in their effective
order."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from portfolio.costs.services.allocation import (
    allocation_rule_create,
    allocation_rule_move,
    allocation_rule_update,
    allocation_rules_reorder,
)
from portfolio.models import AllocationRule, CostSource
from tests.factories import InitiativeFactory
from tests.portfolio.costs.factories import AllocationRuleFactory, CostSourceFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("portfolio.migrations.0038_renumber_tied_rule_orders")


@pytest.fixture
def source() -> CostSource:
    return CostSourceFactory(name="k8s", type="opencost")


@pytest.fixture
def rules(source) -> list[AllocationRule]:
    search = InitiativeFactory(external_id="INV-SEARCH")
    return [AllocationRuleFactory(source=source, order=order, key="namespace", value=value, initiative=search)
            for order, value in ((1, "ml-search"), (2, "ml-chat"), (4, "web"))]


def refusal(holder: AllocationRule, order: int, free: int) -> str:
    return (f"Order {order} is already held by rule #{holder.pk} of k8s (namespace exact '{holder.value}' → "
            f"INV-SEARCH): rules of a source are tried by order, so two with the same one would leave which wins "
            f"unsaid. Give order {free}, the next free one, or move the rules on the source's rule list.")


def test_a_second_rule_with_an_order_taken_is_refused_naming_the_holder_and_the_next_free_order(
    source, rules, admin_user
):
    with pytest.raises(ValidationError) as refused:
        allocation_rule_create(actor=admin_user, source=source, key="namespace", value="web-2", order=1,
                               initiative=rules[0].initiative)
    assert refused.value.message_dict["order"] == [refusal(rules[0], 1, 3)]
    assert AllocationRule.objects.count() == 3
    # The same order on another source is free, and so is the next one suggested.
    allocation_rule_create(actor=admin_user, source=CostSourceFactory(name="other"), key="namespace", value="web",
                           order=1, initiative=rules[0].initiative)
    assert allocation_rule_create(actor=admin_user, source=source, key="namespace", value="web-2", order=3,
                                  initiative=rules[0].initiative).rule.order == 3


def test_changing_a_rules_order_to_one_taken_is_refused_and_keeping_its_own_is_not(source, rules, admin_user):
    with pytest.raises(ValidationError) as refused:
        allocation_rule_update(actor=admin_user, rule=rules[2], order=2)
    assert refused.value.message_dict["order"] == [refusal(rules[1], 2, 3)]
    rules[2].refresh_from_db()
    assert rules[2].order == 4
    allocation_rule_update(actor=admin_user, rule=rules[1], order=2, value="ml-chat-2")  # its own order


def test_the_database_refuses_a_tie_written_past_the_services(source, rules):
    with pytest.raises(IntegrityError), transaction.atomic():
        AllocationRule.objects.filter(pk=rules[2].pk).update(order=1)


def test_reordering_and_moving_swap_orders_without_tripping_over_the_constraint(source, rules, admin_user):
    allocation_rules_reorder(actor=admin_user, source=source, rule_ids=[rules[2].pk, rules[0].pk, rules[1].pk])
    assert list(source.rules.order_by("order").values_list("pk", "order")) == [
        (rules[2].pk, 1), (rules[0].pk, 2), (rules[1].pk, 3)]
    assert allocation_rule_move(actor=admin_user, rule=rules[1], direction="up") == 2
    assert list(source.rules.order_by("order").values_list("pk", flat=True)) == [rules[2].pk, rules[1].pk,
                                                                                 rules[0].pk]


def test_the_rule_page_refuses_a_taken_order_on_the_order_field(login, admin_user, source, rules):
    response = login(admin_user).post(reverse("portfolio:allocationrule_create"), {
        "source": source.pk, "order": 2, "key": "namespace", "match": "exact", "value": "web-2",
        "initiative": rules[0].initiative.pk, "save": "1"})
    assert response.status_code == 200
    assert response.context["form"].errors["order"] == [refusal(rules[1], 2, 3)], response.context["form"].errors
    assert AllocationRule.objects.count() == 3


def test_the_api_refuses_a_taken_order_with_400_on_order_and_still_appends_without_one(
    api_client, admin_user, source, rules
):
    api_client.force_authenticate(admin_user)
    url = reverse("api:allocationrule-list")
    body = {"source": source.pk, "key": "namespace", "value": "web-2", "initiative": rules[0].initiative.pk}
    refused = api_client.post(url, {**body, "order": 4}, format="json")
    assert refused.status_code == 400 and refused.json()["order"] == [refusal(rules[2], 4, 5)]
    patched = api_client.patch(reverse("api:allocationrule-detail", args=[rules[0].pk]), {"order": 2}, format="json")
    assert patched.status_code == 400 and patched.json()["order"] == [refusal(rules[1], 2, 3)]
    appended = api_client.post(url, body, format="json")
    assert appended.status_code == 201 and appended.json()["order"] == 5


def test_the_django_admin_refuses_a_taken_order_naming_the_holder(client, admin_user, source, rules):
    client.force_login(admin_user)
    response = client.post(reverse("admin:portfolio_allocationrule_add"), {
        "source": source.pk, "order": 1, "key": "namespace", "match": "exact", "value": "web-2",
        "initiative": rules[0].initiative.pk, "_save": "Save"})
    assert response.status_code == 200
    assert f"Order 1 is already held by rule #{rules[0].pk} of k8s" in response.content.decode()
    assert AllocationRule.objects.count() == 3


@pytest.mark.parametrize(("rules", "changes"), [
    # (source, order, id): ties go by id, as the rules were tried; later rules shift only as far as needed.
    ([(1, 3, 10), (1, 1, 11), (1, 1, 12), (1, 2, 13), (1, 7, 14), (1, 0, 15)], {12: 2, 13: 3, 10: 4}),
    ([(1, 1, 2), (1, 1, 1), (2, 1, 3), (2, 1, 4)], {2: 2, 4: 2}),  # each source apart; the lower id keeps the order
    ([(1, 1, 1), (1, 2, 2), (2, 1, 3)], {}),  # no tie: nothing changes
])
def test_the_migration_renumbers_ties_in_their_effective_order(rules, changes):
    assert migration.renumbered(rules) == changes
    before = sorted(rules, key=lambda r: (r[0], r[1], r[2]))
    after = sorted(((s, changes.get(pk, order), pk) for s, order, pk in rules), key=lambda r: (r[0], r[1]))
    assert [pk for *_, pk in after] == [pk for *_, pk in before]  # the same rule wins first, second, ...
    assert len({(s, order) for s, order, _ in after}) == len(rules)


def test_the_migration_leaves_a_database_without_ties_as_it_is(source, rules):
    migration.renumber(apps, None)
    assert list(source.rules.order_by("order").values_list("order", flat=True)) == [1, 2, 4]


def test_configuration_as_code_renumbers_a_sources_rules_without_tripping_over_the_constraint(admin_user):
    """The file's rules take orders 1..n by position: rules held at 0, 1 and 5 become 1 and 2 (the third goes)."""
    from portfolio.costs.services.config import cost_config_apply

    first, second = InitiativeFactory(external_id="INV-0001"), InitiativeFactory(external_id="INV-0002")
    source = CostSourceFactory(name="aws-focus", type="focus")
    held = [AllocationRuleFactory(source=source, order=order, key="tag:project", value=f"p{order}", initiative=first)
            for order in (0, 1, 5)]
    result = cost_config_apply(actor=admin_user, data={"rules": [
        {"source": "aws-focus", "key": "tag:project", "match": "exact", "value": "search", "initiative": "INV-0001"},
        {"source": "aws-focus", "key": "tag:project", "match": "exact", "value": "chat", "initiative": "INV-0002"},
    ]})
    assert (result.rules_updated, result.rules_deleted) == (2, 1)
    assert list(source.rules.order_by("order").values_list("pk", "order", "value", "initiative")) == [
        (held[0].pk, 1, "search", first.pk), (held[1].pk, 2, "chat", second.pk)]
