"""Object rules of tollgate.roles, checked directly (the matrix checks them through pages and the API)."""

import pytest
from django.urls import reverse

from tests.factories import InitiativeFactory, KPIFactory, UserFactory
from tollgate.roles import Role, role_of

pytestmark = pytest.mark.django_db


def test_owner_edits_own_but_not_others(owner, initiative, other_initiative):
    assert owner.has_perm("portfolio.change_initiative", initiative)
    assert not owner.has_perm("portfolio.change_initiative", other_initiative)


def test_delegate_on_initiative_may_edit(other_owner, initiative):
    initiative.delegates.add(other_owner)
    assert other_owner.has_perm("portfolio.change_initiative", initiative)
    assert other_owner.has_perm("portfolio.change_kpi", KPIFactory(initiative=initiative))


def test_delegate_of_the_owner_may_edit_all_their_initiatives(owner, other_owner, initiative):
    owner.profile.delegates.add(other_owner)
    assert other_owner.has_perm("portfolio.change_initiative", initiative)
    assert other_owner.has_perm("portfolio.add_businesscase", initiative)


def test_executive_changes_nothing_even_their_own():
    executive = UserFactory(role=Role.EXECUTIVE)
    own = InitiativeFactory(owner=executive)
    assert executive.has_perm("portfolio.view_initiative", own)
    assert not executive.has_perm("portfolio.change_initiative", own)
    assert not executive.has_perm("portfolio.add_initiative")


def test_reviewer_reads_but_does_not_edit(reviewer, initiative):
    assert reviewer.has_perm("portfolio.view_initiative", initiative)
    assert not reviewer.has_perm("portfolio.change_initiative", initiative)
    assert not reviewer.has_perm("portfolio.add_initiative")


def test_admin_may_do_everything(admin_user, initiative):
    for perm in ("portfolio.change_initiative", "portfolio.delete_initiative", "portfolio.import_initiatives",
                 "portfolio.change_department"):
        assert admin_user.has_perm(perm, initiative if "initiative" in perm else None)


def test_user_without_role_sees_nothing(initiative):
    nobody = UserFactory()
    assert not nobody.has_perm("portfolio.view_initiative", initiative)
    assert role_of(nobody) is None


def test_role_of(owner, reviewer, executive, admin_user):
    assert [role_of(u) for u in (owner, reviewer, executive, admin_user)] == [
        Role.OWNER, Role.REVIEWER, Role.EXECUTIVE, Role.ADMIN]


def test_only_owners_are_offered_my_reports(client, owner, reviewer, executive, admin_user):
    """Filling in value reports is the owners' work: the executive's navigation (read-only everywhere) has no
    "My reports", nor the reviewer's or the administrator's."""
    offered = {}
    for user in (owner, reviewer, executive, admin_user):
        client.force_login(user)
        nav = client.get(reverse("portfolio:initiative_list")).context["nav_items"]
        offered[role_of(user)] = "My reports" in [item["label"] for item in nav]
    assert offered == {Role.OWNER: True, Role.REVIEWER: False, Role.EXECUTIVE: False, Role.ADMIN: False}
