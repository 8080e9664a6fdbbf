from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from portfolio.choices import RunStatus
from portfolio.models import ImportRun

pytestmark = pytest.mark.django_db


def test_run_jobs_once_runs_every_scheduled_job_in_process():
    stale = ImportRun.objects.create(filename="x.csv", status=RunStatus.RUNNING)
    ImportRun.objects.filter(pk=stale.pk).update(started_at=timezone.now() - timedelta(hours=3))
    out = StringIO()
    call_command("run_jobs", "--once", stdout=out)
    assert "expire-stale-import-runs: done (1)" in out.getvalue()
    stale.refresh_from_db()
    assert stale.status == RunStatus.FAILED
