"""Service errors are told once for pages (on the form) and once for the API (400 with field errors, or 403)."""

from __future__ import annotations

import pytest
from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework import exceptions
from rest_framework.test import APIRequestFactory

from tollgate.ui.errors import api_exception_handler, call_service, form_add_service_errors


class RateForm(forms.Form):
    currency = forms.CharField()
    attachment = forms.CharField(required=False)


def bound() -> RateForm:
    form = RateForm({"currency": "EUR"})
    assert form.is_valid()
    return form


def test_field_errors_land_on_their_fields_and_the_rest_on_the_form():
    form = bound()
    form_add_service_errors(form, ValidationError({"currency": "Not this one.", "file": "Too big.",
                                                   "elsewhere": "Somewhere else."}), aliases={"file": "attachment"})
    assert form.errors["currency"] == ["Not this one."]
    assert form.errors["attachment"] == ["Too big."]
    assert form.non_field_errors() == ["Somewhere else."]

    plain = bound()
    form_add_service_errors(plain, ValidationError("Closed cycle."))
    assert plain.non_field_errors() == ["Closed cycle."]


def refuse(error: Exception):
    def service(**kwargs):
        raise error
    return service


def test_call_service_maps_the_vocabulary_onto_drf():
    with pytest.raises(exceptions.ValidationError) as invalid:
        call_service(refuse(ValidationError({"currency": "Not this one.", "__all__": "Guards failed."})))
    assert invalid.value.detail == {"currency": ["Not this one."], "non_field_errors": ["Guards failed."]}
    with pytest.raises(exceptions.PermissionDenied) as denied:
        call_service(refuse(PermissionDenied("Only administrators.")))
    assert str(denied.value.detail) == "Only administrators."
    assert call_service(lambda **kwargs: kwargs, x=1) == {"x": 1}


def test_the_api_handler_answers_a_stray_django_validation_error_with_400():
    request = APIRequestFactory().post("/api/")
    response = api_exception_handler(ValidationError({"rate_to_reporting": "A rate must be greater than 0."}),
                                     {"request": request, "view": None})
    assert response.status_code == 400
    assert response.data == {"rate_to_reporting": ["A rate must be greater than 0."]}
    assert api_exception_handler(PermissionDenied("No."), {"request": request, "view": None}).status_code == 403


def test_a_400_whose_messages_name_no_field_is_still_an_object():
    request = APIRequestFactory().get("/api/")
    for error in (ValidationError("Closed cycle."), exceptions.ValidationError(["Closed cycle."])):
        response = api_exception_handler(error, {"request": request, "view": None})
        assert response.status_code == 400
        assert response.data == {"non_field_errors": ["Closed cycle."]}


# Past Django's upload limits: the API's own 400, pages Django's ----------------------------------------------------


@pytest.fixture
def small_limits(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10


@pytest.mark.django_db
def test_an_api_body_over_the_size_limit_is_a_json_400_naming_the_limit_and_writes_nothing(api_client, admin_user,
                                                                                          small_limits):
    from portfolio.models import Vendor

    api_client.force_authenticate(admin_user)
    response = api_client.post("/api/vendors/", {"name": "x" * 2000}, format="json")
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert response.json() == {"non_field_errors": [
        "The request body is larger than the 1000 bytes the API accepts (files uploaded apart): nothing was written. "
        "Send less at once."]}
    assert not Vendor.objects.exists()


@pytest.mark.django_db
def test_an_api_form_with_too_many_fields_is_a_json_400_naming_the_limit(client, admin_user, small_limits):
    client.force_login(admin_user)
    response = client.post("/api/vendors/", {f"field{n}": "1" for n in range(20)})
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert "more than the 10 fields the API accepts" in response.json()["non_field_errors"][0]
    many = client.get("/api/vendors/", {f"field{n}": "1" for n in range(20)})
    assert many.status_code == 400 and "more than the 10 fields" in many.json()["non_field_errors"][0]


@pytest.mark.django_db
def test_a_page_over_the_size_limit_keeps_django_s_html_400(client, admin_user, small_limits):
    from django.urls import reverse

    client.force_login(admin_user)
    response = client.post(reverse("portfolio:initiative_create"), {"name": "x" * 2000})
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
