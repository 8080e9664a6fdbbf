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
