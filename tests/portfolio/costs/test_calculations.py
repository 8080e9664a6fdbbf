"""Pure rules of the cost domain not covered by their own file: the key an unallocated record is listed under."""

from __future__ import annotations

from datetime import date

import pytest

from portfolio.costs.calculations import (
    COMPLETE,
    NO_DATA,
    NOT_ENDED,
    NOT_READ,
    PARTLY,
    MonthCostData,
    tco_month_data,
    tco_range_data,
    unallocated_key_of,
)


@pytest.mark.parametrize(("keys", "expected"), [
    ({"resource_id": "/sub/rg/vm", "tag:project": "sandbox", "tag:env": "prod"}, ("tag:project", "sandbox")),
    ({"workspace_id": "wrkspc_1", "api_key_id": "key_9"}, ("workspace_id", "wrkspc_1")),
    ({"namespace": "ml-train", "label:app": "trainer"}, ("namespace", "ml-train")),
    ({"tag:team": "data", "billing_account_id": "A1"}, ("tag:team", "data")),
    ({"tag:env": "prod", "sub_account_id": "S1", "billing_account_id": "A1"}, ("sub_account_id", "S1")),
    ({"tag:Environment": "prod"}, ("tag:Environment", "prod")),  # nothing better: listed under it all the same
    ({"tag:b": "2", "tag:a": "1"}, ("tag:a", "1")),  # ties by key name, whatever the order the keys were read in
    ({"tag:project": "", "service_name": "Azure OpenAI"}, ("service_name", "Azure OpenAI")),
    ({}, None),
])
def test_an_unallocated_record_is_listed_under_its_most_telling_key(keys, expected):
    assert unallocated_key_of(keys) == expected


# What a month of an initiative's TCO is worth (the costs API and the initiative page) --------------------------------

OCTOBER = date(2026, 10, 1)


@pytest.mark.parametrize("state, reason, start_date, has_cost, data, has_figures", [
    (COMPLETE, "", None, True, "complete", True),
    (PARTLY, NOT_ENDED, None, True, "partial", True),
    (PARTLY, "openai still owes it", None, True, "partial", True),
    (NO_DATA, NOT_READ, None, False, "unread", False),
    (NO_DATA, NOT_READ, None, True, "unread", False),  # a gap's estimate is no figure of a month nobody read
    (NO_DATA, NOT_ENDED, None, False, "unread", False),
    (NO_DATA, NOT_READ, date(2026, 11, 15), False, "not_started", True),  # before the start: $0 is right
    (COMPLETE, "", date(2026, 11, 15), False, "not_started", True),
    (PARTLY, "openai still owes it", date(2026, 11, 15), True, "partial", True),  # records before the start
    (NO_DATA, NOT_READ, date(2026, 10, 20), False, "unread", False),  # its start month is not before it
])
def test_tco_month_data(state, reason, start_date, has_cost, data, has_figures):
    month = tco_month_data(MonthCostData(OCTOBER, state, reason), start_date=start_date, has_cost=has_cost)
    assert (month.data, month.has_figures) == (data, has_figures)
    assert month.note


@pytest.mark.parametrize("states, expected", [
    ([], None),
    (["complete", "not_started"], "complete"),
    (["unread", "unread"], "unread"),
    (["complete", "unread"], "partial"),
    (["complete", "partial"], "partial"),
    (["not_started", "unread"], "partial"),
])
def test_tco_range_data(states, expected):
    assert tco_range_data(states) == expected
