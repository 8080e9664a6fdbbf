"""A reference to another record is a whole number: anything else is a 400 naming the field, never a 500 or the
record of a rounded number."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from portfolio.models import Initiative
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


def _register(api_client, user, department: str) -> object:
    api_client.force_authenticate(user)
    body = '{"name": "Contract summariser", "description": "Summaries", "department": ' + department + "}"
    return api_client.post(reverse("api:initiative-list"), body, content_type="application/json")


@pytest.mark.parametrize("department", ["1e999999", "-1e999999", "1.5", "true", '"1.5"', '"１"', "[1]",
                                        '"' + "9" * 31 + '"'])
def test_a_reference_that_is_not_a_whole_number_is_refused_by_name(api_client, owner, department):
    DepartmentFactory(pk=1)
    response = _register(api_client, owner, department)
    assert response.status_code == 400, response.content
    assert "department" in response.json()
    assert not Initiative.objects.exists()


@pytest.mark.parametrize("department", ["1", '"1"', "1.0"])
def test_a_whole_number_as_a_number_or_digits_finds_the_record(api_client, owner, department):
    DepartmentFactory(pk=1)
    response = _register(api_client, owner, department)
    assert response.status_code == 201, response.content
    assert json.loads(response.content)["department"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [1000, 100_000])
def test_a_json_body_nested_too_deep_is_a_400_like_any_malformed_json(api_client, admin_user, depth):
    api_client.force_authenticate(admin_user)
    body = '{"name": ' + "[" * depth + "]" * depth + "}"
    answer = api_client.post(reverse("api:vendor-list"), body, content_type="application/json")
    assert answer.status_code == 400
    assert answer.json() == {"detail": "JSON parse error - the body is nested too deep."}


# A reference or a choice that is not there, named ---------------------------------------------------------------------


def test_an_unknown_id_or_choice_in_a_body_names_the_value_and_what_is_expected(api_client, admin_user):
    """`"department": 9999` answered 'Invalid pk "9999" - object does not exist.', `"abc"` 'Incorrect type. Expected pk
    value, received str.', and `"roles": ["administrator"]` '"administrator" is not a valid choice.' without the
    roles there are."""
    api_client.force_authenticate(admin_user)
    for sent, said in [(9999, "No department with id 9999."), ("9999", "No department with id 9999."),
                       ("abc", "department must be a department's id (a whole number), not 'abc'."),
                       ([1], "department must be a department's id (a whole number), not '[1]'.")]:
        response = api_client.post("/api/initiatives/", {"name": "X", "department": sent}, format="json")
        assert response.status_code == 400 and response.json()["department"] == [said], sent
    person = api_client.post("/api/people/", {"roles": ["owner", "administrator"]}, format="json")
    assert person.status_code == 400 and person.json()["roles"] == {
        "1": ["'administrator' is not a role; one of: owner, reviewer, executive, admin."]}
