"""People: Django users with a profile; imported people have no usable password until invited."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any
from zoneinfo import available_timezones

from auditlog.context import disable_auditlog, set_actor
from auditlog.models import LogEntry
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Min, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from portfolio.choices import ENDED_STAGES, NotificationEmail
from portfolio.models import Department, Initiative, Profile
from portfolio.selectors import is_integration_account
from portfolio.services.initiatives import (
    delegates_who_cannot_act,
    initiative_update,
    integration_account_owner_refusal,
)
from portfolio.services.passwords import person_invite
from portfolio.services.tokens import api_tokens_revoke_all, signs_in
from portfolio.signals import initiatives_handed_over, owners_changed
from tollgate.audit import audit_event, audit_table_event
from tollgate.roles import Role, group_names, held_roles, may
from tollgate.types import Actor

User = get_user_model()


def _names_from_email(email: str) -> tuple[str, str]:
    local = email.split("@", 1)[0]
    parts = [p for p in local.replace("_", ".").replace("-", ".").split(".") if p]
    if not parts:
        return "", ""
    return parts[0].capitalize(), " ".join(p.capitalize() for p in parts[1:])


def username_holder(email: str) -> Actor | None:
    """The account whose username is `email` in some letter case, if any. A new person's account is named by their
    e-mail address and usernames are unique ignoring case (portfolio migration 0028, as sign-in ignores case), so an
    account named so but with another e-mail address (a typo fixed on one side, an account added in the Django admin
    without an address) blocks creating the person: they are not matched by username, which is not what vouches for
    them, and not given another username either, as they would then sign in with their address to that account."""
    return User.objects.filter(username__iexact=email.strip()).first()


def person_new_check(*, email: str) -> None:
    """Refuse (ValidationError on "email") to create a person whose e-mail address is another account's username."""
    holder = username_holder(email)
    if holder is None:
        return
    who = holder.get_full_name() or holder.username
    address = f"whose e-mail address is {holder.email}" if holder.email else "which has no e-mail address"
    raise ValidationError({"email": (
        f"{email.strip().lower()} is already the username of another account ({who}, {address}): give that account "
        "this e-mail address, or change its username in the Django admin, then try again.")})


@transaction.atomic
def person_get_or_create(
    *,
    email: str,
    first_name: str | None = None,
    last_name: str | None = None,
    department: Department | None = None,
    title: str | None = None,
    role: Role | None = None,
) -> tuple[Actor, bool]:
    """Find a person by e-mail (case-insensitive) or create them with an unusable password, named by the address; an
    address that is already another account's username (any case) is refused (person_new_check)."""
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if user is None:
        person_new_check(email=email)
        guessed_first, guessed_last = _names_from_email(email)
        user = User(
            username=email,
            email=email,
            first_name=first_name if first_name is not None else guessed_first,
            last_name=last_name if last_name is not None else guessed_last,
        )
        user.set_unusable_password()
        user.save()
    profile, _ = Profile.objects.get_or_create(user=user)
    changed = []
    if department is not None and profile.department_id != department.pk:
        profile.department = department
        changed.append("department")
    if title is not None and profile.title != title:
        profile.title = title
        changed.append("title")
    if changed:
        profile.save(update_fields=[*changed, "updated_at"])
    if role is not None:
        person_set_role(user=user, role=role)
    return user, created


@transaction.atomic
def person_set_role(
    *, user: Actor, role: Role, exclusive: bool = False, actor: Actor | None = None, source: str = "import",
) -> None:
    """Add a role (with `exclusive`, make it the only one) through person_set_roles: audited like any other change
    of roles, with staff status following the administrator role."""
    current: set[Role] = set()
    if not exclusive:
        held = user.groups.filter(name__in=[r.value for r in Role]).values_list("name", flat=True)
        current = {Role(name) for name in held}
    person_set_roles(user=user, roles=current | {role}, actor=actor, source=source)


def _account_switch(*, actor: Actor | None, user: Actor, active: bool, event: str, source: str) -> Actor:
    """Turn an account on or off, audited by one explicit row saying where (`source`: the People page, the API, the
    Django admin); the account's field history stays out of it. An account without a role is not turned back on
    (no_role_errors): give it a role first."""
    if actor is not None and not may(actor, "portfolio.manage_people"):
        raise PermissionDenied(f"Only administrators {'reactivate' if active else 'deactivate'} accounts.")
    if not active and (errors := self_lockout_errors(actor=actor, user=user, is_active=False)):
        raise ValidationError(errors)
    if active and not user.is_active and (errors := no_role_errors(user=user, roles=_role_groups_of(user),
                                                                   is_active=True)):
        raise ValidationError(errors)
    if user.is_active != active:
        user.is_active = active
        with disable_auditlog():
            user.save(update_fields=["is_active"])
        audit_event(user, actor=actor, event=event, changes={"is_active": [not active, active]}, source=source)
        if not active:  # a reactivated account must not bring its old keys or password links back to life
            api_tokens_revoke_all(actor=actor, user=user)
            Profile.objects.get_or_create(user=user)
            Profile.objects.filter(user=user).update(deactivated_at=timezone.now())  # the row above is its record
        if Initiative.objects.filter(owner=user).exclude(stage__in=ENDED_STAGES).exists():
            owners_changed.send(sender=User, user=user)
    return user


@transaction.atomic
def person_deactivate(*, actor: Actor | None, user: Actor, source: str = "people_page") -> Actor:
    """Someone left: their account stops working and their API tokens are revoked (they own what they owned until it
    is handed over). Audited."""
    return _account_switch(actor=actor, user=user, active=False, event="person_deactivated", source=source)


@transaction.atomic
def person_reactivate(*, actor: Actor | None, user: Actor, source: str = "people_page") -> Actor:
    """A deactivated account may sign in again (with the roles it still holds). Audited."""
    return _account_switch(actor=actor, user=user, active=True, event="person_reactivated", source=source)


# Someone added (on the People page, in the API or the Django admin's "Add user") is given at least one role.
NO_ROLE_GIVEN = "Give them at least one role: without one they could see nothing in Tollgate."


def person_create_errors(*, email: str | None, roles: Iterable[Role] | None) -> dict[str, str]:
    """What person_create refuses of these fields, by field; None for a field that did not parse (the form or API
    names its own error), so one answer names every wrong field rather than one at a time."""
    errors: dict[str, str] = {}
    if email is not None:
        email = email.strip().lower()
        existing = User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).first()
        if existing is not None:
            state = "" if existing.is_active else " (deactivated: reactivate it on their page)"
            who = existing.get_full_name() or existing
            errors["email"] = f"{email} already has an account{state}: {who}."
    if roles is not None and not set(roles):
        errors["roles"] = NO_ROLE_GIVEN
    return errors


@transaction.atomic
def person_create(
    *, actor: Actor | None, email: str, first_name: str, last_name: str, roles: set[Role],
    department: Department | None, title: str, invite: bool, source: str = "people_page",
) -> Actor:
    """An administrator adds someone by hand (imports and single sign-on add people too): an account named by the
    e-mail address, with no usable password until they set one, their roles and profile. With `invite`, they are
    e-mailed a link to set their password (portfolio.services.passwords.person_invite); if the mail cannot be sent,
    nothing is created. Audited: "Account created", then the roles and the invitation. Someone is added with at
    least one role: without one they could see nothing (single sign-on does not create such accounts either)."""
    if actor is not None and not may(actor, "portfolio.manage_people"):
        raise PermissionDenied("Only administrators add people.")
    email = email.strip().lower()
    if errors := person_create_errors(email=email, roles=roles):
        raise ValidationError(errors)
    user = User(username=email, email=email, first_name=first_name.strip(), last_name=last_name.strip())
    user.set_unusable_password()
    with disable_auditlog():  # the explicit row below is the record of the account's creation
        user.save()
        Profile.objects.create(user=user, department=department, title=title.strip())
    audit_event(user, actor=actor, event="person_created", action=LogEntry.Action.CREATE,
                changes={"email": [None, email], "name": [None, user.get_full_name()],
                         "department": [None, str(department) if department else None], "title": [None, title.strip()]})
    person_set_roles(user=user, roles=roles, actor=actor, source=source)
    if invite:
        person_invite(actor=actor, user=user)
    return user


# The roles an integration account may hold. Executive: it reads the whole portfolio and changes nothing, which is
# what a BI tool, a spreadsheet or a board-pack export needs. Initiative owner: named a delegate of an initiative, it
# keeps it up and fills its value reports from another system (a KPI feed), and can neither score, approve nor give a
# verdict; it never owns one, as an owner answers for the initiative (people_check). Not a CoE reviewer: a score or
# an approval is one of the four eyes, and a person must answer for it (an administrator holding a reviewer account's
# key could approve alone). Not an administrator: that role manages people and issues keys, so its key would act for
# nobody accountable. Cost data needs neither: the connectors of the cost sources run inside Tollgate.
INTEGRATION_ROLES = (Role.EXECUTIVE, Role.OWNER)
USERNAME_CHARACTERS = "letters, digits and . - _"


def integration_role_errors(*, user: Actor | None, roles: set[Role], is_superuser: bool = False) -> dict[str, str]:
    """Why an integration account may not hold `roles` (a superuser is an administrator): asked by every door that
    gives roles or marks an account (person_set_roles, person_integration_account_set, integration_account_create)."""
    refused = [role for role in Role if role in roles and role not in INTEGRATION_ROLES]
    if is_superuser and Role.ADMIN not in refused:
        refused.append(Role.ADMIN)
    if not refused:
        return {}
    name = (user.get_full_name() or str(user)) if user is not None else "An integration account"
    labels = " or ".join(f"a {role.label}" if role is not Role.ADMIN else "an Administrator" for role in refused)
    return {"roles": f"{name} is an integration account, which a script uses: it cannot be {labels}, as a score, "
                     "an approval or an administrator's rights belong to a person who signs in and answers for them. "
                     "It may be an Executive (reads) or an Initiative owner."}


@transaction.atomic
def integration_account_create(
    *, actor: Actor | None, username: str, name: str, roles: set[Role], department: Department | None = None,
    title: str = "", source: str = "people_page",
) -> Actor:
    """An account for a script or a tool, which an administrator adds on the People page: a username and a name, no
    e-mail address, no password and no invitation (nobody signs in to it), marked as an integration account so
    that an administrator may issue its API tokens (portfolio.services.tokens). Its roles are among
    INTEGRATION_ROLES. Audited: "Integration account created", then its roles. Nothing is written when anything is
    wrong, and every wrong field is named at once."""
    if actor is not None and not may(actor, "portfolio.manage_people"):
        raise PermissionDenied("Only administrators add integration accounts.")
    username, name, title = username.strip(), " ".join(name.split()), title.strip()
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = "Give the account a username, such as bi-export."
    elif "@" in username:
        errors["username"] = (f"{username} looks like an e-mail address, which names a person: give the script a "
                              "username such as bi-export.")
    elif not all(c.isalnum() or c in "._-" for c in username) or len(username) > 150:
        errors["username"] = f"A username has at most 150 {USERNAME_CHARACTERS}, not {username!r}."
    elif (holder := User.objects.filter(username__iexact=username).first()) is not None:
        errors["username"] = f"{username} is already the username of {holder.get_full_name() or holder}."
    if not name:
        errors["name"] = "Name the account after the script or tool that uses it, such as Nightly BI export."
    elif len(name) > 150:
        errors["name"] = f"A name has at most 150 characters (this one has {len(name)})."
    if not roles:
        errors["roles"] = NO_ROLE_GIVEN
    errors.update(integration_role_errors(user=None, roles=roles))
    if errors:
        raise ValidationError(errors)
    user = User(username=username, email="", first_name=name, last_name="")
    user.set_unusable_password()
    with disable_auditlog():  # the explicit row below is the record of the account's creation
        user.save()
        Profile.objects.create(user=user, department=department, title=title, integration_account=True)
    audit_event(user, actor=actor, event="integration_account_created", action=LogEntry.Action.CREATE,
                changes={"username": [None, username], "name": [None, name], "integration_account": [None, True],
                         "department": [None, str(department) if department else None], "title": [None, title]},
                source=source)
    person_set_roles(user=user, roles=roles, actor=actor, source=source)
    return user


@transaction.atomic
def person_integration_account_set(*, actor: Actor | None, user: Actor, integration_account: bool,
                                   source: str = "people_page") -> bool:
    """Mark an account as an integration account, or make it a person again; returns whether anything changed.
    Marking is refused for an account someone signs in to (a usable password, a sign-in ever, an invitation sent:
    tokens.signs_in), as an administrator would then issue keys in a person's name, and for one holding a role an
    integration account may not (integration_role_errors), and for one that owns a running or planned initiative
    (an owner answers for it: hand them over first; people_check refuses naming one the owner). Unmarking revokes the
    account's API tokens: an administrator issued them, and the account may become someone's who then signs in, a
    reviewer perhaps, whose keys nobody else holds. One audit row each way, with the tokens' own rows."""
    if actor is not None and not may(actor, "portfolio.manage_people"):
        raise PermissionDenied("Only administrators mark integration accounts.")
    profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
    if profile.integration_account == integration_account:
        return False
    name = user.get_full_name() or str(user)
    if integration_account:
        errors: dict[str, str] = {}
        if signs_in(user):
            errors["integration_account"] = (
                f"{name} signs in (a password, a sign-in or an invitation): a person's account is not made an "
                "integration account. Add one for the script instead.")
        errors.update(integration_role_errors(user=user, roles=_role_groups_of(user), is_superuser=user.is_superuser))
        owned = Initiative.objects.filter(owner=user).exclude(stage__in=ENDED_STAGES).count()
        if owned and "integration_account" not in errors:
            errors["integration_account"] = (
                f"{name} owns {owned} running or planned initiative{'' if owned == 1 else 's'}, and an integration "
                "account cannot own one (the owner answers for it): hand them over to a person first.")
        if errors:
            raise ValidationError(errors)
    Profile.objects.filter(pk=profile.pk).update(integration_account=integration_account, updated_at=timezone.now())
    profile.integration_account = integration_account
    event = "integration_account_marked" if integration_account else "integration_account_unmarked"
    audit_event(user, actor=actor, event=event, changes={"integration_account": [not integration_account,
                                                                                 integration_account]},
                source=source)
    if not integration_account:
        api_tokens_revoke_all(actor=actor, user=user)
    return True


@transaction.atomic
def profile_notifications_set(*, actor: Actor, user: Actor, email: str, digest_hour: int | str | None = None,
                              time_zone: str | None = None) -> Profile:
    """How `user`'s notifications are e-mailed (NotificationEmail: each, a daily digest at `digest_hour` of their day
    in `time_zone` ("" for the server's), or never; they are always in the app). Set by the person on their account
    page (or an administrator); field history on the profile. Switching to the digest starts it from now: what was
    already e-mailed one by one is not sent again."""
    if actor.pk != user.pk and not may(actor, "portfolio.manage_people"):
        raise PermissionDenied("Only administrators change someone else's notification settings.")
    # Every field is checked before any is refused, so the page names all that is wrong at once.
    errors: dict[str, str] = {}
    if email not in NotificationEmail.values:
        labels = [f"“{label}”" for label in NotificationEmail.labels]
        errors["notification_email"] = f"Choose {', '.join(labels[:-1])} or {labels[-1]}."
    if digest_hour is not None and (not isinstance(digest_hour, int) or not 0 <= digest_hour <= 23):
        errors["digest_hour"] = f"The digest's hour is a whole number from 0 to 23, not {digest_hour}."
    if time_zone and time_zone not in available_timezones():
        errors["time_zone"] = f"{time_zone!r} is not a time zone (such as Europe/Berlin or America/New_York)."
    if errors:
        raise ValidationError(errors)
    profile, _ = Profile.objects.get_or_create(user=user)
    changed = []
    if profile.notification_email != email:
        profile.notification_email = email
        profile.digest_sent_at = timezone.now() if email == NotificationEmail.DAILY else None
        changed += ["notification_email", "digest_sent_at"]
    if digest_hour is not None and profile.digest_hour != digest_hour:
        profile.digest_hour = digest_hour
        changed.append("digest_hour")
    if time_zone is not None and profile.time_zone != time_zone:
        profile.time_zone = time_zone
        changed.append("time_zone")
    if changed:
        with set_actor(actor):
            profile.save(update_fields=[*changed, "updated_at"])
    return profile


@dataclass(frozen=True)
class HandOver:
    """What a hand-over did: the initiatives that changed owner, and those of them on which the new owner was a
    delegate and is no longer one (an owner is not also its delegate)."""

    initiatives: list[Initiative]
    no_longer_delegate: list[Initiative]


def initiatives_hand_over_check(*, actor: Actor | None, from_user: Actor, to_user: Actor) -> None:
    """Refuse a hand-over that initiatives_hand_over would refuse, before anything is asked or written: the page
    checks it before showing what would move, so a confirmation is never offered for a hand-over that cannot be."""
    if actor is not None and not may(actor, "portfolio.manage_people"):
        raise PermissionDenied("Only administrators hand initiatives over.")
    name = to_user.get_full_name() or str(to_user)
    if to_user.pk == from_user.pk:
        raise ValidationError({"to": f"{name} already owns these: choose someone else to hand them over to."})
    if not to_user.is_active:
        raise ValidationError({"to": f"{name} has left (account deactivated)."})
    if not ({Role.OWNER.value, Role.ADMIN.value} & group_names(to_user)) and not to_user.is_superuser:
        roles = ", ".join(role.label.lower() for role in held_roles(to_user)) or "no role"
        raise ValidationError({"to": f"{name} is not an initiative owner ({roles}): an initiative goes to an "
                                     "initiative owner or an administrator; give them the role first."})
    if is_integration_account(to_user):
        raise ValidationError({"to": integration_account_owner_refusal(to_user)})


@transaction.atomic
def initiatives_hand_over(*, actor: Actor | None, from_user: Actor, to_user: Actor) -> HandOver:
    """Someone leaves or changes job: everything they own that still runs or is planned goes to `to_user` (an active
    initiative owner), each initiative's owner changed through initiative_update (its field history), and one row on
    the person handing over saying how many went to whom. Where `to_user` was a delegate they stop being one, as an
    owner is not also its delegate (the initiative's field history, and the row names those initiatives). Ended
    initiatives keep the owner they ended with: their history is theirs."""
    initiatives_hand_over_check(actor=actor, from_user=from_user, to_user=to_user)
    handed = list(Initiative.objects.select_for_update().filter(owner=from_user).exclude(stage__in=ENDED_STAGES)
                  .prefetch_related("delegates").order_by("pk"))
    no_longer_delegate = []
    for initiative in handed:
        delegates = list(initiative.delegates.all())
        kept = [delegate for delegate in delegates if delegate.pk != to_user.pk]
        if len(kept) < len(delegates):
            no_longer_delegate.append(initiative)
        initiative_update(actor=actor, initiative=initiative, owner=to_user,
                          delegates=kept if len(kept) < len(delegates) else None)
    if handed:
        ids = [initiative.external_id for initiative in handed]
        name = to_user.get_full_name() or str(to_user)
        dropped = [initiative.external_id for initiative in no_longer_delegate]
        reason = f"To {name}: {', '.join(ids)}." + (
            f" {name} is no longer a delegate on {', '.join(dropped)} (now its owner)." if dropped else "")
        owners_changed.send(sender=User, user=from_user)
        initiatives_handed_over.send(sender=User, actor=actor, from_user=from_user, to_user=to_user,
                                     initiatives=handed)
        extra: dict[str, Any] = {"no_longer_delegate": dropped} if dropped else {}
        audit_event(from_user, actor=actor, event="initiatives_handed_over",
                    changes={"initiatives_owned": [len(handed), 0]}, to=to_user.get_username(), initiatives=ids,
                    reason=reason, **extra)  # the reason is what the trail shows
    return HandOver(initiatives=handed, no_longer_delegate=no_longer_delegate)


def self_lockout_errors(
    *, actor: Actor | None, user: Actor, roles: set[Role] | None = None, is_active: bool = True,
    is_superuser: bool | None = None,
) -> dict[str, str]:
    """What would lock an administrator out of administering, keyed by what they changed ("roles", "is_active"):
    taking away their own administrator role (unless they stay a superuser) or deactivating their own account.
    Another administrator must do it, so that a company never loses its last administrator by a slip. Nor does an
    administrator give themselves a role they do not hold (a CoE reviewer's scoring of what they administer). Every path
    that writes roles or accounts asks this (the People page, the Django admin, the services themselves)."""
    if actor is None or actor.pk != user.pk:
        return {}
    errors: dict[str, str] = {}
    superuser = user.is_superuser if is_superuser is None else is_superuser
    if roles is not None and Role.ADMIN not in roles and not superuser:
        errors["roles"] = "You cannot take away your own administrator role: ask another administrator."
    elif roles is not None and (added := set(roles) - held_roles(user) - ({Role.ADMIN} if superuser else set())):
        # An administrator who ticks CoE reviewer for themselves would score and approve what they set up: a role
        # one gives oneself is not a separation of duties, so another administrator gives it.
        names = " and ".join(sorted(role.label for role in added))
        errors["roles"] = f"You cannot give yourself a role ({names}): ask another administrator."
    if not is_active:
        errors["is_active"] = "You cannot deactivate your own account: ask another administrator."
    return errors


# The one refusal of an edit that would leave an active account without a role, on every door (the People page, the
# API, the Django admin).
NO_ROLE_LEFT = ("Give them at least one role: without one they could sign in and see nothing in Tollgate. To stop "
                "someone signing in, deactivate their account instead.")


def _role_groups_of(user: Actor) -> set[Role]:
    """The roles the person's groups give them now, read from the database (not the per-object memo of group_names,
    which may predate a change made in this request)."""
    names = user.groups.filter(name__in=[role.value for role in Role]).values_list("name", flat=True)
    return {Role(name) for name in names}


def no_role_errors(
    *, user: Actor, roles: set[Role], is_active: bool, is_superuser: bool | None = None,
) -> dict[str, str]:
    """What is wrong with leaving `user` with `roles` and `is_active`: an active account with no role could sign in
    and see nothing, so taking away someone's last role is refused, and so is reactivating someone who has none,
    unless the account is (being) deactivated. A superuser is an administrator whatever their groups, so never
    without a role. An active account that already had no role (an owner an earlier version's inventory import
    created, someone single sign-on took every role from) is not refused an edit that leaves its roles alone: the
    rule is about what an edit takes away or turns back on. Asked by person_update, person_set_roles, reactivation
    and the Django admin's form."""
    superuser = user.is_superuser if is_superuser is None else is_superuser
    if roles or not is_active or superuser:
        return {}
    if user.is_active and not _role_groups_of(user):
        return {}  # already without a role, and this edit neither takes one away nor turns the account back on
    return {"roles": NO_ROLE_LEFT}


def delegate_errors(*, user: Actor, profile: Profile, delegates: list[Actor]) -> dict[str, str]:
    """What is wrong with `delegates` acting for `user`: nobody is their own delegate, and someone who left (account
    deactivated) is not newly named one (one already named may be kept). Asked by every door that writes delegates."""
    named = set(profile.delegates.values_list("pk", flat=True))
    left = [d for d in delegates if not d.is_active and d.pk not in named]
    if any(delegate.pk == user.pk for delegate in delegates):
        return {"delegates": f"{user.get_full_name() or user} cannot be their own delegate."}
    if left:
        return {"delegates": f"{', '.join(d.get_full_name() or str(d) for d in left)} cannot be named a delegate: "
                             "their account is deactivated."}
    if cannot := delegates_who_cannot_act([d for d in delegates if d.pk not in named]):
        return {"delegates": cannot}
    return {}


def _profile_write(*, actor: Actor | None, profile: Profile, department: Department | None, title: str,
                   delegates: list[Actor]) -> None:
    """Write what differs on the profile, as field history under `actor`."""
    title = title.strip()
    wanted = {"department": department, "title": title}
    changed = [name for name, value in wanted.items() if getattr(profile, name) != value]
    named = set(profile.delegates.values_list("pk", flat=True))
    with set_actor(actor) if actor is not None else nullcontext():  # the profile's field history names who
        if changed:
            profile.department, profile.title = department, title
            profile.save(update_fields=[*changed, "updated_at"])
        if named != {delegate.pk for delegate in delegates}:
            profile.delegates.set(delegates)


@transaction.atomic
def profile_update(*, actor: Actor | None, user: Actor, department: Department | None, title: str,
                   delegates: Iterable[Actor]) -> Profile:
    """The profile alone (department, title, delegates), as the Django admin's Profiles page sets it: the same rules
    as person_update (delegate_errors), field history under `actor`."""
    if actor is not None and not may(actor, "portfolio.manage_people"):
        raise PermissionDenied("Only administrators change people's profiles.")
    delegates = list(delegates)
    profile, _ = Profile.objects.get_or_create(user=user)
    if errors := delegate_errors(user=user, profile=profile, delegates=delegates):
        raise ValidationError(errors)
    _profile_write(actor=actor, profile=profile, department=department, title=title, delegates=delegates)
    return profile


@transaction.atomic
def person_update(
    *, actor: Actor | None, user: Actor, roles: set[Role], is_active: bool, department: Department | None,
    title: str, delegates: Iterable[Actor], source: str = "people_page", integration_account: bool | None = None,
) -> Actor:
    """What an administrator sets on the People page (or the API, `source` "api"): roles, whether the account may
    sign in, and the profile
    (department, title, the delegates who act for the person on everything they own). Each part is audited: roles and
    (de)activation by their services' rows, the profile as field history. An administrator cannot lock themselves
    out (take away their own administrator role or deactivate their own account): another administrator must. Nor
    does anyone take away every role of an active person (no_role_errors): deactivating them is how someone stops
    using Tollgate, and a deactivated person may be left without a role. `integration_account` (None: unchanged)
    marks or unmarks the account (person_integration_account_set): unmarked before the roles are set, marked after,
    so that one edit may turn an integration account into a reviewer or the other way round."""
    if actor is not None and not may(actor, "portfolio.manage_people"):
        raise PermissionDenied("Only administrators change people's roles and accounts.")
    delegates = list(delegates)
    errors = self_lockout_errors(actor=actor, user=user, roles=roles, is_active=is_active,
                                 is_superuser=False if user.is_superuser else None)
    if "roles" not in errors:
        errors.update(no_role_errors(user=user, roles=roles, is_active=is_active))
    if user.is_superuser:
        # A superuser is an administrator whatever groups they are in (tollgate.roles), so unticking the role here
        # would change nothing but the audit trail: refused. Ticked, it is what they already are: their groups stay.
        if Role.ADMIN not in roles and "roles" not in errors:
            name = user.get_full_name() or str(user)
            errors["roles"] = (f"{name} is a superuser: they stay an administrator whatever roles are ticked here. "
                               "Take away their superuser status in the Django admin first.")
        roles = set(roles) - {Role.ADMIN} | ({Role.ADMIN} & held_roles(user))
    profile, _ = Profile.objects.get_or_create(user=user)
    errors.update(delegate_errors(user=user, profile=profile, delegates=delegates))
    if integration_account is None:
        integration_account = profile.integration_account
    if integration_account and "roles" not in errors:
        errors.update(integration_role_errors(user=user, roles=roles, is_superuser=user.is_superuser))
    if integration_account and not profile.integration_account and signs_in(user):
        name = user.get_full_name() or str(user)
        errors["integration_account"] = (f"{name} signs in (a password, a sign-in or an invitation): a person's "
                                         "account is not made an integration account. Add one for the script "
                                         "instead.")
    if errors:
        raise ValidationError(errors)
    _profile_write(actor=actor, profile=profile, department=department, title=title, delegates=delegates)
    if not integration_account:
        person_integration_account_set(actor=actor, user=user, integration_account=False, source=source)
    # Roles before the account is switched: the roles of someone deactivated in the same edit may all go (checked
    # above), and someone reactivated is given their roles first.
    person_set_roles(user=user, roles=roles, actor=actor, source=source, allow_none=not is_active)
    if integration_account:
        person_integration_account_set(actor=actor, user=user, integration_account=True, source=source)
    if user.is_active and not is_active:
        person_deactivate(actor=actor, user=user, source=source)
    elif is_active and not user.is_active:
        person_reactivate(actor=actor, user=user, source=source)
    return user


@transaction.atomic
def person_set_roles(
    *, user: Actor, roles: set[Role], actor: Actor | None, source: str, allow_none: bool = False,
) -> bool:
    """Give `user` exactly these roles (their other groups untouched): staff status follows the administrator role,
    except for superusers. Audited when anything changed; returns whether it did. Taking away an active person's
    last role is refused (no_role_errors) unless `allow_none`: single sign-on with managed roles, where the
    provider's groups decide and someone in none of them loses every role and is refused at sign-in, and
    person_update deactivating the account in the same edit."""
    role_groups = Group.objects.filter(name__in=[r.value for r in Role])
    before = set(user.groups.filter(pk__in=role_groups).values_list("name", flat=True))
    after = {role.value for role in roles}
    if before == after:
        return False
    if Role.ADMIN.value in before and (errors := self_lockout_errors(actor=actor, user=user, roles=roles)):
        raise ValidationError(errors)
    if not allow_none and (errors := no_role_errors(user=user, roles=roles, is_active=user.is_active)):
        raise ValidationError(errors)
    if is_integration_account(user) and (errors := integration_role_errors(user=user, roles=roles)):
        raise ValidationError(errors)
    user.groups.remove(*role_groups.filter(name__in=before - after))
    user.groups.add(*role_groups.filter(name__in=after - before))
    changes: dict[str, list] = {"roles": [sorted(before), sorted(after)]}
    is_staff = Role.ADMIN.value in after or user.is_superuser
    if user.is_staff != is_staff:
        changes["is_staff"] = [user.is_staff, is_staff]
        user.is_staff = is_staff
        with disable_auditlog():  # part of the one row below
            user.save(update_fields=["is_staff"])
    if hasattr(user, "_group_names_cache"):
        del user._group_names_cache
    audit_event(user, actor=actor, event="roles_changed", changes=changes, source=source)
    return True


@transaction.atomic
def person_superuser_revoke(*, actor: Actor | None, user: Actor, source: str = "admin") -> bool:
    """Take away `user`'s superuser status (an administrator whatever their groups): a change of roles, audited as
    "Roles changed" like any other, with staff status following the administrator role. Superuser status is never
    given in the app (`manage.py createsuperuser` makes the first administrator; roles are given through
    person_set_roles). Refused when it would lock the actor out or leave an active account without a role. Returns
    whether anything changed."""
    if actor is not None and not may(actor, "portfolio.manage_people"):
        raise PermissionDenied("Only administrators change people's roles.")
    if not user.is_superuser:
        return False
    held = _role_groups_of(user)
    errors = self_lockout_errors(actor=actor, user=user, roles=held, is_superuser=False)
    if "roles" not in errors:
        errors.update(no_role_errors(user=user, roles=held, is_active=user.is_active, is_superuser=False))
    if errors:
        raise ValidationError(errors)
    before = sorted({role.value for role in held} | {Role.ADMIN.value})
    changes: dict[str, list] = {"roles": [before, sorted(role.value for role in held)], "is_superuser": [True, False]}
    user.is_superuser = False
    is_staff = Role.ADMIN in held
    if user.is_staff != is_staff:
        changes["is_staff"] = [user.is_staff, is_staff]
        user.is_staff = is_staff
    with disable_auditlog():  # part of the one row below
        user.save(update_fields=["is_superuser", "is_staff"])
    if hasattr(user, "_group_names_cache"):
        del user._group_names_cache
    audit_event(user, actor=actor, event="roles_changed", changes=changes, source=source)
    return True


@transaction.atomic
def person_sign_in_with_sso(
    *, email: str, first_name: str, last_name: str, roles: set[Role] | None, default_role: Role | None,
) -> Actor | None:
    """The person the identity provider vouched for, created on their first sign-in (just in time).

    `roles` are the ones the provider's groups give (None when the provider does not manage roles: then existing
    people keep theirs and a newcomer gets `default_role`). With managed roles, each sign-in sets exactly those, or
    `default_role` for someone in none of the mapped groups, so a person removed from a group loses its role at the
    next sign-in. Returns None for a newcomer with no role (nothing is written): Tollgate does not create accounts
    that could see nothing. Whether an existing person may come in is the caller's check (role_of). A newcomer whose
    address is another account's username (any case) is refused (PermissionDenied, the login page says why), as
    person_new_check refuses it elsewhere.
    """
    email = email.strip().lower()
    matches = list(User.objects.filter(email__iexact=email).order_by("pk")[:2])
    if len(matches) > 1:
        raise PermissionDenied(f"More than one Tollgate account has the e-mail address {email}: an administrator "
                               "must merge or rename them before this person can sign in.")
    user = matches[0] if matches else None
    if user is not None and is_integration_account(user):
        raise PermissionDenied(f"{email} is an integration account, which a script uses: nobody signs in to it. Ask "
                               "an administrator to give your own account this e-mail address.")
    target = roles if roles is not None else (None if user is not None else set())
    if target is not None and not target and default_role is not None:
        target = {default_role}
    if user is None:
        if not target:
            return None
        if username_holder(email) is not None:  # no account is named twice (person_new_check)
            raise PermissionDenied(
                f"Tollgate already has an account named {email} that is not yours (it has another e-mail address), "
                "so it could not create yours: ask an administrator to give that account your e-mail address (you "
                "then sign in to it) or to rename it, then sign in again.")
        user = User(username=email, email=email, first_name=first_name, last_name=last_name)
        user.set_unusable_password()  # signs in through the identity provider only
        with disable_auditlog():  # the explicit row below is the record of the account's creation
            user.save()
            Profile.objects.get_or_create(user=user)
        audit_event(user, actor=None, event="person_created_by_sso", changes={"email": [None, email]})
    else:
        names = {"first_name": first_name, "last_name": last_name}
        changed = {field: value for field, value in names.items() if value and getattr(user, field) != value}
        for field, value in changed.items():
            setattr(user, field, value)
        if changed:
            user.save(update_fields=list(changed))
    if target is not None:
        # The provider's groups decide: someone in none of them loses every role (and role_of refuses them).
        person_set_roles(user=user, roles=target, actor=None, source="sso", allow_none=True)
    return user


@transaction.atomic
def login_lock_clear(*, actor: Actor | None, attempts: Iterable[AccessAttempt], source: str, reason: str = "") -> int:
    """Unlock: the failed-login records go, so the account (or address) may sign in again before the cool-off ends.
    One audit row each, on the account the attempts named when it exists, else on the record itself; `source` says
    where (the admin, or an operator's `axes_reset*` command, which has no actor), `reason` why when it is not an
    unlock asked for by name (the admin's clean-up of attempts whose cool-off is over)."""
    if actor is not None and not may(actor, "axes.delete_accessattempt"):
        raise PermissionDenied("Only administrators unlock accounts.")
    attempts = list(attempts)
    names = {attempt.username.lower() for attempt in attempts if attempt.username}
    accounts = {account.username.lower(): account for account in
                User.objects.annotate(name=Lower("username")).filter(name__in=names)}  # one read, any case typed
    why: dict[str, Any] = {"reason": reason} if reason else {}
    for attempt in attempts:
        audit_event(accounts.get((attempt.username or "").lower()) or attempt, actor=actor,
                    event="login_lock_cleared", changes={"failures_since_start": [attempt.failures_since_start, 0]},
                    username=attempt.username, ip_address=attempt.ip_address, source=source, **why)
    AccessAttempt.objects.filter(pk__in=[attempt.pk for attempt in attempts]).delete()
    return len(attempts)


@transaction.atomic
def login_history_remove(*, actor: Actor | None, records: QuerySet[AccessLog] | QuerySet[AccessFailureLog],
                         source: str, older_than_days: int | None = None) -> int:
    """Removes django-axes' records of logins (AccessLog) or of failed logins (AccessFailureLog): rows picked in the
    admin, or those older than `older_than_days` (an operator's `axes_reset_logs` / `axes_reset_failure_logs`, which
    has no actor). One audit row says how many, of which period, who and where (`source`), but none of their names
    or addresses: keeping those in the trail would undo what a retention prune is for."""
    model = records.model
    if actor is not None and not may(actor, f"axes.delete_{model._meta.model_name}"):
        raise PermissionDenied("Only administrators remove login history.")
    span = records.aggregate(first=Min("attempt_time"), last=Max("attempt_time"))
    removed, _ = records.delete()
    if not removed:
        return 0
    kind = "failed logins" if model is AccessFailureLog else "logins"
    first, last = (timezone.localtime(span[key]).strftime("%Y-%m-%d %H:%M") for key in ("first", "last"))
    age: dict[str, Any] = {} if older_than_days is None else {"older_than_days": older_than_days}
    reason = f"Records of {kind} from {first} to {last}" + (
        f", older than {older_than_days} days." if older_than_days is not None else ".")
    audit_table_event(model, actor=actor, event="login_history_removed", what=f"{removed} records of {kind}",
                      changes={"records": [removed, 0]}, first=first, last=last, source=source, reason=reason, **age)
    return removed
