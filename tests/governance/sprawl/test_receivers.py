"""Sprawl detection reacts to inventory changes through portfolio's signal: portfolio does not import governance."""

from __future__ import annotations

import pytest

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
