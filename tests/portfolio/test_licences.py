"""Licence pools of ended initiatives: read-only like everything else of the initiative, on the API and the Django
admin alike; only an administrator's delete still removes one (its seats were cancelled)."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from portfolio.choices import Stage
from portfolio.models import LicencePool
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
