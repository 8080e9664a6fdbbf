"""Local passwords: an administrator's invitation (an e-mailed link to set one), and every password set, by its owner
on the password page or from an e-mailed link. Each is a row in the audit trail on the account, never with the
password or the link. With PASSWORD_LOGIN off (single sign-on only) there are no local passwords to set."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from portfolio.models import Profile
from portfolio.selectors import is_integration_account
from portfolio.services.tokens import api_tokens_from_password_revoke
from tollgate.audit import audit_event
from tollgate.roles import may, roles_shown
from tollgate.text import possessive
from tollgate.types import Actor

PASSWORDS_OFF = "Password login is switched off here: people sign in with single sign-on."


def no_password_for_integration_account(user: Actor) -> str:
    """Why an integration account gets no invitation and no password: nobody signs in to it (the refusal's words)."""
    return (f"{user.get_full_name() or user} is an integration account, which a script uses: nobody signs in to it, "
            "so it gets no invitation and no password. An administrator issues its API tokens (Django admin, API "
            "tokens).")


class PasswordLinkTokenGenerator(PasswordResetTokenGenerator):
    """Django's signed single-use token for e-mailed password links (invitations and "Forgot your password?"), also
    signed with when the account was last deactivated: a deactivated account's links are refused, and this keeps a
    link sent before a deactivation dead after a reactivation too."""

    def _make_hash_value(self, user: Any, timestamp: int) -> str:
        deactivated_at = Profile.objects.filter(user=user).values_list("deactivated_at", flat=True).first()
        return super()._make_hash_value(user, timestamp) + (deactivated_at.isoformat() if deactivated_at else "")


password_link_tokens = PasswordLinkTokenGenerator()


def password_link(user: Actor) -> str:
    """The absolute link that lets `user` set a password once: it stops working when the password changes, when they
    sign in, when they are deactivated (for good) and after PASSWORD_RESET_TIMEOUT (signed with SECRET_KEY)."""
    path = reverse("password_reset_confirm", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": password_link_tokens.make_token(user)})
    return settings.SITE_URL + path


def _role_names(user: Actor) -> str:
    return ", ".join(role.label for role in roles_shown(user)) or "no role yet"


def _invitation(actor: Actor | None, user: Actor) -> tuple[EmailMessage, str]:
    """The e-mail that invites `user` (no password yet) or sends them a new link, and which of the two it is."""
    if not user.is_active:
        raise ValidationError(f"{user.get_full_name() or user} is deactivated: reactivate the account first.")
    if is_integration_account(user):
        raise ValidationError(no_password_for_integration_account(user))
    if not user.email:
        raise ValidationError(f"{user} has no e-mail address to send the link to.")
    invited = not user.has_usable_password()
    days = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
    sender = actor.get_full_name() or actor.get_username() if actor is not None else "An administrator"
    if invited:
        subject = "You are invited to Tollgate"
        opening = (f"{sender} has given you an account on Tollgate, the register of the company's AI initiatives "
                   f"(your roles: {_role_names(user)}).")
    else:
        subject = "Set a new Tollgate password"
        opening = f"{sender} sent you a link to set a new Tollgate password."
    body = (f"{opening}\n\nYour username: {user.get_username()}\n\nSet your password here (the link works once, "
            f"for {days} day{'s' if days != 1 else ''}):\n{password_link(user)}\n\n"
            f"Then log in at {settings.SITE_URL}{reverse('login')}\n")
    message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    return message, "invitation" if invited else "new_password_link"


def _send_all(messages: list[EmailMessage]) -> None:
    """Over one connection, so that a whole batch goes or, if the mail server refuses, the reason is shown and the
    caller's transaction records nothing."""
    try:
        with get_connection() as connection:
            connection.send_messages(messages)
    except Exception as error:  # noqa: BLE001 - any refusal of the mail server is the administrator's to read
        to = messages[0].to[0] if len(messages) == 1 else f"{len(messages)} people"
        raise ValidationError(f"The e-mail to {to} could not be sent: {error}") from error


def _check_may_invite(actor: Actor | None) -> None:
    if actor is not None and not may(actor, "portfolio.manage_people"):
        raise PermissionDenied("Only administrators send invitations.")
    if not settings.PASSWORD_LOGIN:
        raise ValidationError(PASSWORDS_OFF)


@transaction.atomic
def person_invite(*, actor: Actor | None, user: Actor) -> None:
    """E-mail `user` a link to set their password: an invitation to someone who has none, a fresh link to someone
    who forgot theirs. Sent at once, so that an administrator who sees "sent" knows the mail server took it; if it
    refuses, nothing is recorded and the reason is shown."""
    _check_may_invite(actor)
    message, kind = _invitation(actor, user)
    _send_all([message])
    audit_event(user, actor=actor, event="invitation_sent", email=user.email, kind=kind)


def people_awaiting_invitation() -> QuerySet:
    """Active people with an e-mail address who have no password and have never signed in: owners an import created,
    people added without an invitation. (Someone who signs in with single sign-on has signed in; nobody signs in to
    an integration account.)"""
    users = (get_user_model().objects.filter(is_active=True, last_login__isnull=True).exclude(email="")
             .exclude(profile__integration_account=True))
    return users.filter(password__startswith=UNUSABLE_PASSWORD_PREFIX).order_by("last_name", "first_name", "pk")


@transaction.atomic
def people_invite_all(*, actor: Actor | None) -> list[Actor]:
    """Invite everyone awaiting an invitation at once (after an inventory import, say): all the e-mails over one
    connection, then one audit row each; if the mail server refuses, nobody is recorded as invited."""
    _check_may_invite(actor)
    people = list(people_awaiting_invitation().prefetch_related("groups"))
    if people:
        _send_all([_invitation(actor, person)[0] for person in people])
    for person in people:
        audit_event(person, actor=actor, event="invitation_sent", email=person.email, kind="invitation", bulk=True)
    return people


@transaction.atomic
def password_set(*, user: Actor, password: str, source: str) -> Actor:
    """`user` sets their own password (already checked by the password validators of the form that asked for it):
    on the password page ("password_page") or from an e-mailed link ("link"). Audited on the account, by them. The
    API tokens obtained with the old password are revoked (api_tokens_from_password_revoke)."""
    if not settings.PASSWORD_LOGIN:
        raise ValidationError(PASSWORDS_OFF)
    if is_integration_account(user):
        raise ValidationError(no_password_for_integration_account(user))
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_event(user, actor=user, event="password_changed", source=source)
    api_tokens_from_password_revoke(user=user)
    return user


def password_set_by_administrator_check(*, actor: Actor | None, user: Actor) -> None:
    """Refuse what password_set_by_administrator would refuse, before anything is written (the admin's form asks it
    while it validates)."""
    if actor is not None and not may(actor, "portfolio.manage_people"):
        raise PermissionDenied(f"You may not set {possessive(user.get_full_name() or user)} password.")
    if not settings.PASSWORD_LOGIN:
        raise ValidationError(PASSWORDS_OFF)
    if is_integration_account(user):
        raise ValidationError(no_password_for_integration_account(user))


@transaction.atomic
def password_set_by_administrator(*, actor: Actor | None, user: Actor, password: str | None) -> Actor:
    """An administrator sets a person's password in the Django admin, or takes it away (`password` None: they then
    sign in only with single sign-on, or a new link). Whoever knows a password can sign in as its person, so the
    trail says who set it ("Password changed", source admin, by the administrator), and the API tokens obtained with
    the old password stop working, as when people change their own."""
    password_set_by_administrator_check(actor=actor, user=user)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save(update_fields=["password"])
    if password is None:
        audit_event(user, actor=actor, event="password_changed", source="admin", removed=True)
    else:
        audit_event(user, actor=actor, event="password_changed", source="admin")
    api_tokens_from_password_revoke(user=user)
    return user

