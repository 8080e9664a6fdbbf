"""The shared filter pieces: one select on the page that takes several values from the API, a short offered list
that accepts any row, and a yes/no select that reads both the page's and API clients' spellings."""

from __future__ import annotations

import django_filters
import pytest
from django.http import QueryDict

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
