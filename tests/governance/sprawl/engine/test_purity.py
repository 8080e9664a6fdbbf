"""The sprawl engine is pure: its modules import without Django settings and load no ORM, so the tuning script,
benchmarks and tests can run it on plain numbers and files."""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys

import governance.sprawl.engine as engine
from tests import paths

PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(m for m in sys.modules if m.startswith("django.db"))))
"""


def test_engine_modules_import_without_django_settings_or_the_orm():
    names = [f"{engine.__name__}.{m.name}" for m in pkgutil.iter_modules(engine.__path__)]
    assert f"{engine.__name__}.catalogue" in names
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(paths.REPO)
    probe = subprocess.run([sys.executable, "-c", PROBE, *names], capture_output=True, text=True, env=env,
                           cwd=paths.REPO, timeout=120, check=False)
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout.strip().splitlines()[-1]) == []


def test_the_catalogue_parser_reads_the_shipped_catalogue_without_a_database():
    from governance.sprawl.engine.catalogue import CATALOGUE_PATH, use_case_catalogue_parse

    version, entries = use_case_catalogue_parse(CATALOGUE_PATH.read_text(encoding="utf-8"), source="shipped")
    assert version
    assert entries and all({"code", "name", "job", "synonyms"} <= set(entry) for entry in entries)
