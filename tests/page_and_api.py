"""One filterset per resource: the same query string must select the same rows on the list page and in the API."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict


def _query(params: dict[str, Any]) -> str:
    data = QueryDict(mutable=True)
    for name, value in params.items():
        data.setlist(name, [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)])
    return data.urlencode()


def page_keys(client, url: str, params: dict[str, Any], key: str = "pk") -> set:
    """The rows the page selects (all of them, not only the first page of the table)."""
    response = client.get(f"{url}?{_query(params)}")
    assert response.status_code == 200, (url, params, response.status_code)
    return {getattr(row, key) for row in response.context["object_list"]}


def api_keys(api_client, url: str, params: dict[str, Any], key: str = "id") -> set:
    response = api_client.get(f"{url}?{_query(params)}")
    assert response.status_code == 200, (url, params, response.status_code, response.content[:300])
    body = response.json()
    assert body.get("next") is None, "keep the test data to one API page"
    return {row[key] for row in body["results"]}


def assert_page_and_api_agree(client, api_client, user, page_url: str, api_url: str, cases: list[dict[str, Any]],
                              *, page_key: str = "pk", api_key: str = "id") -> None:
    """Each case selects the same rows on the page and in the API, and at least one case filters something out,
    so the comparison is not vacuous."""
    client.force_login(user)
    api_client.force_authenticate(user)
    everything = page_keys(client, page_url, {}, page_key)
    narrowed = False
    for params in cases:
        on_page = page_keys(client, page_url, params, page_key)
        assert on_page == api_keys(api_client, api_url, params, api_key), params
        narrowed = narrowed or on_page != everything
    assert narrowed, "no case filters anything: the data does not exercise the filters"
