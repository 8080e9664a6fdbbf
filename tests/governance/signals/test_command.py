"""`python manage.py compute_signals --json`: computes as the nightly job does and prints the live signals in the
fixed shape operators' scripts read."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from governance.models import SignalRun

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("compute_signals", *args, stdout=out)
    return out.getvalue()


def test_json_lists_every_live_signal_in_the_fixed_shape(over_budget, owner):
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    rows = json.loads(run("--json"))
    assert {row["type"] for row in rows} == {"cost_overrun", "no_active_owner"}
    for row in rows:
        assert set(row) == {"type", "initiatives", "period", "severity", "monthly_saving", "evidence"}
        assert row["initiatives"] == [over_budget.external_id]
        assert set(row["evidence"]) == {"rule", "policies", "numbers"}
        assert all(set(n) == {"label", "value", "url", "unit"} for n in row["evidence"]["numbers"])
    overrun = next(r for r in rows if r["type"] == "cost_overrun")
    assert isinstance(overrun["monthly_saving"], float) and overrun["period"] == "2026-Q3"
    assert next(r for r in rows if r["type"] == "no_active_owner")["monthly_saving"] is None
    assert rows[0]["severity"] == "high"
    run_row = SignalRun.objects.get()
    assert (run_row.trigger, run_row.status, run_row.signals_live) == ("command", "succeeded", 2)


def test_a_second_run_changes_nothing_and_the_table_is_readable(over_budget):
    first = json.loads(run("--json"))
    assert json.loads(run("--json")) == first
    table = run()
    assert "open or acknowledged signals (0 raised" in table and "cost_overrun" in table
    assert over_budget.external_id in table


@pytest.fixture(autouse=True)
def _december(monkeypatch):
    """The command computes for today; the fixtures' costs are 2026-Q3, complete on any day after it."""
    from datetime import date

    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: date(2026, 12, 3))


def test_the_json_stays_parseable_when_new_signals_notify_their_owners_by_console_mail(
        over_budget, settings, capsys, django_capture_on_commit_callbacks):
    """Without EMAIL_URL the notices go to the console: on standard error, not before the JSON on standard out."""
    settings.EMAIL_BACKEND = "tollgate.mail.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):  # the e-mails leave once the computation commits
        call_command("compute_signals", "--json")
    printed = capsys.readouterr()
    assert {row["type"] for row in json.loads(printed.out)} == {"cost_overrun"}
    assert "Subject: " in printed.err
