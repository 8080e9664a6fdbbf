"""Every write path of a resource whose writes have consequences (the page, the API, the Django admin, the import)
goes through its service, so it re-allocates or recomputes the roll-ups and writes the same audit row.

Each test runs the same write through each path and asserts the same outcome; roll-up and run admins are read-only.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from portfolio.choices import CostCategory
from portfolio.costs.services.rollups import rollups_recompute
from portfolio.models import (
    AllocationRule,
    CostRecord,
    CostSource,
    CurrencyRate,
    LicencePool,
    MonthlyCost,
)
from tests.factories import InitiativeFactory, LicencePoolFactory, UserFactory, VendorFactory
from tests.portfolio.costs.factories import AllocationRuleFactory, CostRecordFactory, CostSourceFactory
from tollgate.roles import Role

pytestmark = pytest.mark.django_db

JUNE = date(2025, 6, 1)
PATHS = ["page", "api", "admin"]


def events(model, event: str):
    return LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model),
                                   additional_data__event=event)


def monthly(initiative, month: date, category: str | None = None) -> Decimal | None:
    rows = MonthlyCost.objects.filter(initiative=initiative, month=month)
    if category:
        rows = rows.filter(category=category)
    row = rows.first()
    return row.amount if row else None


@pytest.fixture
def superuser(db):
    """An administrator the way `createsuperuser` and the demo make one: a superuser in the admin role."""
    return UserFactory(username="su.admin@example.com", role=Role.ADMIN, is_superuser=True)


@pytest.fixture(params=["admin_user", "superuser"])
def administrator(request):
    return request.getfixturevalue(request.param)


def admin_url(model, action: str, *args) -> str:
    return reverse(f"admin:portfolio_{model._meta.model_name}_{action}", args=args)


# Allocation rules ----------------------------------------------------------------------------------------------------


@pytest.fixture
def k8s() -> CostSource:
    source = CostSourceFactory(name="k8s", type="opencost")
    for namespace, amount in (("ml-search", "80.00"), ("ml-chat", "15.00")):
        CostRecordFactory(source=source, period=JUNE, charge_date=JUNE, amount=Decimal(amount),
                          category=CostCategory.COMPUTE, keys={"namespace": namespace})
    return source


def rule_create(path: str, client, api_client, user, source: CostSource, initiative) -> None:
    body = {"source": source.pk, "order": 1, "key": "namespace", "match": "prefix", "value": "ml-",
            "initiative": initiative.pk}
    if path == "page":
        response = client.post(reverse("portfolio:allocationrule_create"), {**body, "save": "1"})
        assert response.status_code == 302
    elif path == "api":
        api_client.force_authenticate(user)
        assert api_client.post(reverse("api:allocationrule-list"), body, format="json").status_code == 201
    else:
        response = client.post(admin_url(AllocationRule, "add"), {**body, "_save": "Save"})
        assert response.status_code == 302, response.content.decode()[:2000]


@pytest.mark.parametrize("path", PATHS)
def test_an_allocation_rule_written_by_any_path_reallocates_and_audits(path, client, api_client, administrator, k8s):
    client.force_login(administrator)
    ml = InitiativeFactory(external_id="INV-ML")

    rule_create(path, client, api_client, administrator, k8s, ml)

    assert monthly(ml, JUNE) == Decimal("95.00")  # the source's records moved, the roll-up followed
    created = events(AllocationRule, "allocation_rule_created").get()
    assert created.actor == administrator
    assert created.additional_data["months_reallocated"] == ["2025-06"]
    assert created.changes["value"] == [None, "ml-"]
    assert LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(AllocationRule)).count() == 1


def test_the_admin_changes_and_deletes_a_rule_through_the_services(client, admin_user, k8s):
    client.force_login(admin_user)
    ml = InitiativeFactory(external_id="INV-ML")
    rule = AllocationRuleFactory(source=k8s, order=1, key="namespace", match="prefix", value="ml-", initiative=ml)
    rollups_recompute(months=[JUNE])  # the factory wrote the rule without re-allocating: nothing is allocated yet
    assert monthly(ml, JUNE) is None

    changed = client.post(admin_url(AllocationRule, "change", rule.pk), {
        "order": 1, "key": "namespace", "match": "exact", "value": "ml-chat", "initiative": ml.pk, "_save": "Save"})
    assert changed.status_code == 302
    assert monthly(ml, JUNE) == Decimal("15.00")
    assert events(AllocationRule, "allocation_rule_changed").get().changes == {
        "match": ["prefix", "exact"], "value": ["ml-", "ml-chat"]}

    refused = client.post(admin_url(AllocationRule, "change", rule.pk), {
        "order": 1, "key": "cluster", "match": "exact", "value": "x", "initiative": ml.pk, "_save": "Save"})
    assert refused.status_code == 200 and "Unknown key" in refused.content.decode()

    deleted = client.post(admin_url(AllocationRule, "delete", rule.pk), {"post": "yes"})
    assert deleted.status_code == 302
    assert not AllocationRule.objects.exists()
    assert monthly(ml, JUNE) is None
    assert events(AllocationRule, "allocation_rule_deleted").get().actor == admin_user


def test_the_cost_source_admin_shows_rules_read_only_with_a_link_to_each(client, admin_user, k8s):
    client.force_login(admin_user)
    rule = AllocationRuleFactory(source=k8s, key="namespace", value="ml-chat")
    html = client.get(admin_url(CostSource, "change", k8s.pk)).content.decode()
    assert admin_url(AllocationRule, "change", rule.pk) in html
    assert 'name="rules-0-value"' not in html  # not editable here: the inline would bypass the re-allocation


# Currency rates ------------------------------------------------------------------------------------------------------


def eur_record(amount: str = "100.00") -> CostRecord:
    return CostRecordFactory(source=CostSourceFactory(name="azure"), period=JUNE, charge_date=date(2025, 6, 20),
                             amount=Decimal(amount), currency="EUR", amount_reporting=Decimal("0"),
                             initiative=InitiativeFactory(external_id="INV-EU"))


@pytest.mark.parametrize("path", PATHS)
def test_a_currency_rate_written_by_any_path_converts_recomputes_and_audits(path, client, api_client, administrator):
    client.force_login(administrator)
    record = eur_record()
    body = {"currency": "EUR", "valid_from": "2025-06-01", "rate_to_reporting": "1.15"}
    if path == "page":
        assert client.post(reverse("portfolio:currencyrate_create"), body).status_code == 302
    elif path == "api":
        api_client.force_authenticate(administrator)
        assert api_client.post(reverse("api:currencyrate-list"), body, format="json").status_code == 201
    else:
        assert client.post(admin_url(CurrencyRate, "add"), {**body, "_save": "Save"}).status_code == 302

    record.refresh_from_db()
    assert record.amount_reporting == Decimal("115")
    assert monthly(record.initiative, JUNE) == Decimal("115.00")
    created = events(CurrencyRate, "currency_rate_created").get()
    assert created.actor == administrator and created.additional_data["records_converted"] == 1

    rate = CurrencyRate.objects.get()
    if path == "admin":
        edited = client.post(admin_url(CurrencyRate, "change", rate.pk),
                             {**body, "rate_to_reporting": "1.2", "_save": "Save"})
        assert edited.status_code == 302
        record.refresh_from_db()
        assert record.amount_reporting == Decimal("120")
        assert monthly(record.initiative, JUNE) == Decimal("120.00")
        assert events(CurrencyRate, "currency_rate_changed").get().changes == {
            "rate_to_reporting": ["1.15", "1.2"]}


@pytest.mark.parametrize(("values", "message"), [
    ({"rate_to_reporting": "0"}, "A rate must be greater than 0, not 0."),
    ({"rate_to_reporting": "-1"}, "A rate must be greater than 0, not -1."),  # one message, not Django's "≥ 0"
    ({"currency": "USD"}, "USD is the reporting currency"),
])
def test_the_admin_refuses_the_rates_the_service_refuses(client, admin_user, values, message):
    client.force_login(admin_user)
    body = {"currency": "EUR", "valid_from": "2025-06-01", "rate_to_reporting": "1.1", **values}
    refused = client.post(admin_url(CurrencyRate, "add"), {**body, "_save": "Save"})
    assert refused.status_code == 200 and message in refused.content.decode()
    assert not CurrencyRate.objects.exists()


@pytest.mark.parametrize(("values", "field"), [
    ({"rate_to_reporting": Decimal("0")}, "rate_to_reporting"),
    ({"rate_to_reporting": Decimal("-1")}, "rate_to_reporting"),
    ({"currency": "USD"}, "currency"),
])
def test_the_model_refuses_what_the_service_refuses(values, field):
    rate = CurrencyRate(**{"currency": "EUR", "valid_from": JUNE, "rate_to_reporting": Decimal("1.1"), **values})
    with pytest.raises(ValidationError) as caught:
        rate.full_clean()
    assert field in caught.value.message_dict


def test_rates_are_not_deleted_in_the_admin(client, admin_user):
    client.force_login(admin_user)
    rate = CurrencyRate.objects.create(currency="EUR", valid_from=JUNE, rate_to_reporting=Decimal("1.1"))
    assert client.post(admin_url(CurrencyRate, "delete", rate.pk), {"post": "yes"}).status_code == 403
    assert CurrencyRate.objects.exists()


# Licence pools -------------------------------------------------------------------------------------------------------


@pytest.fixture
def this_month() -> date:
    """A month already rolled up (a record in it) that counts pools created now."""
    month = timezone.now().date().replace(day=1)
    CostRecordFactory(source=CostSourceFactory(name="bills"), period=month, charge_date=month)
    rollups_recompute(months=[month])
    return month


@pytest.mark.parametrize("path", ["api", "admin"])
def test_a_licence_pool_written_by_any_path_recomputes_the_licence_cost_and_audits(
        path, client, api_client, administrator, this_month):
    client.force_login(administrator)
    api_client.force_authenticate(administrator)
    copilot = InitiativeFactory(external_id="INV-COPILOT")
    vendor = VendorFactory(name="GitHub")
    body = {"tool": "Copilot", "vendor": vendor.pk, "seats_purchased": 100, "price_per_seat_month": "19.00",
            "initiative": copilot.pk}
    if path == "api":
        assert api_client.post(reverse("api:licencepool-list"), body, format="json").status_code == 201
    else:
        assert client.post(admin_url(LicencePool, "add"), {**body, "_save": "Save"}).status_code == 302
    pool = LicencePool.objects.get()
    assert monthly(copilot, this_month, CostCategory.LICENCES) == Decimal("1900.00")
    created = events(LicencePool, "licence_pool_created").get()
    assert created.actor == administrator and created.additional_data["months_recomputed"] == [f"{this_month:%Y-%m}"]

    if path == "api":
        response = api_client.patch(reverse("api:licencepool-detail", args=[pool.pk]), {"seats_purchased": 150},
                                    format="json")
        assert response.status_code == 200
    else:
        response = client.post(admin_url(LicencePool, "change", pool.pk), {**body, "seats_purchased": 150,
                                                                            "_save": "Save"})
        assert response.status_code == 302
    assert monthly(copilot, this_month, CostCategory.LICENCES) == Decimal("2850.00")
    assert events(LicencePool, "licence_pool_changed").get().changes == {"seats_purchased": ["100", "150"]}

    if path == "api":
        assert api_client.delete(reverse("api:licencepool-detail", args=[pool.pk])).status_code == 204
    else:
        assert client.post(admin_url(LicencePool, "delete", pool.pk), {"post": "yes"}).status_code == 302
    assert not LicencePool.objects.exists()
    assert monthly(copilot, this_month, CostCategory.LICENCES) is None
    assert events(LicencePool, "licence_pool_deleted").get().actor == administrator


def test_an_owner_adjusts_their_pool_but_may_not_move_it_to_another_initiative(api_client, owner, initiative,
                                                                               other_initiative, this_month):
    pool = LicencePoolFactory(initiative=initiative, seats_purchased=10, price_per_seat_month=Decimal("10"))
    api_client.force_authenticate(owner)
    url = reverse("api:licencepool-detail", args=[pool.pk])
    assert api_client.patch(url, {"seats_purchased": 20}, format="json").status_code == 200
    assert monthly(initiative, this_month, CostCategory.LICENCES) == Decimal("200.00")
    moved = api_client.patch(url, {"initiative": other_initiative.pk}, format="json")
    assert moved.status_code == 403
    pool.refresh_from_db()
    assert pool.initiative == initiative


def test_the_initiative_admin_shows_its_pools_read_only(client, admin_user, initiative):
    pool = LicencePoolFactory(initiative=initiative)
    client.force_login(admin_user)
    html = client.get(reverse("admin:portfolio_initiative_change", args=[initiative.pk])).content.decode()
    assert admin_url(LicencePool, "change", pool.pk) in html
    assert 'name="licence_pools-0-seats_purchased"' not in html


# Cost sources --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["api", "admin"])
def test_a_cost_source_written_by_any_path_is_validated_and_audited(path, client, api_client, administrator):
    client.force_login(administrator)
    api_client.force_authenticate(administrator)
    body = {"name": "openai-org", "type": "openai", "settings": {"organisation": "org-1"},
            "credential_env": "OPENAI_ADMIN_KEY", "schedule": "daily", "enabled": True}
    secret = {**body, "name": "leaky", "settings": {"api_key": "sk-live"}}
    if path == "api":
        assert api_client.post(reverse("api:costsource-list"), body, format="json").status_code == 201
        refused = api_client.post(reverse("api:costsource-list"), secret, format="json")
        assert refused.status_code == 400 and "settings" in refused.json()
    else:
        form = {**body, "settings": '{"organisation": "org-1"}', "enabled": "on", "_save": "Save",
                "rules-TOTAL_FORMS": "0", "rules-INITIAL_FORMS": "0"}
        assert client.post(admin_url(CostSource, "add"), form).status_code == 302
        refused = client.post(admin_url(CostSource, "add"), {**form, "name": "leaky",
                                                             "settings": '{"api_key": "sk-live"}'})
        assert refused.status_code == 200 and "Settings may not hold secrets" in refused.content.decode()
    source = CostSource.objects.get()
    assert source.name == "openai-org"
    created = events(CostSource, "cost_source_created").get()
    assert created.actor == administrator
    assert created.changes["credential_env"] == [None, "OPENAI_ADMIN_KEY"]


@pytest.mark.parametrize("path", ["api", "admin"])
def test_deleting_a_cost_source_by_any_path_recomputes_the_months_of_its_records(path, client, api_client,
                                                                                administrator, k8s):
    client.force_login(administrator)
    api_client.force_authenticate(administrator)
    ml = InitiativeFactory(external_id="INV-ML")
    CostRecord.objects.filter(source=k8s).update(initiative=ml)
    rollups_recompute(months=[JUNE])
    assert monthly(ml, JUNE) == Decimal("95.00")
    if path == "api":
        url = reverse("api:costsource-detail", args=[k8s.pk])
        assert api_client.delete(f"{url}?confirm={k8s.name}").status_code == 204
    else:
        assert client.post(admin_url(CostSource, "delete", k8s.pk), {"post": "yes"}).status_code == 302
    assert not CostSource.objects.exists() and not CostRecord.objects.exists()
    assert monthly(ml, JUNE) is None
    deleted = events(CostSource, "cost_source_deleted").get()
    assert deleted.actor == administrator and deleted.additional_data["months_recomputed"] == ["2025-06"]


@pytest.mark.parametrize("confirm", [None, "", "another-source"])
def test_an_api_delete_of_a_cost_source_without_its_name_is_refused_saying_what_it_removes(confirm, api_client,
                                                                                        administrator, k8s):
    api_client.force_authenticate(administrator)
    url = reverse("api:costsource-detail", args=[k8s.pk])
    response = api_client.delete(url if confirm is None else f"{url}?confirm={confirm}")
    assert response.status_code == 400
    message = response.json()["confirm"][0]
    lines = CostRecord.objects.filter(source=k8s).count()
    assert f"Deleting the cost source “{k8s.name}” removes its " in message
    assert f" ingestion runs and {lines} cost lines covering 1 month (2025-06)" in message
    assert f"To confirm, repeat the request with ?confirm={k8s.name}." in message
    assert CostSource.objects.filter(pk=k8s.pk).exists() and CostRecord.objects.filter(source=k8s).count() == lines
    assert not events(CostSource, "cost_source_deleted").exists()


def test_changing_a_cost_source_in_the_admin_audits_only_what_changed(client, admin_user):
    client.force_login(admin_user)
    source = CostSourceFactory(name="focus-eu", type="focus", schedule="daily")
    form = {"name": "focus-eu", "type": "focus", "settings": "{}", "credential_env": "", "schedule": "monthly",
            "enabled": "on", "_save": "Save", "rules-TOTAL_FORMS": "0", "rules-INITIAL_FORMS": "0"}
    assert client.post(admin_url(CostSource, "change", source.pk), form).status_code == 302
    assert events(CostSource, "cost_source_changed").get().changes == {"schedule": ["daily", "monthly"]}


# Read-only admins ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model_name", ["monthlycost", "monthlytokenusage", "licencepoolactivity", "ingestionrun",
                                        "importrun", "costrecord", "usagerecord", "seatactivity"])
def test_roll_up_run_and_record_admins_are_read_only_delete_included(client, superuser, model_name):
    from django.apps import apps
    from django.contrib import admin

    model = apps.get_model("portfolio", model_name)
    model_admin = admin.site._registry[model]
    request = type("Request", (), {"user": superuser})()
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_the_inventory_import_writes_its_pools_through_the_service(settings, tmp_path, admin_user, this_month):
    from tests.portfolio.test_import import csv_bytes, run_import

    settings.MEDIA_ROOT = tmp_path / "media"
    run = run_import(csv_bytes({"vendors": "GitHub", "models": "", "seats_purchased": "100"}), actor=admin_user,
                     filename="seats.csv")
    assert run.status == "succeeded", run.errors
    pool = LicencePool.objects.get()
    assert pool.monthly_cost > 0
    assert monthly(pool.initiative, this_month, CostCategory.LICENCES) == pool.monthly_cost
    created = events(LicencePool, "licence_pool_created").get()
    assert created.actor == admin_user
    assert created.additional_data["import_run"] == run.pk and created.additional_data["source"] == "inventory_import"
    assert created.additional_data["months_recomputed"] == [f"{this_month:%Y-%m}"]


def test_an_import_rebuilds_each_month_of_its_pools_once_not_once_per_row(settings, tmp_path, admin_user, this_month,
                                                                        monkeypatch):
    from portfolio.costs.services import rollups
    from tests.portfolio.test_import import csv_bytes, run_import

    settings.MEDIA_ROOT = tmp_path / "media"
    rebuilt: list[date] = []
    real = rollups._rollup_costs
    monkeypatch.setattr(rollups, "_rollup_costs",
                        lambda period, terms: (rebuilt.append(period.start), real(period, terms))[1])
    rows = csv_bytes({"vendors": "GitHub", "models": "", "seats_purchased": "100"},
                     {"external_id": "INV-0002", "name": "Second seat tool", "vendors": "GitHub", "models": "",
                      "seats_purchased": "40"})
    run = run_import(rows, actor=admin_user, filename="seats.csv")
    assert run.status == "succeeded", run.errors
    assert LicencePool.objects.count() == 2
    assert rebuilt == [this_month]
    assert monthly(LicencePool.objects.get(seats_purchased=40).initiative, this_month, CostCategory.LICENCES) == \
        LicencePool.objects.get(seats_purchased=40).monthly_cost
    assert all(entry.additional_data["months_recomputed"] == [f"{this_month:%Y-%m}"]
               for entry in events(LicencePool, "licence_pool_created"))


def test_a_roll_up_rebuild_outside_a_deferral_happens_at_once(this_month, monkeypatch):
    from portfolio.costs.services import rollups

    rebuilt: list[date] = []
    monkeypatch.setattr(rollups, "_rollup_costs", lambda period, terms: rebuilt.append(period.start))
    with rollups.rollups_deferred():
        rollups_recompute(months={this_month, this_month.replace(day=15)})
        with rollups.rollups_deferred():  # nested: the outer one rebuilds
            rollups_recompute(months={this_month})
        assert rebuilt == []
    assert rebuilt == [this_month]
    rollups_recompute(months={this_month})
    assert rebuilt == [this_month, this_month]
