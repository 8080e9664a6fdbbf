"""A real OpenID Connect provider for the single sign-on tests: tests/oidc_provider/server.js (the npm package
oidc-provider) run by Node.js on a free loopback port, and a person's side of its sign-in page driven with requests."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urljoin

import requests

from tests.paths import REPO

PROVIDER_DIR = REPO / "tests" / "oidc_provider"
CLIENT_ID = "tollgate"
CLIENT_SECRET = "test-client-secret-0123456789"
ROLE_GROUPS = {"tollgate-admins": "admin", "tollgate-coe": "reviewer", "tollgate-execs": "executive",
               "tollgate-owners": "owner"}


def missing() -> str | None:
    """Why the provider cannot run here, or None."""
    if shutil.which("node") is None:
        return "needs Node.js (node) for the test OpenID Connect provider"
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return f"needs the test OpenID Connect provider's packages: cd {PROVIDER_DIR} && npm ci (bash .ci/run does)"
    return None


@dataclass(frozen=True)
class Provider:
    issuer: str

    def settings(self) -> dict[str, object]:
        """Tollgate's settings for this provider: discovery from the issuer, the test client, the role mapping."""
        return {"OIDC_RP_CLIENT_ID": CLIENT_ID, "OIDC_RP_CLIENT_SECRET": CLIENT_SECRET, "OIDC_OP_ISSUER": self.issuer,
                "OIDC_RP_SCOPES": "openid email profile groups", "OIDC_ROLE_GROUPS": dict(ROLE_GROUPS),
                "OIDC_DEFAULT_ROLE": ""}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_provider(*, redirect_uris: list[str], post_logout_redirect_uris: list[str]) -> Iterator[Provider]:
    """Start `node server.js`, wait until its discovery document answers, stop it afterwards."""
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "CLIENT_ID": CLIENT_ID, "CLIENT_SECRET": CLIENT_SECRET,
           "REDIRECT_URIS": ",".join(redirect_uris), "POST_LOGOUT_REDIRECT_URIS": ",".join(post_logout_redirect_uris)}
    process = subprocess.Popen(["node", "server.js"], cwd=PROVIDER_DIR, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the test OpenID Connect provider exited: {process.stdout.read()}")  # type: ignore
            try:
                if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the test OpenID Connect provider did not answer within 30 s")
            time.sleep(0.1)
        yield Provider(issuer=issuer)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def follow_provider(browser: requests.Session, url: str, *, back_to: str) -> requests.Response | str:
    """Follow redirects at the provider until it sends the browser back to Tollgate (`back_to` prefix): returns that
    URL, or the provider's page where it stopped (the sign-in form)."""
    for _ in range(10):
        if url.startswith(back_to):
            return url
        response = browser.get(url, allow_redirects=False)
        if response.status_code not in (301, 302, 303, 307, 308):
            return response
        url = urljoin(url, response.headers["Location"])
    raise AssertionError("too many redirects at the provider")


def sign_in_at_provider(browser: requests.Session, authorize_url: str, *, login: str, groups: list[str],
                        back_to: str) -> str:
    """A person at the provider: opens the authorization URL, types a user name and groups; returns the URL the
    provider sends them back to Tollgate with (the callback, with code and state)."""
    page = follow_provider(browser, authorize_url, back_to=back_to)
    assert isinstance(page, requests.Response) and page.status_code == 200, page
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action, page.text
    response = browser.post(urljoin(page.url, action.group(1)), data={"login": login, "groups": ",".join(groups)},
                            allow_redirects=False)
    assert response.status_code in (302, 303), response.text
    back = follow_provider(browser, urljoin(page.url, response.headers["Location"]), back_to=back_to)
    assert isinstance(back, str), back.text
    return back
