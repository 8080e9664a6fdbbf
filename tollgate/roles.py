"""Roles and what each may do: the one place that declares it.

Pages (tollgate.ui.views.PermissionRequiredMixin), the API (tollgate.permissions.RolePermission),
the navigation and the role-matrix test all read from here. Roles are Django groups, synced on
migrate; object rules (an owner edits only their own initiatives) are `rules` predicates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import rules
from django.db import models

from tollgate.types import Viewer


class Role(models.TextChoices):
    OWNER = "owner", "Initiative owner"
    REVIEWER = "reviewer", "CoE reviewer"
    EXECUTIVE = "executive", "Executive"
    ADMIN = "admin", "Administrator"


def predicate(fn: Callable[..., bool]) -> rules.Predicate:
    """`rules.predicate`, typed: the library's decorator is unannotated, so its predicates would not combine."""
    return rules.predicate(fn)


def group_member(role: Role) -> rules.Predicate:
    """`rules.is_group_member`, whose annotation says a plain callable although it returns a combinable Predicate."""
    return cast(rules.Predicate, rules.is_group_member(role))


# A superuser is an administrator and nothing more: reviewer, executive and owner come only from groups, and the
# rules below are asked for superusers too (`may`), so segregation of duties holds for every account.
is_admin = rules.is_superuser | group_member(Role.ADMIN)
is_reviewer = group_member(Role.REVIEWER)
is_executive = group_member(Role.EXECUTIVE)
is_owner_role = group_member(Role.OWNER)
has_any_role = is_admin | is_reviewer | is_executive | is_owner_role


def initiative_of(obj: Any):
    """The initiative an object belongs to (an initiative, its business case, a KPI, a licence pool, a value report,
    a report's attachment)."""
    from portfolio.models import Initiative

    if obj is None or isinstance(obj, Initiative):
        return obj
    report = getattr(obj, "report", None)  # a value report's attachment
    return getattr(report if report is not None else obj, "initiative", None)


# What initiative_viewer_annotations puts on an initiative read for one viewer (a page's one read of it).
_VIEWER = "viewer_pk"
_VIEWER_OWNER = "viewer_owner_pk"
_VIEWER_ACTS_FOR_OWNER = "viewer_acts_for_owner"


def initiative_viewer_annotations(user: Viewer) -> dict[str, Any]:
    """Annotations telling the rules below whether `user` is a delegate of each initiative's owner's profile, read in
    the initiative's own query: a page asks several rules about one initiative, and each asked the database again.
    They are only believed for the same viewer and the same owner the row was read with; anything else queries."""
    if not getattr(user, "is_authenticated", False):
        return {}
    from django.db.models import Exists, F, OuterRef, Value

    from portfolio.models import Profile

    viewer = cast(int, user.pk)  # authenticated: saved
    acts_for = Profile.delegates.through.objects.filter(profile__user_id=OuterRef("owner_id"), user_id=viewer)
    return {_VIEWER: Value(viewer, output_field=models.IntegerField()), _VIEWER_OWNER: F("owner_id"),
            _VIEWER_ACTS_FOR_OWNER: Exists(acts_for)}


def _is_named_delegate(user, initiative) -> bool:
    """Whether the user is named among the initiative's delegates: from the delegates prefetched with it, if they
    were (a change through the related manager drops that prefetch), else in one query."""
    prefetched = getattr(initiative, "_prefetched_objects_cache", {}).get("delegates")
    if prefetched is not None:
        return any(delegate.pk == user.pk for delegate in prefetched)
    return initiative.delegates.filter(pk=user.pk).exists()


def _is_owner_delegate(user, initiative) -> bool:
    """Whether the user is a delegate of the owner's profile: from initiative_viewer_annotations when the initiative
    was read for this user and still has that owner, else in one query."""
    if (getattr(initiative, _VIEWER, None) == user.pk
            and getattr(initiative, _VIEWER_OWNER, None) == initiative.owner_id):
        return bool(getattr(initiative, _VIEWER_ACTS_FOR_OWNER))
    return user.delegate_for_profiles.filter(user_id=initiative.owner_id).exists()


@predicate
def is_initiative_owner_or_delegate(user, obj) -> bool:
    """Owner, a delegate named on the initiative, or a delegate of the owner's profile."""
    initiative = initiative_of(obj)
    if initiative is None or not user.is_authenticated:
        return False
    if initiative.owner_id == user.pk:
        return True
    if _is_named_delegate(user, initiative):
        return True
    return _is_owner_delegate(user, initiative)


@predicate
def is_initiative_owner(user, obj) -> bool:
    """The initiative's owner itself (not a delegate)."""
    initiative = initiative_of(obj)
    return initiative is not None and user.is_authenticated and initiative.owner_id == user.pk


def relation_to(user, obj: Any) -> str | None:
    """How the user stands to the record's initiative, as a refusal says it: "you own it", "you are its delegate",
    "you are its owner's delegate"; None when they are none of these."""
    initiative = initiative_of(obj)
    if initiative is None or not user.is_authenticated:
        return None
    if initiative.owner_id == user.pk:
        return "you own it"
    if _is_named_delegate(user, initiative):
        return "you are its delegate"
    if _is_owner_delegate(user, initiative):
        return "you are its owner's delegate"
    return None


SEGREGATION = "nobody scores, approves or decides on an initiative they own or act for (someone else does)"
AUTHORSHIP = "nobody judges or reopens a value report they submitted or edited (another reviewer does)"
ROUND_AUTHORSHIP = "nobody scores or decides an intake round they submitted or edited"


@predicate
def wrote_the_report(user, obj) -> bool:
    """The user submitted the value report, or entered figures or evidence in it (as owner, delegate or
    administrator), at any time: stepping down as a delegate does not make them independent of what they wrote."""
    if obj is None or not user.is_authenticated:
        return False
    from reviews.models import ValueReport

    if not isinstance(obj, ValueReport):
        return False
    from reviews.selectors import report_written_by

    return report_written_by(obj, user)


@predicate
def wrote_the_intake_round(user, obj) -> bool:
    """The user submitted the initiative's open review round (a delegate, for the owner) or edited the intake during
    it: stepping down as a delegate afterwards does not make them independent of the round they put forward."""
    from portfolio.models import Initiative

    if not isinstance(obj, Initiative) or not user.is_authenticated:
        return False
    from governance.selectors import intake_round_written_by

    return bool(intake_round_written_by(obj, user))


def refusal_reason(user, obj: Any) -> str:
    """Why a role that allows an action is refused it on this record: the user's own relation to its initiative when
    they have one (segregation of duties), their writing of the report, else whose records an owner acts on. Pages
    and the API say the same."""
    from governance.selectors import intake_round_written_by
    from portfolio.models import Initiative

    relation = relation_to(user, obj)
    if relation is not None:
        return f"{relation}, and {SEGREGATION}"
    if wrote_the_report(user, obj):
        return f"you submitted or edited this value report, and {AUTHORSHIP}"
    if isinstance(obj, Initiative) and (how := intake_round_written_by(obj, user)):
        return f"{how}, and {ROUND_AUTHORSHIP}: another reviewer decides it"
    # Neither theirs nor written by them: the owner's scope refused it, not segregation of duties (which refuses
    # what one does own, the opposite case, and read as the reason before).
    meta = getattr(obj, "_meta", None)
    records = "" if meta is None or meta.model_name == "initiative" else f"the {meta.verbose_name_plural} of "
    return f"an owner acts only on {records}the initiatives they own or act for, and this one is not yours"


def not_on_this_one(user, obj: Any) -> str:
    """The refusal of an action the user's role allows but not on this record."""
    return f"Your role allows this, but not on this one: {refusal_reason(user, obj)}."


@predicate
def no_object(user, obj) -> bool:
    return obj is None


# Executives change nothing anywhere, even what they happen to own.
can_edit_initiative = is_admin | (~is_executive & is_initiative_owner_or_delegate)
# Who may be named a delegate: someone whose roles would let them edit and report as one (not an executive, who is
# read-only everywhere, nor an account without a role, who sees nothing).
can_act_as_delegate = is_admin | (~is_executive & (is_owner_role | is_reviewer))
# Adding a business case or KPI: asked without an object ("may this user add one anywhere?") an owner may;
# asked for a given initiative, only its owner or delegates (or an admin) may.
can_add_to_initiative = is_admin | (~is_executive & ((no_object & is_owner_role) | is_initiative_owner_or_delegate))

PERMISSIONS: dict[str, rules.Predicate] = {
    # Everyone with a role reads the whole portfolio: transparency is how sprawl gets noticed.
    **{f"portfolio.view_{m}": has_any_role for m in (
        "initiative", "businesscase", "kpi", "department", "costcenter", "vendor", "aimodel", "licencepool", "profile",
    )},
    "portfolio.view_dashboard": has_any_role,
    "portfolio.add_initiative": is_admin | is_owner_role,
    "portfolio.change_initiative": can_edit_initiative,
    "portfolio.delete_initiative": is_admin,
    # Who acts for an initiative is the owner's choice (or an administrator's): a delegate edits the rest of it but
    # may not add people, including a CoE reviewer, nor remove anyone, themselves included.
    "portfolio.manage_initiative_delegates": is_admin | (~is_executive & is_initiative_owner),
    # Once approved, the start date decides which months and quarters count (cost variance, pilot age, reports): it
    # moves only by someone independent of the initiative, with a reason (portfolio.services.start_date_change_check).
    "portfolio.change_start_date": (is_admin | is_reviewer) & ~is_initiative_owner_or_delegate,
    "portfolio.add_businesscase": can_add_to_initiative,
    "portfolio.change_businesscase": can_edit_initiative,
    "portfolio.delete_businesscase": is_admin,
    "portfolio.add_kpi": can_add_to_initiative,
    "portfolio.change_kpi": can_edit_initiative,
    "portfolio.delete_kpi": can_edit_initiative,
    "portfolio.add_licencepool": is_admin,
    "portfolio.change_licencepool": can_edit_initiative,
    "portfolio.delete_licencepool": is_admin,
    # Reference data is maintained by administrators.
    **{f"portfolio.{action}_{m}": is_admin for m in ("department", "costcenter", "vendor", "aimodel", "profile")
       for action in ("add", "change", "delete")},
    # People: their roles, whether they may sign in, their profile (the People page).
    "portfolio.manage_people": is_admin,
    "portfolio.import_initiatives": is_admin,
    "portfolio.view_importrun": is_admin,
}

# Segregation of duties: nobody scores, decides or gives a verdict on what they own or are delegate for, nor judges a
# value report they wrote,
# nor an intake round they submitted or edited.
is_independent_reviewer = is_reviewer & ~is_initiative_owner_or_delegate & ~wrote_the_report & ~wrote_the_intake_round

PERMISSIONS.update({
    # Governance: lifecycle transitions (governance/lifecycle.py names which permission each needs).
    "governance.submit_initiative": can_edit_initiative,
    "governance.withdraw_initiative": can_edit_initiative,
    "governance.score_initiative": is_independent_reviewer,
    "governance.decide_initiative": is_independent_reviewer,
    "governance.start_pilot": can_edit_initiative,
    "governance.promote_initiative": can_edit_initiative | is_independent_reviewer,
    "governance.retire_initiative": can_edit_initiative,
    "governance.kill_initiative": is_independent_reviewer | (is_admin & ~is_initiative_owner_or_delegate),
    "governance.view_policy": has_any_role,
    "governance.change_policy": is_admin,
    "governance.view_rubriccriterion": has_any_role,
    "governance.change_rubriccriterion": is_admin,
    "governance.view_audittrail": is_admin | is_reviewer | is_executive,
    # A sign-in address is personal data: only administrators, who unlock accounts by it, see it in the trail.
    "governance.view_audit_addresses": is_admin,
    "governance.view_reviewqueue": is_reviewer,
    # Reviews
    "reviews.view_reviewcycle": has_any_role,
    "reviews.manage_reviewcycle": is_admin | is_reviewer,
    "reviews.view_valuereport": has_any_role,
    "reviews.change_valuereport": can_edit_initiative,
    # Evidence of a draft: asked without a report, an owner may add some somewhere; on a report, its owner or
    # delegates (or an admin), as they change the report (reviews.services.attachment_add / attachment_remove).
    "reviews.add_reportattachment": can_add_to_initiative,
    "reviews.delete_reportattachment": can_edit_initiative,
    # Filling in value reports is the owners' work: the navigation offers "My reports" to them only (the page itself,
    # a list of what one owns or acts for, stays readable with view_valuereport).
    "reviews.fill_valuereport": is_owner_role & ~is_executive,
    "reviews.reopen_valuereport": is_independent_reviewer,
    "reviews.give_verdict": is_independent_reviewer,
    "reviews.view_notification": has_any_role,
})

# Cost and usage ingestion (issue 5) ----------------------------------------------------------------------------------
# Admins, reviewers and executives read ingestion health, runs, sources and rules: unallocated spend is the visibility
# gap they act on. Only administrators change sources, rules and currency rates, or start a run ("run now").
can_view_costs = is_admin | is_reviewer | is_executive

PERMISSIONS.update({
    **{f"portfolio.view_{m}": can_view_costs for m in ("costsource", "allocationrule", "ingestionrun", "currencyrate")},
    **{f"portfolio.{action}_{m}": is_admin for m in ("costsource", "allocationrule", "currencyrate")
       for action in ("add", "change", "delete")},
    "portfolio.add_ingestionrun": is_admin,  # run now, from the page or the API
})
# End of cost and usage ingestion permissions ----------------------------------------------------------------------

# Spend forecast (issue 11): every role reads it, owners included (their initiatives' outlook and its error).
PERMISSIONS["portfolio.view_costforecast"] = has_any_role

# Sprawl detection (issue 6) -----------------------------------------------------------------------------------------


@predicate
def owns_or_delegates_a_cluster_member(user, cluster) -> bool:
    """The user owns, or is delegate for, an initiative in the sprawl cluster (removed members included)."""
    if cluster is None or not user.is_authenticated:
        return False
    from portfolio.models import Initiative

    return Initiative.objects.filter(sprawl_memberships__cluster=cluster).filter(
        models.Q(owner=user) | models.Q(delegates=user) | models.Q(owner__profile__delegates=user)
    ).exists()


@predicate
def acts_for_a_pair_initiative(user, pair) -> bool:
    """The user owns, or is delegate for, either initiative of a possible-duplicate pair (a DuplicatePairDecision,
    stored or not)."""
    if pair is None or not user.is_authenticated:
        return False
    from portfolio.models import Initiative

    return Initiative.objects.filter(pk__in=[pair.initiative_a_id, pair.initiative_b_id]).filter(
        models.Q(owner=user) | models.Q(delegates=user) | models.Q(owner__profile__delegates=user)
    ).exists()


PERMISSIONS.update({
    # Everyone with a role sees the clusters and the catalogue; reviewers and admins decide clusters, never one
    # holding an initiative they own or are delegate for; the catalogue is the administrators'.
    "governance.view_sprawlcluster": has_any_role,
    "governance.decide_sprawlcluster": (is_reviewer | is_admin) & ~owns_or_delegates_a_cluster_member,
    "governance.recompute_sprawl": is_reviewer | is_admin,
    # Measuring the detector against a company's own labelled duplicates (a worker's time): the same people; its
    # results name only initiatives every role reads, so executives read them too.
    "governance.check_sprawl": is_reviewer | is_admin,
    "governance.view_sprawllabelcheck": is_reviewer | is_admin | is_executive,
    # "Duplicate of" / "not a duplicate" on a possible-duplicate pair: the same people, never on a pair holding an
    # initiative they own or are delegate for; everyone with a role reads the decisions.
    "governance.view_duplicatepairdecision": has_any_role,
    "governance.decide_duplicatepair": (is_reviewer | is_admin) & ~acts_for_a_pair_initiative,
    "governance.view_sprawlrun": has_any_role,
    "governance.view_usecase": has_any_role,
    "governance.add_usecase": is_admin,
    "governance.change_usecase": is_admin,
    "governance.delete_usecase": is_admin,
    # An initiative's use cases: whoever may edit it, and CoE reviewers (they correct suggestions when scoring).
    "governance.set_initiative_use_cases": can_edit_initiative | (is_reviewer & ~is_executive),
})
# End of sprawl detection permissions ---------------------------------------------------------------------------------

# Signals (issue 11) ---------------------------------------------------------------------------------------------------


@predicate
def acts_for_a_signal_initiative(user, signal) -> bool:
    """The user owns, or is delegate for, an initiative the signal is about."""
    if signal is None or not user.is_authenticated:
        return False
    from portfolio.models import Initiative

    return Initiative.objects.filter(signals=signal).filter(
        models.Q(owner=user) | models.Q(delegates=user) | models.Q(owner__profile__delegates=user)
    ).exists()


# Reviewers, executives and administrators read every signal; an owner (or delegate) those of their initiatives
# (asked without a signal, for the list, an owner may: the list shows only theirs). Owners acknowledge theirs;
# reviewers and administrators acknowledge, dismiss and resolve any they do not own or act for; executives read.
reads_every_signal = is_admin | is_reviewer | is_executive
decides_signals = (is_reviewer | is_admin) & ~acts_for_a_signal_initiative

PERMISSIONS.update({
    "governance.view_signal": reads_every_signal | (is_owner_role & (no_object | acts_for_a_signal_initiative)),
    # Any signal, whoever it concerns: pages shared by every role (the dashboard) link a signal only for them.
    "governance.view_every_signal": reads_every_signal,
    # Asked without a signal (may an owner acknowledge at all?), an owner may; for a signal, only if it is theirs.
    "governance.acknowledge_signal": decides_signals | (
        ~is_executive & (acts_for_a_signal_initiative | (no_object & is_owner_role))),
    "governance.dismiss_signal": decides_signals,
    "governance.resolve_signal": decides_signals,
    "governance.recompute_signals": is_reviewer | is_admin,
    "governance.view_signalrun": has_any_role,
})
# End of signals permissions ------------------------------------------------------------------------------------------

for _name, _predicate in PERMISSIONS.items():
    rules.add_perm(_name, _predicate)


# Each permission in words, as a refusal says it ("You may not <words>."): a person reads what they tried to do, never
# the code ("reviews.change_valuereport"). Records' view / add / change / delete say their noun (singular with its
# article, plural); the other actions are said one by one. tests/tollgate/test_permission_words.py checks that every
# permission above has its words.
PERMISSION_NOUNS: dict[str, tuple[str, str]] = {
    "initiative": ("an initiative", "initiatives"),
    "businesscase": ("a business case", "business cases"),
    "kpi": ("a KPI", "KPIs"),
    "department": ("a department", "departments"),
    "costcenter": ("a cost center", "cost centers"),
    "vendor": ("a vendor", "vendors"),
    "aimodel": ("an AI model", "AI models"),
    "licencepool": ("a licence pool", "licence pools"),
    "profile": ("a person's profile", "people's profiles"),
    "costsource": ("a cost source", "cost sources"),
    "allocationrule": ("an allocation rule", "allocation rules"),
    "ingestionrun": ("a cost ingestion run", "cost ingestion runs"),
    "currencyrate": ("a currency rate", "currency rates"),
    "importrun": ("an initiative import", "initiative imports"),
    "costforecast": ("a spend forecast", "the spend forecast"),
    "policy": ("a policy", "the policies"),
    "rubriccriterion": ("a rubric criterion", "the rubric"),
    "usecase": ("a use case", "use cases"),
    "sprawlcluster": ("a sprawl cluster", "sprawl clusters"),
    "sprawlrun": ("a sprawl recomputation", "sprawl recomputations"),
    "sprawllabelcheck": ("a sprawl label check", "sprawl label checks"),
    "duplicatepairdecision": ("a duplicate-pair verdict", "duplicate-pair verdicts"),
    "signal": ("a signal", "signals"),
    "signalrun": ("a signal computation", "signal computations"),
    "reviewcycle": ("a review cycle", "review cycles"),
    "valuereport": ("a value report", "value reports"),
    "reportattachment": ("a value report's attachment", "value report attachments"),
    "notification": ("a notification", "notifications"),
}
PERMISSION_ACTIONS: dict[str, str] = {
    "portfolio.view_dashboard": "see the dashboard",
    "portfolio.manage_people": "manage people, their roles and delegates",
    "portfolio.import_initiatives": "import initiatives",
    "portfolio.manage_initiative_delegates": "change who the delegates of this initiative are",
    "portfolio.change_start_date": "change the start date of this approved initiative",
    "portfolio.add_ingestionrun": "start a cost ingestion run",
    "governance.submit_initiative": "submit this initiative for review",
    "governance.withdraw_initiative": "withdraw this initiative from review",
    "governance.score_initiative": "score this initiative",
    "governance.decide_initiative": "decide this initiative (approve it, reject it or request changes)",
    "governance.start_pilot": "start this initiative's pilot",
    "governance.promote_initiative": "promote this initiative to production",
    "governance.retire_initiative": "retire this initiative",
    "governance.kill_initiative": "kill this initiative",
    "governance.view_audittrail": "see the audit trail",
    "governance.view_audit_addresses": "see sign-in addresses in the audit trail",
    "governance.view_reviewqueue": "see the review queue",
    "governance.decide_sprawlcluster": "confirm, dismiss or remove a member of this sprawl cluster",
    "governance.recompute_sprawl": "recompute the sprawl clusters",
    "governance.check_sprawl": "check the sprawl detection against labels",
    "governance.decide_duplicatepair": "give a verdict on this pair of possible duplicates",
    "governance.set_initiative_use_cases": "set this initiative's use cases",
    "governance.view_every_signal": "see every initiative's signals",
    "governance.acknowledge_signal": "acknowledge this signal",
    "governance.dismiss_signal": "dismiss this signal",
    "governance.resolve_signal": "resolve this signal",
    "governance.recompute_signals": "recompute the signals",
    "reviews.manage_reviewcycle": "open or close a review cycle",
    "reviews.change_valuereport": "fill in or change this value report",
    "reviews.fill_valuereport": "fill in value reports",
    "reviews.reopen_valuereport": "reopen this value report",
    "reviews.give_verdict": "give a verdict on this value report",
    "reviews.add_reportattachment": "attach a file to this value report",
    "reviews.delete_reportattachment": "remove a file from this value report",
}
_VERB_WORDS = {"view": "see {plural}", "add": "add {singular}", "change": "change {singular}",
               "delete": "delete {singular}"}


def permission_words(perm: str) -> str:
    """What `perm` allows, in words ("fill in or change this value report"); "do this" for a permission not declared
    here (never the code itself)."""
    if perm in PERMISSION_ACTIONS:
        return PERMISSION_ACTIONS[perm]
    verb, _, model = perm.partition(".")[2].partition("_")
    if verb in _VERB_WORDS and model in PERMISSION_NOUNS:
        singular, plural = PERMISSION_NOUNS[model]
        return _VERB_WORDS[verb].format(singular=singular, plural=plural)
    return "do this"


def refusal(user: Viewer | None, perm: str, obj: Any = None) -> str:
    """A service's refusal of `perm`: on a record the user's role allows the action on (but not this one), why, as
    the pages and the API say it (not_on_this_one); otherwise what they may not do, in words."""
    if obj is not None and user is not None and role_allows(user, perm):
        return not_on_this_one(user, obj)
    return f"You may not {permission_words(perm)}."


def role_allows(user: Viewer | None, perm: str) -> bool:
    """Whether the user's roles allow `perm` somewhere, if not on a given record: asked without a record, or on an
    initiative of their own. An owner's role lets them edit what they own or act for, which `may(user, perm)` without
    a record cannot say (an owner-or-delegate rule holds only on a record), so a refusal on someone else's initiative
    would otherwise send them to an administrator for a role they already hold. The initiative asked about is not
    saved: the rules read its owner, and stop (they combine lazily) before asking the database about it."""
    if may(user, perm):
        return True
    if user is None or not user.is_authenticated or not getattr(user, "is_active", False):
        return False
    if not rules.perm_exists(perm):
        return False
    from portfolio.models import Initiative

    try:
        return bool(rules.has_perm(perm, user, Initiative(owner_id=user.pk)))
    except ValueError:  # a rule that would query the unsaved initiative: not a rule about owning it
        return False


def same_rule(perm: str, other: str) -> bool:
    """Whether two permissions are declared with the very same rule, so a page asking both asks the database once
    (a verdict and a reopening are both the independent reviewer's); False as soon as their rules differ."""
    return PERMISSIONS.get(perm) is not None and PERMISSIONS.get(perm) is PERMISSIONS.get(other)


def may(user: Viewer | None, perm: str, obj: Any = None) -> bool:
    """Whether `user` may do `perm` (on `obj`): the one check of every business action, superusers included.

    Django's `User.has_perm` answers yes to any active superuser before a rule is consulted, which let an
    administrator score, approve, kill and give verdicts on what they own. The rules above decide here for every
    account; a superuser counts as an administrator and holds the other roles only through their groups. Permissions
    not declared here (the Django admin's own model permissions) are left to Django.
    """
    if user is None or not user.is_authenticated or not getattr(user, "is_active", False):
        return False
    if rules.perm_exists(perm):
        return bool(rules.has_perm(perm, user, obj))
    return bool(user.has_perm(perm, obj))


def role_of(user) -> Role | None:
    """The user's main role, for navigation and the demo logins (admin wins over the others)."""
    if not getattr(user, "is_authenticated", False):
        return None
    names = group_names(user)
    for role in (Role.ADMIN, Role.REVIEWER, Role.EXECUTIVE, Role.OWNER):
        if role == Role.ADMIN and user.is_superuser:
            return role
        if role in names:
            return role
    return None


def roles_shown(user) -> list[Role]:
    """The roles a person holds, in Role order, from their groups as loaded (prefetch them for a list) and with a
    superuser counted as an administrator: what the People page, the API and an invitation say they are."""
    names = {group.name for group in user.groups.all()}
    return [role for role in Role if role.value in names or (role is Role.ADMIN and user.is_superuser)]


def held_roles(user) -> set[Role]:
    """The roles a person's groups give them (a superuser's status is not a role: it is not counted here)."""
    names = group_names(user)
    return {role for role in Role if role.value in names}


def group_names(user) -> set[str]:
    """The names of the user's groups, read once per user object: the same memo `rules.is_group_member` keeps, so
    a page asking about roles and permissions many times reads the groups once."""
    if not hasattr(user, "_group_names_cache"):
        user._group_names_cache = set(user.groups.values_list("name", flat=True))
    return user._group_names_cache


# Apps whose Django admin pages administrators use: users and roles, tokens, the audit log, login attempts (to
# unlock an account), Tollgate's own.
ADMIN_APPS = ["auth", "auditlog", "axes", "portfolio", "governance", "reviews"]


def sync_role_groups(**kwargs) -> None:
    """Create one group per role; administrators also get Django's model permissions for the admin site."""
    from django.contrib.auth.models import Group, Permission

    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        if role == Role.ADMIN:
            group.permissions.set(
                Permission.objects.filter(content_type__app_label__in=ADMIN_APPS)
            )
