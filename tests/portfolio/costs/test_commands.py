"""Operator commands: ingest (exit codes), apply_cost_config (idempotent, names the bad entry), cost_report JSON."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from portfolio.choices import RunStatus, RunTrigger, SourceType
from portfolio.models import AllocationRule, CostRecord, CostSource, IngestionRun
from tests import paths
from tests.factories import InitiativeFactory
from tests.portfolio.costs.factories import AllocationRuleFactory, CostSourceFactory

FIXTURES = paths.FIXTURES / "costs"

CONFIG = """
sources:
  - {name: aws-focus, type: focus, settings: {ai_service_names: [Amazon EC2]}}
  - {name: manual, type: csv, schedule: monthly}
rules:                                         # ordered; first match wins
  - {source: aws-focus, key: "tag:project", match: exact, value: search-assistant, initiative: INV-0001}
  - {source: aws-focus, key: sub_account_id, match: prefix, value: "1234", initiative: INV-0002}
  - {source: manual, key: namespace, match: regex, value: "^ml-", initiative: INV-0002}
"""


@pytest.fixture
def initiatives(db):
    return InitiativeFactory(external_id="INV-0001"), InitiativeFactory(external_id="INV-0002")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "costs.yaml"
    path.write_text(text)
    return path


def state() -> list:
    sources = list(CostSource.objects.order_by("name").values_list(
        "pk", "name", "type", "settings", "schedule", "credential_env", "enabled", "updated_at"))
    rules = list(AllocationRule.objects.order_by("pk").values_list(
        "pk", "source__name", "order", "key", "match", "value", "initiative__external_id", "updated_at"))
    return [sources, rules]


# ingest --------------------------------------------------------------------------------------------------------------


def test_ingest_reads_a_file_and_reports(db):
    CostSourceFactory(name="aws-focus", type=SourceType.FOCUS)
    out = StringIO()
    call_command("ingest", "aws-focus", "--period", "2025-06", "--file", str(FIXTURES / "focus_1_2.csv"), stdout=out)
    assert "aws-focus 2025-06: read 9, wrote 5, skipped 4" in out.getvalue()
    run = IngestionRun.objects.get()
    assert (run.status, run.trigger, run.filename) == (RunStatus.SUCCEEDED, RunTrigger.COMMAND, "focus_1_2.csv")


def test_ingest_fails_with_the_error(db, tmp_path):
    CostSourceFactory(name="aws-focus", type=SourceType.FOCUS)
    bad = tmp_path / "bad.csv"
    bad.write_text((FIXTURES / "focus_1_2.csv").read_text().replace("30.00,30.00,30.00,30.00",
                                                                    "30.00,abc,30.00,30.00"))
    with pytest.raises(CommandError, match="bad.csv row 3 column EffectiveCost: 'abc' is not a number"):
        call_command("ingest", "aws-focus", "--period", "2025-06", "--file", str(bad))
    assert IngestionRun.objects.get().status == RunStatus.FAILED
    assert not CostRecord.objects.exists()


def test_ingest_exit_code_is_non_zero_on_failure(db, capsys):
    """As run from a shell (manage.py ingest ...): scripts rely on the exit status."""
    from portfolio.management.commands.ingest import Command

    with pytest.raises(SystemExit) as exited:
        Command().run_from_argv(["manage.py", "ingest", "no-such-source", "--skip-checks"])
    assert exited.value.code != 0
    assert "Unknown cost source 'no-such-source'" in capsys.readouterr().err


@pytest.mark.parametrize(("args", "message"), [(["nope"], "Unknown cost source 'nope'"),
                                                (["aws-focus", "--period", "2025-13"], "Period must be YYYY-MM"),
                                                (["aws-focus", "--period", "1900-01"], "The period 1900-01 is before")])
def test_ingest_argument_errors(db, args, message):
    CostSourceFactory(name="aws-focus", type=SourceType.FOCUS)
    with pytest.raises(CommandError, match=message):
        call_command("ingest", *args)


# apply_cost_config ---------------------------------------------------------------------------------------------------


def test_apply_cost_config_creates_then_changes_nothing(initiatives, tmp_path):
    path = write(tmp_path, CONFIG)
    out = StringIO()
    call_command("apply_cost_config", str(path), stdout=out)
    assert "Sources: 2 created, 0 updated. Rules: 3 created" in out.getvalue()
    aws = CostSource.objects.get(name="aws-focus")
    assert aws.settings == {"ai_service_names": ["Amazon EC2"]} and aws.schedule == "daily"
    assert list(aws.rules.values_list("order", "key", "match", "value", "initiative__external_id")) == [
        (1, "tag:project", "exact", "search-assistant", "INV-0001"),
        (2, "sub_account_id", "prefix", "1234", "INV-0002"),
    ]
    before = state()

    out = StringIO()
    call_command("apply_cost_config", str(path), stdout=out)
    assert out.getvalue().strip() == "No changes."
    assert state() == before


def test_apply_cost_config_updates_in_place_and_removes_rules_no_longer_listed(initiatives, tmp_path):
    call_command("apply_cost_config", str(write(tmp_path, CONFIG)), stdout=StringIO())
    changed = CONFIG.replace("value: \"1234\"", "value: \"9999\"").replace(
        "  - {source: manual, key: namespace, match: regex, value: \"^ml-\", initiative: INV-0002}\n", "")
    out = StringIO()
    call_command("apply_cost_config", str(write(tmp_path, changed)), stdout=out)
    assert "Rules: 0 created, 1 updated, 1 deleted" in out.getvalue()
    assert CostSource.objects.get(name="manual").rules.count() == 0


@pytest.mark.parametrize(("text", "message"), [
    (CONFIG.replace("initiative: INV-0002}\n  - {source: manual", "initiative: INV-9}\n  - {source: manual"),
     "rules[1]: unknown initiative INV-9"),
    (CONFIG.replace("type: csv", "type: ftp"), "sources[1]: unknown type 'ftp'"),
    (CONFIG.replace("source: manual", "source: nowhere"), "rules[2]: unknown source nowhere"),
    (CONFIG.replace('value: "^ml-"', 'value: "^ml-("'), "rules[2]: value: Invalid regular expression"),
    (CONFIG.replace("key: sub_account_id", "key: account"), "rules[1]: key: Unknown key 'account'"),
    (CONFIG.replace("match: prefix", "match: glob"), "rules[1]: match must be one of exact, prefix, regex"),
    (CONFIG.replace("{name: manual, type: csv, schedule: monthly}", "{name: manual, type: csv, api_key: sk-123}"),
     "sources[1]: unknown field(s) api_key (secrets go in an environment variable"),
    (CONFIG.replace("settings: {ai_service_names: [Amazon EC2]}", "settings: {token: abc}"),
     "sources[0] (aws-focus): settings: Settings may not hold secrets (token)"),
    (CONFIG.replace("schedule: monthly", "schedule: sometimes"), "sources[1] (manual): schedule:"),
    (CONFIG.replace("{name: manual,", "{name: manual costs,").replace("source: manual", "source: manual costs"),
     "sources[1] (manual costs): name: A cost source's name may hold letters, digits, dots, hyphens and underscores "
     "only"),
    ("sources: [\n", "not valid YAML"),
])
def test_an_invalid_file_changes_nothing_and_names_the_bad_entry(initiatives, tmp_path, text, message):
    CostSourceFactory(name="aws-focus", type=SourceType.OPENAI)
    AllocationRuleFactory(source=CostSource.objects.get(name="aws-focus"), initiative=initiatives[0])
    before = state()
    with pytest.raises(CommandError) as caught:
        call_command("apply_cost_config", str(write(tmp_path, text)))
    assert message in str(caught.value) and "nothing was changed" in str(caught.value)
    assert state() == before


def test_changed_rules_reallocate_records_already_read(initiatives, tmp_path):
    call_command("apply_cost_config", str(write(tmp_path, CONFIG)), stdout=StringIO())
    call_command("ingest", "aws-focus", "--period", "2025-06", "--file", str(FIXTURES / "focus_1_2.csv"),
                 stdout=StringIO())
    bedrock = CostRecord.objects.get(service_name="Amazon Bedrock")
    assert bedrock.initiative.external_id == "INV-0002"  # sub account 123456789012
    call_command("apply_cost_config", str(write(tmp_path, CONFIG.replace('value: "1234"', 'value: "9999"'))),
                 stdout=StringIO())
    bedrock.refresh_from_db()
    assert bedrock.initiative is None


# cost_report ---------------------------------------------------------------------------------------------------------


def test_cost_report_json_from_the_roll_ups(initiatives, tmp_path):
    call_command("apply_cost_config", str(write(tmp_path, CONFIG)), stdout=StringIO())
    call_command("ingest", "aws-focus", "--period", "2025-06", "--file", str(FIXTURES / "focus_1_2.csv"),
                 stdout=StringIO())
    out = StringIO()
    call_command("cost_report", "--period", "2025-06", "--json", stdout=out)

    text = out.getvalue().strip()
    report = json.loads(text, parse_float=Decimal)
    # search-assistant: 12.50 + 30.00 - 5.00; sub account 1234...: Bedrock 8.25 + EC2 GPU 100.00 (EffectiveCost)
    assert report == {"currency": "USD", "initiatives": {"INV-0001": Decimal("37.50"), "INV-0002": Decimal("108.25")},
                      "unallocated": Decimal("40.00"), "total": Decimal("185.75")}
    assert '"INV-0001": 37.50' in text and '"unallocated": 40.00' in text  # numbers, two decimals


def test_cost_report_of_an_empty_month(db):
    out = StringIO()
    call_command("cost_report", "--period", "2030-01", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"currency": "USD", "initiatives": {}, "unallocated": 0, "total": 0}
    assert out.getvalue().strip() == '{"currency": "USD", "initiatives": {}, "unallocated": 0.00, "total": 0.00}'


def test_cost_report_text(db):
    out = StringIO()
    call_command("cost_report", "--period", "2030-01", stdout=out)
    assert "total" in out.getvalue() and "USD" in out.getvalue()


@pytest.mark.parametrize("source_type", [SourceType.FOCUS, SourceType.CSV])
def test_a_nul_byte_in_the_header_fails_the_run_with_a_message(db, tmp_path, source_type):
    """The probe's NUL byte in a header gave a raw PostgreSQL error; the run must record a message like any other."""
    CostSourceFactory(name="nul", type=source_type)
    bad = tmp_path / "nul.csv"
    bad.write_bytes(b"Billing\x00PeriodStart,EffectiveCost\n2025-06-01,1.00\n")
    with pytest.raises(CommandError) as caught:
        call_command("ingest", "nul", "--period", "2025-06", "--file", str(bad))
    assert "nul.csv" in str(caught.value)
    run = IngestionRun.objects.get()
    assert run.status == RunStatus.FAILED and "nul.csv" in run.error and "\x00" not in run.error
    assert not CostRecord.objects.exists()
