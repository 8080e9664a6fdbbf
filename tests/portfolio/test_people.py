"""The People page and person_update: administrators set roles, accounts and profiles, each change audited."""

from __future__ import annotations

import re

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portfolio.services import person_deactivate, person_set_roles, person_update
from portfolio.services.people import self_lockout_errors
from tests.factories import DepartmentFactory, InitiativeFactory, UserFactory
from tollgate.roles import Role

pytestmark = pytest.mark.django_db


def events(user) -> list[str]:
    return [e.additional_data["event"] for e in
            LogEntry.objects.get_for_object(user).filter(additional_data__has_key="event").order_by("pk")]


def test_an_administrator_changes_roles_account_and_profile_each_in_the_audit_trail(admin_user, owner, other_owner):
    legal = DepartmentFactory(name="Legal")
    person_update(actor=admin_user, user=owner, roles={Role.OWNER, Role.REVIEWER}, is_active=False,
                  department=legal, title="Counsel", delegates=[other_owner])
    owner.refresh_from_db()
    assert set(owner.groups.values_list("name", flat=True)) == {"owner", "reviewer"} and not owner.is_active
    assert (owner.profile.department, owner.profile.title) == (legal, "Counsel")
    assert list(owner.profile.delegates.all()) == [other_owner]
    assert events(owner) == ["roles_changed", "person_deactivated"]
    roles = LogEntry.objects.get_for_object(owner).get(additional_data__event="roles_changed")
    assert roles.actor == admin_user and roles.additional_data["source"] == "people_page"
    profile_rows = LogEntry.objects.get_for_object(owner.profile).filter(actor=admin_user)
    assert {key for row in profile_rows for key in row.changes_dict} >= {"department", "title", "delegates"}

    person_update(actor=admin_user, user=owner, roles={Role.OWNER, Role.REVIEWER}, is_active=True,
                  department=legal, title="Counsel", delegates=[other_owner])
    owner.refresh_from_db()
    assert owner.is_active and events(owner)[-1] == "person_reactivated"
    # The same values again write nothing.
    rows = LogEntry.objects.count()
    person_update(actor=admin_user, user=owner, roles={Role.OWNER, Role.REVIEWER}, is_active=True,
                  department=legal, title="Counsel ", delegates=[other_owner])
    assert LogEntry.objects.count() == rows


def test_nobody_locks_themselves_out_or_delegates_to_themselves(admin_user, owner):
    with pytest.raises(ValidationError) as refused:
        person_update(actor=admin_user, user=admin_user, roles={Role.REVIEWER}, is_active=False, department=None,
                      title="", delegates=[admin_user])
    assert set(refused.value.message_dict) == {"roles", "is_active", "delegates"}
    assert "ask another administrator" in refused.value.message_dict["roles"][0]
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.groups.filter(name="admin").exists()
    with pytest.raises(PermissionDenied):
        person_update(actor=owner, user=owner, roles={Role.ADMIN}, is_active=True, department=None, title="",
                      delegates=[])


def test_an_administrator_does_not_give_themselves_a_role(login, admin_user, other_owner):
    """Ticking CoE reviewer on one's own page would let an administrator score what they administer: another
    administrator gives it. Keeping the roles one holds, and giving the role to someone else, stay allowed."""
    for path in ("service", "page"):
        if path == "service":
            with pytest.raises(ValidationError) as refused:
                person_set_roles(user=admin_user, roles={Role.ADMIN, Role.REVIEWER}, actor=admin_user, source="admin")
            assert refused.value.message_dict["roles"] == [
                "You cannot give yourself a role (CoE reviewer): ask another administrator."]
        else:
            page = login(admin_user).post(reverse("portfolio:person_edit", args=[admin_user.pk]), {
                "roles": [Role.ADMIN.value, Role.REVIEWER.value], "is_active": "on", "title": ""})
            assert page.status_code == 200
            assert "You cannot give yourself a role (CoE reviewer)" in page.content.decode()
    assert set(admin_user.groups.values_list("name", flat=True)) == {"admin"}
    person_set_roles(user=admin_user, roles={Role.ADMIN}, actor=admin_user, source="admin")  # unchanged: fine
    other_admin = UserFactory(role=Role.ADMIN)
    person_set_roles(user=admin_user, roles={Role.ADMIN, Role.REVIEWER}, actor=other_admin, source="admin")
    assert set(admin_user.groups.values_list("name", flat=True)) == {"admin", "reviewer"}


def test_the_role_and_account_services_refuse_a_self_lockout_on_every_path(admin_user, owner):
    """Not only the People page: the services themselves, which the Django admin and the API also call."""
    with pytest.raises(ValidationError) as refused:
        person_set_roles(user=admin_user, roles={Role.REVIEWER}, actor=admin_user, source="admin")
    assert set(refused.value.message_dict) == {"roles"}
    with pytest.raises(ValidationError) as refused:
        person_deactivate(actor=admin_user, user=admin_user)
    assert set(refused.value.message_dict) == {"is_active"}
    admin_user.refresh_from_db()
    assert admin_user.is_active and set(admin_user.groups.values_list("name", flat=True)) == {"admin"}
    assert not events(admin_user)
    # What is not a lockout goes through: another role beside an administrator's, given by another administrator
    # (not by themselves: test_an_administrator_does_not_give_themselves_a_role), another person's account, a
    # superuser giving up the role (they stay a superuser), and the system (no actor).
    assert person_set_roles(user=admin_user, roles={Role.ADMIN, Role.REVIEWER}, actor=UserFactory(role=Role.ADMIN),
                            source="admin")
    person_deactivate(actor=admin_user, user=owner)
    admin_user.is_superuser = True
    admin_user.save(update_fields=["is_superuser"])
    assert person_set_roles(user=admin_user, roles={Role.REVIEWER}, actor=admin_user, source="admin")
    assert person_set_roles(user=owner, roles={Role.OWNER}, actor=None, source="sso") is False
    assert self_lockout_errors(actor=None, user=admin_user, roles=set(), is_active=False) == {}


def test_the_people_page_lists_filters_and_exports_without_a_query_per_person(login, admin_user, owner, reviewer):
    InitiativeFactory(owner=owner)
    InitiativeFactory(owner=owner)
    client = login(admin_user)
    url = reverse("portfolio:person_list")
    body = client.get(url, {"role": "reviewer"}).content.decode()
    assert reviewer.email in body and owner.email not in body
    rows = client.get(url, {"_export": "csv", "q": owner.email}).content.decode().splitlines()
    assert rows[0].startswith("Name,E-mail,Roles,Department,Title,Delegates,Initiatives owned,Active,Last sign-in")
    assert len(rows) == 2 and ",Initiative owner," in rows[1] and ",2,Yes," in rows[1]  # Active: Yes, not True

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(5):
        person = UserFactory(role=Role.OWNER)
        person.profile.delegates.add(owner)
        InitiativeFactory(owner=person)
    assert queries() == few


def test_the_person_page_asks_a_fixed_number_of_queries_however_many_initiatives_delegates_and_tokens(
        login, admin_user, owner):
    from portfolio.services import api_token_issue

    client = login(admin_user)
    url = reverse("portfolio:person_edit", args=[owner.pk])
    InitiativeFactory(owner=owner)
    api_token_issue(actor=owner, user=owner, name="Cron", days=7)

    def queries() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return [query["sql"] for query in captured.captured_queries]

    few = queries()
    for i in range(4):
        InitiativeFactory(owner=owner)
        owner.profile.delegates.add(UserFactory(role=Role.OWNER))
        api_token_issue(actor=owner, user=owner, name=f"Sheet {i}", days=30, read_only=True)
    many = queries()
    assert len(many) == len(few) == 14
    assert [query for query in set(many) if many.count(query) > 1] == []  # nothing asked twice


def test_the_edit_page_saves_through_the_service_and_shows_what_it_refuses(login, admin_user, owner, other_owner):
    client = login(admin_user)
    url = reverse("portfolio:person_edit", args=[owner.pk])
    page = client.get(url).content.decode()
    ticked = set(re.findall(r'<input type="checkbox" name="roles" value="(\w+)"[^>]*checked', page))
    assert ticked == {"owner"} and re.search(r'name="is_active"[^>]*checked', page)
    response = client.post(url, {"roles": ["owner", "executive"], "is_active": "on", "title": "Lead",
                                 "delegates": [other_owner.pk]})
    assert response.status_code == 302 and response["Location"] == reverse("portfolio:person_list")
    owner.refresh_from_db()
    assert set(owner.groups.values_list("name", flat=True)) == {"owner", "executive"}
    assert owner.profile.title == "Lead" and list(owner.profile.delegates.all()) == [other_owner]

    own = client.post(reverse("portfolio:person_edit", args=[admin_user.pk]), {"roles": ["reviewer"]})
    assert own.status_code == 200
    body = own.content.decode()
    assert "Nothing was saved" in body and "You cannot take away your own administrator role" in body
    assert "You cannot deactivate your own account" in body
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.groups.filter(name="admin").exists()


def test_a_delegate_who_has_left_can_be_kept_or_removed(login, admin_user, owner, other_owner):
    owner.profile.delegates.add(other_owner)
    other_owner.is_active = False
    other_owner.save()
    client = login(admin_user)
    url = reverse("portfolio:person_edit", args=[owner.pk])
    kept = client.post(url, {"roles": ["owner"], "is_active": "on", "delegates": [other_owner.pk]})
    assert kept.status_code == 302 and list(owner.profile.delegates.all()) == [other_owner]
    removed = client.post(url, {"roles": ["owner"], "is_active": "on"})
    assert removed.status_code == 302 and not owner.profile.delegates.exists()
    # Someone inactive who was not a delegate cannot be named one.
    refused = client.post(url, {"roles": ["owner"], "is_active": "on", "delegates": [other_owner.pk]})
    assert refused.status_code == 200 and not owner.profile.delegates.exists()


def test_the_people_page_says_how_each_person_signs_in_and_filters_by_it(login, admin_user, owner, reviewer,
                                                                         other_owner):
    from django.utils import timezone

    from portfolio.services import person_invite

    for person in (owner, reviewer, other_owner):
        person.set_unusable_password()
    reviewer.last_login = timezone.now()  # signs in through the identity provider
    for person in (owner, reviewer, other_owner):
        person.save()
    person_invite(actor=admin_user, user=owner)
    client = login(admin_user)

    def listed(kind: str) -> list[str]:
        rows = client.get(reverse("portfolio:person_list") + f"?sign_in={kind}&_export=csv").content.decode()
        return sorted(line.split(",")[1] for line in rows.splitlines()[1:])

    assert listed("password") == [admin_user.email]
    assert listed("sso") == [reviewer.email]
    assert listed("invited") == [owner.email]
    assert listed("not_invited") == [other_owner.email]
    page = client.get(reverse("portfolio:person_list")).content.decode()
    assert f"Invited {timezone.localdate():%Y-%m-%d}" in page and "Not invited yet" in page


def test_an_administrator_sees_someone_s_api_tokens_and_revokes_them_all(login, admin_user, owner, api_client):
    from portfolio.models import ApiToken
    from portfolio.services import api_token_issue

    sheet, sheet_key = api_token_issue(actor=owner, user=owner, name="Spreadsheet", days=30, read_only=True)
    api_token_issue(actor=owner, user=owner, name="Cron", days=7)
    client = login(admin_user)
    page = client.get(reverse("portfolio:person_edit", args=[owner.pk])).content.decode()
    tokens = page.split('id="person-tokens">', 1)[1].split("</section>", 1)[0]
    assert "Spreadsheet" in tokens and sheet.shown_key in tokens and "Revoke 2 tokens" in tokens
    assert sheet_key not in page
    response = client.post(reverse("portfolio:person_tokens_revoke", args=[owner.pk]), follow=True)
    assert f"2 API tokens of {owner.get_full_name()} revoked." in response.content.decode()
    assert not ApiToken.objects.filter(user=owner).exists() and owner.is_active
    assert api_client.get("/api/initiatives/", HTTP_AUTHORIZATION=f"Token {sheet_key}").status_code == 401
    rows = LogEntry.objects.get_for_object(owner).filter(additional_data__event="api_token_revoked")
    assert [row.actor for row in rows] == [admin_user, admin_user]
    again = client.post(reverse("portfolio:person_tokens_revoke", args=[owner.pk]), follow=True)
    assert f"{owner.get_full_name()} has no API token." in again.content.decode()


def test_notification_settings_name_every_wrong_field_at_once(owner):
    from portfolio.services import profile_notifications_set

    with pytest.raises(ValidationError) as refused:
        profile_notifications_set(actor=owner, user=owner, email="weekly", digest_hour=24, time_zone="Mars/Base")
    assert set(refused.value.message_dict) == {"notification_email", "digest_hour", "time_zone"}
    with pytest.raises(ValidationError) as refused:
        profile_notifications_set(actor=owner, user=owner, email="daily", digest_hour=-1, time_zone="Mars/Base")
    assert set(refused.value.message_dict) == {"digest_hour", "time_zone"}


# Superusers: an administrator whatever is ticked ---------------------------------------------------------------------


def ticked_roles(page: str) -> set[str]:
    return set(re.findall(r'<input type="checkbox" name="roles" value="(\w+)"[^>]*checked', page))


def role_events(user) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(user).filter(additional_data__event="roles_changed"))


def test_a_superuser_cannot_untick_their_own_administrator_role_on_the_edit_page(login):
    ada = UserFactory(first_name="Ada", last_name="Admin", role=Role.ADMIN, is_superuser=True)
    client = login(ada)
    url = reverse("portfolio:person_edit", args=[ada.pk])

    response = client.post(url, {"roles": ["owner"], "is_active": "on"})

    assert response.status_code == 200
    assert "You cannot take away your own administrator role" in response.content.decode()
    ada.refresh_from_db()
    assert ada.is_superuser and set(ada.groups.values_list("name", flat=True)) == {"admin"}
    assert not role_events(ada)


def test_the_api_refuses_a_superuser_unticking_their_own_administrator_role(api_client):
    ada = UserFactory(role=Role.ADMIN, is_superuser=True)
    api_client.force_authenticate(ada)

    response = api_client.patch(f"/api/people/{ada.pk}/", {"roles": ["owner"]}, format="json")

    assert response.status_code == 400
    assert "You cannot take away your own administrator role" in str(response.json()["roles"])
    assert set(ada.groups.values_list("name", flat=True)) == {"admin"} and not role_events(ada)


def test_another_superuser_s_administrator_role_is_not_taken_away_where_it_would_not_go(admin_user):
    root = UserFactory(first_name="Rita", last_name="Root", role=Role.ADMIN, is_superuser=True)

    with pytest.raises(ValidationError) as refused:
        person_update(actor=admin_user, user=root, roles={Role.OWNER}, is_active=True, department=None, title="",
                      delegates=[])

    assert refused.value.message_dict["roles"] == [
        "Rita Root is a superuser: they stay an administrator whatever roles are ticked here. Take away their "
        "superuser status in the Django admin first."]
    assert set(root.groups.values_list("name", flat=True)) == {"admin"} and not role_events(root)


def test_the_edit_page_shows_a_superuser_s_administrator_role_ticked_and_keeps_it_saved(login, admin_user):
    """A superuser with no admin group (createsuperuser alone) is an administrator on the list and in the API: the
    form says so too, and saving it as shown records only what changed."""
    root = UserFactory(role=Role.EXECUTIVE, is_superuser=True, is_staff=True)
    client = login(admin_user)
    url = reverse("portfolio:person_edit", args=[root.pk])

    assert ticked_roles(client.get(url).content.decode()) == {"executive", "admin"}
    unchanged = client.post(url, {"roles": ["executive", "admin"], "is_active": "on"})
    assert unchanged.status_code == 302 and not role_events(root)
    added = client.post(url, {"roles": ["executive", "admin", "owner"], "is_active": "on"})

    assert added.status_code == 302
    assert set(root.groups.values_list("name", flat=True)) == {"executive", "owner"}
    assert [event.changes_dict for event in role_events(root)] == [{"roles": [["executive"], ["executive", "owner"]]}]


def test_nobody_active_is_left_without_a_role_unless_the_account_is_deactivated(admin_user, owner):
    """Someone without a role could sign in and see nothing: taking away their last role is refused, with one message,
    unless the same edit deactivates them; they are not reactivated without a role either."""
    from portfolio.services import person_reactivate
    from portfolio.services.people import NO_ROLE_LEFT

    rows = LogEntry.objects.count()
    with pytest.raises(ValidationError) as refused:
        person_update(actor=admin_user, user=owner, roles=set(), is_active=True, department=None, title="Lead",
                      delegates=[])
    assert refused.value.message_dict == {"roles": [NO_ROLE_LEFT]}
    with pytest.raises(ValidationError) as refused_directly:
        person_set_roles(user=owner, roles=set(), actor=admin_user, source="admin")
    assert refused_directly.value.message_dict == {"roles": [NO_ROLE_LEFT]}
    owner.refresh_from_db()
    assert set(owner.groups.values_list("name", flat=True)) == {"owner"} and owner.profile.title == ""
    assert LogEntry.objects.count() == rows

    # Deactivated in the same edit, they may keep none; but they are not turned back on without one.
    person_update(actor=admin_user, user=owner, roles=set(), is_active=False, department=None, title="",
                  delegates=[])
    owner.refresh_from_db()
    assert not owner.is_active and not owner.groups.exists()
    assert events(owner) == ["roles_changed", "person_deactivated"]
    with pytest.raises(ValidationError) as not_back:
        person_update(actor=admin_user, user=owner, roles=set(), is_active=True, department=None, title="",
                      delegates=[])
    assert not_back.value.message_dict == {"roles": [NO_ROLE_LEFT]}
    with pytest.raises(ValidationError):
        person_reactivate(actor=admin_user, user=owner)
    owner.refresh_from_db()
    assert not owner.is_active
    person_update(actor=admin_user, user=owner, roles={Role.REVIEWER}, is_active=True, department=None, title="",
                  delegates=[])
    owner.refresh_from_db()
    assert owner.is_active and set(owner.groups.values_list("name", flat=True)) == {"reviewer"}
    assert events(owner)[-2:] == ["roles_changed", "person_reactivated"]


def test_an_active_person_already_without_a_role_may_still_be_edited_and_sso_may_take_every_role(admin_user):
    """The rule is about what an edit takes away: an owner an import created (no role yet) keeps being editable, and
    single sign-on's managed roles follow the provider's groups, which may give none (the sign-in is then refused)."""
    imported = UserFactory()
    person_update(actor=admin_user, user=imported, roles=set(), is_active=True, department=None, title="Analyst",
                  delegates=[])
    imported.profile.refresh_from_db()
    assert imported.profile.title == "Analyst"
    person_set_roles(user=imported, roles={Role.OWNER}, actor=None, source="sso")
    assert person_set_roles(user=imported, roles=set(), actor=None, source="sso", allow_none=True)
    assert not imported.groups.exists()


def test_the_edit_page_refuses_taking_away_every_role(login, admin_user, owner):
    from portfolio.services.people import NO_ROLE_LEFT

    client = login(admin_user)
    url = reverse("portfolio:person_edit", args=[owner.pk])
    response = client.post(url, {"is_active": "on", "title": "Lead"})
    assert response.status_code == 200
    assert NO_ROLE_LEFT in response.content.decode().replace("&#x27;", "'")
    owner.refresh_from_db()
    assert owner.groups.filter(name="owner").exists() and owner.profile.title == ""
    assert client.post(url, {"title": "Left"}).status_code == 302  # unticked Active too: deactivated, no role
    owner.refresh_from_db()
    assert not owner.is_active and not owner.groups.exists()
