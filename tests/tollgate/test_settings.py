"""Production settings refuse to start on a public key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.core.checks.security.base import check_secret_key
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]
READ_KEY = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY[:16])"


def start(**env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    environment.update(DJANGO_SETTINGS_MODULE="tollgate.settings", **env)
    # SECRET_KEY="" in the environment wins over a .env of this checkout (settings never overwrite what is set).
    return subprocess.run([sys.executable, "-c", READ_KEY], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=120)


def test_without_a_secret_key_debug_off_refuses_to_start():
    refused = start(SECRET_KEY="", DEBUG="0")
    assert refused.returncode != 0
    assert "SECRET_KEY is not set" in refused.stderr and "secrets.token_urlsafe" in refused.stderr


def test_with_a_key_or_in_development_it_starts():
    assert start(SECRET_KEY="k" * 60, DEBUG="0").stdout.strip() == "k" * 16
    assert start(SECRET_KEY="", DEBUG="1").stdout.strip() == "django-insecure-"


def test_the_development_key_fails_djangos_own_deploy_check():
    from django.conf import settings

    with override_settings(SECRET_KEY="django-insecure-development-key-" + "x" * 32):
        assert [w.id for w in check_secret_key(None)] == ["security.W009"]
    assert settings.SECRET_KEY  # the suite runs on its own key or CI's


def test_an_api_rate_limit_that_is_not_a_rate_refuses_to_start():
    refused = start(SECRET_KEY="", DEBUG="1", API_RATE_LIMIT="600 per minute")
    assert refused.returncode != 0
    assert "API_RATE_LIMIT='600 per minute' is not a rate such as 600/minute" in refused.stderr
    assert start(SECRET_KEY="", DEBUG="1", API_RATE_LIMIT="").returncode == 0  # switched off
    assert start(SECRET_KEY="", DEBUG="1", API_RATE_LIMIT="100/hour").returncode == 0
