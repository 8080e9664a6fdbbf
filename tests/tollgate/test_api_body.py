"""A body key an API action does not read is a 400 naming it (tollgate.api_body), never a 200 that ignored it: a
script asking the token endpoint for a read-only token got a read-write one, and `invite-all {"people": [50]}`
invited everyone. The calls as they are meant keep working."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient
from rest_framework.views import APIView

from governance.models import SignalRun, SprawlRun
from portfolio.models import ApiToken
from reviews.models import Notification
from tests.factories import PASSWORD, UserFactory
from tests.tollgate.test_api_fields_body import _real_value
from tests.tollgate.test_api_schema_fuzz import complete_the_demo
from tollgate.api_body import DeclaredBodyMixin
from tollgate.roles import Role

pytestmark = pytest.mark.django_db


def _refused(response: Any, field: str) -> str:
    assert response.status_code == 400, response.content
    messages = response.json()[field]
    assert len(messages) == 1
    return messages[0]


# --- the dangerous ones ---------------------------------------------------------------------------------------------


def test_the_token_endpoint_refuses_read_only_and_says_how_to_get_a_read_only_token(api_client):
    user = UserFactory(username="bi.script@example.com")
    response = api_client.post(reverse("api_token"), {"username": user.username, "password": PASSWORD,
                                                      "read_only": True, "name": "bi"}, format="json")
    assert _refused(response, "read_only") == (
        "“read_only” is not a field of this request; it accepts: username, password. A token obtained with a password "
        "reads and writes what its person may; for a read-only, named or longer-lived one, create a named token on "
        "your account page (/accounts/).")
    assert "name" in response.json()
    assert not ApiToken.objects.filter(user=user).exists()  # no read-write token handed to a read-only script


def test_the_token_endpoint_still_issues_a_token_for_username_and_password(api_client):
    user = UserFactory(username="nightly.script@example.com")
    for kind in ("json", "multipart"):
        response = api_client.post(reverse("api_token"), {"username": user.username, "password": PASSWORD},
                                   format=kind)
        assert response.status_code == 200, response.content
    assert ApiToken.objects.filter(user=user).count() == 2


def test_invite_all_refuses_a_list_of_people_and_invites_nobody(api_client, admin_user, owner):
    owner.set_unusable_password()
    owner.save()
    api_client.force_authenticate(admin_user)
    response = api_client.post("/api/people/invite-all/", {"people": [owner.pk]}, format="json")
    assert _refused(response, "people") == "“people” is not a field of this request; it takes no body."
    assert mail.outbox == []
    form = api_client.post("/api/people/invite-all/", {"people": str(owner.pk)}, format="multipart")
    assert _refused(form, "people") == "“people” is not a field of this request; it takes no body."
    listed = api_client.post("/api/people/invite-all/", [owner.pk], format="json")
    assert listed.status_code == 400 and listed.json() == {"non_field_errors": ["This request takes no body."]}
    assert mail.outbox == []
    invited = api_client.post("/api/people/invite-all/", {}, format="json")
    assert invited.status_code == 200 and invited.json() == {"invited": [owner.email]}


def test_invite_refuses_another_address(api_client, admin_user, owner):
    api_client.force_authenticate(admin_user)
    response = api_client.post(f"/api/people/{owner.pk}/invite/", {"email": "other@example.com"}, format="json")
    assert _refused(response, "email") == "“email” is not a field of this request; it takes no body."
    assert mail.outbox == []


def test_the_other_actions_without_a_body_refuse_one(api_client, admin_user, owner):
    reviewer = UserFactory(role=Role.REVIEWER)
    calls = [
        (admin_user, f"/api/people/{owner.pk}/revoke-tokens/", {"reason": "leak"}),
        (owner, "/api/reviews/notifications/read-all/", {"before": "2026-01-01"}),
        (reviewer, "/api/governance/signal-runs/", {"rules": ["cost_overrun"]}),
        (reviewer, "/api/governance/sprawl-runs/", {"threshold": 0.9}),
    ]
    for person, url, body in calls:
        api_client.force_authenticate(person)
        [key] = body
        assert _refused(api_client.post(url, body, format="json"), key) == (
            f"“{key}” is not a field of this request; it takes no body."), url
    assert not SignalRun.objects.exists() and not SprawlRun.objects.exists()
    api_client.force_authenticate(None)
    user = UserFactory()
    key = api_client.post(reverse("api_token"), {"username": user.username, "password": PASSWORD}).json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert _refused(api_client.post(reverse("api_token_revoke"), {"all": True}, format="json"), "all") == (
        "“all” is not a field of this request; it takes no body.")
    assert api_client.get(reverse("api_me")).status_code == 200  # not revoked
    assert api_client.post(reverse("api_token_revoke")).status_code == 204


def test_marking_one_notification_read_takes_no_body(api_client, owner):
    notification = Notification.objects.create(user=owner, message="Report due", url="/reviews/")
    api_client.force_authenticate(owner)
    url = f"/api/reviews/notifications/{notification.pk}/read/"
    assert "it takes no body" in _refused(api_client.post(url, {"read_at": None}, format="json"), "read_at")
    assert api_client.post(url).status_code == 200


def test_a_submit_with_a_body_says_why(api_client, owner):
    from tests.factories import ValueReportFactory

    report = ValueReportFactory(initiative__owner=owner)
    api_client.force_authenticate(owner)
    response = api_client.post(f"/api/reviews/reports/{report.pk}/submit/", {"narrative": "x"}, format="json")
    assert _refused(response, "narrative") == (
        "“narrative” is not a field of this request; it takes no body. Submit takes no body: nothing was saved or "
        "submitted. Save the report's fields with PATCH, then submit.")


# --- every write of the API -----------------------------------------------------------------------------------------


def _api_views(patterns: list[Any], prefix: str = "") -> list[tuple[str, type]]:
    found = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += _api_views(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/"):
            cls = getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)
            if isinstance(cls, type) and issubclass(cls, APIView):
                found.append((route, cls))
    return found


def test_every_api_view_checks_its_body():
    views = _api_views(get_resolver().url_patterns)
    assert len(views) > 30
    writes = ("post", "put", "patch", "delete", "create", "update", "partial_update", "destroy")
    unchecked = sorted({f"{route}: {cls.__name__}" for route, cls in views
                        if any(hasattr(cls, verb) for verb in writes) and not issubclass(cls, DeclaredBodyMixin)})
    assert not unchecked, unchecked


def test_the_schema_documents_no_body_for_actions_that_take_none(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    paths = api_client.get(reverse("schema"), {"format": "json"}).json()["paths"]
    for path in ("/api/people/invite-all/", "/api/people/{id}/invite/", "/api/people/{id}/revoke-tokens/",
                 "/api/reviews/notifications/{id}/read/", "/api/reviews/notifications/read-all/",
                 "/api/governance/signal-runs/", "/api/governance/sprawl-runs/", "/api/auth/token/revoke/",
                 "/api/reviews/reports/{id}/submit/"):
        assert "requestBody" not in paths[path]["post"], path


def test_every_write_of_the_api_refuses_a_key_it_does_not_read(demo, settings):
    """Walks the OpenAPI schema: every POST, PUT, PATCH and DELETE, with a body or without, answers 400 under a key
    it does not read (or 403 to a role that may not call it at all), on a real record of the demo company, so that a
    new endpoint is covered the day it is added."""
    settings.API_RATE_LIMIT = ""
    complete_the_demo()
    people = [get_user_model().objects.get(username=name) for name in ("admin", "reviewer", "owner")]
    client = APIClient()
    client.force_authenticate(people[0])
    schema = client.get(reverse("schema"), {"format": "json"}).json()
    refused, failures = 0, []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in ("post", "put", "patch", "delete"):
                continue
            url = path.replace(path[path.index("{"):path.index("}") + 1], _real_value(path)) if "{" in path else path
            content = operation.get("requestBody", {}).get("content", {"application/json": {}})
            kind = "json" if "application/json" in content else "multipart"
            for person in people:
                client.force_authenticate(person)
                response = getattr(client, method)(url, {"zz_not_a_field": "1"}, format=kind)
                if response.status_code != 403:
                    break
            body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
            message = str(body.get("zz_not_a_field"))
            if response.status_code == 400 and ("is not a field of this record" in message
                                                 or "is not a field of this request" in message):
                refused += 1
            elif response.status_code != 403:
                failures.append(f"{method.upper()} {path}: {response.status_code} {str(body)[:200]}")
    assert refused > 40
    assert not failures, "\n".join(failures)
