"""factory_boy factories of cost ingestion (issue 5): sources, rules, rates and records."""

from datetime import date, datetime
from decimal import Decimal

import factory
from django.utils import timezone

from portfolio import models
from portfolio.choices import CostCategory, RuleMatch, RunStatus, SourceType
from tests.factories import InitiativeFactory


class CostSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.CostSource
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"source-{n}")
    type = SourceType.FOCUS
    settings = factory.LazyFunction(dict)
    schedule = "daily"


class AllocationRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.AllocationRule

    source = factory.SubFactory(CostSourceFactory)
    order = factory.Sequence(lambda n: n + 1)
    key = "tag:project"
    match = RuleMatch.EXACT
    value = "search-assistant"
    initiative = factory.SubFactory(InitiativeFactory)


class CurrencyRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.CurrencyRate

    currency = "EUR"
    valid_from = date(2025, 1, 1)
    rate_to_reporting = Decimal("1.10")


class CostRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.CostRecord

    source = factory.SubFactory(CostSourceFactory)
    period = date(2025, 6, 1)
    charge_date = date(2025, 6, 14)
    amount = Decimal("10.00")
    currency = "USD"
    amount_reporting = factory.SelfAttribute("amount")
    category = CostCategory.INFERENCE
    keys = factory.LazyFunction(dict)


class IngestionRunFactory(factory.django.DjangoModelFactory):
    """A finished, successful read of a month that wrote rows (what counts as the month delivered)."""

    class Meta:
        model = models.IngestionRun

    source = factory.SubFactory(CostSourceFactory)
    period = date(2025, 6, 1)
    status = RunStatus.SUCCEEDED
    rows_read = 3
    rows_written = 3
    finished_at = factory.LazyFunction(timezone.now)


def source_added(source: models.CostSource, when: datetime) -> models.CostSource:
    """Backdate when a source was added (created_at is set on insert)."""
    models.CostSource.objects.filter(pk=source.pk).update(created_at=when)
    source.refresh_from_db()
    return source
