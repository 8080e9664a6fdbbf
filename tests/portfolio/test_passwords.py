"""Invitations, people added by hand and passwords set: each in the audit trail, never with a password or a link."""

from __future__ import annotations

import re

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from portfolio.services import password_set, people_invite_all, person_create, person_invite
from portfolio.services.passwords import people_awaiting_invitation
from tests.factories import DepartmentFactory, UserFactory
from tollgate.roles import Role

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+/accounts/password/reset/[^/\s]+/[^/\s]+/")


def events(user) -> list[str]:
    return [e.additional_data["event"] for e in
            LogEntry.objects.get_for_object(user).filter(additional_data__has_key="event").order_by("pk")]


def no_row_holds(text: str) -> bool:
    return not any(text in f"{e.changes} {e.additional_data} {e.object_repr}" for e in LogEntry.objects.all())


def test_an_administrator_adds_someone_with_an_invitation(admin_user, settings):
    settings.SITE_URL = "https://tollgate.example.com"
    legal = DepartmentFactory(name="Legal")
    person = person_create(actor=admin_user, email=" Nina.Novak@Example.com ", first_name="Nina", last_name="Novak",
                           roles={Role.REVIEWER}, department=legal, title="Counsel", invite=True)
    assert (person.username, person.email, person.get_full_name()) == ("nina.novak@example.com",) * 2 + ("Nina Novak",)
    assert not person.has_usable_password() and person.is_active and not person.is_staff
    assert (person.profile.department, person.profile.title) == (legal, "Counsel")
    assert set(person.groups.values_list("name", flat=True)) == {"reviewer"}
    assert events(person) == ["person_created", "roles_changed", "invitation_sent"]
    created = LogEntry.objects.get_for_object(person).get(additional_data__event="person_created")
    assert created.actor == admin_user and created.action == LogEntry.Action.CREATE
    assert created.changes_dict["email"] == [None, "nina.novak@example.com"]
    # Only the explicit rows: no field-history row for the account or the profile beside them.
    assert LogEntry.objects.get_for_object(person.profile).count() == 0

    (message,) = mail.outbox
    assert message.to == ["nina.novak@example.com"] and message.subject == "You are invited to Tollgate"
    assert "your roles: CoE reviewer" in message.body and "Your username: nina.novak@example.com" in message.body
    link = LINK.search(message.body).group(0)
    assert link.startswith("https://tollgate.example.com/accounts/password/reset/")
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert no_row_holds(token)  # the link is never written down
    invited = LogEntry.objects.get_for_object(person).get(additional_data__event="invitation_sent")
    assert invited.additional_data["kind"] == "invitation" and invited.actor == admin_user


def test_adding_someone_who_has_an_account_or_without_the_right_is_refused(admin_user, owner):
    before = LogEntry.objects.count()
    with pytest.raises(ValidationError) as refused:
        person_create(actor=admin_user, email=owner.email.upper(), first_name="A", last_name="B", roles=set(),
                      department=None, title="", invite=False)
    assert "already has an account" in refused.value.message_dict["email"][0]
    with pytest.raises(PermissionDenied):
        person_create(actor=owner, email="new@example.com", first_name="A", last_name="B", roles=set(),
                      department=None, title="", invite=False)
    assert LogEntry.objects.count() == before and not mail.outbox


def test_someone_is_added_with_at_least_one_role_as_without_one_they_could_see_nothing(login, admin_user,
                                                                                      api_client):
    message = "Give them at least one role: without one they could see nothing in Tollgate."
    with pytest.raises(ValidationError) as refused:
        person_create(actor=admin_user, email="new@example.com", first_name="A", last_name="B", roles=set(),
                      department=None, title="", invite=True)
    assert refused.value.message_dict == {"roles": [message]}
    page = login(admin_user).post(reverse("portfolio:person_create"), {
        "email": "new@example.com", "first_name": "A", "last_name": "B", "invite": "on"})
    assert page.status_code == 200 and page.context["form"].errors["roles"] == [message]
    api_client.force_authenticate(admin_user)
    answer = api_client.post("/api/people/", {"email": "new@example.com", "first_name": "A", "last_name": "B",
                                              "invite": False}, format="json")
    assert answer.status_code == 400 and answer.json()["roles"] == [message]
    assert not get_user_model().objects.filter(email="new@example.com").exists() and not mail.outbox


def test_adding_someone_names_every_wrong_field_at_once_on_the_page_and_the_api(login, admin_user, api_client, owner):
    """A bad e-mail address hid the missing role (one error an answer); the service's checks run on what parsed."""
    no_role = ["Give them at least one role: without one they could see nothing in Tollgate."]
    page = login(admin_user).post(reverse("portfolio:person_create"), {
        "email": "not-an-address", "first_name": "A", "last_name": ""})
    errors = page.context["form"].errors
    assert page.status_code == 200 and set(errors) == {"email", "last_name", "roles"} and errors["roles"] == no_role
    taken = login(admin_user).post(reverse("portfolio:person_create"), {
        "email": owner.email, "first_name": "", "last_name": "B", "roles": ["reviewer"]})
    assert set(taken.context["form"].errors) == {"email", "first_name"}
    assert "already has an account" in taken.context["form"].errors["email"][0]

    api_client.force_authenticate(admin_user)
    answer = api_client.post("/api/people/", {"email": "not-an-address", "first_name": "A", "last_name": "B",
                                              "invite": False}, format="json")
    assert answer.status_code == 400 and set(answer.json()) == {"email", "roles"}
    assert answer.json()["roles"] == no_role
    answer = api_client.post("/api/people/", {"email": owner.email.upper(), "first_name": "A", "roles": ["bogus"],
                                              "invite": False}, format="json")
    assert answer.status_code == 400 and set(answer.json()) == {"email", "last_name", "roles"}
    assert "already has an account" in answer.json()["email"][0]
    assert get_user_model().objects.count() == 2 and not mail.outbox  # the administrator and the owner


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("[Errno 111] Connection refused")


def test_a_mail_server_that_refuses_leaves_nothing_behind(admin_user, settings):
    settings.EMAIL_BACKEND = "tests.portfolio.test_passwords.RefusingBackend"
    before = LogEntry.objects.count()
    with pytest.raises(ValidationError) as refused:
        person_create(actor=admin_user, email="nina@example.com", first_name="Nina", last_name="Novak",
                      roles={Role.OWNER}, department=None, title="", invite=True)
    assert "could not be sent: [Errno 111] Connection refused" in refused.value.messages[0]
    assert not UserFactory._meta.model.objects.filter(email="nina@example.com").exists()
    assert LogEntry.objects.count() == before


def test_an_invitation_is_refused_where_it_cannot_work(admin_user, owner, reviewer, settings):
    with pytest.raises(PermissionDenied):
        person_invite(actor=reviewer, user=owner)
    owner.is_active = False
    owner.save()
    with pytest.raises(ValidationError, match="is deactivated"):
        person_invite(actor=admin_user, user=owner)
    nameless = UserFactory(email="", role=Role.OWNER)
    with pytest.raises(ValidationError, match="no e-mail address"):
        person_invite(actor=admin_user, user=nameless)
    settings.PASSWORD_LOGIN = False
    with pytest.raises(ValidationError, match="single sign-on"):
        person_invite(actor=admin_user, user=reviewer)
    assert not mail.outbox and not LogEntry.objects.filter(additional_data__event="invitation_sent").exists()


def test_someone_with_a_password_gets_a_link_to_set_a_new_one(admin_user, owner):
    person_invite(actor=admin_user, user=owner)
    (message,) = mail.outbox
    assert message.subject == "Set a new Tollgate password" and LINK.search(message.body)
    entry = LogEntry.objects.get_for_object(owner).get(additional_data__event="invitation_sent")
    assert entry.additional_data["kind"] == "new_password_link"


def test_a_password_set_is_audited_by_its_owner_never_with_the_password(owner):
    password_set(user=owner, password="a-new-long-passphrase", source="password_page")
    owner.refresh_from_db()
    assert owner.check_password("a-new-long-passphrase")
    entry = LogEntry.objects.get_for_object(owner).get(additional_data__event="password_changed")
    assert entry.actor == owner and entry.additional_data["source"] == "password_page"
    assert no_row_holds("a-new-long-passphrase") and no_row_holds(owner.password)


def test_the_people_page_adds_someone_and_sends_invitations(login, admin_user, owner):
    client = login(admin_user)
    assert 'id="add-person"' in client.get(reverse("portfolio:person_list")).content.decode()
    page = client.get(reverse("portfolio:person_create")).content.decode()
    assert 'name="invite"' in page and 'checked' in page
    response = client.post(reverse("portfolio:person_create"), {"email": owner.email, "first_name": "X",
                                                                "last_name": "Y"})
    assert response.status_code == 200 and "already has an account" in response.content.decode()
    response = client.post(reverse("portfolio:person_create"), {
        "email": "nina@example.com", "first_name": "Nina", "last_name": "Novak", "roles": ["owner"], "invite": "on"})
    person = UserFactory._meta.model.objects.get(email="nina@example.com")
    assert response.status_code == 302 and response["Location"] == reverse("portfolio:person_edit", args=[person.pk])
    assert len(mail.outbox) == 1
    page = client.get(response["Location"]).content.decode()
    assert "Nina Novak added, and an invitation was e-mailed to nina@example.com." in page
    assert "E-mail an invitation to set a password" in page
    response = client.post(reverse("portfolio:person_invite", args=[person.pk]), follow=True)
    assert "A link to set a password was e-mailed to nina@example.com." in response.content.decode()
    assert len(mail.outbox) == 2
    # A refusal is shown, not raised.
    person.is_active = False
    person.save()
    response = client.post(reverse("portfolio:person_invite", args=[person.pk]), follow=True)
    assert "is deactivated: reactivate the account first." in response.content.decode() and len(mail.outbox) == 2


def test_without_passwords_people_are_added_without_an_invitation(client, admin_user, settings):
    settings.PASSWORD_LOGIN = False
    client.force_login(admin_user)  # password login is off
    page = client.get(reverse("portfolio:person_create")).content.decode()
    assert 'name="invite"' not in page
    response = client.post(reverse("portfolio:person_create"), {
        "email": "nina@example.com", "first_name": "Nina", "last_name": "Novak", "roles": ["owner"], "invite": "on"})
    assert response.status_code == 302 and not mail.outbox
    page = client.get(response["Location"]).content.decode()
    assert "send-invitation" not in page


def test_everyone_awaiting_an_invitation_is_invited_at_once(admin_user, owner, settings):
    imported = [UserFactory(role=Role.OWNER) for _ in range(3)]
    for person in imported:
        person.set_unusable_password()
        person.save()
    signs_in_with_sso = UserFactory(role=Role.OWNER, last_login="2026-11-30T09:00:00Z")
    signs_in_with_sso.set_unusable_password()
    signs_in_with_sso.save()
    left = UserFactory(role=Role.OWNER, is_active=False)
    left.set_unusable_password()
    left.save()
    assert list(people_awaiting_invitation()) == sorted(imported, key=lambda p: (p.last_name, p.first_name, p.pk))
    settings.EMAIL_BACKEND = "tests.portfolio.test_passwords.RefusingBackend"
    with pytest.raises(ValidationError, match="to 3 people could not be sent"):
        people_invite_all(actor=admin_user)
    assert not LogEntry.objects.filter(additional_data__event="invitation_sent").exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    invited = people_invite_all(actor=admin_user)
    assert set(invited) == set(imported) and sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in imported)
    assert LogEntry.objects.filter(additional_data__event="invitation_sent", actor=admin_user).count() == 3
    # Invited, they still have no password until they set it: a second run invites them again (a new link each).
    assert len(people_invite_all(actor=admin_user)) == 3


def test_the_people_page_invites_everyone_awaiting_at_once(login, admin_user, owner):
    owner.set_unusable_password()
    owner.save()
    client = login(admin_user)
    page = client.get(reverse("portfolio:person_list")).content.decode()
    assert "Invite 1 person without a password" in page
    response = client.post(reverse("portfolio:person_invite_all"), follow=True)
    assert "Invitations e-mailed to 1 person." in response.content.decode() and mail.outbox[0].to == [owner.email]


def test_without_email_url_the_pages_say_the_invitation_went_to_the_server_log(login, admin_user, owner, settings):
    """No EMAIL_URL: the console backend writes the message to the log, so "e-mailed" would be untrue."""
    settings.EMAIL_BACKEND = "tollgate.mail.EmailBackend"
    client = login(admin_user)
    response = client.post(reverse("portfolio:person_create"), {
        "email": "nina@example.com", "first_name": "Nina", "last_name": "Novak", "roles": ["owner"], "invite": "on"},
        follow=True)
    page = response.content.decode()
    assert ("Nina Novak added. Mail is not configured (EMAIL_URL): the invitation was written to the server log."
            in page) and "was e-mailed" not in page
    person = UserFactory._meta.model.objects.get(email="nina@example.com")
    page = client.post(reverse("portfolio:person_invite", args=[person.pk]), follow=True).content.decode()
    assert "Mail is not configured (EMAIL_URL): the invitation was written to the server log." in page
    owner.set_unusable_password()
    owner.save()
    page = client.post(reverse("portfolio:person_invite_all"), follow=True).content.decode()
    assert "Mail is not configured (EMAIL_URL): the invitations to" in page and "Invitations e-mailed" not in page


NEW_PASSWORD = "Zz-another-long-passphrase-9"


def test_an_administrator_setting_a_password_in_the_admin_is_audited_and_ends_password_tokens(login, admin_user,
                                                                                             reviewer):
    """Whoever knows a password can sign in as its person: Django's admin form wrote it with no trail row, and the
    tokens obtained with the old password kept working."""
    from portfolio.models import ApiToken
    from portfolio.services.tokens import api_token_issue, api_token_obtain

    obtained, _ = api_token_obtain(user=reviewer)
    named, _ = api_token_issue(actor=reviewer, user=reviewer, name="ci", days=30, read_only=False)
    client = login(admin_user)
    response = client.post(reverse("admin:auth_user_password_change", args=[reviewer.pk]), {
        "usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    reviewer.refresh_from_db()
    assert reviewer.check_password(NEW_PASSWORD)
    entry = LogEntry.objects.get_for_object(reviewer).get(additional_data__event="password_changed")
    assert entry.actor == admin_user and entry.additional_data["source"] == "admin"
    assert no_row_holds(NEW_PASSWORD)
    assert list(ApiToken.objects.filter(user=reviewer).values_list("pk", flat=True)) == [named.pk]
    assert obtained.pk != named.pk


def test_an_administrator_taking_a_password_away_in_the_admin_is_audited(login, admin_user, reviewer):
    client = login(admin_user)
    response = client.post(reverse("admin:auth_user_password_change", args=[reviewer.pk]), {
        "usable_password": "false", "unset-password": "1"})
    assert response.status_code == 302
    reviewer.refresh_from_db()
    assert not reviewer.has_usable_password()
    entry = LogEntry.objects.get_for_object(reviewer).get(additional_data__event="password_changed")
    assert entry.actor == admin_user and entry.additional_data["removed"] is True


def test_the_admin_password_form_is_refused_with_passwords_off(login, admin_user, reviewer, settings):
    client = login(admin_user)
    settings.PASSWORD_LOGIN = False
    before = get_user_model().objects.get(pk=reviewer.pk).password
    response = client.post(reverse("admin:auth_user_password_change", args=[reviewer.pk]), {
        "usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 200 and "single sign-on" in response.content.decode()
    assert get_user_model().objects.get(pk=reviewer.pk).password == before
    assert not LogEntry.objects.filter(additional_data__event="password_changed").exists()


def test_only_an_administrator_sets_another_persons_password(owner, reviewer):
    from portfolio.services.passwords import password_set_by_administrator

    with pytest.raises(PermissionDenied):
        password_set_by_administrator(actor=reviewer, user=owner, password=NEW_PASSWORD)
    owner.refresh_from_db()
    assert not owner.check_password(NEW_PASSWORD)
