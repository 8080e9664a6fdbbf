"""Seat sources name their licence pool by a stable key (the initiative's external id, or <external id>/<tool>),
never a database id: resolution, unknown and ambiguous keys, apply_cost_config, the services, runs, the migration."""

from __future__ import annotations

import importlib
from io import StringIO

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from portfolio.choices import RunStatus, SourceType
from portfolio.costs.connectors.base import Period
from portfolio.costs.selectors import LicencePoolKeyError, licence_pool_by_key, licence_pool_key
from portfolio.costs.services.runs import ingestion_run_create, ingestion_run_execute
from portfolio.costs.services.sources import cost_source_create, cost_source_update
from portfolio.models import AllocationRule, CostSource
from tests.factories import InitiativeFactory, LicencePoolFactory
from tests.portfolio.costs.factories import CostSourceFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("portfolio.migrations.0008_licence_pool_keys")


@pytest.fixture
def pools(db):
    """INV-0009 has one pool; INV-0010 has two (GitHub Copilot and Microsoft 365 Copilot)."""
    single = InitiativeFactory(external_id="INV-0009")
    several = InitiativeFactory(external_id="INV-0010")
    return {
        "single": LicencePoolFactory(initiative=single, tool="GitHub Copilot Business"),
        "github": LicencePoolFactory(initiative=several, tool="GitHub Copilot Business"),
        "m365": LicencePoolFactory(initiative=several, tool="Microsoft 365 Copilot"),
    }


def refused(key) -> str:
    with pytest.raises(LicencePoolKeyError) as caught:
        licence_pool_by_key(key)
    return str(caught.value)


# Resolution ----------------------------------------------------------------------------------------------------------


def test_the_initiatives_external_id_names_its_only_pool(pools):
    assert licence_pool_by_key("INV-0009") == pools["single"]
    assert licence_pool_by_key(" INV-0009 ") == pools["single"]


def test_external_id_and_tool_name_one_of_several_pools(pools):
    assert licence_pool_by_key("INV-0010/Microsoft 365 Copilot") == pools["m365"]
    assert licence_pool_by_key("INV-0010/github copilot business") == pools["github"]  # tool names ignore case
    assert licence_pool_by_key("INV-0009/GitHub Copilot Business") == pools["single"]


def test_the_bare_key_of_an_initiative_with_several_pools_is_ambiguous(pools):
    message = refused("INV-0010")
    assert "'INV-0010' is ambiguous" in message and "2 licence pools" in message
    assert "GitHub Copilot Business, Microsoft 365 Copilot" in message
    assert "INV-0010/<tool>" in message


@pytest.mark.parametrize(("key", "expected"), [
    ("INV-4040", "no initiative 'INV-4040'"),
    ("INV-4040/GitHub Copilot Business", "no initiative 'INV-4040'"),
    ("INV-0010/Cursor", "initiative INV-0010 has no licence pool named 'Cursor'"),
    (12, "12 looks like a database id"),
    ("12", "'12' looks like a database id"),
    ("", "named by its initiative's external id"),
    (["INV-0009"], "named by its initiative's external id"),
])
def test_unknown_keys_and_ids_are_refused_with_the_key_named(pools, key, expected):
    assert expected in refused(key)


def test_an_initiative_without_a_pool_names_none(pools):
    InitiativeFactory(external_id="INV-0011")
    assert "initiative INV-0011 has no licence pool" in refused("INV-0011")


def test_the_key_of_a_pool_is_what_resolves_to_it(pools):
    assert [licence_pool_key(pool) for pool in pools.values()] == [
        "INV-0009", "INV-0010/GitHub Copilot Business", "INV-0010/Microsoft 365 Copilot"]
    for pool in pools.values():
        assert licence_pool_by_key(licence_pool_key(pool)) == pool


# Configuration as code, the services, runs ---------------------------------------------------------------------------

CONFIG = """
sources:
  - {{name: github-copilot, type: github_copilot, settings: {{org: northwind, licence_pool: "{key}"}}}}
  - {{name: manual, type: csv}}
rules:
  - {{source: manual, key: namespace, match: exact, value: ml, initiative: INV-0009}}
"""


def apply(tmp_path, key: str) -> StringIO:
    path = tmp_path / "costs.yaml"
    path.write_text(CONFIG.format(key=key))
    out = StringIO()
    call_command("apply_cost_config", str(path), stdout=out)
    return out


def test_apply_cost_config_stores_the_key(pools, tmp_path):
    apply(tmp_path, "INV-0010/Microsoft 365 Copilot")
    source = CostSource.objects.get(name="github-copilot")
    assert source.settings == {"org": "northwind", "licence_pool": "INV-0010/Microsoft 365 Copilot"}
    assert apply(tmp_path, "INV-0010/Microsoft 365 Copilot").getvalue().strip() == "No changes."


@pytest.mark.parametrize(("key", "expected"), [
    ("INV-0010", "sources[0] (github-copilot): settings: licence_pool: 'INV-0010' is ambiguous"),
    ("INV-4040", "sources[0] (github-copilot): settings: licence_pool: no initiative 'INV-4040'"),
    ("7", "sources[0] (github-copilot): settings: licence_pool: '7' looks like a database id"),
])
def test_apply_cost_config_refuses_a_bad_key_and_writes_nothing(pools, tmp_path, key, expected):
    with pytest.raises(CommandError) as caught:
        apply(tmp_path, key)
    assert expected in str(caught.value) and "nothing was changed" in str(caught.value)
    assert not CostSource.objects.exists() and not AllocationRule.objects.exists()


def test_the_source_services_refuse_a_bad_key(pools):
    with pytest.raises(ValidationError) as caught:
        cost_source_create(actor=None, name="m365", type=SourceType.M365_COPILOT, settings={"licence_pool": "INV-0010"})
    assert "is ambiguous" in " ".join(caught.value.message_dict["settings"])
    source = cost_source_create(actor=None, name="m365", type=SourceType.M365_COPILOT,
                                settings={"licence_pool": "INV-0010/Microsoft 365 Copilot"})
    with pytest.raises(ValidationError, match="looks like a database id"):
        cost_source_update(actor=None, source=source, settings={"licence_pool": pools["m365"].pk})


def test_a_run_of_a_source_still_naming_an_id_fails_saying_how_to_name_the_pool(pools, tmp_path):
    source = CostSourceFactory(name="m365", type=SourceType.M365_COPILOT, settings={"licence_pool": pools["m365"].pk})
    export = tmp_path / "m365.csv"
    export.write_text("Report Refresh Date,User Principal Name,Display Name,Last Activity Date\n"
                      "2025-06-30,ada@example.com,Ada,2025-06-20\n")
    run = ingestion_run_execute(run=ingestion_run_create(source=source, period=Period.parse("2025-06")), path=export)
    assert run.status == RunStatus.FAILED
    assert f"source m365, settings.licence_pool: {pools['m365'].pk} looks like a database id" in run.error


# The data migration --------------------------------------------------------------------------------------------------


def test_the_migration_turns_ids_into_keys_and_back(pools):
    orphan = LicencePoolFactory(initiative=None, tool="Cursor")
    sources = {
        "single": CostSourceFactory(name="a", settings={"licence_pool": pools["single"].pk}),
        "m365": CostSourceFactory(name="b", settings={"licence_pool": str(pools["m365"].pk), "org": "x"}),
        "orphan": CostSourceFactory(name="c", settings={"licence_pool": orphan.pk}),
        "gone": CostSourceFactory(name="d", settings={"licence_pool": 999_999}),
        "none": CostSourceFactory(name="e", settings={"org": "x"}),
    }
    migration.ids_to_keys(apps, None)
    after = {name: CostSource.objects.get(pk=source.pk).settings for name, source in sources.items()}
    assert after == {
        "single": {"licence_pool": "INV-0009"},
        "m365": {"licence_pool": "INV-0010/Microsoft 365 Copilot", "org": "x"},
        "orphan": {"licence_pool": orphan.pk},  # no initiative: no key; its next run says how to fix it
        "gone": {"licence_pool": 999_999},
        "none": {"org": "x"},
    }
    migration.keys_to_ids(apps, None)
    assert CostSource.objects.get(pk=sources["single"].pk).settings == {"licence_pool": pools["single"].pk}
    assert CostSource.objects.get(pk=sources["m365"].pk).settings == {"licence_pool": pools["m365"].pk, "org": "x"}
