"""factory_boy factories of cost ingestion (issue 5): sources, rules, rates and records."""

from datetime import date
from decimal import Decimal

import factory

from portfolio import models
from portfolio.choices import CostCategory, RuleMatch, SourceType
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
