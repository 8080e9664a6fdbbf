"""API tokens (django-rest-knox): issued, obtained with a password, revoked and expired, each in the audit trail on
the person (with the token's name and the first characters of its key, never the key). Only a digest of a key is
stored; the key itself exists once, in the answer to whoever issued it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from portfolio.models import ApiToken
from portfolio.selectors import is_integration_account
from tollgate.audit import audit_event
from tollgate.roles import may
from tollgate.types import Actor

LIFETIME_CHOICES = (7, 30, 90, 365)  # days a person may pick on their account page (up to API_TOKEN_MAX_DAYS)
PASSWORD_TOKEN_NAME = "Obtained with a password"
User = get_user_model()


def lifetime_choices() -> list[int]:
    """The lifetimes a token may be given here, in days: the usual ones up to the configured maximum."""
    allowed = [days for days in LIFETIME_CHOICES if days <= settings.API_TOKEN_MAX_DAYS]
    return allowed or [settings.API_TOKEN_MAX_DAYS]


def default_lifetime() -> int:
    """What a new token's lifetime starts at on the forms: 90 days, or the longest allowed when that is shorter."""
    allowed = lifetime_choices()
    return 90 if 90 in allowed else allowed[-1]


def _issued(user: Actor, *, actor: Actor | None, name: str, expiry: timedelta, from_password: bool,
            source: str, read_only: bool = False) -> tuple[ApiToken, str]:
    token, key = ApiToken.objects.create(user=user, expiry=expiry, name=name, from_password=from_password,
                                         read_only=read_only)
    audit_event(user, actor=actor, event="api_token_issued", source=source,
                changes={"api_token": [None, f"{name} ({token.shown_key})"]},
                expires=token.expiry.isoformat() if token.expiry else None, read_only=read_only)
    return token, key


def signs_in(user: Actor) -> bool:
    """Whether a person signs in to the account (or is meant to): a usable password, a sign-in ever (single sign-on
    accounts have no usable password, but a last login), or an invitation sent to set a password. Such an account is
    never marked an integration account (portfolio.services.people.person_integration_account_set)."""
    if user.has_usable_password() or user.last_login is not None:
        return True
    return LogEntry.objects.get_for_object(user).filter(additional_data__event="invitation_sent").exists()


def someone_else_s_token_errors(*, actor: Actor | None, user: Actor) -> dict[str, str]:
    """Why `actor` may not issue a token in `user`'s name: a person's key is issued by that person (on their account
    page), so that nobody, an administrator included, holds a key acting with someone else's rights (two reviewers'
    keys would let one administrator score and approve alone, defeating the four-eyes approval). An administrator
    issues keys only for the accounts marked as integration accounts (Profile.integration_account, set by an
    administrator and audited), not for whoever merely has not signed in yet: an owner an import added and nobody
    invited yet is a person. Revoking anyone's stays allowed."""
    if actor is None or actor.pk == user.pk or is_integration_account(user):
        return {}
    name = user.get_full_name() or str(user)
    return {"user": f"{name} is a person, not an integration account: only they can issue their own keys. Revoke "
                    "theirs if needed."}


@transaction.atomic
def api_token_issue(*, actor: Actor | None, user: Actor, name: str, days: int | str,
                    read_only: bool = False) -> tuple[ApiToken, str]:
    """A named API token for `user` that works for `days`, issued by the person for themselves (their account page:
    the way to a token when they sign in with single sign-on) or by an administrator for an account marked as an
    integration account (someone_else_s_token_errors). Returns the token and its key,
    which nobody can see again. The token reads and writes what its person may, no more; a `read_only` one only
    reads, whatever its person may."""
    own = actor is not None and actor.pk == user.pk
    if actor is not None and not own and not may(actor, "portfolio.add_apitoken"):
        raise PermissionDenied("Only administrators issue API tokens for someone else.")
    if not user.is_active:
        raise ValidationError({"user": f"{user} is deactivated: a token of theirs would not work."})
    if errors := someone_else_s_token_errors(actor=actor, user=user):
        raise ValidationError(errors)
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": "Name the token after the script or tool that will use it."})
    if len(name) > 100:
        raise ValidationError({"name": f"A token's name has at most 100 characters (this one has {len(name)})."})
    if not isinstance(days, int) or days not in lifetime_choices():
        allowed = ", ".join(str(d) for d in lifetime_choices())
        raise ValidationError({"days": f"A token lasts {allowed} days, not {days}."})
    User.objects.select_for_update().filter(pk=user.pk).first()  # one issue at a time per person: the limit holds
    live = ApiToken.objects.filter(user=user, from_password=False).exclude(expiry__lt=timezone.now())
    has = "You already have" if own else f"{user} already has"
    if live.filter(name=name).exists():
        raise ValidationError({"name": f"{has} a token named {name!r}: name this one differently."})
    if live.count() >= settings.API_TOKENS_PER_PERSON:
        raise ValidationError({"name": f"{has} {settings.API_TOKENS_PER_PERSON} API tokens, the most one person may "
                                       "hold: revoke one first."})
    return _issued(user, actor=actor, name=name, expiry=timedelta(days=days), from_password=False,
                   source="account_page" if own else "admin", read_only=read_only)


@transaction.atomic
def api_token_obtain(*, user: Actor) -> tuple[ApiToken, str]:
    """A new short-lived token for the password the person just gave at the token endpoint (every call a new one:
    a stored digest cannot give back an earlier key), audited as issued to them by themselves."""
    return _issued(user, actor=user, name=PASSWORD_TOKEN_NAME, from_password=True, source="password",
                   expiry=timedelta(hours=settings.API_TOKEN_PASSWORD_HOURS))


@transaction.atomic
def api_token_revoke(*, actor: Actor | None, token: ApiToken, reason: str = "") -> None:
    """The token stops working at once; audited on its person (with `reason` when it is not revoked by name). An
    administrator revokes anyone's; a person their own."""
    if actor is not None and actor.pk != token.user_id and not may(actor, "portfolio.delete_apitoken"):
        raise PermissionDenied("Only administrators revoke someone else's API token.")
    user, label = token.user, f"{token.name} ({token.shown_key})"
    ApiToken.objects.filter(pk=token.pk).delete()
    why: dict[str, Any] = {"reason": reason} if reason else {}
    audit_event(user, actor=actor, event="api_token_revoked", changes={"api_token": [label, None]}, **why)


@transaction.atomic
def api_tokens_from_password_revoke(*, user: Actor) -> int:
    """The person's password changed (or was set from a link): the tokens obtained with a password stop working, as
    the old password may be why it changed (their other sessions are signed out too). Named tokens stay: each was
    issued for a script on its own, independently of any password (single sign-on people hold them too), and
    "Revoke N tokens" ends them all. One audit row each, by the person."""
    tokens = list(ApiToken.objects.select_related("user").filter(user=user, from_password=True))
    for token in tokens:
        api_token_revoke(actor=user, token=token, reason="The password it was obtained with was changed.")
    return len(tokens)


@transaction.atomic
def api_tokens_revoke_all(*, actor: Actor | None, user: Actor) -> int:
    """Every token of the person, revoked (their account was deactivated, or an administrator fears a key leaked):
    one audit row each."""
    if actor is not None and actor.pk != user.pk and not may(actor, "portfolio.manage_people"):
        raise PermissionDenied("Only administrators revoke someone else's API tokens.")
    tokens = list(ApiToken.objects.select_related("user").filter(user=user))
    for token in tokens:
        api_token_revoke(actor=actor, token=token)
    return len(tokens)


def api_tokens_expiry_noticed(*, tokens: list[ApiToken], now: datetime) -> int:
    """Record that the tokens' people were told they expire soon (bookkeeping, like a digest's time: the notification
    itself is the record), so that nobody is told twice."""
    return ApiToken.objects.filter(pk__in=[t.pk for t in tokens], expiry_notice_sent_at__isnull=True).update(
        expiry_notice_sent_at=now)


@transaction.atomic
def api_tokens_expired_remove() -> int:
    """Remove the tokens whose lifetime has ended (they already stopped working): one audit row each, on the person.
    Idempotent: a second run finds nothing left to remove."""
    expired = list(ApiToken.objects.select_related("user").select_for_update(of=("self",))
                   .filter(expiry__lt=timezone.now()))
    ApiToken.objects.filter(pk__in=[token.pk for token in expired]).delete()
    for token in expired:
        audit_event(token.user, actor=None, event="api_token_expired",
                    changes={"api_token": [f"{token.name} ({token.shown_key})", None]})
    return len(expired)
