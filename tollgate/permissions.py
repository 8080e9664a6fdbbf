"""The API's one permission class: maps a viewset action to a permission declared in tollgate.roles."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from tollgate.roles import may, refusal

ACTION_TO_PERM = {
    "list": "view",
    "retrieve": "view",
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
    "metadata": "view",
}
METHOD_TO_PERM = {"GET": "view", "HEAD": "view", "OPTIONS": "view", "POST": "add", "PUT": "change",
                  "PATCH": "change", "DELETE": "delete"}


def required_perm(view, request) -> str | None:
    """`view.permission_required` wins; otherwise <app>.<action>_<model> of the view's queryset."""
    explicit = getattr(view, "permission_required", None)
    if isinstance(explicit, dict):
        explicit = explicit.get(getattr(view, "action", None) or request.method)
    if explicit:
        return explicit
    queryset = getattr(view, "queryset", None)
    if queryset is None:
        return None
    opts = queryset.model._meta
    action = getattr(view, "action", None)
    verb = ACTION_TO_PERM.get(action) if action else None
    verb = verb or getattr(view, "action_permissions", {}).get(action) or METHOD_TO_PERM.get(request.method, "view")
    return f"{opts.app_label}.{verb}_{opts.model_name}"


class RolePermission(BasePermission):
    """Authenticated, and the role (and for objects, the object rule) grants the permission.

    A refusal says in words what was refused (DRF answers 403 with `message`, set per request: DRF makes a new
    instance for each check): "You may not change an initiative.", or on a record the role allows the action on
    elsewhere, why not on this one, as the pages say it (tollgate.roles.refusal)."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        perm = required_perm(view, request)
        if perm is None:
            if getattr(view, request.method.lower(), None) is None:
                # A method no action of the path answers, on a view that declares no permission for it: nothing to
                # refuse, so the view answers 405 naming the methods it does answer, not 403 "You may not do this."
                # to every role, administrators included. (Where the method still maps to a permission, a role
                # without it is refused that, as any action it may not take; the others get the 405.)
                return True
            self.message = refusal(request.user, "")
            return False
        # Object-scoped perms (change/delete) are decided per object; for the collection check only
        # the role matters, so ask with obj=None and let the object check refine it.
        if getattr(view, "action", None) in ("update", "partial_update", "destroy"):
            return True
        if may(request.user, perm):
            return True
        self.message = refusal(request.user, perm)
        return False

    def has_object_permission(self, request, view, obj) -> bool:
        perm = required_perm(view, request)
        if perm and may(request.user, perm, obj):
            return True
        self.message = refusal(request.user, perm or "", obj)
        return False
