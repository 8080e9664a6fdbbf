"""gunicorn reads this file from its working directory (the image's /app). With PROMETHEUS_MULTIPROC_DIR set, each
worker process writes its request metrics there and /metrics adds them up (README, Production > Metrics): the
directory starts empty, and a worker that exits stops counting in the live gauges. Each worker builds its
possible-duplicates index in the background as soon as it is up (TOLLGATE_WARM_INDEX=0 turns that off)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# Seconds a request may take before gunicorn kills its worker (its default is 30). With a Celery broker (compose) an
# upload on the Imports page only stores the file and the worker imports it; without one the import runs inside the
# request, and the largest file the page accepts (5 MB, about 29,000 rows) took 4 minutes to check on a busy machine
# (README, Inventory import: Large files). A request killed mid-import would answer 502 and leave its run "running"
# until the expiry fails it.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "600"))


def on_starting(server: Any) -> None:
    """Before the first worker: the files of a previous run would add old counts to the new ones."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        for stale in Path(directory).glob("*.db"):
            stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker: Any) -> None:
    """Once a worker has loaded Django: build its possible-duplicates index in a background thread, so the first
    owner typing an intake does not wait for it (README, Production)."""
    if os.environ.get("TOLLGATE_WARM_INDEX", "1").strip() != "0":
        from governance.sprawl.analysis import warm_portfolio_index

        warm_portfolio_index()
