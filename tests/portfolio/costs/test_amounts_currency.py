"""The currency the database's amounts are in: recorded by migrate, and a REPORTING_CURRENCY that differs on a
database holding amounts stops migrate, runserver and `manage.py check` (portfolio.E001) instead of relabelling
every amount silently."""

from __future__ import annotations

from io import StringIO

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from portfolio.costs.checks import amounts_currency_check
from portfolio.costs.selectors import amounts_currency_recorded
from portfolio.costs.services.amounts_currency import amounts_currency_on_migrate, amounts_currency_record
from portfolio.models import AmountsCurrency
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db


def test_migrate_records_the_currency_set_and_a_database_without_amounts_follows_the_setting(settings):
    assert amounts_currency_recorded() == "USD"  # the test database was migrated under the default
    assert amounts_currency_check() == []
    settings.REPORTING_CURRENCY = "EUR"
    assert amounts_currency_check() == []  # nothing to mislabel yet
    amounts_currency_on_migrate(using="default")
    assert amounts_currency_recorded() == "EUR"
    AmountsCurrency.objects.all().delete()  # a database upgraded to this version: its amounts are in the setting's
    InitiativeFactory()
    amounts_currency_on_migrate(using="default")
    assert amounts_currency_recorded() == "EUR"


def test_another_reporting_currency_on_a_database_with_amounts_is_a_system_check_error(settings):
    InitiativeFactory()  # its declared monthly cost is an amount
    settings.REPORTING_CURRENCY = "EUR"
    [error] = amounts_currency_check()
    assert error.id == "portfolio.E001" and error.is_serious()
    assert error.msg.startswith("The amounts in this database are in USD, but REPORTING_CURRENCY is EUR:")
    assert "Set REPORTING_CURRENCY=USD again" in error.hint and "start a new database" in error.hint
    with pytest.raises(SystemCheckError, match="portfolio.E001"):
        call_command("check")
    amounts_currency_record()  # a later migrate does not follow the setting once amounts exist
    assert amounts_currency_recorded() == "USD"
    settings.REPORTING_CURRENCY = "usd"
    assert amounts_currency_check() == []


def test_an_operator_who_knows_the_amounts_are_in_the_new_currency_relabels_them_audited(settings):
    InitiativeFactory()
    settings.REPORTING_CURRENCY = "EUR"
    out = StringIO()
    call_command("amounts_currency", stdout=out)
    assert out.getvalue().strip() == "Amounts: USD; REPORTING_CURRENCY: EUR; the database holds amounts."
    call_command("amounts_currency", "--relabel", stdout=out)
    assert "recorded as EUR (were USD); nothing was converted" in out.getvalue()
    assert amounts_currency_recorded() == "EUR" and amounts_currency_check() == []
    row = LogEntry.objects.get(additional_data__event="amounts_currency_recorded")
    assert row.changes_dict == {"code": ["USD", "EUR"]} and row.additional_data["source"] == "command"
