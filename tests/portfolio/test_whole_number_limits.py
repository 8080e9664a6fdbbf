"""Whole numbers people type stop at their PostgreSQL column's bound on every database: the page, the API and the
Django admin refuse a larger one in a sentence naming the field, so no save reaches the database to fail with 500."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from governance.models import RubricCriterion
from portfolio.models import AIModel, BusinessCase, Initiative
from tests.factories import (
    AIModelFactory,
    BusinessCaseFactory,
    DepartmentFactory,
    RubricCriterionFactory,
    VendorFactory,
)
from tests.portfolio.costs.factories import CostSourceFactory
from tests.portfolio.test_views import CREATE_URL, form_data

pytestmark = pytest.mark.django_db

INTEGER_MAX = 2_147_483_647  # PostgreSQL's integer column
TOO_BIG = INTEGER_MAX + 1
BUSINESS_CASE_LIMITS = [("expected_monthly_volume", "Expected outcomes per month is at most 2,147,483,647."),
                        ("min_viable_scale", "The minimum viable scale is at most 2,147,483,647.")]


@pytest.mark.parametrize(("field", "message"), BUSINESS_CASE_LIMITS)
def test_the_api_refuses_a_business_case_count_past_the_bound_naming_the_field(api_client, owner, field, message):
    case = BusinessCaseFactory(initiative__owner=owner)
    api_client.force_authenticate(owner)
    url = reverse("api:businesscase-detail", args=[case.pk])

    refused = api_client.patch(url, {field: TOO_BIG}, format="json")

    assert refused.status_code == 400
    assert refused.json() == {field: [message]}
    assert getattr(BusinessCase.objects.get(pk=case.pk), field) != TOO_BIG
    assert api_client.patch(url, {field: INTEGER_MAX}, format="json").status_code == 200
    assert getattr(BusinessCase.objects.get(pk=case.pk), field) == INTEGER_MAX


@pytest.mark.parametrize(("field", "message"), BUSINESS_CASE_LIMITS)
def test_the_register_page_refuses_a_business_case_count_past_the_bound(login, owner, field, message):
    response = login(owner).post(CREATE_URL, form_data(DepartmentFactory(), **{f"bc-{field}": "99999999999999"}))

    assert response.status_code == 200
    assert response.context["case_form"].errors[field] == [message]
    assert not Initiative.objects.filter(name="Invoice reader").exists()


def test_the_api_refuses_a_context_window_past_the_bound(api_client, admin_user):
    model = AIModelFactory()
    api_client.force_authenticate(admin_user)

    created = api_client.post(reverse("api:aimodel-list"),
                              {"provider": VendorFactory().pk, "name": "huge", "context_window": 10**12}, format="json")
    changed = api_client.patch(reverse("api:aimodel-detail", args=[model.pk]), {"context_window": TOO_BIG},
                               format="json")

    for response in (created, changed):
        assert response.status_code == 400
        assert response.json() == {"context_window": ["The context window is at most 2,147,483,647."]}
    assert not AIModel.objects.filter(name="huge").exists()
    model.refresh_from_db()
    assert model.context_window == 128000


def test_the_api_refuses_an_allocation_rule_order_past_the_bound(api_client, admin_user, initiative):
    api_client.force_authenticate(admin_user)
    body = {"source": CostSourceFactory().pk, "order": TOO_BIG, "key": "namespace", "value": "ml",
            "initiative": initiative.pk}

    response = api_client.post(reverse("api:allocationrule-list"), body, format="json")

    assert response.status_code == 400
    assert response.json() == {"order": ["A rule's order is at most 2,147,483,647."]}


def test_a_rubric_criterion_order_stops_at_its_small_integer_column():
    criterion = RubricCriterionFactory()
    criterion.order = 32_768

    with pytest.raises(ValidationError) as refused:
        criterion.full_clean()

    assert refused.value.message_dict == {"order": ["A criterion's order is at most 32,767."]}
    criterion.order = 32_767
    criterion.full_clean()
    criterion.save()
    assert RubricCriterion.objects.get(pk=criterion.pk).order == 32_767
