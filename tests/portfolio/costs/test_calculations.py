"""Pure rules of the cost domain not covered by their own file: the key an unallocated record is listed under."""

from __future__ import annotations

import pytest

from portfolio.costs.calculations import unallocated_key_of


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
