"""The shared filter pieces: one select on the page that takes several values from the API, a short offered list
that accepts any row, and a yes/no select that reads both the page's and API clients' spellings."""

from __future__ import annotations

import django_filters
import pytest
from django.http import QueryDict
from django.urls import reverse

from portfolio.choices import Stage
from portfolio.models import Department, Initiative
from tests.factories import DepartmentFactory, InitiativeFactory
from tollgate.ui.filtersets import (
    ListFilterSet,
    OfferedModelChoiceFilter,
    OneOrMoreChoiceFilter,
    SearchFilterSet,
    YesNoSelect,
)


class StageFilterSet(SearchFilterSet):
    search_fields = ("name",)
    page_filters = ("q", "stage")

    stage = OneOrMoreChoiceFilter(choices=Stage.choices)
    department = OfferedModelChoiceFilter(queryset=Department.objects.all(),
                                          offered=Department.objects.filter(name__startswith="Offered"))
    ended = django_filters.BooleanFilter(field_name="start_date", lookup_expr="isnull", widget=YesNoSelect())

    class Meta:
        model = Initiative
        fields = ("q", "stage", "department", "ended")


def run(query: str) -> StageFilterSet:
    return StageFilterSet(QueryDict(query), queryset=Initiative.objects.order_by("pk"))


@pytest.mark.django_db
def test_one_or_more_choices():
    pilot, production = InitiativeFactory(stage=Stage.PILOT), InitiativeFactory(stage=Stage.PRODUCTION)
    InitiativeFactory(stage=Stage.PROPOSED)
    assert list(run("stage=pilot").qs) == [pilot]
    assert list(run("stage=pilot&stage=production").qs) == [pilot, production]
    assert run("stage=").qs.count() == 3  # the page's "Any"
    bad = run("stage=pilot&stage=teleported")
    assert not bad.is_valid() and "stage" in bad.errors


def test_one_or_more_renders_one_select_with_any_selected():
    html = str(run("").form["stage"])
    assert "multiple" not in html and '<option value="" selected>Any</option>' in html
    assert '<option value="pilot" selected>Pilot</option>' in str(run("stage=pilot").form["stage"])


@pytest.mark.django_db
def test_offered_choices_are_listed_while_any_row_is_accepted():
    offered, other = DepartmentFactory(name="Offered dept"), DepartmentFactory(name="Other dept")
    InitiativeFactory(department=other)
    choices = [label for _, label in run("").form.fields["department"].choices]
    assert choices == ["Any", "Offered dept"]
    filtered = run(f"department={other.pk}")
    assert filtered.is_valid() and filtered.qs.count() == 1
    assert not run(f"department={offered.pk + other.pk + 100}").is_valid()


@pytest.mark.parametrize(("sent", "expected"), [
    ("true", True), ("True", True), ("1", True), ("2", True), ("false", False), ("False", False), ("0", False),
    ("3", False), ("", None), ("maybe", None),
])
def test_yes_no_reads_what_the_page_and_api_clients_send(sent, expected):
    assert YesNoSelect().value_from_datadict(QueryDict(f"ended={sent}"), {}, "ended") is expected


def test_yes_no_renders_the_choice_read():
    widget = YesNoSelect(yes="Unread", no="Read")
    assert '<option value="false" selected>Read</option>' in widget.render("unread", False)
    assert '<option value="" selected>Any</option>' in widget.render("unread", None)


def test_the_page_shows_its_filters_only():
    assert [field.name for field in run("").page_fields()] == ["q", "stage"]

    class Everything(ListFilterSet):
        class Meta:
            model = Department
            fields = ("name", "code")

    assert [field.name for field in Everything(QueryDict("")).page_fields()] == ["name", "code"]


def _project_filtersets() -> list[type[django_filters.FilterSet]]:
    """Every filter set of the project's pages and API (each app's filtersets modules imported)."""
    import importlib

    for module in ("portfolio.filtersets", "portfolio.costs.filtersets", "governance.filtersets",
                   "governance.signals.filtersets", "governance.sprawl.filtersets", "reviews.filtersets"):
        importlib.import_module(module)

    def below(cls: type) -> list[type]:
        return [found for sub in cls.__subclasses__() for found in (sub, *below(sub))]

    return [cls for cls in below(django_filters.FilterSet)
            if cls.__module__.split(".")[0] in {"portfolio", "governance", "reviews"} and cls._meta.model is not None]


def test_every_filter_of_every_page_and_endpoint_has_a_label_a_person_can_read():
    # A filter whose name is no field of the model (it filters by a method) and has no label of its own is shown as
    # "[invalid name]" in the filter bar and the API docs.
    filtersets = _project_filtersets()
    assert len(filtersets) >= 10
    unnamed = [f"{cls.__name__}.{name}" for cls in filtersets for name, field in cls().form.fields.items()
               if "invalid name" in str(field.label)]
    assert unnamed == []


@pytest.mark.django_db
def test_a_range_whose_bounds_cross_is_refused_by_name_on_the_page_and_the_api(client, api_client, reviewer):
    client.force_login(reviewer)
    page = client.get(reverse("portfolio:initiative_list"), {"cost_quarter_min": "100", "cost_quarter_max": "10"})
    assert "nothing can match both" in page.content.decode()
    api_client.force_authenticate(reviewer)
    refused = api_client.get(reverse("api:initiative-list"), {"cost_quarter_min": "100", "cost_quarter_max": "10"})
    assert refused.status_code == 400 and "nothing can match both" in refused.json()["cost_quarter_max"][0]
    audit = client.get(reverse("governance:audit"), {"since": "2026-12-01", "until": "2026-11-01"})
    assert "nothing can match both" in audit.content.decode()
    fine = api_client.get(reverse("api:initiative-list"), {"cost_quarter_min": "10", "cost_quarter_max": "10"})
    assert fine.status_code == 200


@pytest.mark.django_db
def test_a_yes_no_filter_given_anything_else_is_refused_by_name_not_read_as_any():
    refused = run("ended=maybe")
    assert not refused.is_valid()
    assert refused.errors["ended"] == ["“Start date is null” is true or false (or empty for any), not “maybe”."]
    for spelling in ("true", "True", "1", "false", "False", "0", ""):
        assert run(f"ended={spelling}").is_valid(), spelling


@pytest.mark.django_db
def test_yes_no_filters_of_the_api_and_pages_refuse_what_is_not_yes_or_no(client, api_client, admin_user):
    api_client.force_authenticate(admin_user)
    for name, query in (("api:person-list", "active"), ("governance_api:rubriccriterion-list", "active"),
                        ("api:aimodel-list", "open_weights"), ("reviews_api:notification-list", "unread")):
        answer = api_client.get(reverse(name), {query: "maybe"})
        assert answer.status_code == 400, name
        assert "maybe" in answer.json()[query][0]
    assert api_client.get(reverse("api:person-list"), {"active": "false"}).status_code == 200
    client.force_login(admin_user)
    page = client.get(reverse("portfolio:person_list"), {"active": "maybe"})
    assert "is true or false (or empty for any), not “maybe”" in page.content.decode()


@pytest.mark.django_db
def test_a_search_the_api_refuses_names_its_parameter(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    refused = api_client.get(reverse("api:costsource-list"), {"search": "a\x00b"})
    assert refused.status_code == 400
    assert refused.json() == {"search": ["Null characters are not allowed."]}


@pytest.mark.django_db
def test_a_search_of_too_many_words_is_refused_by_name_on_the_api_and_the_page(client, api_client, admin_user):
    words = " ".join(["a"] * 1000)
    api_client.force_authenticate(admin_user)
    refused = api_client.get(reverse("api:initiative-list"), {"search": words})
    assert refused.status_code == 400
    assert refused.json() == {"search": ["Search for at most 20 words at once, not 1000."]}
    assert api_client.get(reverse("api:initiative-list"), {"q": words}).json() == {
        "q": ["Search for at most 20 words at once, not 1000."]}
    assert api_client.get(reverse("api:initiative-list"), {"search": " ".join(["a"] * 20)}).status_code == 200
    client.force_login(admin_user)
    page = client.get(reverse("portfolio:initiative_list"), {"q": words})
    assert page.status_code == 400 and "Search for at most 20 words at once, not 1000." in page.content.decode()
