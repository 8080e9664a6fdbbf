"""One filterset per portfolio resource: the list page and the API select the same rows for the same query string,
whichever of them a parameter was first written for (the page's `q` and single choices, the API's repeated choices,
codes and e-mails)."""

from __future__ import annotations

import pytest

from portfolio.choices import Category, ModelTier, Stage
from portfolio.filtersets import InitiativeFilterSet, LicencePoolFilterSet
from tests.factories import (
    AIModelFactory,
    CostCenterFactory,
    DepartmentFactory,
    InitiativeFactory,
    LicencePoolFactory,
    UserFactory,
    VendorFactory,
)
from tests.page_and_api import assert_page_and_api_agree
from tollgate.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def portfolio_data():
    finance = DepartmentFactory(name="Finance", code="fin")
    support = DepartmentFactory(name="Customer support", code="cs")
    openai, github = VendorFactory(name="OpenAI"), VendorFactory(name="GitHub")
    gpt = AIModelFactory(provider=openai, name="gpt-4o", tier=ModelTier.FRONTIER, open_weights=False)
    AIModelFactory(provider=VendorFactory(name="Mistral"), name="mistral-small", tier=ModelTier.SMALL,
                   open_weights=True)
    owner = UserFactory(role=Role.OWNER, email="oscar@example.com", username="oscar@example.com")
    invoice = InitiativeFactory(name="Invoice reader", department=finance, stage=Stage.PILOT, owner=owner,
                                category=Category.DOCUMENT_PROCESSING, vendors=[openai])
    invoice.ai_models.set([gpt])
    InitiativeFactory(name="Ticket summariser", department=support, stage=Stage.PRODUCTION, vendors=[openai])
    InitiativeFactory(name="Code assistant", department=support, stage=Stage.PROPOSED, vendors=[github])
    LicencePoolFactory(vendor=github, initiative=invoice, tool="Copilot")
    LicencePoolFactory(vendor=openai, tool="ChatGPT Team")
    CostCenterFactory(department=finance, name="Payables")
    return {"finance": finance, "support": support, "openai": openai, "github": github, "gpt": gpt, "owner": owner,
            "invoice": invoice}


def test_initiatives(client, api_client, admin_user, portfolio_data):
    d = portfolio_data
    assert_page_and_api_agree(client, api_client, admin_user, "/portfolio/initiatives/", "/api/initiatives/", [
        {"q": "invoice"}, {"q": "reader EXT"}, {"stage": Stage.PILOT}, {"stage": ""},
        {"stage": [Stage.PILOT, Stage.PRODUCTION]}, {"category": Category.DOCUMENT_PROCESSING},
        {"department": d["support"].pk}, {"department__code": "FIN"}, {"vendor": d["openai"].pk},
        {"model": d["gpt"].pk}, {"owner": d["owner"].pk}, {"owner_email": "OSCAR@example.com"},
        {"cost_center": d["invoice"].cost_center_id}, {"department": d["support"].pk, "stage": Stage.PROPOSED},
    ])


def test_departments(client, api_client, admin_user, portfolio_data):
    assert_page_and_api_agree(client, api_client, admin_user, "/portfolio/departments/", "/api/departments/",
                              [{"q": "fin"}, {"code": "CS"}])


def test_cost_centers(client, api_client, admin_user, portfolio_data):
    d = portfolio_data
    assert_page_and_api_agree(client, api_client, admin_user, "/portfolio/cost-centers/", "/api/cost-centers/", [
        {"q": "payables"}, {"department": d["finance"].pk}, {"department__code": "cs"},
    ])


def test_vendors(client, api_client, admin_user, portfolio_data):
    assert_page_and_api_agree(client, api_client, admin_user, "/portfolio/vendors/", "/api/vendors/",
                              [{"q": "git"}, {"name": "openai"}])


def test_models(client, api_client, admin_user, portfolio_data):
    d = portfolio_data
    assert_page_and_api_agree(client, api_client, admin_user, "/portfolio/models/", "/api/models/", [
        {"q": "mistral"}, {"provider": d["openai"].pk}, {"tier": ModelTier.FRONTIER},
        {"tier": [ModelTier.FRONTIER, ModelTier.SMALL]}, {"open_weights": "true"}, {"open_weights": "false"},
        {"open_weights": "True"},
    ])


def test_licence_pools(client, api_client, admin_user, portfolio_data):
    d = portfolio_data
    assert_page_and_api_agree(client, api_client, admin_user, "/portfolio/licences/", "/api/licence-pools/", [
        {"q": "copilot"}, {"vendor": d["github"].pk}, {"initiative": d["invoice"].pk},
    ])


def test_the_page_offers_its_short_lists_while_the_filter_accepts_any_row(rf, portfolio_data):
    """The owner select lists only people who own an initiative and the licence vendor select only vendors with
    pools, but a script may still ask for anyone (an empty result, not an error)."""
    nobody = UserFactory(role=Role.REVIEWER)
    mistral = portfolio_data["openai"].__class__.objects.get(name="Mistral")
    initiatives = InitiativeFilterSet({"owner": nobody.pk}, request=rf.get("/"))
    offered = [value for value, _ in initiatives.form.fields["owner"].choices if value]
    assert nobody.pk not in [int(str(v)) for v in offered]
    assert initiatives.is_valid() and not initiatives.qs.exists()
    pools = LicencePoolFilterSet({"vendor": mistral.pk}, request=rf.get("/"))
    assert mistral.pk not in [int(str(v)) for v, _ in pools.form.fields["vendor"].choices if v]
    assert pools.is_valid() and not pools.qs.exists()


def test_the_page_shows_only_its_filters(client, admin_user, portfolio_data):
    client.force_login(admin_user)
    body = client.get("/portfolio/initiatives/").content.decode()
    for shown in ("q", "department", "stage", "category", "vendor", "owner"):
        assert f'name="{shown}"' in body
    for api_only in ("owner_email", "department__code", "cost_center", "model"):
        assert f'name="{api_only}"' not in body
    assert 'name="stage" id="id_stage">' in body and "multiple" not in body.split('name="stage"')[1][:40]
