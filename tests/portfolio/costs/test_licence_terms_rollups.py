"""The licence cost in the monthly roll-ups: each month charged with the pool's terms in effect that month, read in
queries that do not grow with the number of pools."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portfolio.choices import CostCategory
from portfolio.costs.services.rollups import rollups_recompute
from portfolio.models import LicencePoolActivity, LicencePoolTerms, MonthlyCost, SeatActivity
from portfolio.services.licences import licence_pool_save
from tests.factories import InitiativeFactory, VendorFactory
from tests.portfolio.costs.factories import CostSourceFactory

pytestmark = pytest.mark.django_db

THIS = timezone.now().date().replace(day=1)


def month_before(month: date) -> date:
    return (month.replace(day=1) - date.resolution).replace(day=1)


LAST = month_before(THIS)
EARLIER = month_before(LAST)


def buy(actor, initiative, *, seats: int = 10, effective_from: date = LAST):
    return licence_pool_save(actor=actor, tool="Copilot", vendor=VendorFactory(), seats_purchased=seats,
                             price_per_seat_month=Decimal("10"), initiative=initiative, effective_from=effective_from)


def licences(initiative, month: date) -> Decimal | None:
    row = MonthlyCost.objects.filter(initiative=initiative, month=month, category=CostCategory.LICENCES).first()
    return row.amount if row else None


def queries_of_a_roll_up() -> int:
    with CaptureQueriesContext(connection) as captured:
        rollups_recompute(months=[LAST, THIS])
    return len(captured.captured_queries)


def test_the_roll_up_reads_the_terms_of_all_pools_at_once(admin_user):
    first = buy(admin_user, InitiativeFactory())
    licence_pool_save(actor=admin_user, pool=first, tool=first.tool, vendor=first.vendor, seats_purchased=20,
                      price_per_seat_month=Decimal("10"), initiative=first.initiative)  # a second terms row
    one_pool = queries_of_a_roll_up()

    for _ in range(4):
        pool = buy(admin_user, InitiativeFactory())
        licence_pool_save(actor=admin_user, pool=pool, tool=pool.tool, vendor=pool.vendor, seats_purchased=30,
                          price_per_seat_month=Decimal("10"), initiative=pool.initiative)

    assert queries_of_a_roll_up() == one_pool
    assert MonthlyCost.objects.filter(month=LAST, category=CostCategory.LICENCES).count() == 5
    assert licences(first.initiative, LAST) == Decimal("100.00") and licences(first.initiative, THIS) == \
        Decimal("200.00")


def test_a_pool_is_charged_from_its_first_terms_month_not_from_when_it_was_recorded(admin_user):
    initiative = InitiativeFactory()
    buy(admin_user, initiative, effective_from=LAST)  # recorded today

    rollups_recompute(months=[EARLIER, LAST, THIS])

    assert [licences(initiative, month) for month in (EARLIER, LAST, THIS)] == [None, Decimal("100.00"),
                                                                                Decimal("100.00")]


def test_seat_data_before_the_first_month_is_charged_on_the_first_terms_and_counts_that_month_s_seats(admin_user):
    initiative = InitiativeFactory()
    pool = buy(admin_user, initiative, seats=10, effective_from=LAST)
    licence_pool_save(actor=admin_user, pool=pool, tool=pool.tool, vendor=pool.vendor, seats_purchased=50,
                      price_per_seat_month=Decimal("10"), initiative=initiative)  # from this month
    source = CostSourceFactory(name="seats")
    for month in (EARLIER, LAST, THIS):
        SeatActivity.objects.create(source=source, licence_pool=pool, period=month, user="ada@example.com",
                                    last_activity=month)

    rollups_recompute(months=[EARLIER, LAST, THIS])

    assert [licences(initiative, month) for month in (EARLIER, LAST, THIS)] == \
        [Decimal("100.00"), Decimal("100.00"), Decimal("500.00")]
    purchased = dict(LicencePoolActivity.objects.filter(licence_pool=pool).values_list("month", "purchased"))
    assert purchased == {EARLIER: 10, LAST: 10, THIS: 50}


def test_a_pool_serving_no_initiative_from_a_month_is_charged_to_none_from_then(admin_user):
    initiative = InitiativeFactory()
    pool = buy(admin_user, initiative)
    licence_pool_save(actor=admin_user, pool=pool, tool=pool.tool, vendor=pool.vendor, seats_purchased=10,
                      price_per_seat_month=Decimal("10"), initiative=None)

    rollups_recompute(months=[LAST, THIS])

    assert [licences(initiative, month) for month in (LAST, THIS)] == [Decimal("100.00"), None]
    assert not MonthlyCost.objects.filter(initiative=None, category=CostCategory.LICENCES).exists()


def test_the_roll_up_reads_a_month_s_licence_terms_once(admin_user):
    """The licence costs and the seats purchased each read the month's terms: two identical queries a month."""
    buy(admin_user, InitiativeFactory())
    with CaptureQueriesContext(connection) as captured:
        rollups_recompute(months=[LAST, THIS])
    table = LicencePoolTerms._meta.db_table
    reads = [query["sql"] for query in captured.captured_queries
             if query["sql"].lstrip().upper().startswith("SELECT") and f'FROM "{table}"' in query["sql"]]
    assert len(reads) == 2, reads  # one a month
    assert len(set(reads)) == 2  # and each month's differs
