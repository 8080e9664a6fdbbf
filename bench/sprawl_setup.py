"""Django for the sprawl benchmarks: a throw-away SQLite database and in-process tasks, whatever the environment."""

from __future__ import annotations

import io
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_on_throwaway_sqlite(prefix: str) -> None:
    """Point Django at a new SQLite file in a temporary folder and set it up (call before importing models)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    workdir = tempfile.mkdtemp(prefix=prefix)
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tollgate.settings")
    import django

    django.setup()


def imported_set(name: str, prefix: str) -> Callable[..., str]:
    """A fresh SQLite database holding the labelled set `name`, imported with `import_initiatives` as an operator
    would (its recomputation run in-process); returns `run(*command) -> stdout` for the management commands."""
    django_on_throwaway_sqlite(prefix)
    from django.core.management import call_command

    def run(*command: str) -> str:
        out = io.StringIO()
        call_command(*command, stdout=out)
        return out.getvalue()

    run("migrate", "--noinput", "-v", "0")
    run("import_initiatives", str(ROOT / "bench" / "sprawl" / f"{name}_inventory.csv"))
    return run
