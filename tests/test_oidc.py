"""The single sign-on tests' provider (tests/oidc.py): it starts on a port of its own choosing, and when it cannot
start the failure quotes what it printed."""

from __future__ import annotations

import pytest
import requests

from tests import oidc

pytestmark = pytest.mark.oidc  # skipped without Node.js and the provider's packages; fails instead in CI


def test_two_providers_run_side_by_side_on_ports_the_system_picked():
    uris = {"redirect_uris": ["http://testserver/oidc/callback/"],
            "post_logout_redirect_uris": ["http://testserver/accounts/login/"]}
    with oidc.running_provider(**uris) as first, oidc.running_provider(**uris) as second:
        assert first.issuer != second.issuer
        for provider in (first, second):
            discovery = requests.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=5).json()
            assert discovery["issuer"] == provider.issuer


def test_a_provider_that_cannot_start_says_what_it_printed(monkeypatch):
    monkeypatch.setattr(oidc, "CLIENT_ID", "")
    with pytest.raises(RuntimeError, match=r"exited \(2\).*CLIENT_ID is not set"):
        with oidc.running_provider(redirect_uris=["http://testserver/oidc/callback/"],
                                   post_logout_redirect_uris=["http://testserver/accounts/login/"]):
            pass  # pragma: no cover
