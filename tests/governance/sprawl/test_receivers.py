"""Sprawl detection reacts to inventory changes through portfolio's signal: portfolio does not import governance."""

from __future__ import annotations

import pytest
from django.db import connection

from governance.choices import SprawlRunTrigger
from governance.models import SprawlRun
from portfolio.choices import RunStatus, RunTrigger
from portfolio.services.inventory_import import import_run_create, inventory_import_run
from tests.portfolio.test_import import csv_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def run_import(content: bytes, *, dry_run: bool = False):
    run = import_run_create(actor=None, filename="inventory.csv", content=content, trigger=RunTrigger.COMMAND,
                            dry_run=dry_run)
    return inventory_import_run(run=run)


def test_an_import_that_changes_initiatives_queues_one_sprawl_recompute(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        run_import(csv_bytes({}))
    assert list(SprawlRun.objects.values_list("trigger", flat=True)) == [SprawlRunTrigger.IMPORT]
    assert len(callbacks) == 1  # the recompute task, sent on commit
    SprawlRun.objects.update(status=RunStatus.SUCCEEDED)  # done: a new import could queue another

    with django_capture_on_commit_callbacks():
        run_import(csv_bytes({}))  # the same file again: nothing changed
    assert SprawlRun.objects.count() == 1


def test_a_dry_run_queues_no_recompute():
    run_import(csv_bytes({}), dry_run=True)
    assert not SprawlRun.objects.exists()


def _outside_any_transaction() -> bool:
    """No transaction open on the connection: neither Django's atomic block nor one the driver holds (SQLite's
    write lock is held by an open transaction, so a slow computation inside one locks every other writer out)."""
    raw = connection.connection
    in_transaction = getattr(raw, "in_transaction", None)  # sqlite3; psycopg tells it through its info
    if in_transaction is None:
        in_transaction = raw.info.transaction_status != raw.info.transaction_status.IDLE
    return not connection.in_atomic_block and not in_transaction


@pytest.mark.django_db(transaction=True)
def test_the_recompute_after_an_upload_computes_outside_every_transaction(login, admin_user, monkeypatch):
    """Without a broker the import's follow-up jobs run in the upload's request: each starts after the import
    committed and computes (the slow part: minutes on a 10,000-initiative portfolio) holding no transaction, so other
    requests can write meanwhile; only its results are written, in a short transaction of their own."""
    from governance.models import SprawlCluster
    from governance.signals import selectors as signal_selectors
    from governance.sprawl import analysis
    from portfolio.models import Initiative
    from tests.portfolio.test_import import upload

    seen: dict[str, tuple[bool, int]] = {}

    def analyse(top: int = 5, progress=None) -> analysis.Analysis:
        seen["sprawl"] = (_outside_any_transaction(), Initiative.objects.count())
        ids = sorted(Initiative.objects.values_list("pk", flat=True))
        return analysis.Analysis(clusters=[analysis.Cluster(member_ids=ids, score=0.9, use_case_code=None)],
                                 duplicates={}, use_cases={})

    candidates = signal_selectors.signal_candidates

    def find(**kwargs):
        seen["signals"] = (_outside_any_transaction(), Initiative.objects.count())
        return candidates(**kwargs)

    monkeypatch.setattr(analysis, "analyse_portfolio", analyse)
    monkeypatch.setattr(signal_selectors, "signal_candidates", find)

    response = upload(login(admin_user), csv_bytes({}, {"external_id": "INV-901", "name": "Invoice checker"}))

    assert response.status_code == 302
    assert seen == {"sprawl": (True, 2), "signals": (True, 2)}  # after the import's commit, outside any transaction
    assert SprawlCluster.objects.count() == 1  # and the results were written
