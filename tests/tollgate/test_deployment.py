"""The container image and compose file run what README's Production section documents, and gunicorn's hooks keep
the multiprocess metrics right. (The image is not built here: checked as text.)"""

from __future__ import annotations

import json
import re
import runpy
import shlex
from types import SimpleNamespace

import pytest
import yaml

from tests.paths import REPO
from tests.production import documented_commands

COMPOSE = yaml.safe_load((REPO / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
DOCKERFILE = (REPO / "Dockerfile").read_text()


def command_of(service: str) -> str:
    command = SERVICES[service]["command"]
    return shlex.join(command) if isinstance(command, list) else command


def dockerfile_instruction(name: str) -> list[str]:
    """The arguments of the Dockerfile's last `name` instruction (exec form)."""
    found = re.findall(rf"^{name} (\[.*\])$", DOCKERFILE, re.M)
    assert found, f"no {name} in exec form"
    return json.loads(found[-1])


def test_compose_has_the_five_services_and_the_migration():
    assert set(SERVICES) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    assert SERVICES["postgres"]["image"].startswith("postgres:")
    assert SERVICES["redis"]["image"].startswith("redis:")


@pytest.mark.parametrize("service", ["migrate", "web", "worker", "beat"])
def test_each_app_service_runs_a_documented_command_of_the_image(service):
    assert command_of(service) in documented_commands()
    assert SERVICES[service]["build"] == "."
    assert SERVICES[service]["environment"]["DATABASE_URL"].endswith("@postgres:5432/tollgate")
    assert SERVICES[service]["environment"]["REDIS_URL"] == "redis://redis:6379/0"


def test_the_app_waits_for_the_migration_and_the_migration_for_the_databases():
    for service in ("web", "worker", "beat"):
        assert SERVICES[service]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert SERVICES["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"},
                                                "redis": {"condition": "service_healthy"}}
    assert SERVICES["migrate"]["restart"] == "no"


def test_web_is_healthy_when_ready_and_counts_metrics_across_its_processes():
    check = " ".join(SERVICES["web"]["healthcheck"]["test"])
    assert "/health/ready/" in check and "ALLOWED_HOSTS" in check
    assert SERVICES["web"]["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    assert "PROMETHEUS_MULTIPROC_DIR" not in SERVICES["worker"]["environment"]
    for service in ("postgres", "redis", "worker"):
        assert SERVICES[service]["healthcheck"]["test"]


def test_uploads_are_shared_by_the_web_process_and_the_worker():
    assert "media:/app/media" in SERVICES["web"]["volumes"]
    assert "media:/app/media" in SERVICES["worker"]["volumes"]


def test_secrets_come_from_outside_the_file():
    environment = SERVICES["web"]["environment"]
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert "${POSTGRES_PASSWORD:?" in environment["DATABASE_URL"]
    assert environment["LOG_FORMAT"] == "json"


def test_the_image_serves_the_web_command_as_a_user_without_rights_on_the_code():
    assert DOCKERFILE.startswith("#") and re.search(r"^FROM python:3\.11-slim$", DOCKERFILE, re.M)
    assert dockerfile_instruction("CMD")[:2] == ["gunicorn", "tollgate.wsgi"]
    assert shlex.join(dockerfile_instruction("CMD")) == command_of("web")
    users = re.findall(r"^USER (\S+)$", DOCKERFILE, re.M)
    assert users and users[-1] not in ("root", "0")
    assert "pip install ." in DOCKERFILE


def test_the_image_collects_static_files_with_the_manifest_storage():
    collect = next(command for command in documented_commands() if "collectstatic" in command)
    assert collect in DOCKERFILE
    assert "STATICFILES_BACKEND=whitenoise.storage.CompressedManifestStaticFilesStorage" in DOCKERFILE


def test_secrets_and_local_state_stay_out_of_the_image():
    ignored = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()}
    assert {".env", ".venv", "db.sqlite3", "media", "staticfiles"} <= ignored


# gunicorn.conf.py ----------------------------------------------------------------------------------------------------

HOOKS = runpy.run_path(str(REPO / "gunicorn.conf.py"))


def test_gunicorn_gives_a_request_time_for_an_import_of_the_largest_file(monkeypatch):
    """Without a broker the Imports page imports inside the request; gunicorn's default 30 s killed a 5,000-row one
    (README, Inventory import: a 5 MB file took 4 minutes to check on a busy machine)."""
    assert HOOKS["timeout"] >= 600
    monkeypatch.setenv("GUNICORN_TIMEOUT", "900")
    assert runpy.run_path(str(REPO / "gunicorn.conf.py"))["timeout"] == 900


def test_gunicorn_empties_the_metrics_directory_at_start(tmp_path, monkeypatch):
    directory = tmp_path / "prometheus"
    directory.mkdir()
    (directory / "counter_4242.db").write_bytes(b"old counts")
    (directory / "README").write_text("not ours")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    HOOKS["on_starting"](None)
    assert sorted(p.name for p in directory.iterdir()) == ["README"]


def test_gunicorn_creates_a_missing_metrics_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "new"))
    HOOKS["on_starting"](None)
    assert (tmp_path / "new").is_dir()


def test_a_worker_that_exits_leaves_the_live_gauges(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for name in ("gauge_livesum_4242.db", "gauge_liveall_4242.db", "counter_4242.db", "gauge_livesum_7.db"):
        (tmp_path / name).write_bytes(b"")
    HOOKS["child_exit"](None, SimpleNamespace(pid=4242))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter_4242.db", "gauge_livesum_7.db"]


def test_each_worker_builds_its_possible_duplicates_index_ahead_unless_turned_off(monkeypatch):
    from governance.sprawl import analysis

    started = []
    monkeypatch.setattr(analysis, "warm_portfolio_index", lambda: started.append("warm"))
    monkeypatch.delenv("TOLLGATE_WARM_INDEX", raising=False)
    HOOKS["post_worker_init"](None)
    assert started == ["warm"]
    monkeypatch.setenv("TOLLGATE_WARM_INDEX", "0")
    HOOKS["post_worker_init"](None)
    assert started == ["warm"]
