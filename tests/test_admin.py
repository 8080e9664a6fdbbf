"""Django admin: every portfolio model is registered and its pages open for administrators only."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tests.factories import BusinessCaseFactory, KPIFactory, LicencePoolFactory

pytestmark = pytest.mark.django_db


def test_every_portfolio_model_is_in_the_admin():
    missing = [m.__name__ for m in apps.get_app_config("portfolio").get_models() if m not in admin.site._registry]
    assert not missing


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_admin_changelists_open_for_administrators(client, admin_user, initiative, model):
    BusinessCaseFactory(initiative=initiative)
    KPIFactory(initiative=initiative)
    LicencePoolFactory(initiative=initiative)
    client.force_login(admin_user)
    opts = model._meta
    assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")).status_code == 200
    first = model._default_manager.first()
    if first is not None:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
        assert client.get(url).status_code == 200


def test_initiative_stage_is_read_only_in_the_admin(client, admin_user, initiative):
    client.force_login(admin_user)
    response = client.get(reverse("admin:portfolio_initiative_change", args=[initiative.pk]))
    assert 'name="stage"' not in response.content.decode()


@pytest.mark.parametrize("role_user", ["owner", "reviewer", "executive"])
def test_admin_is_closed_to_other_roles(client, request, role_user):
    client.force_login(request.getfixturevalue(role_user))
    response = client.get(reverse("admin:portfolio_initiative_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
