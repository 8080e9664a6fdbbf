"""Every API list refuses, by name, a query parameter it does not read and an ordering it does not sort by."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import (
    AIModelFactory,
    BusinessCaseFactory,
    CostCenterFactory,
    DepartmentFactory,
    InitiativeFactory,
    KPIFactory,
    LicencePoolFactory,
    ReviewCycleFactory,
    RubricCriterionFactory,
    UserFactory,
    ValueReportFactory,
    VendorFactory,
)
from tests.portfolio.costs.factories import AllocationRuleFactory, CostSourceFactory, IngestionRunFactory
from tollgate.api_query import OrderingFilter


def _patterns(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def list_paths() -> list[str]:
    """The path of every list action of the API (the viewsets' `list`, without a format suffix)."""
    paths = []
    for pattern, callback in _patterns(get_resolver().url_patterns):
        if pattern.startswith("api/") and (getattr(callback, "actions", None) or {}).get("get") == "list":
            if "format" not in pattern:
                paths.append("/" + pattern.replace("^", "").replace("$", ""))
    return sorted(set(paths))


LISTS = list_paths()


def test_every_list_is_found():
    assert len(LISTS) > 20
    assert {"/api/initiatives/", "/api/governance/audit-entries/", "/api/governance/policies/"} <= set(LISTS)


@pytest.mark.django_db
@pytest.mark.parametrize("path", LISTS)
def test_an_unknown_parameter_is_refused_naming_it_and_what_the_list_accepts(api_client, admin_user, path):
    api_client.force_authenticate(admin_user)
    refused = api_client.get(path, {"tags": "pilot", "format": "json"})
    assert refused.status_code == 400, refused.content
    assert list(refused.json()) == ["tags"]
    message = refused.json()["tags"][0]
    assert message.startswith("“tags” is not a parameter of this list; it accepts: ")
    assert "format" in message
    assert api_client.get(path, {"format": "json"}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("path", LISTS)
def test_every_ordering_a_list_names_sorts_and_any_other_is_refused(api_client, admin_user, path):
    """The refusal lists the fields the list sorts by; each of them, ascending and descending, answers 200."""
    api_client.force_authenticate(admin_user)
    refused = api_client.get(path, {"ordering": "-bogus"})
    if refused.status_code == 400 and "is not a parameter of this list" in str(refused.json().get("ordering")):
        return  # a list that does not sort (the policies, declared in code)
    assert refused.status_code == 400, refused.content
    message = refused.json()["ordering"][0]
    assert message.startswith("“-bogus” is not a field this list sorts by. Sort by: ")
    fields = re.search(r"Sort by: (.*?); a “-”", message).group(1).split(", ")
    for field in fields:
        for term in (field, f"-{field}"):
            response = api_client.get(path, {"ordering": term})
            assert response.status_code == 200, (term, response.content[:300])


@pytest.mark.django_db
def test_initiatives_sort_by_the_fields_they_show(api_client, admin_user):
    early = InitiativeFactory(name="B early", start_date="2021-01-01")
    late = InitiativeFactory(name="A late", start_date="2025-06-01")
    api_client.force_authenticate(admin_user)
    url = reverse("api:initiative-list")

    def ids(ordering: str) -> list[int]:
        response = api_client.get(url, {"ordering": ordering})
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids("start_date") == [early.pk, late.pk]
    assert ids("-start_date") == [late.pk, early.pk]
    assert ids("name") == [late.pk, early.pk]
    for shown in ("owner", "owner_email", "department_name", "cost_center_code", "cost_vs_business_case_pct",
                  "-cost_vs_business_case_pct,name"):
        assert sorted(ids(shown)) == sorted([early.pk, late.pk])


@pytest.mark.django_db
def test_the_reported_requests_are_refused_by_name(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    initiatives = reverse("api:initiative-list")
    start = api_client.get(initiatives, {"start_date__gte": "2026-01-01"})
    assert start.status_code == 400 and list(start.json()) == ["start_date__gte"]
    assert "search, ordering, page, page_size, format." in start.json()["start_date__gte"][0]
    audit = api_client.get(reverse("governance_api:auditentry-list"), {"date_from": "2026-13-01"})
    assert audit.status_code == 400 and "since" in audit.json()["date_from"][0]
    several = api_client.get(initiatives, {"ordering": "name,bogus,-nonexistent"})
    assert several.json()["ordering"][0].startswith("“bogus”, “-nonexistent” are not fields this list sorts by.")
    # The filters, search, paging and format a list does read still go through.
    DepartmentFactory(name="Finance", code="fin")
    fine = api_client.get(reverse("api:department-list"),
                          {"q": "fin", "search": "fin", "ordering": "-name", "page": "1", "page_size": "5",
                           "format": "json"})
    assert fine.status_code == 200 and fine.json()["count"] == 1


@pytest.mark.django_db
def test_a_record_and_its_actions_keep_their_own_parameters(api_client, admin_user):
    """Only lists are checked: a record's costs read `from` and `to`."""
    initiative = InitiativeFactory()
    api_client.force_authenticate(admin_user)
    costs = api_client.get(reverse("api:initiative-costs", args=[initiative.pk]), {"from": "2026-01", "to": "2026-03"})
    assert costs.status_code == 200, costs.content


@pytest.mark.django_db
def test_the_schema_lists_the_fields_each_list_sorts_by(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    schema = api_client.get(reverse("schema"), {"format": "json"}).json()
    parameters = schema["paths"]["/api/initiatives/"]["get"]["parameters"]
    ordering = next(p for p in parameters if p["name"] == "ordering")
    assert "start_date" in ordering["description"] and "cost_vs_business_case_pct" in ordering["description"]
    page = next(p for p in parameters if p["name"] == "page")
    assert page["schema"] == {"type": "integer", "minimum": 1}


def test_an_alias_sorts_by_the_fields_it_stands_for():
    class View:
        ordering_fields = ["name"]
        ordering_aliases = {"owner": ("owner__last_name", "owner__first_name")}

    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from portfolio.models import Initiative

    request = Request(APIRequestFactory().get("/api/x/", {"ordering": "-owner,name"}))
    ordering = OrderingFilter().get_ordering(request, Initiative.objects.all(), View())
    assert ordering == ["-owner__last_name", "-owner__first_name", "name"]


def test_every_ordering_ends_on_the_key_so_that_ties_keep_one_order_from_page_to_page():
    class View:
        ordering_fields = ["name", "stage", "id"]
        ordering_ignoring_case = ["name"]

    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from portfolio.models import Initiative

    def order_by(query: dict[str, str]) -> tuple[Any, ...]:
        request = Request(APIRequestFactory().get("/api/x/", query))
        return OrderingFilter().filter_queryset(request, Initiative.objects.all(), View()).query.order_by

    assert order_by({"ordering": "-stage"}) == ("-stage", "pk")
    assert order_by({"ordering": "stage,-id"}) == ("stage", "-id")
    assert order_by({"ordering": "-name"})[-1] == "pk"
    assert order_by({}) == ()  # no ordering asked: the view's own queryset, which orders itself


@pytest.mark.django_db
def test_paging_through_a_list_sorted_on_ties_gives_each_row_once(api_client, admin_user):
    made = {InitiativeFactory(stage="pilot").pk for _ in range(7)}
    api_client.force_authenticate(admin_user)
    seen: list[int] = []
    url = reverse("api:initiative-list")
    for page in (1, 2, 3, 4):
        response = api_client.get(url, {"ordering": "-stage", "page_size": "2", "page": str(page)})
        assert response.status_code == 200, response.content
        seen += [row["id"] for row in response.json()["results"]]
    assert sorted(seen) == sorted(made)
    assert seen == sorted(made)  # the key breaks the tie, ascending


# Names sort as people read them, whatever their case, on every database (`ordering_ignoring_case`) --------------------

MADE = ("Zebra", "cherry", "apple", "Banana")  # in this order: neither the key nor the bytes give the order read
READ = ["apple", "Banana", "cherry", "Zebra"]


def _person(text: str) -> Any:
    return UserFactory(username=f"{text}@example.com", first_name="", last_name=text)


def _use_case(text: str) -> Any:
    from tests.governance.sprawl.factories import UseCaseFactory

    return UseCaseFactory(name=text, code=f"sorted-{text.lower()}")


# (list, ordering, a record whose field is the text, whether the list reads so without an ordering)
NAMED_LISTS: list[tuple[str, str, Any, bool]] = [
    ("api:initiative-list", "department_name", lambda t: InitiativeFactory(department=DepartmentFactory(name=t)),
     False),
    ("api:initiative-list", "owner", lambda t: InitiativeFactory(owner=_person(t)), False),
    ("api:initiative-list", "owner_email", lambda t: InitiativeFactory(owner=_person(t)), False),
    ("api:businesscase-list", "initiative__name", lambda t: BusinessCaseFactory(initiative=InitiativeFactory(name=t)),
     True),
    ("api:kpi-list", "name", lambda t: KPIFactory(name=t), False),
    ("api:kpi-list", "initiative__name", lambda t: KPIFactory(initiative=InitiativeFactory(name=t)), False),
    ("api:department-list", "name", lambda t: DepartmentFactory(name=t), True),
    ("api:costcenter-list", "name", lambda t: CostCenterFactory(name=t), False),
    ("api:costcenter-list", "department__name", lambda t: CostCenterFactory(department=DepartmentFactory(name=t)),
     False),
    ("api:vendor-list", "name", lambda t: VendorFactory(name=t), True),
    ("api:aimodel-list", "name", lambda t: AIModelFactory(name=t), False),
    ("api:aimodel-list", "provider__name", lambda t: AIModelFactory(provider=VendorFactory(name=t)), True),
    ("api:licencepool-list", "tool", lambda t: LicencePoolFactory(tool=t), True),
    ("api:licencepool-list", "vendor__name", lambda t: LicencePoolFactory(vendor=VendorFactory(name=t)), False),
    ("api:person-list", "last_name", _person, True),
    ("api:person-list", "first_name", lambda t: UserFactory(first_name=t), False),
    ("api:person-list", "username", _person, False),
    ("api:person-list", "email", _person, False),
    ("api:costsource-list", "name", lambda t: CostSourceFactory(name=t), True),
    ("api:allocationrule-list", "source__name", lambda t: AllocationRuleFactory(source=CostSourceFactory(name=t)),
     True),
    ("api:ingestionrun-list", "source__name", lambda t: IngestionRunFactory(source=CostSourceFactory(name=t)), False),
    ("reviews_api:cycle-list", "name", lambda t: ReviewCycleFactory(name=t), False),
    ("reviews_api:report-list", "initiative__name",
     lambda t: ValueReportFactory(initiative=InitiativeFactory(name=t, stage="pilot")), True),
    ("governance_api:rubriccriterion-list", "name", lambda t: RubricCriterionFactory(name=t), False),
    ("governance_api:usecase-list", "name", _use_case, True),
]


@pytest.mark.django_db
@pytest.mark.parametrize("url, ordering, make, by_default",
                         [pytest.param(*case, id=f"{case[0]}-{case[1]}") for case in NAMED_LISTS])
def test_names_sort_ignoring_case_on_every_database(api_client, admin_user, url, ordering, make, by_default):
    key = "code" if url == "governance_api:usecase-list" else "id"
    only_made = {"q": "Does one job for the business"} if key == "code" else {}  # the factory's, not the catalogue's
    made = {getattr(record, "code" if key == "code" else "pk"): text for text in MADE for record in [make(text)]}
    api_client.force_authenticate(admin_user)

    def read(query: dict[str, str]) -> list[str]:
        response = api_client.get(reverse(url), {**only_made, **query, "page_size": "100"})
        assert response.status_code == 200, response.content
        return [made[row[key]] for row in response.json()["results"] if row[key] in made]

    assert read({"ordering": ordering}) == READ
    assert read({"ordering": f"-{ordering}"}) == READ[::-1]
    if by_default:
        assert read({}) == READ


# Endpoints that are not lists but read query parameters of their own ------------------------------------------------


@pytest.mark.django_db
def test_a_read_that_is_not_a_list_refuses_a_parameter_its_schema_does_not_document(api_client, executive, initiative):
    """`?qaurter=2025-Q1` answered 200 with the default quarter, and `?form=2026-01` the last twelve months of costs:
    the script could not tell its parameter was never read."""
    from drf_spectacular.generators import SchemaGenerator

    api_client.force_authenticate(executive)
    dashboard = api_client.get("/api/dashboard/", {"qaurter": "2025-Q1"})
    assert dashboard.status_code == 400 and dashboard.json() == {
        "qaurter": ["“qaurter” is not a parameter of this endpoint; it accepts: quarter, department, format."]}
    costs = api_client.get(f"/api/initiatives/{initiative.pk}/costs/", {"form": "2026-01", "to": "2026-03"})
    assert costs.status_code == 400 and costs.json() == {
        "form": ["“form” is not a parameter of this endpoint; it accepts: from, to, format."]}
    # What they document they read; and the check is the schema's own list of them.
    assert api_client.get("/api/dashboard/", {"quarter": "2026-Q3", "format": "json"}).status_code == 200
    assert api_client.get(f"/api/initiatives/{initiative.pk}/costs/", {"from": "2026-01"}).status_code == 200
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for path in ("/api/dashboard/", "/api/initiatives/{id}/costs/"):
        documented = [p["name"] for p in paths[path]["get"]["parameters"] if p["in"] == "query"]
        assert documented and "400" in paths[path]["get"]["responses"], path
    # A record read without parameters of its own reads none but `format`.
    assert api_client.get(f"/api/initiatives/{initiative.pk}/").status_code == 200
    assert api_client.get(f"/api/initiatives/{initiative.pk}/", {"format": "json"}).status_code == 200


@pytest.mark.django_db
def test_a_detail_read_refuses_an_unknown_parameter_by_name_as_a_list_does(api_client, executive, initiative):
    """`/api/initiatives/<id>/?foo=1` answered 200, the record as if the parameter were read, while the list answered
    400 naming it: every read now refuses what it does not read, in one place (documented_query_check)."""
    api_client.force_authenticate(executive)
    detail = api_client.get(f"/api/initiatives/{initiative.pk}/", {"foo": "1"})
    assert detail.status_code == 400 and detail.json() == {
        "foo": ["“foo” is not a parameter of this endpoint; it accepts: format."]}
    me = api_client.get("/api/me/", {"foo": "1"})
    assert me.status_code == 400 and list(me.json()) == ["foo"]
    listing = api_client.get("/api/initiatives/", {"foo": "1"})
    assert listing.status_code == 400 and listing.json()["foo"][0].startswith(
        "“foo” is not a parameter of this list; it accepts: ")


@pytest.mark.django_db
def test_a_filter_s_unknown_id_or_choice_names_the_value_and_what_is_expected(api_client, executive):
    """`?department=abc`, `?department=9999` on a list and the dashboard answered "Select a valid choice. That choice
    is not one of the available choices."; `?stage=bogus` named the value but not the stages."""
    api_client.force_authenticate(executive)
    for path in ("/api/initiatives/", "/api/dashboard/"):
        missing = api_client.get(path, {"department": "9999"})
        assert missing.status_code == 400 and missing.json() == {"department": ["No department with id 9999."]}, path
        assert api_client.get(path, {"department": "abc"}).json() == {
            "department": ["department must be a department's id (a whole number), not 'abc'."]}, path
    stages = api_client.get("/api/initiatives/", {"stage": ["pilot", "bogus"]}).json()
    assert stages == {"stage": ["'bogus' is not a stage; one of: proposed, in_review, changes_requested, approved, "
                                "pilot, production, retired, rejected, killed."]}
    assert api_client.get("/api/kpis/", {"direction": "sideways"}).json() == {
        "direction": ["'sideways' is not a direction; one of: increase, decrease."]}
