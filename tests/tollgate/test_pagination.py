"""The API's pages: `?page_size=` within 1..500, a size or a page that is not a whole number refused by name."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from tests.factories import DepartmentFactory
from tollgate.pagination import MAX_PAGE_SIZE, PAGE_SIZE, PageNumberPagination


def size_of(query: str | dict[str, str]) -> int:
    return PageNumberPagination().get_page_size(Request(APIRequestFactory().get("/api/x/", query)))


def test_the_size_asked_for_is_served_up_to_the_most():
    assert size_of({}) == PAGE_SIZE
    assert size_of({"page_size": ""}) == PAGE_SIZE
    assert size_of({"page_size": "7"}) == 7
    assert size_of({"page_size": str(MAX_PAGE_SIZE)}) == MAX_PAGE_SIZE
    assert size_of({"page_size": "100000"}) == MAX_PAGE_SIZE


@pytest.mark.parametrize("given", ["abc", "0", "-5", "2.5", "1e3", "+4", " 3", "٣"])
def test_a_size_that_is_not_a_whole_number_from_one_is_refused_naming_the_parameter(given):
    with pytest.raises(ValidationError) as refused:
        size_of({"page_size": given})
    assert refused.value.detail["page_size"][0] == f"A whole number of rows from 1 to 500, not “{given}”."


@pytest.mark.django_db
def test_a_list_endpoint_pages_by_the_size_asked_for(api_client, admin_user):
    DepartmentFactory.create_batch(3)
    api_client.force_authenticate(admin_user)
    first = api_client.get(reverse("api:department-list"), {"page_size": "2"}).json()
    assert first["count"] == 3 and len(first["results"]) == 2 and "page_size=2" in first["next"]
    second = api_client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None
    refused = api_client.get(reverse("api:department-list"), {"page_size": "lots"})
    assert refused.status_code == 400 and "lots" in refused.json()["page_size"][0]


@pytest.mark.django_db
def test_the_schema_documents_the_page_size_and_its_bounds(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    schema = api_client.get(reverse("schema"), {"format": "json"}).json()
    parameters = schema["paths"]["/api/departments/"]["get"]["parameters"]
    page_size = next(p for p in parameters if p["name"] == "page_size")
    assert page_size["schema"] == {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "٣"])
def test_a_page_that_is_not_a_whole_number_from_one_is_refused_by_name(api_client, admin_user, page):
    api_client.force_authenticate(admin_user)
    refused = api_client.get(reverse("api:department-list"), {"page": page})
    assert refused.status_code == 400
    assert refused.json() == {"page": [f"A page is a whole number from 1 or “last”, not “{page}”."]}


@pytest.mark.django_db
def test_a_page_past_the_end_is_still_not_found(api_client, admin_user):
    DepartmentFactory()
    api_client.force_authenticate(admin_user)
    past = api_client.get(reverse("api:department-list"), {"page": "2"})
    assert past.status_code == 404
    assert past.json() == {"detail": "Page 2 is past the end of this list: it has 1 row, on 1 page of 50; the last is "
                                     "page 1."}
    DepartmentFactory.create_batch(4)
    assert api_client.get(reverse("api:department-list"), {"page": "4", "page_size": "2"}).json() == {
        "detail": "Page 4 is past the end of this list: it has 5 rows, on 3 pages of 2; the last is page 3."}
    assert api_client.get(reverse("api:department-list"), {"page": "last"}).status_code == 200
