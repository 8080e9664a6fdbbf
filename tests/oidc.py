"""A real OpenID Connect provider for the single sign-on tests: tests/oidc_provider/server.js (the npm package
oidc-provider) run by Node.js on a loopback port the system picks, and a person's side of its sign-in page driven
with requests."""

from __future__ import annotations

import os
import queue
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO
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


STARTUP_SECONDS = 60


def _free_port() -> int:
    """A loopback port nothing listens on now (for a test of an unreachable provider)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _read_lines(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    """Pass the provider's output on line by line (None at its end): read so its pipe never fills and blocks it."""
    for line in stream:
        lines.put(line)
    lines.put(None)


@contextmanager
def running_provider(*, redirect_uris: list[str], post_logout_redirect_uris: list[str]) -> Iterator[Provider]:
    """Start `node server.js` on a port the system picks (no race for a port chosen here and bound there), wait for
    its "ready <issuer>" line and its discovery document, stop it afterwards. A failure quotes what it printed."""
    env = {**os.environ, "CLIENT_ID": CLIENT_ID, "CLIENT_SECRET": CLIENT_SECRET,
           "REDIRECT_URIS": ",".join(redirect_uris), "POST_LOGOUT_REDIRECT_URIS": ",".join(post_logout_redirect_uris)}
    env.pop("PORT", None)
    process = subprocess.Popen(["node", "server.js"], cwd=PROVIDER_DIR, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    printed: list[str] = []
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        issuer = ""
        while not issuer:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"the test OpenID Connect provider was not ready within {STARTUP_SECONDS} s; "
                                   f"it printed: {''.join(printed)!r}") from None
            if line is None:
                raise RuntimeError(f"the test OpenID Connect provider exited ({process.wait()}): {''.join(printed)!r}")
            printed.append(line)
            if line.startswith("ready "):
                issuer = line.split()[1]
        while True:  # it listens before it prints; the discovery document proves the provider answers
            try:
                if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=5).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the test OpenID Connect provider at {issuer} did not serve its discovery document "
                                   f"within {STARTUP_SECONDS} s; it printed: {''.join(printed)!r}")
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
