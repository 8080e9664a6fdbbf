"""Currency rates: services (validation, re-conversion, audit), the list page (sort, filter, CSV, queries), the
admin form pages and the API."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portfolio.costs.services.currency_rates import currency_rate_create, currency_rate_update
from portfolio.costs.services.rollups import rollups_recompute
from portfolio.models import CostRecord, CurrencyRate, MonthlyCost
from tests.portfolio.costs.factories import CostSourceFactory, CurrencyRateFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("portfolio:currencyrate_list")
NEW_URL = reverse("portfolio:currencyrate_create")
API_URL = reverse("api:currencyrate-list")
JUNE, JULY = date(2025, 6, 1), date(2025, 7, 1)


def eur_record(day: date, amount: str, reporting: str) -> CostRecord:
    return CostRecord.objects.create(
        source=CostSourceFactory(name="eu-focus"), period=day.replace(day=1), charge_date=day,
        amount=Decimal(amount), currency="EUR", amount_reporting=Decimal(reporting), category="inference",
    )


def rate_entries(event: str):
    return LogEntry.objects.filter(additional_data__event=event)


# Services ------------------------------------------------------------------------------------------------------------


def test_create_saves_audits_and_converts_the_records_of_its_window(admin_user):
    CurrencyRateFactory(currency="EUR", valid_from=date(2025, 1, 1), rate_to_reporting=Decimal("1.10"))
    june = eur_record(date(2025, 6, 20), "100.00", "110.00")
    may = eur_record(date(2025, 5, 20), "100.00", "110.00")
    rollups_recompute(months={JUNE, date(2025, 5, 1)})

    change = currency_rate_create(actor=admin_user, currency="eur", valid_from=JUNE,
                                  rate_to_reporting=Decimal("1.20"))
    assert change.rate.currency == "EUR" and change.records == 1 and change.months == {JUNE}
    june.refresh_from_db()
    may.refresh_from_db()
    assert (june.amount_reporting, may.amount_reporting) == (Decimal("120"), Decimal("110"))
    assert MonthlyCost.objects.get(month=JUNE).amount == Decimal("120.00")
    entry = rate_entries("currency_rate_created").get()
    assert entry.actor == admin_user and entry.additional_data["records_converted"] == 1
    assert entry.changes["rate_to_reporting"] == [None, "1.2"]
    assert LogEntry.objects.filter(object_pk=str(change.rate.pk), content_type__model="currencyrate").count() == 1


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"currency": "USD"}, "currency", "USD is the reporting currency"),
    ({"currency": "EURO"}, "currency", ""),
    ({"rate_to_reporting": Decimal("0")}, "rate_to_reporting", "A rate must be greater than 0, not 0."),
    ({"rate_to_reporting": Decimal("-1")}, "rate_to_reporting", "A rate must be greater than 0, not -1."),
    ({"valid_from": date(2025, 1, 1)}, "valid_from", "EUR already has a rate from 2025-01-01"),
])
def test_bad_rates_are_refused_naming_the_field_and_nothing_is_written(admin_user, values, field, message):
    CurrencyRateFactory(currency="EUR", valid_from=date(2025, 1, 1))
    body = {"currency": "EUR", "valid_from": JUNE, "rate_to_reporting": Decimal("1.2"), **values}
    with pytest.raises(ValidationError) as caught:
        currency_rate_create(actor=admin_user, **body)
    assert field in caught.value.message_dict
    assert message in " ".join(caught.value.message_dict[field])
    assert CurrencyRate.objects.count() == 1 and not rate_entries("currency_rate_created").exists()


def test_only_administrators_maintain_rates(reviewer, executive):
    rate = CurrencyRateFactory()
    for user in (reviewer, executive):
        with pytest.raises(PermissionDenied):
            currency_rate_create(actor=user, currency="GBP", valid_from=JUNE, rate_to_reporting=Decimal("1.3"))
        with pytest.raises(PermissionDenied):
            currency_rate_update(actor=user, rate=rate, rate_to_reporting=Decimal("9"))
    assert CurrencyRate.objects.count() == 1


def test_update_converts_old_and_new_windows_and_audits_what_changed(admin_user):
    CurrencyRateFactory(currency="EUR", valid_from=date(2025, 1, 1), rate_to_reporting=Decimal("1.10"))
    rate = currency_rate_create(actor=admin_user, currency="EUR", valid_from=JUNE,
                                rate_to_reporting=Decimal("1.20")).rate
    june = eur_record(date(2025, 6, 20), "100.00", "120.00")
    july = eur_record(date(2025, 7, 5), "100.00", "120.00")

    change = currency_rate_update(actor=admin_user, rate=rate, rate_to_reporting=Decimal("1.25"))
    assert change.records == 2
    june.refresh_from_db()
    assert june.amount_reporting == Decimal("125")

    change = currency_rate_update(actor=admin_user, rate=rate, valid_from=JULY)  # June falls back to 1.10
    june.refresh_from_db()
    july.refresh_from_db()
    assert (june.amount_reporting, july.amount_reporting) == (Decimal("110"), Decimal("125"))
    assert change.months == {JUNE}  # July's amount did not move
    entry = rate_entries("currency_rate_changed").order_by("pk").last()
    assert entry.changes == {"valid_from": ["2025-06-01", "2025-07-01"]}

    same = currency_rate_update(actor=admin_user, rate=rate, rate_to_reporting=Decimal("1.25"))
    assert same.records == 0 and rate_entries("currency_rate_changed").count() == 2


# Pages ---------------------------------------------------------------------------------------------------------------


def make_rates(count: int) -> None:
    for index in range(count):
        CurrencyRate.objects.create(currency=("EUR", "GBP", "CHF")[index % 3], valid_from=date(2024, 1 + index, 1),
                                    rate_to_reporting=Decimal("1.0") + Decimal(index) / 100)


def test_list_shows_windows_sorts_filters_and_exports(login, reviewer):
    make_rates(9)
    client = login(reviewer)
    response = client.get(LIST_URL, {"currency": "eur"})
    records = [row.record for row in response.context["table"].page.object_list]
    assert [r.valid_from for r in records] == [date(2024, 7, 1), date(2024, 4, 1), date(2024, 1, 1)]
    assert records[0].valid_until is None and records[1].valid_until == date(2024, 7, 1)
    html = response.content.decode()
    assert "New rate" not in html and reverse("portfolio:currencyrate_edit", args=[records[0].pk]) not in html
    assert 'id="reporting-currency">USD<' in html

    in_effect = client.get(LIST_URL, {"on": "2024-05-15"})
    assert {(r.currency, r.valid_from) for r in (row.record for row in in_effect.context["table"].page.object_list)
            } == {("EUR", date(2024, 4, 1)), ("GBP", date(2024, 5, 1)), ("CHF", date(2024, 3, 1))}

    by_rate = client.get(LIST_URL, {"sort": "-rate_to_reporting"})
    rates = [row.record.rate_to_reporting for row in by_rate.context["table"].page.object_list]
    assert rates == sorted(rates, reverse=True)

    exported = client.get(LIST_URL, {"currency": "GBP", "_export": "csv"})
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    assert rows[0][:3] == ["Currency", "Valid from", "Until (exclusive)"]
    assert [row[0] for row in rows[1:]] == ["GBP"] * 3 and rows[1][3] == "1.07"


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("url", [LIST_URL, f"{LIST_URL}?_export=csv", f"{LIST_URL}?on=2024-06-01"])
def test_the_list_runs_a_constant_number_of_queries(login, admin_user, url):
    client = login(admin_user)
    make_rates(3)
    few = count_queries(client, url)
    CurrencyRate.objects.all().delete()
    make_rates(12)
    assert count_queries(client, url) == few


def test_admins_create_and_edit_rates_on_the_pages(login, admin_user):
    client = login(admin_user)
    assert "New rate" in client.get(LIST_URL).content.decode()
    eur_record(date(2025, 6, 20), "100.00", "0")
    response = client.post(NEW_URL, {"currency": "eur", "valid_from": "2025-06-01", "rate_to_reporting": "1.15"},
                           follow=True)
    assert "Rate EUR from 2025-06-01 saved. 1 cost record converted again." in response.content.decode()
    rate = CurrencyRate.objects.get()
    assert CostRecord.objects.get().amount_reporting == Decimal("115")

    edit = reverse("portfolio:currencyrate_edit", args=[rate.pk])
    assert client.post(edit, {"currency": "EUR", "valid_from": "2025-06-01", "rate_to_reporting": "1.2"}
                       ).status_code == 302
    assert CostRecord.objects.get().amount_reporting == Decimal("120")

    refused = client.post(NEW_URL, {"currency": "USD", "valid_from": "2025-06-01", "rate_to_reporting": "1"})
    assert refused.status_code == 200
    assert "USD is the reporting currency" in refused.content.decode()
    duplicate = client.post(NEW_URL, {"currency": "EUR", "valid_from": "2025-06-01", "rate_to_reporting": "1.3"})
    assert duplicate.status_code == 200 and "Nothing was saved" in duplicate.content.decode()
    assert CurrencyRate.objects.count() == 1


@pytest.mark.parametrize(("rate", "shown"), [("0", "0"), ("-1", "-1"), ("-0.50", "-0.5")])
def test_a_rate_not_above_0_gets_one_message_naming_it_on_the_page_and_the_api(login, api_client, admin_user, rate,
                                                                               shown):
    """A negative rate said "Ensure this value is greater than or equal to 0." while 0 said "greater than 0"."""
    expected = [f"A rate must be greater than 0, not {shown}."]
    page = login(admin_user).post(NEW_URL, {"currency": "EUR", "valid_from": "2025-06-01", "rate_to_reporting": rate})
    assert page.status_code == 200 and page.context["form"].errors["rate_to_reporting"] == expected

    api_client.force_authenticate(admin_user)
    answer = api_client.post(API_URL, {"currency": "EUR", "valid_from": "2025-06-01", "rate_to_reporting": rate},
                             format="json")
    assert answer.status_code == 400 and answer.json()["rate_to_reporting"] == expected
    assert not CurrencyRate.objects.exists()


# API -----------------------------------------------------------------------------------------------------------------


def test_the_api_lists_filters_creates_and_changes_rates(api_client, admin_user, executive):
    make_rates(6)
    api_client.force_authenticate(executive)
    listing = api_client.get(API_URL, {"currency": "EUR"}).json()
    results = listing["results"] if isinstance(listing, dict) else listing
    assert [r["valid_from"] for r in results] == ["2024-04-01", "2024-01-01"]
    assert results[0]["valid_until"] is None and results[1]["valid_until"] == "2024-04-01"
    assert results[0]["reporting_currency"] == "USD"
    assert api_client.post(API_URL, {"currency": "JPY", "valid_from": "2025-01-01",
                                     "rate_to_reporting": "0.0067"}, format="json").status_code == 403

    api_client.force_authenticate(admin_user)
    created = api_client.post(API_URL, {"currency": "JPY", "valid_from": "2025-01-01", "rate_to_reporting": "0.0067"},
                              format="json")
    assert created.status_code == 201, created.json()
    duplicate = api_client.post(API_URL, {"currency": "JPY", "valid_from": "2025-01-01", "rate_to_reporting": "1"},
                                format="json")
    assert duplicate.status_code == 400 and "JPY already has a rate from 2025-01-01" in str(duplicate.json())
    detail = reverse("api:currencyrate-detail", args=[created.json()["id"]])
    changed = api_client.patch(detail, {"rate_to_reporting": "0.0070"}, format="json")
    assert changed.status_code == 200 and Decimal(changed.json()["rate_to_reporting"]) == Decimal("0.0070")
    assert rate_entries("currency_rate_changed").get().actor == admin_user
    assert api_client.delete(detail).status_code == 405  # rates are replaced by later ones, not deleted
    in_effect = api_client.get(API_URL, {"on": "2024-02-15"}).json()
    assert {r["currency"] for r in (in_effect["results"] if isinstance(in_effect, dict) else in_effect)} == {
        "EUR", "GBP"}


@pytest.mark.parametrize(("values", "field"), [
    ({"currency": "GBP"}, "currency"),
    ({"valid_from": date(2025, 6, 10)}, "valid_from"),
])
def test_a_change_leaving_records_without_a_rate_is_refused_naming_their_months(admin_user, values, field):
    """A missing rate is an error, never a kept conversion: the records would keep an amount no rate explains."""
    rate = currency_rate_create(actor=admin_user, currency="EUR", valid_from=JUNE,
                                rate_to_reporting=Decimal("1.20")).rate
    june = eur_record(date(2025, 6, 3), "10.00", "12.00")

    with pytest.raises(ValidationError) as caught:
        currency_rate_update(actor=admin_user, rate=rate, **values)

    message = caught.value.message_dict[field][0]
    assert message.startswith("1 EUR cost record of 2025-06 would be left without a rate")
    rate.refresh_from_db()
    june.refresh_from_db()
    assert (rate.currency, rate.valid_from, june.amount_reporting) == ("EUR", JUNE, Decimal("12"))
    assert rate_entries("currency_rate_changed").count() == 0


def test_a_change_a_previous_rate_still_covers_is_accepted(admin_user):
    CurrencyRateFactory(currency="EUR", valid_from=date(2025, 1, 1), rate_to_reporting=Decimal("1.10"))
    rate = currency_rate_create(actor=admin_user, currency="EUR", valid_from=JUNE,
                                rate_to_reporting=Decimal("1.20")).rate
    june = eur_record(date(2025, 6, 3), "10.00", "12.00")
    currency_rate_update(actor=admin_user, rate=rate, currency="GBP")
    june.refresh_from_db()
    assert june.amount_reporting == Decimal("11")


def test_the_api_refuses_a_change_leaving_records_without_a_rate(api_client, admin_user):
    rate = currency_rate_create(actor=admin_user, currency="EUR", valid_from=JUNE,
                                rate_to_reporting=Decimal("1.50")).rate
    eur_record(date(2025, 6, 3), "10.00", "15.00")
    api_client.force_authenticate(admin_user)
    response = api_client.patch(reverse("api:currencyrate-detail", args=[rate.pk]), {"valid_from": "2025-06-10"},
                                format="json")
    assert response.status_code == 400
    assert response.json()["valid_from"][0].startswith("1 EUR cost record of 2025-06 would be left without a rate "
                                                       "(the first EUR rate would be from 2025-06-10)")
    rate.refresh_from_db()
    assert rate.valid_from == JUNE
