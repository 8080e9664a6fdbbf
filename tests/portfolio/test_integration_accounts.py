"""Integration accounts: marked explicitly by an administrator (Profile.integration_account, audited), the only
accounts whose API tokens an administrator issues; nobody signs in to one and it never scores or approves."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from portfolio.choices import RunStatus, Stage
from portfolio.models import ApiToken, Initiative, Profile
from portfolio.selectors import is_integration_account
from portfolio.services import (
    api_token_issue,
    initiative_create,
    initiative_update,
    initiatives_hand_over,
    password_set,
    people_invite_all,
    person_get_or_create,
    person_invite,
    person_set_roles,
    person_sign_in_with_sso,
    person_update,
)
from portfolio.services.passwords import people_awaiting_invitation
from portfolio.services.people import integration_account_create, person_integration_account_set
from tests.factories import DepartmentFactory, InitiativeFactory, UserFactory
from tests.portfolio.test_import import csv_bytes, run_import
from tollgate.roles import Role

pytestmark = pytest.mark.django_db


def events(user) -> list[tuple[str, object]]:
    return [(e.additional_data["event"], e.actor) for e in
            LogEntry.objects.get_for_object(user).filter(additional_data__has_key="event").order_by("pk")]


def script(admin_user, username: str = "bi-export", roles: set[Role] | None = None):
    return integration_account_create(actor=admin_user, username=username, name="Nightly BI export",
                                      roles=roles or {Role.EXECUTIVE})


def test_an_integration_account_added_on_the_page_gets_a_key_from_an_administrator(login, admin_user, api_client):
    client = login(admin_user)
    assert "Add integration account" in client.get(reverse("portfolio:person_list")).content.decode()
    response = client.post(reverse("portfolio:integration_account_create"),
                           {"username": "bi-export", "name": "Nightly BI export", "roles": ["executive"],
                            "title": "Feeds the finance warehouse; Data team"})
    account = type(admin_user).objects.get(username="bi-export")
    assert response.status_code == 302 and response["Location"] == reverse("portfolio:person_edit", args=[account.pk])
    assert (account.email, account.get_full_name(), account.has_usable_password()) == ("", "Nightly BI export", False)
    assert is_integration_account(account) and account.profile.title == "Feeds the finance warehouse; Data team"
    assert set(account.groups.values_list("name", flat=True)) == {"executive"}
    assert events(account) == [("integration_account_created", admin_user), ("roles_changed", admin_user)]
    page = client.get(reverse("portfolio:person_edit", args=[account.pk])).content.decode()
    assert 'id="integration-account-note"' in page and 'id="send-invitation"' not in page
    assert f"{reverse('admin:portfolio_apitoken_add')}?user={account.pk}" in page
    _token, key = api_token_issue(actor=admin_user, user=account, name="Warehouse feed", days=30, read_only=True)
    assert api_client.get("/api/initiatives/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    assert not mail.outbox  # no invitation: nobody signs in to it


def test_adding_one_names_every_wrong_field_and_writes_nothing(login, admin_user, owner):
    with pytest.raises(ValidationError) as refused:
        integration_account_create(actor=admin_user, username="ops@example.com", name=" ",
                                   roles={Role.REVIEWER, Role.ADMIN})
    errors = refused.value.message_dict
    assert set(errors) == {"username", "name", "roles"}
    assert "looks like an e-mail address" in errors["username"][0]
    assert "cannot be a CoE reviewer or an Administrator" in errors["roles"][0]
    script(admin_user)
    with pytest.raises(ValidationError, match="BI-Export is already the username of Nightly BI export"):
        script(admin_user, username="BI-Export")
    with pytest.raises(ValidationError, match="at most 150 letters, digits and"):
        script(admin_user, username="nightly export")
    with pytest.raises(PermissionDenied):
        integration_account_create(actor=owner, username="mine", name="Mine", roles={Role.OWNER})
    # On the page: a reviewer is not offered, and nothing is created.
    client = login(admin_user)
    users = type(admin_user).objects.count()
    response = client.post(reverse("portfolio:integration_account_create"),
                           {"username": "approver", "name": "Approver", "roles": ["reviewer"]})
    assert response.status_code == 200 and 'id="form-errors"' in response.content.decode()
    assert "reviewer is not one of the available choices" in response.content.decode()
    assert type(admin_user).objects.count() == users


def test_an_integration_account_is_never_made_a_reviewer_or_an_administrator(admin_user, login):
    account = script(admin_user)
    message = "Nightly BI export is an integration account, which a script uses: it cannot be a CoE reviewer"
    with pytest.raises(ValidationError, match=message):
        person_set_roles(user=account, roles={Role.EXECUTIVE, Role.REVIEWER}, actor=admin_user, source="people_page")
    with pytest.raises(ValidationError, match="it cannot be an Administrator") as refused:
        person_update(actor=admin_user, user=account, roles={Role.ADMIN}, is_active=True, department=None, title="",
                      delegates=[])
    assert set(refused.value.message_dict) == {"roles"}
    assert set(account.groups.values_list("name", flat=True)) == {"executive"}
    client = login(admin_user)
    response = client.post(reverse("portfolio:person_edit", args=[account.pk]),
                           {"roles": ["reviewer"], "is_active": "on", "integration_account": "on"})
    assert response.status_code == 200 and "it cannot be a CoE reviewer" in response.content.decode()
    # Unticked in the same edit, it becomes a person's account, who may be a reviewer (its keys are revoked).
    api_token_issue(actor=admin_user, user=account, name="Feed", days=30)
    response = client.post(reverse("portfolio:person_edit", args=[account.pk]),
                           {"roles": ["reviewer"], "is_active": "on"})
    assert response.status_code == 302 and not is_integration_account(account)
    assert set(account.groups.values_list("name", flat=True)) == {"reviewer"}
    assert not ApiToken.objects.filter(user=account).exists()
    assert [event for event, _actor in events(account)][-3:] == [
        "integration_account_unmarked", "api_token_revoked", "roles_changed"]


def test_marking_is_audited_and_refused_for_an_account_someone_signs_in_to(admin_user, owner, login):
    imported, _created = person_get_or_create(email="olga.owner@example.com", role=Role.OWNER)
    assert person_integration_account_set(actor=admin_user, user=imported, integration_account=True)
    assert not person_integration_account_set(actor=admin_user, user=imported, integration_account=True)
    (row,) = LogEntry.objects.get_for_object(imported).filter(additional_data__event="integration_account_marked")
    assert row.actor == admin_user and row.changes_dict == {"integration_account": [False, True]}
    assert person_integration_account_set(actor=admin_user, user=imported, integration_account=False)
    assert events(imported)[-1] == ("integration_account_unmarked", admin_user)

    sso = UserFactory(role=Role.OWNER, last_login=timezone.now())
    sso.set_unusable_password()
    sso.save()
    invited = UserFactory(role=Role.OWNER)
    person_invite(actor=admin_user, user=invited)
    invited.set_unusable_password()
    invited.save()
    for person in (owner, sso, invited):  # a password, a sign-in, an invitation
        with pytest.raises(ValidationError, match="signs in .* a person's account is not made an integration"):
            person_integration_account_set(actor=admin_user, user=person, integration_account=True)
        assert not is_integration_account(person)
    reviewer = UserFactory(role=Role.REVIEWER)
    reviewer.set_unusable_password()
    reviewer.save()
    with pytest.raises(ValidationError, match="it cannot be a CoE reviewer"):
        person_integration_account_set(actor=admin_user, user=reviewer, integration_account=True)
    with pytest.raises(PermissionDenied):
        person_integration_account_set(actor=owner, user=imported, integration_account=True)
    client = login(admin_user)
    response = client.post(reverse("portfolio:person_edit", args=[owner.pk]),
                           {"roles": ["owner"], "is_active": "on", "integration_account": "on"})
    assert response.status_code == 200 and "is not made an integration account" in response.content.decode()
    assert not is_integration_account(owner)


def test_nobody_signs_in_to_an_integration_account(admin_user, client):
    account = script(admin_user)
    type(account).objects.filter(pk=account.pk).update(email="bi-export@example.com")
    account.refresh_from_db()
    with pytest.raises(ValidationError, match="is an integration account, which a script uses: nobody signs in"):
        person_invite(actor=admin_user, user=account)
    assert account not in people_awaiting_invitation() and people_invite_all(actor=admin_user) == []
    client.post(reverse("password_reset"), {"email": account.email})
    assert not mail.outbox  # "Forgot your password?" sends nothing
    with pytest.raises(ValidationError, match="gets no invitation and no password"):
        password_set(user=account, password="a-long-enough-passphrase", source="link")
    # A password that reached it some other way still does not sign in.
    account.set_password("a-long-enough-passphrase")
    account.save()
    assert not client.login(username="bi-export", password="a-long-enough-passphrase")
    with pytest.raises(PermissionDenied, match="nobody signs in to it"):
        person_sign_in_with_sso(email="bi-export@example.com", first_name="B", last_name="E", roles=None,
                                default_role=Role.OWNER)
    assert type(account).objects.get(pk=account.pk).last_login is None
    # The Django admin's password form refuses it too.
    client.force_login(admin_user)
    response = client.get(reverse("admin:auth_user_password_change", args=[account.pk]), follow=True)
    assert "gets no invitation and no password" in response.content.decode()


def test_the_people_list_the_csv_and_the_api_show_integration_accounts(login, admin_user, owner, api_client):
    account = script(admin_user)
    client = login(admin_user)

    def listed(query: str) -> list[str]:
        rows = client.get(reverse("portfolio:person_list") + f"?{query}&_export=csv").content.decode().splitlines()
        header = rows[0].split(",")
        assert "Integration account" in header
        column = header.index("Integration account")
        return sorted(f"{row.split(',')[0]}:{row.split(',')[column]}" for row in rows[1:])

    assert listed("integration_account=true") == ["Nightly BI export:Yes"]
    assert f"{owner.get_full_name()}:No" in listed("integration_account=false")
    assert listed("sign_in=integration") == ["Nightly BI export:Yes"]
    assert "Nightly BI export:Yes" not in listed("sign_in=not_invited")
    assert "Nobody: integration account" in client.get(reverse("portfolio:person_list")).content.decode()
    api_client.force_authenticate(admin_user)
    row = api_client.get(f"/api/people/{account.pk}/").json()
    assert (row["integration_account"], row["sign_in"]) == (True, "integration")
    assert api_client.get(f"/api/people/{owner.pk}/").json()["integration_account"] is False
    refused = api_client.patch(f"/api/people/{owner.pk}/", {"integration_account": True}, format="json")
    assert refused.status_code == 400 and "integration_account" in refused.json()
    assert not is_integration_account(owner)


def test_the_django_admin_shows_the_mark_read_only_and_gives_no_reviewer_role(client, admin_user):
    from django.contrib.auth.models import Group

    from tests.test_admin import change_form

    account = script(admin_user)
    client.force_login(admin_user)
    page = client.get(reverse("admin:portfolio_profile_change", args=[account.profile.pk])).content.decode()
    assert "Integration account" in page and 'name="integration_account"' not in page
    url = reverse("admin:auth_user_change", args=[account.pk])
    data = change_form(client, url)
    data["groups"] = [str(Group.objects.get(name=Role.REVIEWER.value).pk)]
    response = client.post(url, data)
    assert response.status_code == 200 and "it cannot be a CoE reviewer" in response.content.decode()
    assert set(account.groups.values_list("name", flat=True)) == {"executive"}


def test_the_migration_keeps_an_integration_account_with_an_administrator_s_token_marked(admin_user, owner):
    """The accounts the old rule called integration accounts (no password, never signed in, never invited) that hold
    a key an administrator issued stay integration accounts; every other account is a person."""
    migration = importlib.import_module("portfolio.migrations.0041_integration_accounts_marked")

    def unusable(**kwargs):
        user = UserFactory(role=Role.EXECUTIVE, **kwargs)
        user.set_unusable_password()
        user.save()
        return user

    robot = unusable(username="ci-exporter")  # an integration account of the old rule, unmarked
    ApiToken.objects.create(user=robot, name="Nightly export", expiry=timedelta(days=30))  # issued by an admin
    imported = unusable()  # an owner an import added, no key: a person
    sso = unusable(last_login=timezone.now())  # holds a key they issued themselves
    api_token_issue(actor=sso, user=sso, name="Mine", days=30)
    api_token_issue(actor=owner, user=owner, name="Mine", days=30)  # a password
    invited = unusable()
    person_invite(actor=admin_user, user=invited)
    invited.set_unusable_password()
    invited.save()
    ApiToken.objects.create(user=invited, name="Old key", expiry=None)  # before the rule: invited afterwards

    assert migration.mark_integration_accounts(apps, None) == 1
    marked = set(Profile.objects.filter(integration_account=True).values_list("user_id", flat=True))
    assert marked == {robot.pk}
    (row,) = LogEntry.objects.get_for_object(robot).filter(additional_data__event="integration_account_marked")
    assert row.actor is None and row.additional_data["source"] == "migration"
    assert row.changes_dict == {"integration_account": [False, True]}
    assert migration.mark_integration_accounts(apps, None) == 0  # idempotent
    # The script keeps its keys: the administrator issues the next one as before.
    api_token_issue(actor=admin_user, user=robot, name="Next export", days=30)
    for person in (imported, sso, owner, invited):
        with pytest.raises(ValidationError, match="is a person, not an integration account"):
            api_token_issue(actor=admin_user, user=person, name="Admin's", days=30)


def test_the_add_page_and_an_integration_account_s_page_read_in_constant_queries(login, admin_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import DepartmentFactory

    account = script(admin_user)
    client = login(admin_user)

    def queries() -> list[int]:
        counts = []
        for url in (reverse("portfolio:integration_account_create"),
                    reverse("portfolio:person_edit", args=[account.pk])):
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            counts.append(len(captured))
        return counts

    few = queries()
    for n in range(4):
        DepartmentFactory()
        api_token_issue(actor=admin_user, user=account, name=f"Feed {n}", days=30)
    assert queries() == few


# --- Never an initiative's owner; a delegate may be one -------------------------------------------------------------
# An owner answers for the initiative and must be a person who signs in: every door that names an owner (the service,
# so the page, the API, a hand-over and the import) refuses an integration account, naming it; as a delegate it stays
# (a KPI feed submits the value reports).

def kpi_feed(admin_user):
    return integration_account_create(actor=admin_user, username="kpi-feed", name="KPI feed", roles={Role.OWNER})


REFUSED_OWNER = ("KPI feed is an integration account, which a script uses and nobody signs in to: it cannot own an "
                 "initiative, as the owner answers for it.")


def test_the_service_refuses_an_integration_account_as_owner_and_allows_it_as_a_delegate(admin_user, owner):
    feed = kpi_feed(admin_user)
    department = DepartmentFactory()
    with pytest.raises(ValidationError) as refused:
        initiative_create(actor=admin_user, name="Claims triage", department=department, owner=feed)
    assert refused.value.message_dict["owner"][0].startswith(REFUSED_OWNER)
    assert not Initiative.objects.exists()
    initiative = initiative_create(actor=admin_user, name="Claims triage", department=department, owner=owner,
                                   delegates=[feed])
    rows = LogEntry.objects.count()
    with pytest.raises(ValidationError, match="KPI feed is an integration account"):
        initiative_update(actor=admin_user, initiative=initiative, owner=feed)
    initiative.refresh_from_db()
    assert initiative.owner == owner and list(initiative.delegates.all()) == [feed]
    assert LogEntry.objects.count() == rows


def test_the_page_does_not_offer_it_as_owner_and_the_api_refuses_it(login, admin_user, owner, api_client):
    feed = kpi_feed(admin_user)
    initiative = InitiativeFactory(owner=owner)
    client = login(admin_user)
    page = client.get(reverse("portfolio:initiative_edit", args=[initiative.pk])).content.decode()
    owners = page.split('name="owner"', 1)[1].split("</select>", 1)[0]
    delegates = page.split('name="delegates"', 1)[1].split("</select>", 1)[0]
    assert f'value="{feed.pk}"' not in owners and f'value="{feed.pk}"' in delegates
    api_client.force_authenticate(admin_user)
    url = reverse("api:initiative-detail", args=[initiative.pk])
    refused = api_client.patch(url, {"owner": feed.pk}, format="json")
    assert refused.status_code == 400 and refused.json()["owner"][0].startswith(REFUSED_OWNER)
    created = api_client.post(reverse("api:initiative-list"), {"name": "Claims triage", "owner": feed.pk,
                                                               "department": initiative.department.pk}, format="json")
    assert created.status_code == 400 and created.json()["owner"][0].startswith(REFUSED_OWNER)
    delegated = api_client.patch(url, {"delegates": [feed.pk]}, format="json")
    assert delegated.status_code == 200, delegated.content
    initiative.refresh_from_db()
    assert initiative.owner == owner and Initiative.objects.count() == 1


def test_a_hand_over_to_an_integration_account_is_refused_on_every_door(login, admin_user, owner, api_client):
    feed = kpi_feed(admin_user)
    InitiativeFactory(owner=owner)
    with pytest.raises(ValidationError) as refused:
        initiatives_hand_over(actor=admin_user, from_user=owner, to_user=feed)
    assert refused.value.message_dict["to"][0].startswith(REFUSED_OWNER)
    client = login(admin_user)
    page = client.get(reverse("portfolio:person_edit", args=[owner.pk])).content.decode()
    assert f'value="{feed.pk}"' not in page.split('id="hand-over-form"', 1)[1].split("</select>", 1)[0]
    api_client.force_authenticate(admin_user)
    answer = api_client.post(f"/api/people/{owner.pk}/hand-over/", {"to": feed.pk}, format="json")
    assert answer.status_code == 400 and answer.json()["to"][0].startswith(REFUSED_OWNER)
    assert set(Initiative.objects.values_list("owner_id", flat=True)) == {owner.pk}


def test_an_owner_is_not_marked_an_integration_account_while_owning_a_running_initiative(admin_user):
    imported, _created = person_get_or_create(email="olga.owner@example.com", role=Role.OWNER)
    owned = InitiativeFactory(owner=imported, stage=Stage.PILOT)
    with pytest.raises(ValidationError, match="owns 1 running or planned initiative, and an integration account"):
        person_integration_account_set(actor=admin_user, user=imported, integration_account=True)
    assert not is_integration_account(imported)
    owned.stage = Stage.KILLED  # an ended initiative keeps the owner it ended with: no reason to refuse
    owned.save()
    assert person_integration_account_set(actor=admin_user, user=imported, integration_account=True)


def test_the_import_refuses_an_integration_account_as_a_row_s_owner(admin_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    feed = kpi_feed(admin_user)
    type(feed).objects.filter(pk=feed.pk).update(email="kpi-feed@example.com")
    before = Initiative.objects.count()
    rows = csv_bytes({"external_id": "INV-1"}, {"external_id": "INV-2", "owner_email": "kpi-feed@example.com"})
    run = run_import(rows, actor=admin_user)
    assert run.status == RunStatus.FAILED
    assert [(e["row"], e["column"]) for e in run.errors] == [(3, "owner_email")]
    assert run.errors[0]["message"].startswith(REFUSED_OWNER)
    assert Initiative.objects.count() == before
