"""The navigation is computed once per combination of roles: that is sound only while its checks read nothing but
the groups and the superuser flag, which these tests hold the rules to."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import InitiativeFactory, UserFactory
from tollgate import context_processors
from tollgate.context_processors import NAV, nav_links
from tollgate.roles import Role, group_names, may

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _forget_links():
    context_processors._links_by_roles.clear()
    yield
    context_processors._links_by_roles.clear()


def fresh_links(user) -> list[tuple[str, str]]:
    return [(label, reverse(name)) for label, name, perm in NAV if may(user, perm)]


@pytest.mark.parametrize("role", [Role.OWNER, Role.REVIEWER, Role.EXECUTIVE, Role.ADMIN, None])
def test_navigation_checks_read_only_the_groups(role):
    user = UserFactory(role=role) if role else UserFactory()
    InitiativeFactory(owner=user)  # owning something must not change what the navigation offers
    group_names(user)
    with CaptureQueriesContext(connection) as queries:
        links = fresh_links(user)
    assert [q["sql"] for q in queries.captured_queries] == []
    assert nav_links(user) == links


def test_superuser_and_groups_are_part_of_the_key():
    executive = UserFactory(role=Role.EXECUTIVE)
    superuser = UserFactory(role=Role.EXECUTIVE, is_superuser=True, is_staff=True)
    assert nav_links(superuser) == fresh_links(superuser) != nav_links(executive)

    promoted = UserFactory(role=Role.EXECUTIVE)
    promoted.groups.add(Group.objects.get(name=Role.REVIEWER))
    promoted = type(promoted).objects.get(pk=promoted.pk)  # a new request loads the user again
    assert nav_links(promoted) == fresh_links(promoted) != nav_links(executive)


def test_a_page_reads_the_groups_once(client):
    executive = UserFactory(role=Role.EXECUTIVE)
    client.force_login(executive)
    client.get(reverse("portfolio:department_list"))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("portfolio:department_list")).status_code == 200
    group_reads = [q["sql"] for q in queries.captured_queries if 'FROM "auth_group"' in q["sql"]]
    assert len(group_reads) == 1, group_reads
