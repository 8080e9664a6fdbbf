"""Single sign-on in a real browser: passwords off, a reviewer signs in at a real OpenID Connect provider (Node.js,
tests/oidc_provider) and lands where they were going with their role, then logs out of both."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from tests import oidc

pytestmark = [pytest.mark.browser, pytest.mark.oidc, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def provider(live_server) -> Iterator[oidc.Provider]:
    reason = oidc.missing()
    if reason is not None:
        pytest.skip(reason)  # the oidc marker fails instead in CI (tests/conftest.py)
    with oidc.running_provider(redirect_uris=[f"{live_server.url}/oidc/callback/"],
                               post_logout_redirect_uris=[f"{live_server.url}/accounts/login/"]) as running:
        yield running


def test_a_reviewer_signs_in_with_sso_and_logs_out_of_both(page: Page, settings, provider, live_server):
    for name, value in provider.settings().items():
        setattr(settings, name, value)
    settings.PASSWORD_LOGIN = False
    # What settings.py adds to form-action when single sign-on is configured at start (the logout goes there).
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {**directives, "form-action": ["'self'", provider.issuer]}}
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)

    page.goto("/portfolio/initiatives/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    expect(page.locator("input[type=password]")).to_have_count(0)
    page.get_by_role("link", name="Sign in with SSO").click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(provider.issuer)}/interaction/"))
    page.fill("#login", "rosa.reviewer")
    page.fill("#groups", "tollgate-coe, all-staff")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{live_server.url}/portfolio/initiatives/")
    expect(page.locator(".role-badge")).to_have_text("CoE reviewer")
    expect(page.locator(".who")).to_contain_text("Rosa Reviewer")
    assert get_user_model().objects.get(email="rosa.reviewer@example.com").groups.get().name == "reviewer"

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(provider.issuer)}/session/end"))
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("link", name="Sign in with SSO")).to_be_visible()
    page.goto("/portfolio/initiatives/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert refused == []
