"""Allocation rule writes as services: validate, save, re-allocate existing records and write one explicit audit row,
in one transaction; the rule pages (with delete behind a confirmation) and the API (with reorder) go through them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from portfolio.costs.services.allocation import (
    allocation_rule_create,
    allocation_rule_delete,
    allocation_rule_delete_preview,
    allocation_rule_update,
    allocation_rules_reorder,
)
from portfolio.models import AllocationRule, CostRecord, CostSource, MonthlyCost
from tests.factories import InitiativeFactory
from tests.portfolio.costs.factories import AllocationRuleFactory, CostSourceFactory

pytestmark = pytest.mark.django_db

JUNE = date(2025, 6, 1)


@pytest.fixture
def source() -> CostSource:
    source = CostSourceFactory(name="k8s", type="opencost")
    for namespace, amount in (("ml-search", "80.00"), ("ml-chat", "15.00"), ("web", "5.00")):
        CostRecord.objects.create(source=source, period=JUNE, charge_date=JUNE, amount=Decimal(amount),
                                  currency="USD", amount_reporting=Decimal(amount), category="compute",
                                  keys={"namespace": namespace})
    return source


def rule_entries(event: str | None = None):
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(AllocationRule))
    return entries.filter(additional_data__event=event) if event else entries


def allocated(initiative) -> Decimal:
    return MonthlyCost.objects.filter(initiative=initiative, month=JUNE).first().amount


def test_create_validates_saves_reallocates_and_audits_once(source, admin_user):
    search = InitiativeFactory(external_id="INV-SEARCH")
    change = allocation_rule_create(actor=admin_user, source=source, key=" namespace ", match="prefix",
                                    value="ml-", initiative=search)
    assert change.rule.pk and change.rule.key == "namespace" and change.rule.order == 1
    assert change.months == {JUNE}
    assert allocated(search) == Decimal("95.00")
    entry = rule_entries().get()  # the explicit row only: the model save is not audited twice
    assert entry.additional_data["event"] == "allocation_rule_created"
    assert entry.additional_data["months_reallocated"] == ["2025-06"]
    assert entry.actor == admin_user and entry.action == LogEntry.Action.CREATE
    assert entry.changes["initiative"] == [None, "INV-SEARCH"]

    second = allocation_rule_create(actor=admin_user, source=source, key="namespace", value="web", initiative=search)
    assert second.rule.order == 2  # after the source's last rule


@pytest.mark.parametrize(("values", "field"), [
    ({"key": "cluster"}, "key"),
    ({"match": "regex", "value": "ml-("}, "value"),
    ({"value": ""}, "value"),
])
def test_create_refuses_bad_input_and_writes_nothing(source, admin_user, values, field):
    body = {"key": "namespace", "match": "exact", "value": "ml-search", **values}
    with pytest.raises(ValidationError) as caught:
        allocation_rule_create(actor=admin_user, source=source, initiative=InitiativeFactory(), **body)
    assert field in caught.value.message_dict
    assert not AllocationRule.objects.exists() and not rule_entries().exists()
    assert not CostRecord.objects.filter(initiative__isnull=False).exists()


def test_only_administrators_write_rules(source, reviewer, executive):
    rule = AllocationRuleFactory(source=source, key="namespace", value="web")
    for user in (reviewer, executive):
        with pytest.raises(PermissionDenied):
            allocation_rule_create(actor=user, source=source, key="namespace", value="x",
                                   initiative=rule.initiative)
        with pytest.raises(PermissionDenied):
            allocation_rule_update(actor=user, rule=rule, value="y")
        with pytest.raises(PermissionDenied):
            allocation_rule_delete(actor=user, rule=rule)
        with pytest.raises(PermissionDenied):
            allocation_rules_reorder(actor=user, source=source, rule_ids=[rule.pk])
    assert AllocationRule.objects.get().value == "web"


def test_update_reallocates_and_audits_what_changed(source, admin_user):
    search, chat = InitiativeFactory(external_id="INV-S"), InitiativeFactory(external_id="INV-C")
    rule = allocation_rule_create(actor=admin_user, source=source, key="namespace", match="prefix", value="ml-",
                                  initiative=search).rule
    change = allocation_rule_update(actor=admin_user, rule=rule, match="exact", value="ml-chat", initiative=chat)
    assert change.months == {JUNE}
    assert allocated(chat) == Decimal("15.00")
    assert not MonthlyCost.objects.filter(initiative=search).exists()
    entry = rule_entries("allocation_rule_changed").get()
    assert entry.changes == {"match": ["prefix", "exact"], "value": ["ml-", "ml-chat"],
                             "initiative": ["INV-S", "INV-C"]}

    unchanged = allocation_rule_update(actor=admin_user, rule=rule, value="ml-chat")
    assert unchanged.months == set() and rule_entries("allocation_rule_changed").count() == 1


def test_update_refuses_bad_input_and_a_new_source(source, admin_user):
    rule = AllocationRuleFactory(source=source, key="namespace", value="web")
    with pytest.raises(ValidationError):
        allocation_rule_update(actor=admin_user, rule=rule, match="regex", value="(")
    with pytest.raises(ValidationError, match="keeps its source"):
        allocation_rule_update(actor=admin_user, rule=rule, source=CostSourceFactory())
    rule.refresh_from_db()
    assert (rule.match, rule.value) == ("exact", "web")
    assert not rule_entries("allocation_rule_changed").exists()


def test_delete_previews_then_reallocates_to_the_next_rule_or_unallocated(source, admin_user):
    search, ml = InitiativeFactory(external_id="INV-S"), InitiativeFactory(external_id="INV-ML")
    first = allocation_rule_create(actor=admin_user, source=source, key="namespace", value="ml-search",
                                   initiative=search).rule
    allocation_rule_create(actor=admin_user, source=source, key="namespace", match="prefix", value="ml-",
                           initiative=ml)
    web = allocation_rule_create(actor=admin_user, source=source, key="namespace", value="web", initiative=ml).rule

    assert allocation_rule_delete_preview(rule=first) == {
        "moved_records": 1, "amount": Decimal("80"), "becomes_unallocated": Decimal("0")}
    assert allocation_rule_delete_preview(rule=web)["becomes_unallocated"] == Decimal("5")

    rule_id = first.pk
    change = allocation_rule_delete(actor=admin_user, rule=first)
    assert change.months == {JUNE}
    assert not AllocationRule.objects.filter(pk=rule_id).exists()
    assert allocated(ml) == Decimal("100.00")  # ml-search now falls to the prefix rule
    entry = rule_entries("allocation_rule_deleted").get()
    assert entry.object_id == rule_id and entry.action == LogEntry.Action.DELETE
    assert entry.additional_data["months_reallocated"] == ["2025-06"]
    assert entry.changes["value"] == ["ml-search", None]

    allocation_rule_delete(actor=admin_user, rule=web)
    assert MonthlyCost.objects.get(initiative=None, month=JUNE).amount == Decimal("5.00")


def test_reorder_changes_which_rule_wins(source, admin_user):
    search, ml = InitiativeFactory(external_id="INV-S"), InitiativeFactory(external_id="INV-ML")
    broad = allocation_rule_create(actor=admin_user, source=source, key="namespace", match="prefix", value="ml-",
                                   initiative=ml).rule
    narrow = allocation_rule_create(actor=admin_user, source=source, key="namespace", value="ml-search",
                                    initiative=search).rule
    assert not MonthlyCost.objects.filter(initiative=search).exists()  # the broad rule wins while it is first

    ordered = allocation_rules_reorder(actor=admin_user, source=source, rule_ids=[narrow.pk, broad.pk])
    assert [(r.pk, r.order) for r in ordered] == [(narrow.pk, 1), (broad.pk, 2)]
    assert allocated(search) == Decimal("80.00") and allocated(ml) == Decimal("15.00")
    entries = LogEntry.objects.filter(additional_data__event="allocation_rules_reordered")
    assert entries.get().changes == {"rule order": [f"{broad.pk}, {narrow.pk}", f"{narrow.pk}, {broad.pk}"]}

    allocation_rules_reorder(actor=admin_user, source=source, rule_ids=[narrow.pk, broad.pk])
    assert entries.count() == 1  # the same order again writes nothing


@pytest.mark.parametrize(("ids", "message"), [
    (lambda a, b, other: [a], "not listed"),
    (lambda a, b, other: [a, b, other], "not rules of k8s"),
    (lambda a, b, other: [a, a, b], "more than once"),
    (lambda a, b, other: ["first", b], "ids"),
])
def test_reorder_must_list_every_rule_of_the_source_once(source, admin_user, ids, message):
    a = AllocationRuleFactory(source=source, order=1, key="namespace", value="web")
    b = AllocationRuleFactory(source=source, order=2, key="namespace", value="ml-chat")
    other = AllocationRuleFactory(source=CostSourceFactory(), order=1)
    with pytest.raises(ValidationError, match=message):
        allocation_rules_reorder(actor=admin_user, source=source, rule_ids=ids(a.pk, b.pk, other.pk))
    assert list(AllocationRule.objects.filter(source=source).order_by("order").values_list("pk", flat=True)) == [
        a.pk, b.pk]


# Pages ---------------------------------------------------------------------------------------------------------------


def test_the_rule_pages_save_through_the_services(login, admin_user, source):
    client = login(admin_user)
    ml = InitiativeFactory(external_id="INV-ML")
    response = client.post(reverse("portfolio:allocationrule_create"), {
        "source": source.pk, "order": 1, "key": "namespace", "match": "prefix", "value": "ml-",
        "initiative": ml.pk, "save": "1"})
    assert response.status_code == 302
    rule = AllocationRule.objects.get()
    assert rule_entries("allocation_rule_created").get().actor == admin_user
    response = client.post(reverse("portfolio:allocationrule_edit", args=[rule.pk]), {
        "order": 1, "key": "namespace", "match": "exact", "value": "ml-chat", "initiative": ml.pk, "save": "1"})
    assert response.status_code == 302
    assert allocated(ml) == Decimal("15.00")
    assert rule_entries("allocation_rule_changed").get().changes == {"match": ["prefix", "exact"],
                                                                    "value": ["ml-", "ml-chat"]}
    edit_page = client.get(reverse("portfolio:allocationrule_edit", args=[rule.pk])).content.decode()
    assert reverse("portfolio:allocationrule_delete", args=[rule.pk]) in edit_page


def test_delete_page_asks_for_confirmation(login, admin_user, source):
    ml = InitiativeFactory(external_id="INV-ML")
    rule = allocation_rule_create(actor=admin_user, source=source, key="namespace", match="prefix", value="ml-",
                                  initiative=ml).rule
    client = login(admin_user)
    url = reverse("portfolio:allocationrule_delete", args=[rule.pk])
    page = client.get(url).content.decode()
    assert 'id="delete-moved">2<' in page and 'id="delete-unallocated">$95.00<' in page

    refused = client.post(url, {})
    assert refused.status_code == 200 and "Tick the box to confirm" in refused.content.decode()
    assert AllocationRule.objects.filter(pk=rule.pk).exists()

    done = client.post(url, {"confirm": "yes"}, follow=True)
    assert done.redirect_chain[-1][0].startswith(reverse("portfolio:allocationrule_list"))
    assert "deleted. Records of 1 month were re-allocated." in done.content.decode()
    assert not AllocationRule.objects.exists()
    assert MonthlyCost.objects.get(initiative=None, month=JUNE).amount == Decimal("100.00")
    assert rule_entries("allocation_rule_deleted").get().actor == admin_user


def test_the_edit_page_offers_delete_only_to_those_who_may(login, reviewer, source):
    rule = AllocationRuleFactory(source=source)
    assert login(reviewer).get(reverse("portfolio:allocationrule_delete", args=[rule.pk])).status_code == 403


# API -----------------------------------------------------------------------------------------------------------------


def test_the_api_writes_deletes_and_reorders_through_the_services(api_client, admin_user, source):
    api_client.force_authenticate(admin_user)
    search, ml = InitiativeFactory(external_id="INV-S"), InitiativeFactory(external_id="INV-ML")
    rules_url = reverse("api:allocationrule-list")
    broad = api_client.post(rules_url, {"source": source.pk, "key": "namespace", "match": "prefix", "value": "ml-",
                                        "initiative": ml.pk}, format="json").json()
    narrow = api_client.post(rules_url, {"source": source.pk, "key": "namespace", "value": "ml-search",
                                         "initiative": search.pk}, format="json").json()
    assert (broad["order"], narrow["order"]) == (1, 2)
    assert rule_entries("allocation_rule_created").count() == 2

    reorder = reverse("api:allocationrule-reorder")
    bad = api_client.post(reorder, {"source": source.pk, "rules": [narrow["id"]]}, format="json")
    assert bad.status_code == 400 and "not listed" in str(bad.json()["rules"])
    response = api_client.post(reorder, {"source": source.pk, "rules": [narrow["id"], broad["id"]]}, format="json")
    assert response.status_code == 200
    assert [(r["id"], r["order"]) for r in response.json()] == [(narrow["id"], 1), (broad["id"], 2)]
    assert allocated(search) == Decimal("80.00")

    moved = api_client.patch(reverse("api:allocationrule-detail", args=[broad["id"]]),
                             {"source": CostSourceFactory().pk}, format="json")
    assert moved.status_code == 400 and "source" in moved.json()

    assert api_client.delete(reverse("api:allocationrule-detail", args=[narrow["id"]])).status_code == 204
    assert allocated(ml) == Decimal("95.00")
    assert rule_entries("allocation_rule_deleted").get().actor == admin_user


def test_rules_move_up_and_down_on_the_page(login, admin_user, reviewer, source):
    search, ml = InitiativeFactory(external_id="INV-S"), InitiativeFactory(external_id="INV-ML")
    broad = allocation_rule_create(actor=admin_user, source=source, key="namespace", match="prefix", value="ml-",
                                   initiative=ml).rule
    narrow = allocation_rule_create(actor=admin_user, source=source, key="namespace", value="ml-search",
                                    initiative=search).rule
    detail = reverse("portfolio:costsource_detail", args=[source.pk])
    client = login(admin_user)
    assert reverse("portfolio:allocationrule_move", args=[narrow.pk]) in client.get(detail).content.decode()

    response = client.post(reverse("portfolio:allocationrule_move", args=[narrow.pk]),
                           {"direction": "up", "next": detail}, follow=True)
    assert response.redirect_chain[-1][0] == detail
    assert "is now number 1 of k8s" in response.content.decode()
    assert list(source.rules.order_by("order").values_list("pk", flat=True)) == [narrow.pk, broad.pk]
    assert allocated(search) == Decimal("80.00")
    assert LogEntry.objects.filter(additional_data__event="allocation_rules_reordered").get().actor == admin_user

    first = client.post(reverse("portfolio:allocationrule_move", args=[narrow.pk]), {"direction": "up"}, follow=True)
    assert "already the first of k8s" in first.content.decode()
    outside = client.post(reverse("portfolio:allocationrule_move", args=[broad.pk]),
                          {"direction": "sideways", "next": "https://evil.example/"})
    assert outside["Location"].startswith(reverse("portfolio:allocationrule_list"))
    assert list(source.rules.order_by("order").values_list("pk", flat=True)) == [narrow.pk, broad.pk]
    assert LogEntry.objects.filter(additional_data__event="allocation_rules_reordered").count() == 1

    reviewer_page = login(reviewer).get(detail).content.decode()
    assert reverse("portfolio:allocationrule_move", args=[narrow.pk]) not in reviewer_page
