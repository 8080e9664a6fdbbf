"""Label checks: measure the sprawl detector against a company's own labelled duplicates from the Sprawl page.

The labels are read and checked when uploaded, so a bad file is refused at once with every problem named (row,
column) and nothing stored; the detection itself, which takes a while on a large portfolio, runs in a worker."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError

from governance.models import SprawlLabelCheck
from governance.sprawl.engine.quality import Labels, LabelsError, read_labels_file
from governance.sprawl.selectors import labelled_quality, labels_known
from portfolio.choices import RunStatus
from tollgate import jobs
from tollgate.roles import may

logger = logging.getLogger(__name__)

MAX_LABEL_BYTES = 2 * 1024 * 1024
MAX_TOP = 50


def sprawl_label_check_submit(*, actor: Any, filename: str, content: bytes, top: int = 5, possible: bool = False,
                              undecided: bool = False, listed_only: bool = False) -> SprawlLabelCheck:
    """Check the labels file and queue its measurement (the task is sent when the transaction commits). Raises
    ValidationError listing every problem of the file, each naming its row and column; nothing is stored then."""
    if not may(actor, "governance.check_sprawl"):
        raise PermissionDenied("Only CoE reviewers and administrators measure the detector against labels.")
    if not 1 <= top <= MAX_TOP:
        raise ValidationError({"top": [f"Rank between 1 and {MAX_TOP} possible duplicates."]})
    if len(content) > MAX_LABEL_BYTES:
        raise ValidationError({"file": [f"{filename}: {len(content) / 1024 / 1024:.1f} MB; the limit is 2 MB."]})
    try:
        labels = read_labels_file(content, listed_only=listed_only)
        labels_known(labels)
    except LabelsError as exc:
        raise ValidationError({"file": [f"{filename}: {issue}" for issue in exc.issues]}) from exc
    from governance.sprawl.tasks import sprawl_label_check_task

    check = SprawlLabelCheck(actor=actor, filename=filename[:255], labels=labels.clusters, label_rows=labels.rows,
                             top=top, possible=possible, undecided=undecided, listed_only=listed_only)
    return jobs.run_submit(check, task=sprawl_label_check_task)


def label_check_steps() -> tuple[str, ...]:
    """The steps a label check reports (its run's progress): the analysis's, then the comparison."""
    from governance.sprawl.analysis import ANALYSIS_STEPS

    return (*ANALYSIS_STEPS, "Comparing what was found with the labels")


def sprawl_label_check_execute_by_id(*, run_id: int) -> SprawlLabelCheck | None:
    """Measure a queued check and record the figures on it; a failure (an initiative deleted since the upload, the
    detection failing) is recorded with its message, not raised. None when there was nothing to do. Idempotent:
    a finished check, or one a live worker executes, is left alone."""
    with jobs.run_claimed(SprawlLabelCheck, run_id=run_id) as check:
        if check is None:
            return None
        labels = Labels(clusters=dict(check.labels), rows={key: int(row) for key, row in check.label_rows.items()})
        try:
            result = labelled_quality(labels, top=check.top, possible=check.possible, undecided=check.undecided,
                                      listed_only=check.listed_only,
                                      progress=lambda position: jobs.run_at_step(check, position))
        except LabelsError as exc:
            return jobs.run_finish(check, status=RunStatus.FAILED,
                                   error="; ".join(f"{check.filename}: {issue}" for issue in exc.issues))
        except Exception as exc:  # recorded on the run for the page; the traceback goes to the worker log
            logger.exception("Label check %s failed", check.pk)
            return jobs.run_finish(check, status=RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
        return jobs.run_finish(check, status=RunStatus.SUCCEEDED, result=result.as_dict(check.filename))


def sprawl_label_checks_expire_stale() -> int:
    """Fail checks no worker will finish (a lost message or worker), so the page stops waiting for them."""
    return jobs.runs_expire(SprawlLabelCheck, older_than=timedelta(hours=1))
