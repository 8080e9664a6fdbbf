"""The README's production settings pass Django's deployment check, and every response carries the security
headers: a Content-Security-Policy without inline script, a Permissions-Policy, HSTS behind a configured proxy."""

from __future__ import annotations

import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]


def documented_production_environment() -> dict[str, str]:
    """The variables the README's production block exports (its first sh block)."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Production", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    export = block.split("export ", 1)[1].split("\n", 1)[0]
    for line in block.split("export ", 1)[1].split("\n")[1:]:
        if not export.rstrip().endswith("\\"):
            break
        export = export.rstrip()[:-1] + " " + line.strip()
    pairs = dict(item.split("=", 1) for item in shlex.split(export.replace("\\", " ")))
    assert {"SECRET_KEY", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS"} <= set(pairs)
    return pairs


def test_the_documented_production_settings_pass_check_deploy():
    # (DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' own setting, never a deployment's.)
    environment = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    environment.update(documented_production_environment())
    environment.update(SECRET_KEY=secrets.token_urlsafe(50), DEBUG="0",
                       DATABASE_URL=os.environ.get("DATABASE_URL", "sqlite:///unused.sqlite3"))
    checked = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                             env=environment, capture_output=True, text=True, timeout=180)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_no_template_holds_an_inline_script_or_event_handler():
    inline = []
    for directory in TEMPLATE_DIRS:
        for template in directory.rglob("*.html"):
            text = template.read_text()
            for tag in re.findall(r"<script\b[^>]*>", text):
                if "src=" not in tag and 'type="application/json"' not in tag:
                    inline.append(f"{template.relative_to(ROOT)}: {tag}")
            inline += [f"{template.relative_to(ROOT)}: {h}" for h in re.findall(r"\son[a-z]+\s*=\s*[\"']", text)]
    assert inline == []


@pytest.mark.django_db
def test_every_response_carries_the_policies(client, executive):
    client.force_login(executive)
    response = client.get(reverse("portfolio:dashboard"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src", 1)[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "camera=()" in response["Permissions-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert client.get(reverse("login")).has_header("Content-Security-Policy")


@pytest.mark.django_db
@override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"), SECURE_SSL_REDIRECT=True,
                   SECURE_HSTS_SECONDS=31536000)
def test_https_is_what_the_configured_proxy_header_says(client):
    assert client.get(reverse("login")).status_code == 301  # plain HTTP is redirected
    secure = client.get(reverse("login"), headers={"x-forwarded-proto": "https"})
    assert secure.status_code == 200 and secure["Strict-Transport-Security"].startswith("max-age=31536000")
    assert client.get("/health/").status_code == 200  # load balancers probe over plain HTTP


@pytest.mark.django_db
def test_without_a_configured_proxy_header_a_client_cannot_claim_https(client, settings):
    assert not hasattr(settings, "SECURE_PROXY_SSL_HEADER") or settings.SECURE_PROXY_SSL_HEADER is None
    response = client.get(reverse("login"), headers={"x-forwarded-proto": "https"})
    assert not response.wsgi_request.is_secure()


@pytest.mark.django_db
def test_swagger_ui_runs_without_inline_script(client, executive):
    client.force_login(executive)
    page = client.get(reverse("api_docs")).content.decode()
    assert "<script>" not in page and "?script" in page
    script = client.get(reverse("api_docs") + "?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["api_docs", "api_redoc"])
def test_the_api_documentation_pages_link_no_other_host(client, executive, name):
    """drf-spectacular's ReDoc page linked Google Fonts, which the CSP blocks and the app promises not to use: the
    pages load their scripts, styles and fonts from the app's own static files (drf-spectacular-sidecar)."""
    import re

    client.force_login(executive)
    page = client.get(reverse(name)).content.decode()
    hosts = set(re.findall(r"(?:https?:)?//([\w.-]+)", page))
    assert hosts <= {"testserver"}, hosts
    assert "/static/drf_spectacular_sidecar/" in page
