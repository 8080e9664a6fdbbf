"""People: Django users with a profile; imported people have no usable password until invited."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction

from portfolio.models import Department, Profile
from tollgate.audit import audit_event
from tollgate.roles import Role, may
from tollgate.types import Actor

User = get_user_model()


def _names_from_email(email: str) -> tuple[str, str]:
    local = email.split("@", 1)[0]
    parts = [p for p in local.replace("_", ".").replace("-", ".").split(".") if p]
    if not parts:
        return "", ""
    return parts[0].capitalize(), " ".join(p.capitalize() for p in parts[1:])


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
    """Find a person by e-mail (case-insensitive) or create them with an unusable password."""
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if user is None:
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
def person_set_role(*, user: Actor, role: Role, exclusive: bool = False) -> None:
    """Add a role (a group); administrators also need staff status to use the Django admin."""
    group = Group.objects.get(name=role.value)
    if exclusive:
        user.groups.remove(*Group.objects.filter(name__in=[r.value for r in Role]).exclude(pk=group.pk))
    user.groups.add(group)
    if role == Role.ADMIN and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])


@transaction.atomic
def person_deactivate(*, actor: Actor | None, user: Actor) -> Actor:
    """Someone left: their account stops working (they own what they owned until it is handed over). Audited."""
    if actor is not None and not may(actor, "portfolio.change_profile"):
        raise PermissionDenied("Only administrators deactivate accounts.")
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
        audit_event(user, actor=actor, event="person_deactivated", changes={"is_active": [True, False]})
    return user
