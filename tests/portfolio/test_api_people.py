"""/api/people/: administrators' provisioning through the People page's services and rules, each change audited."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import DepartmentFactory, InitiativeFactory, UserFactory
from tollgate.roles import Role

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_administrators_list_people_with_their_roles_in_constant_queries(api_client, admin_user, owner, reviewer):
    InitiativeFactory(owner=owner)
    owner.profile.delegates.add(reviewer)
    api_client.force_authenticate(admin_user)
    api_client.get("/api/people/")  # the caller's own roles are read once, then remembered on their account
    with CaptureQueriesContext(connection) as few:
        response = api_client.get("/api/people/")
    assert response.status_code == 200
    by_email = {row["email"]: row for row in response.json()["results"]}
    row = by_email[owner.email]
    assert row["roles"] == ["owner"] and row["initiatives_owned"] == 1 and row["delegates"] == [reviewer.pk]
    assert row["has_password"] is True and row["is_active"] is True
    assert by_email[admin_user.email]["roles"] == ["admin"]
    for _ in range(5):
        person = UserFactory(role=Role.OWNER)
        person.profile.delegates.add(owner)
        InitiativeFactory(owner=person)
    with CaptureQueriesContext(connection) as more:
        assert len(api_client.get("/api/people/").json()["results"]) == 8
    assert len(more) == len(few)
    assert [row["email"] for row in api_client.get("/api/people/?role=reviewer").json()["results"]] == [reviewer.email]


def test_someone_added_by_the_api_is_invited_and_audited(api_client, admin_user):
    legal = DepartmentFactory(name="Legal")
    api_client.force_authenticate(admin_user)
    response = api_client.post("/api/people/", {"email": "Nina@Example.com", "first_name": "Nina",
                                                "last_name": "Novak", "roles": ["reviewer"], "department": legal.pk,
                                                "title": "Counsel"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["email"], body["roles"], body["department_name"], body["has_password"]) == (
        "nina@example.com", ["reviewer"], "Legal", False)
    assert len(mail.outbox) == 1 and mail.outbox[0].subject == "You are invited to Tollgate"
    person = User.objects.get(pk=body["id"])
    roles = LogEntry.objects.get_for_object(person).get(additional_data__event="roles_changed")
    assert roles.actor == admin_user and roles.additional_data["source"] == "api"
    again = api_client.post("/api/people/", {"email": "nina@example.com", "first_name": "N", "last_name": "N"},
                            format="json")
    assert again.status_code == 400 and "already has an account" in again.json()["email"][0]
    bad = api_client.post("/api/people/", {"email": "not-an-address", "first_name": "N", "last_name": "N",
                                           "roles": ["boss"]}, format="json")
    assert bad.status_code == 400 and set(bad.json()) == {"email", "roles"}


def test_a_patch_changes_what_it_names_and_keeps_the_rest(api_client, admin_user, owner, other_owner):
    legal = DepartmentFactory(name="Legal")
    owner.profile.department = legal
    owner.profile.title = "Counsel"
    owner.profile.save()
    owner.profile.delegates.add(other_owner)
    api_client.force_authenticate(admin_user)
    response = api_client.patch(f"/api/people/{owner.pk}/", {"roles": ["owner", "reviewer"]}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["roles"] == ["owner", "reviewer"] and body["department"] == legal.pk and body["title"] == "Counsel"
    assert body["delegates"] == [other_owner.pk]
    # Someone leaves: deactivated (their delegate stays named on what they own).
    left_company = api_client.patch(f"/api/people/{owner.pk}/", {"is_active": False}, format="json")
    assert left_company.json()["is_active"] is False
    events = [e.additional_data["event"] for e in LogEntry.objects.get_for_object(owner)
              .filter(additional_data__has_key="event").order_by("pk")]
    assert events == ["roles_changed", "person_deactivated"]
    # Someone who left is not newly named a delegate; nobody is their own; the administrator keeps their role.
    left = api_client.patch(f"/api/people/{other_owner.pk}/", {"delegates": [owner.pk]}, format="json")
    assert left.status_code == 400 and "deactivated" in left.json()["delegates"][0]
    own = api_client.patch(f"/api/people/{admin_user.pk}/", {"roles": ["reviewer"], "is_active": False},
                           format="json")
    assert own.status_code == 400 and set(own.json()) == {"roles", "is_active"}
    assert api_client.put(f"/api/people/{owner.pk}/", {}, format="json").status_code == 405


def test_deactivating_and_reactivating_by_the_api_are_audited_with_source_api(api_client, admin_user, owner):
    api_client.force_authenticate(admin_user)
    for active in (False, True):
        assert api_client.patch(f"/api/people/{owner.pk}/", {"is_active": active}, format="json").status_code == 200
    rows = LogEntry.objects.get_for_object(owner).filter(
        additional_data__event__in=["person_deactivated", "person_reactivated"]).order_by("pk")
    assert [(row.additional_data["event"], row.additional_data["source"], row.actor) for row in rows] == [
        ("person_deactivated", "api", admin_user), ("person_reactivated", "api", admin_user)]


def test_an_invitation_by_the_api(api_client, admin_user, owner, settings):
    api_client.force_authenticate(admin_user)
    response = api_client.post(f"/api/people/{owner.pk}/invite/")
    assert response.status_code == 200 and owner.email in response.json()["detail"]
    assert mail.outbox[0].to == [owner.email]
    settings.PASSWORD_LOGIN = False
    refused = api_client.post(f"/api/people/{owner.pk}/invite/")
    assert refused.status_code == 400 and "single sign-on" in str(refused.json())


def test_the_api_invites_everyone_awaiting_at_once(api_client, admin_user, owner):
    owner.set_unusable_password()
    owner.save()
    api_client.force_authenticate(admin_user)
    response = api_client.post("/api/people/invite-all/")
    assert response.status_code == 200 and response.json() == {"invited": [owner.email]}
    assert mail.outbox[0].to == [owner.email]


def test_a_patch_of_a_superuser_s_title_gives_them_no_role_group(api_client, admin_user):
    boss = UserFactory(role=Role.EXECUTIVE, is_superuser=True)
    api_client.force_authenticate(admin_user)
    response = api_client.patch(f"/api/people/{boss.pk}/", {"title": "CEO"}, format="json")
    assert response.status_code == 200 and response.json()["roles"] == ["executive", "admin"]
    assert set(boss.groups.values_list("name", flat=True)) == {"executive"}
    assert not LogEntry.objects.get_for_object(boss).filter(additional_data__event="roles_changed").exists()


def test_the_api_revokes_all_of_someone_s_tokens(api_client, admin_user, owner, reviewer):
    from django.core.exceptions import PermissionDenied

    from portfolio.models import ApiToken
    from portfolio.services import api_token_issue, api_tokens_revoke_all

    api_token_issue(actor=owner, user=owner, name="cron", days=7)
    api_token_issue(actor=owner, user=owner, name="sheet", days=7, read_only=True)
    with pytest.raises(PermissionDenied):
        api_tokens_revoke_all(actor=reviewer, user=owner)
    api_client.force_authenticate(admin_user)
    response = api_client.post(f"/api/people/{owner.pk}/revoke-tokens/")
    assert response.status_code == 200 and response.json() == {"revoked": 2}
    assert not ApiToken.objects.filter(user=owner).exists()
    assert api_client.post(f"/api/people/{owner.pk}/revoke-tokens/").json() == {"revoked": 0}


def test_a_person_answers_with_an_etag_and_a_stale_write_to_them_is_refused_writing_nothing(api_client, admin_user,
                                                                                          owner, other_owner):
    from portfolio.models import Initiative

    InitiativeFactory(owner=owner)
    api_client.force_authenticate(admin_user)
    url = f"/api/people/{owner.pk}/"
    tag = api_client.get(url)["ETag"]
    assert tag.startswith('"') and len(tag) == 34
    changed = api_client.patch(url, {"title": "Counsel"}, format="json", HTTP_IF_MATCH=tag)
    assert changed.status_code == 200 and changed["ETag"] != tag
    assert api_client.get(url)["ETag"] == changed["ETag"]  # the PATCH answers with the person as a GET reads them
    stale = api_client.patch(url, {"title": "Partner"}, format="json", HTTP_IF_MATCH=tag)
    assert stale.status_code == 412
    assert stale.json()["detail"].startswith(f"This person has changed since you read it (its ETag is now "
                                             f"{changed['ETag']}, you sent {tag}): nothing was written.")
    owner.profile.refresh_from_db()
    assert owner.profile.title == "Counsel"
    handed = api_client.post(f"{url}hand-over/", {"to": other_owner.pk}, format="json", HTTP_IF_MATCH=tag)
    assert handed.status_code == 412 and Initiative.objects.filter(owner=owner).count() == 1
    assert api_client.patch(url, {"title": "Partner"}, format="json",
                            HTTP_IF_MATCH=changed["ETag"]).status_code == 200


def test_the_schema_documents_a_person_s_etag_and_if_match(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    person = api_client.get("/api/schema/", {"format": "json"}).json()["paths"]["/api/people/{id}/"]
    assert "ETag" in person["get"]["responses"]["200"]["headers"]
    assert "ETag" in person["patch"]["responses"]["200"]["headers"]
    assert "If-Match" in [p["name"] for p in person["patch"]["parameters"]] and "412" in person["patch"]["responses"]


def test_a_patch_taking_away_every_role_is_refused_unless_it_deactivates(api_client, admin_user, owner):
    from portfolio.services.people import NO_ROLE_LEFT

    api_client.force_authenticate(admin_user)
    url = f"/api/people/{owner.pk}/"
    refused = api_client.patch(url, {"roles": []}, format="json")
    assert refused.status_code == 400 and refused.json() == {"roles": [NO_ROLE_LEFT]}
    assert set(owner.groups.values_list("name", flat=True)) == {"owner"}
    left = api_client.patch(url, {"roles": [], "is_active": False}, format="json")
    assert left.status_code == 200 and left.json()["roles"] == [] and left.json()["is_active"] is False
    back = api_client.patch(url, {"is_active": True}, format="json")
    assert back.status_code == 400 and back.json() == {"roles": [NO_ROLE_LEFT]}
    assert api_client.patch(url, {"is_active": True, "roles": ["owner"]}, format="json").status_code == 200


def test_a_person_s_etag_does_not_change_when_they_sign_in_but_does_when_they_are_edited(api_client, admin_user,
                                                                                       owner, client):
    """A provisioning script's If-Match must not fail because the person merely signed in (last_login, and with it
    how they sign in); an edit still changes the tag, and a stale one is still refused."""
    owner.set_unusable_password()  # signs in with single sign-on: their first sign-in changes `sign_in` too
    owner.save()
    api_client.force_authenticate(admin_user)
    url = f"/api/people/{owner.pk}/"
    before = api_client.get(url)
    assert before.json()["last_login"] is None and before.json()["sign_in"] == "not_invited"
    client.force_login(owner)  # a sign-in: Django records last_login
    after = api_client.get(url)
    assert after.json()["last_login"] is not None and after.json()["sign_in"] == "sso"
    assert after["ETag"] == before["ETag"]
    edited = api_client.patch(url, {"title": "Counsel"}, format="json", HTTP_IF_MATCH=before["ETag"])
    assert edited.status_code == 200 and edited["ETag"] != before["ETag"]
    assert api_client.get(url)["ETag"] == edited["ETag"]
    stale = api_client.patch(url, {"title": "Partner"}, format="json", HTTP_IF_MATCH=before["ETag"])
    assert stale.status_code == 412
