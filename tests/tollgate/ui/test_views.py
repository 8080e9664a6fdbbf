"""The list pages' shared pieces: `?per_page=` within 1..500 on every page with a table, the CSV export whole."""

from __future__ import annotations

import pytest

from portfolio.models import Department
from tests.factories import DepartmentFactory, InitiativeFactory
from tollgate.pagination import MAX_PAGE_SIZE

pytestmark = pytest.mark.django_db


def test_a_list_page_serves_at_most_500_rows_a_page_and_exports_them_all(login, reviewer):
    Department.objects.bulk_create(Department(name=f"Zz department {n:03d}", code=f"zz-{n:03d}")
                                   for n in range(MAX_PAGE_SIZE + 3))
    client = login(reviewer)
    table = client.get("/portfolio/departments/", {"per_page": "100000"}).context["table"]
    assert table.paginator.per_page == MAX_PAGE_SIZE and len(table.page.object_list) == MAX_PAGE_SIZE
    exported = client.get("/portfolio/departments/", {"per_page": "100000", "_export": "csv"})
    assert exported.content.decode("utf-8-sig").count("Zz department") == MAX_PAGE_SIZE + 3


@pytest.mark.parametrize(("given", "served"), [("7", 7), ("0", 25), ("-5", 1), ("abc", 25), ("1e9", 25), ("", 25)])
def test_a_size_out_of_bounds_or_not_a_number_is_served_within_them(login, reviewer, given, served):
    DepartmentFactory()
    response = login(reviewer).get("/portfolio/departments/", {"per_page": given})
    assert response.status_code == 200 and response.context["table"].paginator.per_page == served


def test_the_pages_configuring_their_own_tables_are_limited_too(login, reviewer):
    department = InitiativeFactory().department
    response = login(reviewer).get(department.get_absolute_url(), {"i-per_page": "100000"})
    assert response.status_code == 200
    tables = [value for value in response.context[0].flatten().values() if hasattr(value, "paginator")]
    assert tables and all(table.paginator.per_page == MAX_PAGE_SIZE for table in tables)
