"""OpenCost allocation connector against a local server serving the documented response shape."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portfolio.costs.connectors.base import ConnectorError, CostCategory, Period
from portfolio.costs.connectors.opencost import OpenCostConnector, allocation_keys
from tests.portfolio.costs.connectors.conftest import FAST, Reply, fixture_json

JUNE = Period.month(2025, 6)
ALLOCATION = "/allocation/compute"


def connector(provider, **settings) -> OpenCostConnector:
    return OpenCostConnector(settings={"base_url": provider.url, **FAST, **settings})


def test_rows_per_namespace_and_day(provider):
    provider.route(ALLOCATION, Reply(fixture_json("opencost/allocation_namespace.json")))
    reader = connector(provider)

    rows = list(reader.read(JUNE))

    assert [(row.charge_date, row.keys, row.amount, row.gpu_hours, row.gpu_cost) for row in rows] == [
        (date(2025, 6, 14), {"namespace": "ml-training"}, Decimal("272.81"), Decimal(96), Decimal("245.76")),
        (date(2025, 6, 14), {"namespace": "search-api"}, Decimal("4.62345"), Decimal(0), Decimal(0)),
        (date(2025, 6, 15), {"namespace": "ml-training"}, Decimal("131.98"), Decimal(48), Decimal("122.88")),
        (date(2025, 6, 15), {}, Decimal(0), Decimal(0), Decimal(0)),  # __unallocated__, NaN written as null
    ]
    assert (reader.rows_read, reader.rows_skipped) == (5, 1)  # __idle__ is skipped
    assert reader.skipped_by_reason == {"idle cost, OpenCost __idle__": 1}  # not "not AI spend"
    assert {row.category for row in rows} == {CostCategory.COMPUTE}
    assert {row.currency for row in rows} == {"USD"}


def test_sends_the_window_and_aggregation(provider):
    provider.route(ALLOCATION, Reply(fixture_json("opencost/allocation_label.json")))

    rows = list(connector(provider, aggregate="label:project", currency="eur").read(JUNE))

    (request,) = provider.requests
    assert request.param("window") == "2025-06-01T00:00:00Z,2025-07-01T00:00:00Z"
    assert request.param("aggregate") == "label:project"
    assert (request.param("step"), request.param("accumulate")) == ("1d", "false")
    assert [(row.keys, row.amount) for row in rows] == [
        ({"label:project": "search-assistant"}, Decimal("272.81")),
        ({}, Decimal("12.5")),
    ]
    assert {row.currency for row in rows} == {"EUR"}


def test_default_aggregate_is_namespace(provider):
    provider.route(ALLOCATION, Reply({"code": 200, "data": []}))

    assert list(connector(provider).read(JUNE)) == []
    assert provider.requests[0].param("aggregate") == "namespace"


def test_code_other_than_200_is_an_error(provider):
    provider.route(ALLOCATION, Reply({"code": 400, "message": "invalid window"}))

    with pytest.raises(ConnectorError, match="code 400: invalid window"):
        list(connector(provider).read(JUNE))


def test_http_errors(provider):
    provider.route(ALLOCATION, Reply("upstream connect error", status=503))

    with pytest.raises(ConnectorError) as caught:
        list(connector(provider, max_attempts=2).read(JUNE))
    assert caught.value.transient is True and "HTTP 503" in str(caught.value)


def test_html_instead_of_json(provider):
    provider.route(ALLOCATION, Reply("<html><title>OpenCost UI</title></html>", content_type="text/html"))

    with pytest.raises(ConnectorError, match="expected JSON but got text/html"):
        list(connector(provider).read(JUNE))


def test_days_outside_the_period_are_skipped(provider):
    body = fixture_json("opencost/allocation_label.json")
    body["data"][0]["search-assistant"]["window"] = {"start": "2025-07-01T00:00:00Z", "end": "2025-07-02T00:00:00Z"}
    provider.route(ALLOCATION, Reply(body))
    reader = connector(provider)

    assert [row.keys for row in reader.read(JUNE)] == [{}]
    assert reader.rows_skipped == 1
    assert reader.skipped_by_reason == {"outside the period": 1}


def test_base_url_is_required():
    with pytest.raises(ConnectorError) as caught:
        list(OpenCostConnector(settings={}).read(JUNE))
    assert caught.value.location == "settings.base_url"


def test_allocation_keys():
    both = {"namespace": "ml-team", "label:app": "search"}
    assert allocation_keys("ml-team/search", ["namespace", "label:app"]) == both
    assert allocation_keys("ml-team/__unallocated__", ["namespace", "label:app"]) == {"namespace": "ml-team"}
    assert allocation_keys("__unallocated__", ["label:project"]) == {}


def documented_with(name: str, **fields) -> dict:
    """The documented namespace response with one allocation of its first day changed."""
    payload = fixture_json("opencost/allocation_namespace.json")
    payload["data"][0][name].update(fields)
    return payload


def test_negative_gpu_hours_are_refused_naming_step_and_allocation(provider):
    provider.route(ALLOCATION, Reply(documented_with("ml-training", gpuHours=-96)))

    with pytest.raises(ConnectorError) as caught:
        list(connector(provider).read(JUNE))

    assert caught.value.location == "OpenCost step 1 ml-training"
    assert caught.value.message == ("gpuHours must not be negative, got -96 (a credit is a negative cost, never "
                                    "negative hours)")


def test_a_credit_keeps_its_positive_gpu_hours(provider):
    """A refunded allocation: the cost is negative, the hours it covered are not."""
    provider.route(ALLOCATION, Reply(documented_with("ml-training", totalCost=-272.81)))

    first = next(iter(connector(provider).read(JUNE)))

    assert (first.amount, first.gpu_hours) == (Decimal("-272.81"), Decimal(96))


def test_the_gpu_cost_adds_its_adjustment(provider):
    """OpenCost reconciles the GPU cost with the cloud bill through gpuCostAdjustment, which may be negative."""
    provider.route(ALLOCATION, Reply(documented_with("ml-training", gpuCostAdjustment=-5.76)))

    first = next(iter(connector(provider).read(JUNE)))

    assert (first.amount, first.gpu_hours, first.gpu_cost) == (Decimal("272.81"), Decimal(96), Decimal("240.00"))


def test_an_allocation_without_gpu_cost_keeps_none(provider):
    """No gpuCost field at all (the label fixture's __unallocated__): the GPU share is unknown, not zero."""
    provider.route(ALLOCATION, Reply(fixture_json("opencost/allocation_label.json")))

    rows = list(connector(provider, aggregate="label:project").read(JUNE))

    assert [(row.keys, row.gpu_cost) for row in rows] == [
        ({"label:project": "search-assistant"}, Decimal("245.76")), ({}, None)]


@pytest.mark.parametrize(("fields", "message"), [
    ({"gpuCost": -245.76}, "gpuCost must not be negative, got -245.76 (a GPU's cost is never a credit; OpenCost "
                           "corrects it through gpuCostAdjustment)"),
    ({"gpuCost": "n/a"}, "gpuCost must be a number, got 'n/a'"),
    ({"gpuCostAdjustment": "lots"}, "gpuCostAdjustment must be a number, got 'lots'"),
    ({"gpuCostAdjustment": -300}, "gpuCostAdjustment -300 takes the GPU cost 245.76 below zero"),
])
def test_a_malformed_gpu_cost_is_refused_naming_step_allocation_and_field(provider, fields, message):
    provider.route(ALLOCATION, Reply(documented_with("ml-training", **fields)))

    with pytest.raises(ConnectorError) as caught:
        list(connector(provider).read(JUNE))

    assert caught.value.location == "OpenCost step 1 ml-training"
    assert caught.value.message == message
