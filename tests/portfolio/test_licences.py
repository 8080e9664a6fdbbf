"""Licence pools of ended initiatives: read-only like everything else of the initiative, on the API and the Django
admin alike; only an administrator's delete still removes one (its seats were cancelled). And a pool's terms history:
new seats, price or initiative apply from a month on, earlier months keep the terms they had."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portfolio.choices import CostCategory, Stage
from portfolio.costs.services.rollups import rollups_recompute
from portfolio.models import LicencePool, LicencePoolTerms, MonthlyCost
from portfolio.services.licences import POOL_FIELDS, licence_pool_delete_preview, licence_pool_save
from tests.factories import InitiativeFactory, LicencePoolFactory, VendorFactory

pytestmark = pytest.mark.django_db

ENDED = [Stage.KILLED, Stage.REJECTED, Stage.RETIRED]


def pool_events(event: str):
    return LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(LicencePool),
                                   additional_data__event=event)


def refusal(response) -> str:
    assert response.status_code == 400, response.content
    return str(response.json())


@pytest.mark.parametrize("stage", ENDED)
def test_no_pool_is_bought_for_an_ended_initiative(api_client, admin_user, stage):
    ended = InitiativeFactory(name="Project Echo", stage=stage)
    api_client.force_authenticate(admin_user)
    body = {"tool": "QA pool", "vendor": VendorFactory().pk, "seats_purchased": 5, "price_per_seat_month": "10",
            "initiative": ended.pk}

    response = api_client.post(reverse("api:licencepool-list"), body, format="json")

    assert f"“Project Echo” is {stage.label.lower()}: an ended initiative is read-only" in refusal(response)
    assert not LicencePool.objects.exists()
    assert not pool_events("licence_pool_created").exists()


def test_the_pool_of_an_ended_initiative_is_not_changed(api_client, owner):
    pool = LicencePoolFactory(initiative=InitiativeFactory(name="Project Echo", owner=owner, stage=Stage.KILLED))
    api_client.force_authenticate(owner)

    response = api_client.patch(reverse("api:licencepool-detail", args=[pool.pk]), {"seats_purchased": 500},
                                format="json")

    assert "“Project Echo” is killed: an ended initiative is read-only" in refusal(response)
    pool.refresh_from_db()
    assert pool.seats_purchased == 250
    assert not pool_events("licence_pool_changed").exists()


def test_a_pool_is_neither_moved_to_nor_away_from_an_ended_initiative(api_client, admin_user):
    running, ended = InitiativeFactory(stage=Stage.PRODUCTION), InitiativeFactory(name="Echo", stage=Stage.RETIRED)
    running_pool, ended_pool = LicencePoolFactory(initiative=running), LicencePoolFactory(initiative=ended)
    api_client.force_authenticate(admin_user)

    to_ended = api_client.patch(reverse("api:licencepool-detail", args=[running_pool.pk]), {"initiative": ended.pk},
                                format="json")
    away = api_client.patch(reverse("api:licencepool-detail", args=[ended_pool.pk]), {"initiative": running.pk},
                            format="json")
    unlinked = api_client.patch(reverse("api:licencepool-detail", args=[ended_pool.pk]), {"initiative": None},
                                format="json")

    for response in (to_ended, away, unlinked):
        assert "“Echo” is retired: an ended initiative is read-only" in refusal(response)
    assert LicencePool.objects.get(pk=running_pool.pk).initiative == running
    assert LicencePool.objects.get(pk=ended_pool.pk).initiative == ended


def test_saving_a_pool_of_an_ended_initiative_unchanged_is_no_refusal(api_client, admin_user):
    """A re-import or a PUT of the same values changes nothing, so there is nothing to refuse."""
    pool = LicencePoolFactory(initiative=InitiativeFactory(stage=Stage.KILLED))
    api_client.force_authenticate(admin_user)

    response = api_client.patch(reverse("api:licencepool-detail", args=[pool.pk]), {"seats_purchased": 250},
                                format="json")

    assert response.status_code == 200
    assert not pool_events("licence_pool_changed").exists()


def test_an_administrator_still_deletes_the_pool_of_an_ended_initiative(api_client, admin_user):
    pool = LicencePoolFactory(initiative=InitiativeFactory(stage=Stage.KILLED))
    api_client.force_authenticate(admin_user)

    assert api_client.delete(reverse("api:licencepool-detail", args=[pool.pk])).status_code == 204

    assert not LicencePool.objects.exists()
    assert pool_events("licence_pool_deleted").get().actor == admin_user


def test_pools_of_no_initiative_and_of_running_ones_are_unaffected(api_client, admin_user):
    unlinked, running = LicencePoolFactory(initiative=None), LicencePoolFactory()
    InitiativeFactory(stage=Stage.KILLED)
    api_client.force_authenticate(admin_user)

    for pool in (unlinked, running):
        response = api_client.patch(reverse("api:licencepool-detail", args=[pool.pk]), {"seats_purchased": 300},
                                    format="json")
        assert response.status_code == 200, response.content
        assert LicencePool.objects.get(pk=pool.pk).seats_purchased == 300


def test_the_django_admin_refuses_changing_the_pool_of_an_ended_initiative(client, admin_user):
    pool = LicencePoolFactory(initiative=InitiativeFactory(name="Project Echo", stage=Stage.KILLED))
    client.force_login(admin_user)
    body = {"tool": pool.tool, "vendor": pool.vendor.pk, "seats_purchased": 500, "price_per_seat_month": "19.00",
            "initiative": pool.initiative.pk, "_save": "Save"}

    response = client.post(reverse("admin:portfolio_licencepool_change", args=[pool.pk]), body)

    assert response.status_code == 200
    assert "an ended initiative is read-only" in response.content.decode()
    pool.refresh_from_db()
    assert pool.seats_purchased == 250


# Terms history: a change applies from a month on, earlier months keep the terms they had -----------------------------


def shift(month: date, months: int) -> date:
    year, index = divmod(month.year * 12 + month.month - 1 + months, 12)
    return date(year, index + 1, 1)


THIS = timezone.now().date().replace(day=1)
LAST, FIRST = shift(THIS, -1), shift(THIS, -2)


def licences(initiative, month: date) -> Decimal | None:
    row = MonthlyCost.objects.filter(initiative=initiative, month=month, category=CostCategory.LICENCES).first()
    return row.amount if row else None


def terms_of(pool) -> list[tuple[date, int, Decimal, int | None]]:
    return list(LicencePoolTerms.objects.filter(pool=pool).order_by("effective_from").values_list(
        "effective_from", "seats_purchased", "price_per_seat_month", "initiative_id"))


@pytest.fixture
def bought(admin_user, initiative) -> LicencePool:
    """100 seats at 10.00, bought two months ago, with the three months since rolled up."""
    pool = licence_pool_save(actor=admin_user, tool="Copilot", vendor=VendorFactory(), seats_purchased=100,
                             price_per_seat_month=Decimal("10"), initiative=initiative, effective_from=FIRST)
    rollups_recompute(months=[FIRST, LAST, THIS])
    assert [licences(initiative, month) for month in (FIRST, LAST, THIS)] == [Decimal("1000.00")] * 3
    return pool


def save(pool: LicencePool, actor, **values) -> LicencePool:
    current = {name: getattr(pool, name) for name in POOL_FIELDS}
    return licence_pool_save(actor=actor, pool=pool, **{**current, **values})


def test_a_pool_bought_earlier_charges_from_the_month_given(bought, initiative):
    assert terms_of(bought) == [(FIRST, 100, Decimal("10.0000"), initiative.pk)]
    rollups_recompute(months=[shift(FIRST, -1)])
    assert licences(initiative, shift(FIRST, -1)) is None


def test_a_price_change_from_this_month_leaves_earlier_months_as_they_were(bought, admin_user, initiative):
    save(bought, admin_user, price_per_seat_month=Decimal("12"))

    assert [licences(initiative, month) for month in (FIRST, LAST, THIS)] == \
        [Decimal("1000.00"), Decimal("1000.00"), Decimal("1200.00")]
    assert terms_of(bought) == [(FIRST, 100, Decimal("10.0000"), initiative.pk),
                                (THIS, 100, Decimal("12.0000"), initiative.pk)]
    bought.refresh_from_db()
    assert bought.price_per_seat_month == Decimal("12")  # the pool's own fields: the current terms
    changed = pool_events("licence_pool_changed").get()
    assert changed.changes == {"price_per_seat_month": ["10", "12"]}
    assert changed.additional_data["effective_from"] == f"{THIS:%Y-%m}"
    assert changed.additional_data["months_recomputed"] == [f"{THIS:%Y-%m}"]
    # A roll-up rebuilt later (a cost source re-read) still charges each month its own terms.
    rollups_recompute(months=[FIRST, LAST, THIS])
    assert [licences(initiative, month) for month in (LAST, THIS)] == [Decimal("1000.00"), Decimal("1200.00")]


def test_more_seats_from_last_month_replace_the_terms_from_then_on(bought, admin_user, initiative):
    save(bought, admin_user, price_per_seat_month=Decimal("12"))  # this month
    save(bought, admin_user, seats_purchased=150, effective_from=LAST)  # replaces this month's row too

    assert [licences(initiative, month) for month in (FIRST, LAST, THIS)] == \
        [Decimal("1000.00"), Decimal("1800.00"), Decimal("1800.00")]
    assert terms_of(bought) == [(FIRST, 100, Decimal("10.0000"), initiative.pk),
                                (LAST, 150, Decimal("12.0000"), initiative.pk)]


def test_a_correction_from_the_first_month_changes_every_month(bought, admin_user, initiative):
    save(bought, admin_user, seats_purchased=120, effective_from=FIRST)

    assert [licences(initiative, month) for month in (FIRST, LAST, THIS)] == [Decimal("1200.00")] * 3
    assert terms_of(bought) == [(FIRST, 120, Decimal("10.0000"), initiative.pk)]
    assert pool_events("licence_pool_changed").get().additional_data["months_recomputed"] == \
        [f"{month:%Y-%m}" for month in (FIRST, LAST, THIS)]


def test_a_move_to_another_initiative_from_a_month_keeps_earlier_months_on_the_first(bought, admin_user, initiative):
    other = InitiativeFactory(stage=Stage.PRODUCTION)

    save(bought, admin_user, initiative=other, effective_from=LAST)

    assert [licences(initiative, month) for month in (FIRST, LAST, THIS)] == [Decimal("1000.00"), None, None]
    assert [licences(other, month) for month in (FIRST, LAST, THIS)] == [None, Decimal("1000.00"), Decimal("1000.00")]
    assert LicencePool.objects.get(pk=bought.pk).initiative == other


def test_terms_the_history_already_has_from_that_month_are_no_change(bought, admin_user):
    """Saving the current terms again (a re-import, a PUT of what a GET gave) writes nothing."""
    audit = LogEntry.objects.count()
    save(bought, admin_user, effective_from=LAST)
    save(bought, admin_user)
    assert LogEntry.objects.count() == audit
    assert len(terms_of(bought)) == 1


def test_a_history_only_correction_is_written_and_audited(bought, admin_user, initiative):
    save(bought, admin_user, seats_purchased=150)  # from this month
    save(bought, admin_user, effective_from=FIRST)  # the 150 seats were there from the start

    assert terms_of(bought) == [(FIRST, 150, Decimal("10.0000"), initiative.pk)]
    assert licences(initiative, FIRST) == Decimal("1500.00")
    corrected = pool_events("licence_pool_changed").order_by("pk").last()
    assert list(corrected.changes) == ["terms"]
    assert corrected.additional_data["effective_from"] == f"{FIRST:%Y-%m}"


def test_a_new_name_alone_writes_no_terms(bought, admin_user):
    save(bought, admin_user, tool="Copilot Business")
    assert len(terms_of(bought)) == 1
    assert pool_events("licence_pool_changed").get().changes == {"tool": ["Copilot", "Copilot Business"]}


@pytest.mark.parametrize(("month", "message"), [
    (shift(THIS, 1), f"Effective from {shift(THIS, 1):%Y-%m} is after the current month ({THIS:%Y-%m})"),
    (shift(FIRST, -1), f"Effective from {shift(FIRST, -1):%Y-%m} is before the pool's first month ({FIRST:%Y-%m})"),
])
def test_effective_from_in_the_future_or_before_the_first_month_is_refused(bought, admin_user, initiative, month,
                                                                           message):
    audit = LogEntry.objects.count()
    with pytest.raises(ValidationError) as refused:
        save(bought, admin_user, seats_purchased=500, effective_from=month)

    assert message in refused.value.message_dict["effective_from"][0]
    assert LicencePool.objects.get(pk=bought.pk).seats_purchased == 100
    assert len(terms_of(bought)) == 1 and LogEntry.objects.count() == audit
    assert licences(initiative, THIS) == Decimal("1000.00")


def test_no_pool_is_bought_from_a_future_month(admin_user):
    with pytest.raises(ValidationError) as refused:
        licence_pool_save(actor=admin_user, tool="Copilot", vendor=VendorFactory(), seats_purchased=1,
                          price_per_seat_month=Decimal("1"), effective_from=shift(THIS, 1))
    assert "effective_from" in refused.value.message_dict
    assert not LicencePool.objects.exists() and not LicencePoolTerms.objects.exists()


def test_the_migration_gives_every_existing_pool_its_first_terms():
    from importlib import import_module

    from django.apps import apps

    initiative = InitiativeFactory()
    pool = LicencePool.objects.create(tool="Copilot", vendor=VendorFactory(), seats_purchased=40,
                                      price_per_seat_month=Decimal("19"), initiative=initiative)
    LicencePool.objects.filter(pk=pool.pk).update(created_at=datetime(2025, 3, 14, 9, tzinfo=UTC))

    import_module("portfolio.migrations.0036_licence_pool_terms").first_terms(apps, None)

    assert terms_of(pool) == [(date(2025, 3, 1), 40, Decimal("19.0000"), initiative.pk)]


def test_the_api_writes_terms_from_a_month_and_shows_the_history(api_client, admin_user, bought, initiative):
    api_client.force_authenticate(admin_user)
    url = reverse("api:licencepool-detail", args=[bought.pk])

    response = api_client.patch(url, {"seats_purchased": 200, "effective_from": f"{LAST:%Y-%m}"}, format="json")

    assert response.status_code == 200, response.content
    assert [licences(initiative, month) for month in (FIRST, LAST, THIS)] == \
        [Decimal("1000.00"), Decimal("2000.00"), Decimal("2000.00")]
    assert "effective_from" not in response.json()
    assert api_client.get(url).json()["terms"] == [
        {"effective_from": f"{FIRST:%Y-%m}", "seats_purchased": 100, "price_per_seat_month": "10.0000",
         "initiative": initiative.pk},
        {"effective_from": f"{LAST:%Y-%m}", "seats_purchased": 200, "price_per_seat_month": "10.0000",
         "initiative": initiative.pk},
    ]
    as_date = api_client.patch(url, {"price_per_seat_month": "11", "effective_from": f"{THIS:%Y-%m}-15"},
                               format="json")
    assert as_date.status_code == 200, as_date.content
    assert terms_of(bought)[-1][:3] == (THIS, 200, Decimal("11.0000"))

    future = api_client.patch(url, {"seats_purchased": 300, "effective_from": f"{shift(THIS, 1):%Y-%m}"},
                              format="json")
    assert future.status_code == 400 and "is after the current month" in str(future.json()["effective_from"])
    garbled = api_client.patch(url, {"seats_purchased": 300, "effective_from": "March"}, format="json")
    assert garbled.status_code == 400
    assert "effective_from must be a month as YYYY-MM" in str(garbled.json()["effective_from"])
    assert LicencePool.objects.get(pk=bought.pk).seats_purchased == 200


def test_the_django_admin_sets_terms_from_a_month_and_shows_the_history(client, admin_user, bought, initiative):
    client.force_login(admin_user)
    url = reverse("admin:portfolio_licencepool_change", args=[bought.pk])
    page = client.get(url).content.decode()
    assert 'type="month"' in page and f'value="{THIS:%Y-%m}"' in page
    assert "earlier months keep their terms" in page
    body = {"tool": bought.tool, "vendor": bought.vendor.pk, "seats_purchased": 130, "price_per_seat_month": "10",
            "initiative": initiative.pk, "effective_from": f"{LAST:%Y-%m}", "_save": "Save"}

    assert client.post(url, body).status_code == 302

    assert [licences(initiative, month) for month in (FIRST, LAST, THIS)] == \
        [Decimal("1000.00"), Decimal("1300.00"), Decimal("1300.00")]
    page = client.get(url).content.decode()
    assert f"From {FIRST:%Y-%m}: 100 seats" in page and f"From {LAST:%Y-%m}: 130 seats" in page
    future = client.post(url, {**body, "seats_purchased": 1, "effective_from": f"{shift(THIS, 1):%Y-%m}"})
    assert future.status_code == 200 and "is after the current month" in future.content.decode()


def test_the_initiative_page_shows_a_pool_s_terms_history(login, reviewer, bought, admin_user, initiative):
    save(bought, admin_user, seats_purchased=150)
    page = login(reviewer).get(initiative.get_absolute_url()).content.decode()
    assert "Terms history" in page
    assert f"From {FIRST:%Y-%m}: 100 seats" in page and f"From {THIS:%Y-%m}: 150 seats" in page


def test_the_api_records_a_pool_bought_earlier_with_its_true_start(api_client, admin_user, initiative):
    api_client.force_authenticate(admin_user)
    body = {"tool": "Copilot", "vendor": VendorFactory().pk, "seats_purchased": 10, "price_per_seat_month": "10",
            "initiative": initiative.pk, "effective_from": f"{LAST:%Y-%m}"}

    response = api_client.post(reverse("api:licencepool-list"), body, format="json")

    assert response.status_code == 201, response.content
    assert [row["effective_from"] for row in response.json()["terms"]] == [f"{LAST:%Y-%m}"]
    assert pool_events("licence_pool_created").get().additional_data["effective_from"] == f"{LAST:%Y-%m}"


def test_an_owner_may_not_rewrite_the_months_the_pool_served_another_initiative(api_client, admin_user, owner,
                                                                                 initiative, bought):
    other = InitiativeFactory(stage=Stage.PRODUCTION)
    save(bought, admin_user, initiative=other, effective_from=FIRST)  # it served `other` first ...
    save(bought, admin_user, initiative=initiative, effective_from=LAST)  # ... and the owner's from last month
    api_client.force_authenticate(owner)
    url = reverse("api:licencepool-detail", args=[bought.pk])

    refused = api_client.patch(url, {"seats_purchased": 5, "effective_from": f"{FIRST:%Y-%m}"}, format="json")
    allowed = api_client.patch(url, {"seats_purchased": 5, "effective_from": f"{LAST:%Y-%m}"}, format="json")

    assert refused.status_code == 403 and allowed.status_code == 200, allowed.content
    assert [licences(other, FIRST), licences(initiative, LAST)] == [Decimal("1000.00"), Decimal("50.00")]


def test_a_correction_reaching_months_an_ended_initiative_was_charged_is_refused(admin_user, initiative, bought):
    ended = InitiativeFactory(name="Project Echo", stage=Stage.PRODUCTION)
    save(bought, admin_user, initiative=ended, effective_from=FIRST)
    save(bought, admin_user, initiative=initiative, effective_from=LAST)
    ended.stage = Stage.RETIRED
    ended.save()

    with pytest.raises(ValidationError, match="an ended initiative is read-only"):
        save(bought, admin_user, seats_purchased=5, effective_from=FIRST)
    save(bought, admin_user, seats_purchased=5, effective_from=LAST)  # the months since it moved are not Echo's

    assert [licences(ended, FIRST), licences(initiative, LAST)] == [Decimal("1000.00"), Decimal("50.00")]


# The pages: administrators buy, adjust and delete pools ---------------------------------------------------------------


def test_an_administrator_buys_a_pool_on_its_page_charged_from_the_month_given(login, admin_user, initiative):
    client = login(admin_user)
    listing = client.get(reverse("portfolio:licencepool_list")).content.decode()
    assert reverse("portfolio:licencepool_create") in listing and "Add licence pool" in listing
    form = client.get(reverse("portfolio:licencepool_create")).content.decode()
    assert 'type="month"' in form and f'value="{THIS:%Y-%m}"' in form  # this month unless said otherwise

    response = client.post(reverse("portfolio:licencepool_create"), {
        "tool": "Copilot", "vendor": VendorFactory().pk, "seats_purchased": "40", "price_per_seat_month": "19",
        "initiative": initiative.pk, "effective_from": f"{LAST:%Y-%m}"})

    pool = LicencePool.objects.get()
    assert response.status_code == 302 and response.url == f"{reverse('portfolio:licencepool_list')}?q=Copilot"
    assert terms_of(pool) == [(LAST, 40, Decimal("19.0000"), initiative.pk)]
    created = pool_events("licence_pool_created").get()
    assert created.actor == admin_user and created.additional_data["effective_from"] == f"{LAST:%Y-%m}"
    assert reverse("portfolio:licencepool_edit", args=[pool.pk]) in client.get(response.url).content.decode()


def test_the_edit_page_asks_from_which_month_and_earlier_months_keep_their_cost(login, admin_user, bought,
                                                                                 initiative):
    client = login(admin_user)
    url = reverse("portfolio:licencepool_edit", args=[bought.pk])
    page = client.get(url).content.decode()
    assert f'value="{THIS:%Y-%m}"' in page and "earlier months keep their cost" in page
    assert 'id="terms-history"' in page and f"<td>{FIRST:%Y-%m}</td>" in page

    response = client.post(url, {"tool": "Copilot", "vendor": bought.vendor.pk, "seats_purchased": "100",
                                 "price_per_seat_month": "12", "initiative": initiative.pk,
                                 "effective_from": f"{THIS:%Y-%m}"}, follow=True)

    assert f"its terms apply from {THIS:%Y-%m}; earlier months keep their cost" in response.content.decode()
    assert [licences(initiative, month) for month in (FIRST, LAST, THIS)] == \
        [Decimal("1000.00"), Decimal("1000.00"), Decimal("1200.00")]
    assert terms_of(bought) == [(FIRST, 100, Decimal("10.0000"), initiative.pk),
                                (THIS, 100, Decimal("12.0000"), initiative.pk)]
    changed = pool_events("licence_pool_changed").get()
    assert changed.actor == admin_user and changed.changes == {"price_per_seat_month": ["10", "12"]}
    page = client.get(url).content.decode()
    assert f"<td>{FIRST:%Y-%m}</td>" in page and f"<td>{THIS:%Y-%m}</td>" in page  # the history lists both


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"seats_purchased": "-5"}, "seats_purchased", "greater than or equal to 0"),
    ({"price_per_seat_month": "abc"}, "price_per_seat_month", "Enter a number."),
    ({"vendor": ""}, "vendor", "This field is required."),
    ({"effective_from": "March"}, "effective_from", "as YYYY-MM"),
    ({"effective_from": f"{shift(THIS, 1):%Y-%m}"}, "effective_from", "is after the current month"),
    ({"effective_from": f"{shift(FIRST, -1):%Y-%m}"}, "effective_from", "is before the pool's first month"),
])
def test_a_bad_value_is_refused_on_its_field_and_nothing_is_written(login, admin_user, bought, initiative, change,
                                                                     field, message):
    body = {"tool": "Copilot", "vendor": bought.vendor.pk, "seats_purchased": "150", "price_per_seat_month": "10",
            "initiative": initiative.pk, "effective_from": f"{LAST:%Y-%m}", **change}

    response = login(admin_user).post(reverse("portfolio:licencepool_edit", args=[bought.pk]), body)

    assert response.status_code == 200 and "Nothing was saved" in response.content.decode()
    assert message in " ".join(response.context["form"].errors[field])
    assert terms_of(bought) == [(FIRST, 100, Decimal("10.0000"), initiative.pk)]
    assert [licences(initiative, month) for month in (FIRST, LAST, THIS)] == [Decimal("1000.00")] * 3
    assert not pool_events("licence_pool_changed").exists()


def test_deleting_a_pool_asks_first_saying_what_spend_goes_away(login, admin_user, bought, initiative):
    client = login(admin_user)
    url = reverse("portfolio:licencepool_delete", args=[bought.pk])
    edit = client.get(reverse("portfolio:licencepool_edit", args=[bought.pk])).content.decode()
    assert url in edit

    page = client.get(url).content.decode()
    assert "3,000.00" in page and "over 3 months" in page
    assert all(f"<td>{month:%Y-%m}</td>" in page for month in (FIRST, LAST, THIS))
    unconfirmed = client.post(url, {})
    assert unconfirmed.status_code == 200 and "Tick the box to confirm" in unconfirmed.content.decode()
    assert LicencePool.objects.filter(pk=bought.pk).exists() and not pool_events("licence_pool_deleted").exists()

    response = client.post(url, {"confirm": "yes"}, follow=True)

    assert f"The licence cost left the roll-ups of 3 months ({FIRST:%Y-%m} to {THIS:%Y-%m})" in \
        response.content.decode()
    assert not LicencePool.objects.filter(pk=bought.pk).exists()
    assert [licences(initiative, month) for month in (FIRST, LAST, THIS)] == [None] * 3
    deleted = pool_events("licence_pool_deleted").get()
    assert deleted.actor == admin_user
    assert deleted.additional_data["months_recomputed"] == [f"{m:%Y-%m}" for m in (FIRST, LAST, THIS)]


def test_the_delete_preview_charges_each_month_its_own_terms(admin_user, bought, initiative):
    save(bought, admin_user, seats_purchased=150)  # from this month
    save(bought, admin_user, initiative=None, effective_from=THIS)  # and serving nobody from this month
    LicencePoolFactory(initiative=InitiativeFactory())  # another initiative's cost keeps this month rolled up
    rollups_recompute(months=[THIS])

    charges = licence_pool_delete_preview(pool=bought)

    assert [(c.month, c.seats_purchased, c.cost) for c in charges] == [
        (FIRST, 100, Decimal("1000.00")), (LAST, 100, Decimal("1000.00")), (THIS, 150, None)]


def test_the_pool_pages_read_in_constant_queries_whatever_the_history(login, admin_user, bought, initiative):
    client = login(admin_user)
    urls = [reverse(name, args=[bought.pk]) for name in ("portfolio:licencepool_edit", "portfolio:licencepool_delete")]
    client.get(urls[0])  # the caller's roles are read once, then remembered
    with CaptureQueriesContext(connection) as few:
        for url in urls:
            assert client.get(url).status_code == 200
    save(bought, admin_user, seats_purchased=120, initiative=InitiativeFactory(), effective_from=LAST)
    save(bought, admin_user, seats_purchased=140, initiative=InitiativeFactory())
    assert len(terms_of(bought)) == 3
    with CaptureQueriesContext(connection) as more:
        for url in urls:
            assert client.get(url).status_code == 200
    assert len(more) == len(few)
