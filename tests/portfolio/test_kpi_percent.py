"""A KPI measured in percent (unit "%", "pct", "% of tickets", ...) is a share: its baseline and target lie between
0 and 100, on the page, the API and the admin alike (KPI.clean, which kpis_replace runs for every door)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from portfolio import calculations
from portfolio.choices import KpiDirection, KpiKind
from portfolio.models import KPI, Initiative
from portfolio.services import kpi_save
from tests.factories import CostCenterFactory, DepartmentFactory
from tests.portfolio.test_views import CREATE_URL, form_data


@pytest.mark.parametrize(("unit", "percent"), [
    ("%", True), (" Percent ", True), ("per cent", True), ("percentage", True), ("PCT", True),
    # a share of something is a percent too
    ("% of tickets", True), ("pct of calls", True), ("Percentage  of invoices", True), ("per cent of spend", True),
    # a change measured in percent may be negative or above 100
    ("% growth", False), ("% change", False), ("percentage points", False), ("pct pts", False), ("% of", False),
    ("tickets", False), ("percentile", False), ("pcts", False), ("", False), (None, False),
])
def test_which_units_are_percent(unit, percent):
    assert calculations.kpi_in_percent(unit) is percent


@pytest.mark.parametrize(("value", "refused"), [
    (D("0"), False), (D("100"), False), (D("45.5"), False), (None, False),
    (D("100.0001"), True), (D("250"), True), (D("-5"), True),
])
def test_a_percent_is_between_0_and_100(value, refused):
    error = calculations.kpi_percent_error(name="Containment rate", unit="%", what="target", value=value)
    assert (error is not None) is refused
    assert calculations.kpi_percent_error(name="Tickets", unit="tickets", what="target", value=value) is None


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value", "shown"), [("target", D("250"), "250"), ("baseline", D("-5"), "-5")])
def test_the_service_refuses_a_percent_kpi_figure_outside_0_to_100_naming_the_kpi_and_value(
    owner, initiative, field, value, shown
):
    figures = {"baseline": D("20"), "target": D("45"), field: value}
    with pytest.raises(ValidationError) as refused:
        kpi_save(actor=owner, initiative=initiative, name="Containment rate", unit="%", kind=KpiKind.RATIO,
                 direction=KpiDirection.INCREASE, **figures)
    assert refused.value.message_dict[field] == [
        f"KPI “Containment rate” is measured in percent (%): its {field} is {shown}, and a percentage is between 0 "
        "and 100."]
    assert not KPI.objects.exists()
    kept = kpi_save(actor=owner, initiative=initiative, name="Containment rate", unit="%", kind=KpiKind.RATIO,
                    direction=KpiDirection.INCREASE, baseline=D("0"), target=D("100"))
    assert (kept.baseline, kept.target) == (D("0"), D("100"))
    # Another unit is not bounded: 250 tickets is a count.
    kpi_save(actor=owner, initiative=initiative, name="Tickets", unit="tickets", baseline=D("0"), target=D("250"))


@pytest.mark.django_db
def test_the_api_refuses_a_percent_target_of_250_on_the_target(as_user, owner, initiative):
    refused = as_user(owner).post(reverse("api:kpi-list"), {
        "initiative": initiative.pk, "name": "Containment rate", "unit": "percent", "kind": "ratio",
        "direction": "increase", "baseline": "20", "target": "250"}, format="json")
    assert refused.status_code == 400 and refused.json()["target"] == [
        "KPI “Containment rate” is measured in percent (percent): its target is 250, and a percentage is between 0 "
        "and 100."]
    assert not KPI.objects.exists()


@pytest.mark.django_db
def test_the_api_refuses_patching_a_percent_kpi_to_a_negative_baseline(as_user, owner, initiative):
    kpi = kpi_save(actor=owner, initiative=initiative, name="Containment rate", unit="%", kind=KpiKind.RATIO,
                   direction=KpiDirection.INCREASE, baseline=D("20"), target=D("45"))
    refused = as_user(owner).patch(reverse("api:kpi-detail", args=[kpi.pk]), {"baseline": "-5"}, format="json")
    assert refused.status_code == 400 and "its baseline is -5" in refused.json()["baseline"][0]
    kpi.refresh_from_db()
    assert kpi.baseline == D("20")


@pytest.mark.django_db
def test_the_initiative_page_refuses_a_percent_target_of_250_and_saves_nothing(login, owner):
    department = DepartmentFactory()
    row = {"name": "Straight-through rate", "unit": "%", "kind": KpiKind.RATIO, "baseline": "10", "target": "250",
           "direction": KpiDirection.INCREASE, "value_per_unit": ""}
    response = login(owner).post(CREATE_URL, form_data(department, CostCenterFactory(department=department),
                                                       kpis=[row]))
    assert response.status_code == 200
    assert ("KPI “Straight-through rate” is measured in percent (%): its target is 250, and a percentage is between 0 "
            "and 100.") in response.content.decode()
    assert not Initiative.objects.filter(name="Invoice reader").exists()
