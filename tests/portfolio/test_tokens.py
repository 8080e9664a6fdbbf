"""API tokens: only digests stored, lifetimes, a limit per person, expiry (refused at once, removed daily with an
audit row), when each was last used, and the keys issued before hashing carried across by the migration."""

from __future__ import annotations

import hashlib
import importlib
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from portfolio.models import ApiToken
from portfolio.services import (
    api_token_issue,
    api_token_obtain,
    api_token_revoke,
    api_tokens_expired_remove,
    password_set,
    person_deactivate,
    person_get_or_create,
    person_invite,
    person_reactivate,
)
from portfolio.services.people import integration_account_create
from portfolio.tasks import api_tokens_expired_remove as expired_remove_task
from tests.factories import UserFactory
from tollgate import api_tokens
from tollgate.celery import app
from tollgate.roles import Role

pytestmark = pytest.mark.django_db

LIST = "/api/initiatives/"


def call(api_client, key: str) -> int:
    return api_client.get(LIST, HTTP_AUTHORIZATION=f"Token {key}").status_code


def test_only_a_digest_of_the_key_is_stored(owner):
    token, key = api_token_issue(actor=owner, user=owner, name="cron", days=7)
    assert key.startswith("tg_") and len(key) == 3 + 64
    stored = ApiToken.objects.filter(user=owner).values_list("digest", "token_key")[0]
    assert stored == (hashlib.sha512(key.encode()).hexdigest(), key[:15])
    assert key not in str(ApiToken.objects.filter(pk=token.pk).values().get())


def test_a_person_holds_at_most_the_configured_number_of_named_tokens(owner, settings):
    settings.API_TOKENS_PER_PERSON = 2
    api_token_issue(actor=owner, user=owner, name="one", days=7)
    api_token_issue(actor=owner, user=owner, name="two", days=7)
    with pytest.raises(ValidationError, match="You already have 2 API tokens, the most one person may hold"):
        api_token_issue(actor=owner, user=owner, name="three", days=7)
    # Expired tokens and those obtained with a password do not count.
    ApiToken.objects.filter(name="one").update(expiry=timezone.now() - timedelta(seconds=1))
    api_token_issue(actor=owner, user=owner, name="three", days=7)


def test_lifetimes_stop_at_the_configured_maximum(owner, settings):
    settings.API_TOKEN_MAX_DAYS = 30
    with pytest.raises(ValidationError, match="A token lasts 7, 30 days, not 90"):
        api_token_issue(actor=owner, user=owner, name="long", days=90)
    settings.API_TOKEN_MAX_DAYS = 3
    token, _key = api_token_issue(actor=owner, user=owner, name="short", days=3)
    assert token.expiry - token.created < timedelta(days=3, minutes=1)


def test_an_administrator_issues_keys_only_for_accounts_marked_as_integration_accounts(
        api_client, admin_user, reviewer):
    """A person's key is issued by that person: an administrator holding two reviewers' keys could score and approve
    an intake alone under their names. Only an account an administrator marked as an integration account (audited)
    is theirs to issue for; revoking anyone's stays allowed."""
    sso = UserFactory(username="sam.sso@example.com", first_name="Sam", last_name="Sso", role=Role.REVIEWER)
    sso.set_unusable_password()  # single sign-on: no password, but they sign in
    sso.last_login = timezone.now()
    sso.save()
    invited = UserFactory(username="ivy.invited@example.com", first_name="Ivy", last_name="Invited")
    person_invite(actor=admin_user, user=invited)
    invited.set_unusable_password()
    invited.save()
    for person in (reviewer, sso, invited):
        message = (f"{person.get_full_name()} is a person, not an integration account: only they can issue their own "
                   "keys. Revoke theirs if needed.")
        with pytest.raises(ValidationError, match=message) as refused:
            api_token_issue(actor=admin_user, user=person, name="admin-issued", days=30)
        assert refused.value.message_dict == {"user": [message]}
    assert not ApiToken.objects.exists()
    assert not LogEntry.objects.filter(additional_data__event="api_token_issued").exists()
    robot = integration_account_create(actor=admin_user, username="ci-exporter", name="CI exporter",
                                       roles={Role.EXECUTIVE})
    token, key = api_token_issue(actor=admin_user, user=robot, name="Nightly export", days=30)
    assert call(api_client, key) == 200
    own, _key = api_token_issue(actor=reviewer, user=reviewer, name="Queue export", days=30)
    api_token_revoke(actor=admin_user, token=own)
    api_token_revoke(actor=admin_user, token=token)
    assert not ApiToken.objects.exists()


def test_an_imported_owner_nobody_invited_yet_gets_no_key_from_an_administrator(admin_user):
    """No password, never signed in, never invited: before integration accounts were marked, that made an account
    one, and an administrator could issue a key in the name of a real person an inventory import added, then act as
    them. A person's key is theirs to issue, whether or not they have signed in yet."""
    imported, _created = person_get_or_create(email="olga.owner@example.com", role=Role.OWNER)
    assert not imported.has_usable_password() and imported.last_login is None
    with pytest.raises(ValidationError, match="Olga Owner is a person, not an integration account"):
        api_token_issue(actor=admin_user, user=imported, name="Sync", days=30)
    assert not ApiToken.objects.exists()
    # Once they sign in, they issue their own.
    _token, _key = api_token_issue(actor=imported, user=imported, name="Sync", days=30)


def test_deactivating_someone_revokes_their_tokens_for_good(api_client, owner, admin_user):
    token, key = api_token_issue(actor=owner, user=owner, name="cron", days=7)
    assert call(api_client, key) == 200
    person_deactivate(actor=admin_user, user=owner)
    assert call(api_client, key) == 401 and not ApiToken.objects.filter(user=owner).exists()
    (row,) = LogEntry.objects.get_for_object(owner).filter(additional_data__event="api_token_revoked")
    assert row.actor == admin_user and row.changes == {"api_token": [f"cron ({token.shown_key})", None]}
    with pytest.raises(ValidationError, match="is deactivated"):
        api_token_issue(actor=admin_user, user=owner, name="again", days=7)
    person_reactivate(actor=admin_user, user=owner)
    assert call(api_client, key) == 401  # reactivation brings no old key back


def test_a_password_set_revokes_the_tokens_obtained_with_a_password_named_ones_stay(api_client, owner):
    """The old password may be why it changed; a named token was issued for a script on its own (README)."""
    obtained, obtained_key = api_token_obtain(user=owner)
    named, named_key = api_token_issue(actor=owner, user=owner, name="cron", days=7)
    password_set(user=owner, password="a-new-long-passphrase", source="password_page")
    assert call(api_client, obtained_key) == 401 and call(api_client, named_key) == 200
    (row,) = LogEntry.objects.get_for_object(owner).filter(additional_data__event="api_token_revoked")
    assert row.actor == owner and row.changes == {"api_token": [f"Obtained with a password ({obtained.shown_key})",
                                                                None]}
    assert row.additional_data["reason"] == "The password it was obtained with was changed."


def test_an_inactive_person_s_token_is_refused_even_if_it_was_left(api_client, owner):
    """Accounts switched off outside the services (a raw update) are still shut out: knox checks is_active."""
    _token, key = api_token_issue(actor=owner, user=owner, name="cron", days=7)
    type(owner).objects.filter(pk=owner.pk).update(is_active=False)
    assert call(api_client, key) == 401


def test_an_expired_token_is_refused_at_once_and_removed_by_the_daily_job_with_an_audit_row(api_client, owner):
    token, key = api_token_issue(actor=owner, user=owner, name="cron", days=7)
    _live, live_key = api_token_issue(actor=owner, user=owner, name="still good", days=7)
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(minutes=1))
    assert call(api_client, key) == 401
    assert call(api_client, live_key) == 200
    assert ApiToken.objects.filter(pk=token.pk).exists()  # refused, not deleted on the request: no silent delete
    assert expired_remove_task.apply().get() == 1
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["still good"]
    (row,) = LogEntry.objects.get_for_object(owner).filter(additional_data__event="api_token_expired")
    assert row.actor is None and row.changes == {"api_token": [f"cron ({token.shown_key})", None]}
    assert api_tokens_expired_remove() == 0  # idempotent
    assert LogEntry.objects.filter(additional_data__event="api_token_expired").count() == 1
    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "portfolio.tasks.api_tokens_expired_remove" in schedule


def test_a_token_remembers_when_it_was_last_used_writing_at_most_once_a_minute(api_client, owner):
    token, key = api_token_issue(actor=owner, user=owner, name="cron", days=7)
    assert token.last_used_at is None
    assert call(api_client, key) == 200
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=30)
    assert call(api_client, key) == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first  # within the minute: no write
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - api_tokens.LAST_USED_EVERY)
    assert call(api_client, key) == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first - api_tokens.LAST_USED_EVERY


def test_a_wrong_or_malformed_key_is_refused(api_client, owner):
    _token, key = api_token_issue(actor=owner, user=owner, name="cron", days=7)
    assert call(api_client, key[:-1] + ("0" if key[-1] != "0" else "1")) == 401  # same lookup prefix, wrong key
    assert call(api_client, "not-a-real-key") == 401
    assert call(api_client, "tg_zz\u00e9") == 401


def test_the_schema_names_the_token_header_as_before(admin_user, client):
    client.force_login(admin_user)
    schema = client.get(reverse("schema"), HTTP_ACCEPT="application/json").json()
    assert schema["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "apiKey", "in": "header", "name": "Authorization",
        "description": 'Token-based authentication with required prefix "Token"'}
    answer = schema["paths"]["/api/auth/token/"]["post"]["responses"]["200"]["content"]["application/json"]
    assert answer["schema"]["$ref"] == "#/components/schemas/IssuedToken"
    assert set(schema["components"]["schemas"]["IssuedToken"]["properties"]) == {"token", "expiry"}


def _drf_token_table_with(key: str, created, user_id: int) -> None:
    """DRF's authtoken_token as it stands in an upgraded database, holding one key."""
    with connection.schema_editor() as editor:
        editor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp with time zone "
                       "NOT NULL, user_id integer NOT NULL)" if connection.vendor == "postgresql" else
                       "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created datetime NOT NULL, "
                       "user_id integer NOT NULL)")
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)", [key, created, user_id])


@pytest.mark.django_db(transaction=True)
def test_keys_issued_before_hashing_keep_working_and_leave_no_plain_text(api_client):
    """The migration's step, on a table shaped like DRF's authtoken_token as it stands in an upgraded database."""
    person = UserFactory(role=Role.OWNER)
    old_key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"  # DRF's shape: 40 hex characters
    migration = importlib.import_module("portfolio.migrations.0020_api_tokens_hashed")
    created = timezone.now() - timedelta(days=400)
    _drf_token_table_with(old_key, created, person.pk)
    try:
        with connection.schema_editor() as editor:
            migration.carry_plain_tokens(apps, editor)
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM authtoken_token")
            assert cursor.fetchone() == (0,)
    finally:
        with connection.schema_editor() as editor:
            editor.execute("DROP TABLE authtoken_token")
    token = ApiToken.objects.get(user=person)
    assert token.name == "Issued before keys were hashed" and token.expiry is None
    assert abs(token.created - created) < timedelta(seconds=1)
    assert call(api_client, old_key) == 200


@pytest.mark.django_db(transaction=True)
def test_the_emptied_drf_table_is_dropped_and_a_row_written_since_is_carried_first(api_client):
    person = UserFactory(role=Role.OWNER)
    restored_key = "7c1f0e4bbdfc6ee4b9944b09199c62bcf9418ad8"
    migration = importlib.import_module("portfolio.migrations.0023_drop_drf_token_table")
    _drf_token_table_with(restored_key, timezone.now(), person.pk)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO django_migrations (app, name, applied) VALUES (%s, %s, %s)",
                       ["authtoken", "0001_initial", timezone.now()])
    try:
        with connection.schema_editor() as editor:
            migration.drop_old_table(apps, editor)
        assert "authtoken_token" not in connection.introspection.table_names()
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM django_migrations WHERE app = 'authtoken'")
            assert cursor.fetchone() == (0,)
    finally:
        if "authtoken_token" in connection.introspection.table_names():
            with connection.schema_editor() as editor:
                editor.execute("DROP TABLE authtoken_token")
    assert call(api_client, restored_key) == 200
    with connection.schema_editor() as editor:
        migration.drop_old_table(apps, editor)  # a database without the table: nothing to do


def test_a_read_only_token_reads_and_is_refused_every_write_whatever_its_person_may(api_client, admin_user,
                                                                                   initiative):
    token, key = api_token_issue(actor=admin_user, user=admin_user, name="BI tool", days=30, read_only=True)
    _rw, rw_key = api_token_issue(actor=admin_user, user=admin_user, name="provisioning", days=30)
    detail = reverse("api:initiative-detail", args=[initiative.pk])
    assert call(api_client, key) == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get(detail).status_code == 200
    for method in (api_client.patch, api_client.put, api_client.delete):
        response = method(detail, {"name": "Renamed"}, format="json")
        assert response.status_code == 403
        assert response.json()["detail"] == ("This API token (BI tool) is read-only: it may only read (GET, HEAD, "
                                             "OPTIONS).")
    assert api_client.post("/api/people/", {"email": "x@example.com"}, format="json").status_code == 403
    initiative.refresh_from_db()
    assert initiative.name != "Renamed"
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {rw_key}")
    assert api_client.patch(detail, {"name": "Renamed"}, format="json").status_code == 200
    (row,) = LogEntry.objects.get_for_object(admin_user).filter(additional_data__event="api_token_issued",
                                                                 additional_data__read_only=True)
    assert row.changes == {"api_token": [None, f"BI tool ({token.shown_key})"]}


def test_a_read_only_token_hands_itself_back_and_does_not_stand_in_the_way_of_a_password(api_client, owner):
    from tests.factories import PASSWORD

    token, key = api_token_issue(actor=owner, user=owner, name="Dashboard", days=30, read_only=True)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    obtained = api_client.post(reverse("api_token"), {"username": owner.username, "password": PASSWORD})
    assert obtained.status_code == 200 and obtained.json()["token"] != key
    assert api_client.post(reverse("api_token_revoke")).status_code == 204
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert call(api_client, key) == 401


def test_a_script_hands_back_the_token_it_obtained(api_client, owner):
    from tests.factories import PASSWORD

    key = api_client.post(reverse("api_token"), {"username": owner.username, "password": PASSWORD}).json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.post(reverse("api_token_revoke")).status_code == 204
    assert call(api_client, key) == 401 and not ApiToken.objects.filter(user=owner).exists()
    (row,) = LogEntry.objects.get_for_object(owner).filter(additional_data__event="api_token_revoked")
    assert row.actor == owner
    api_client.credentials()
    api_client.force_login(owner)
    refused = api_client.post(reverse("api_token_revoke"))
    assert refused.status_code == 400 and "did not come with an API token" in refused.json()["detail"]


def test_administrators_list_every_token_filter_the_forgotten_ones_and_export_them(login, admin_user, owner,
                                                                                    reviewer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    old, old_key = api_token_issue(actor=owner, user=owner, name="Old report script", days=365)
    ApiToken.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(days=60),
                                              last_used_at=timezone.now() - timedelta(days=45))
    api_token_issue(actor=reviewer, user=reviewer, name="Queue export", days=7, read_only=True)
    api_token_obtain(user=reviewer)
    client = login(admin_user)
    url = reverse("portfolio:apitoken_list")
    page = client.get(url).content.decode()
    assert "Old report script" in page and "Queue export" in page and old.shown_key in page and old_key not in page
    unused = client.get(url, {"state": "unused"}).content.decode()
    assert "Old report script" in unused and "Queue export" not in unused
    expiring = client.get(url, {"state": "expiring", "read_only": "true"}).content.decode()
    assert "Queue export" in expiring and "Old report script" not in expiring
    csv = client.get(url, {"_export": "csv", "kind": "password"}).content.decode().splitlines()
    assert csv[0] == "Person,Name,Key,May,Kind,Created,Expires,Last used"
    assert len(csv) == 2 and "Obtained with a password" in csv[1] and "obtained with a password" in csv[1]
    # One query for the rows however many people hold tokens.
    for person in UserFactory.create_batch(5, role=Role.OWNER):
        api_token_issue(actor=person, user=person, name="cron", days=30)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    api_token_issue(actor=owner, user=owner, name="one more", days=30)
    with CaptureQueriesContext(connection) as more:
        client.get(url)
    assert len(more) == len(few)
