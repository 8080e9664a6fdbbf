"""Portfolio pages: lists (filters, search, sort, CSV, query counts), detail, and the one-page register / edit form."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import date
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portfolio.choices import Category, KpiDirection, KpiKind, Stage
from portfolio.models import KPI, BusinessCase, Initiative, LicencePoolActivity
from portfolio.services import kpi_save
from tests.factories import (
    AIModelFactory,
    BusinessCaseFactory,
    CostCenterFactory,
    DepartmentFactory,
    InitiativeFactory,
    KPIFactory,
    LicencePoolFactory,
    UserFactory,
    VendorFactory,
)
from tollgate.roles import Role
from tollgate.text import possessive

pytestmark = pytest.mark.django_db



LIST_URL = reverse("portfolio:initiative_list")
CREATE_URL = reverse("portfolio:initiative_create")


def rows(response) -> list:
    """Records of the table's current page."""
    return [row.record for row in response.context["table"].page.object_list]


def csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# Initiative list -----------------------------------------------------------------------------------------------------


def test_list_requires_a_role(login):
    nobody = UserFactory()
    assert login(nobody).get(LIST_URL).status_code == 403


def test_list_requires_login(client):
    response = client.get(LIST_URL)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_list_shows_count_and_total_declared_cost_of_filtered_set(login, reviewer):
    InitiativeFactory(stage=Stage.PILOT, declared_monthly_cost=Decimal("100.50"))
    InitiativeFactory(stage=Stage.PILOT, declared_monthly_cost=Decimal("200.25"))
    InitiativeFactory(stage=Stage.PROPOSED, declared_monthly_cost=Decimal("999.00"))

    response = login(reviewer).get(LIST_URL, {"stage": Stage.PILOT})

    assert response.status_code == 200
    summary = response.context["summary"]
    assert summary.count == 2
    assert summary.declared_monthly_cost == Decimal("300.75")
    assert "300.75" in response.content.decode()


@pytest.mark.parametrize("param", ["department", "stage", "category", "vendor", "owner"])
def test_each_filter_narrows_the_list(login, reviewer, param):
    vendor_a, vendor_b = VendorFactory(), VendorFactory()
    wanted = InitiativeFactory(stage=Stage.PILOT, category=Category.CODE_ASSISTANT, vendors=[vendor_a])
    InitiativeFactory(stage=Stage.PRODUCTION, category=Category.TRANSLATION, vendors=[vendor_b])
    value = {
        "department": wanted.department.pk,
        "stage": wanted.stage,
        "category": wanted.category,
        "vendor": vendor_a.pk,
        "owner": wanted.owner.pk,
    }[param]

    client = login(reviewer)
    assert len(rows(client.get(LIST_URL))) == 2
    assert rows(client.get(LIST_URL, {param: value})) == [wanted]


@pytest.mark.parametrize(
    "field, value, query",
    [("name", "Contract clause extractor", "clause"), ("description", "Reads supplier invoices", "invoices"),
     ("external_id", "SNOW-4242", "snow-4242")],
)
def test_search_covers_name_description_and_external_id(login, reviewer, field, value, query):
    wanted = InitiativeFactory(**{field: value})
    InitiativeFactory(name="Unrelated", description="Something else", external_id="OTHER-1")

    assert rows(login(reviewer).get(LIST_URL, {"q": query})) == [wanted]


def test_sort_by_declared_monthly_cost(login, reviewer):
    cheap = InitiativeFactory(declared_monthly_cost=Decimal("10"))
    dear = InitiativeFactory(declared_monthly_cost=Decimal("5000"))
    middle = InitiativeFactory(declared_monthly_cost=Decimal("700"))
    client = login(reviewer)

    assert rows(client.get(LIST_URL, {"sort": "-declared_monthly_cost"})) == [dear, middle, cheap]
    assert rows(client.get(LIST_URL, {"sort": "declared_monthly_cost"})) == [cheap, middle, dear]


def test_sort_by_name_ignores_case_on_every_database(login, reviewer):
    for name in ("Zebra tool", "apple helper", "Mango bot", "banana", "Apple helper"):
        InitiativeFactory(name=name)
    client = login(reviewer)
    read = ["apple helper", "Apple helper", "banana", "Mango bot", "Zebra tool"]  # equal names in the order made

    assert [i.name for i in rows(client.get(LIST_URL, {"sort": "name"}))] == read
    assert [i.name for i in rows(client.get(LIST_URL))] == read  # the list starts sorted by name
    assert [i.name for i in rows(client.get(LIST_URL, {"sort": "-name"}))] == [
        "Zebra tool", "Mango bot", "banana", "Apple helper", "apple helper"]
    header, *body = csv_rows(client.get(LIST_URL, {"sort": "name", "_export": "csv"}))
    assert [row[0] for row in body] == read


def test_list_paginates_25_per_page(login, reviewer):
    InitiativeFactory.create_batch(27)
    client = login(reviewer)

    assert len(rows(client.get(LIST_URL))) == 25
    assert len(rows(client.get(LIST_URL, {"page": 2}))) == 2


def test_csv_export_has_header_and_all_filtered_sorted_rows(login, reviewer):
    department = DepartmentFactory(name="Customer Service")
    for i in range(27):
        InitiativeFactory(department=department, name=f"Bot {i:02d}", declared_monthly_cost=Decimal(i))
    InitiativeFactory(name="Elsewhere")

    response = login(reviewer).get(LIST_URL, {"department": department.pk, "sort": "-name", "_export": "csv"})

    assert response.status_code == 200
    assert 'filename="initiatives.csv"' in response["Content-Disposition"]
    header, *body = csv_rows(response)
    assert header[:3] == ["Name", "External id", "Department"]
    assert "Declared monthly cost (USD)" in header
    assert len(body) == 27  # every page, not just the first 25
    assert [r[0] for r in body] == [f"Bot {i:02d}" for i in reversed(range(27))]
    assert all(r[2] == "Customer Service" for r in body)
    stage_col = header.index("Stage")
    assert body[0][stage_col] == "Proposed"  # the label, not the HTML badge


def test_register_button_only_for_those_who_may_register(login, owner, reviewer):
    assert "Register initiative</a>" in login(owner).get(LIST_URL).content.decode()
    content = login(reviewer).get(LIST_URL).content.decode()
    assert reverse("portfolio:initiative_create") not in content.split("<main", 1)[1]
    assert "Export CSV" in content


def test_list_chart_uses_local_plotly_and_server_side_figure(login, reviewer):
    InitiativeFactory(stage=Stage.PILOT, declared_monthly_cost=Decimal("300"))
    InitiativeFactory(stage=Stage.PRODUCTION, declared_monthly_cost=Decimal("1000"))

    response = login(reviewer).get(LIST_URL)
    content = response.content.decode()

    assert "/static/vendor/plotly.min.js" in content
    # No script or stylesheet from another host (a bare "cdn" could be part of the random CSRF token).
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", content, re.IGNORECASE)
    figure = response.context["cost_by_stage"]
    assert figure["data"][0]["x"] == ["Pilot", "Production"]
    assert figure["data"][0]["y"] == [300.0, 1000.0]
    assert 'id="cost-by-stage-data"' in content


def _initiatives_with_vendors(n: int) -> None:
    vendors = VendorFactory.create_batch(3)
    for _ in range(n):
        initiative = InitiativeFactory(vendors=vendors[:2])
        initiative.ai_models.set([AIModelFactory(provider=vendors[2])])


def test_list_query_count_is_constant(login, reviewer):
    client = login(reviewer)
    _initiatives_with_vendors(5)
    few = count_queries(client, LIST_URL)
    few_by_name = count_queries(client, LIST_URL + "?sort=-name")
    _initiatives_with_vendors(25)
    many = count_queries(client, LIST_URL)
    assert few == many == few_by_name == count_queries(client, LIST_URL + "?sort=-name")


def test_csv_export_query_count_is_constant(login, reviewer):
    client = login(reviewer)
    _initiatives_with_vendors(5)
    few = count_queries(client, LIST_URL + "?_export=csv")
    _initiatives_with_vendors(25)
    many = count_queries(client, LIST_URL + "?_export=csv")
    assert few == many


# Initiative detail ---------------------------------------------------------------------------------------------------


def test_a_business_case_without_its_volumes_reads_as_not_given_not_none(login, reviewer):
    initiative = InitiativeFactory()
    BusinessCaseFactory(initiative=initiative, expected_monthly_volume=None, min_viable_scale=None)
    content = login(reviewer).get(initiative.get_absolute_url()).content.decode()
    assert "<dt>Expected outcomes / month</dt><dd>—</dd>" in content and "<dd>None</dd>" not in content
    initiative.business_case.expected_monthly_volume = 24681
    initiative.business_case.save()
    assert "<dd>24,681</dd>" in login(reviewer).get(initiative.get_absolute_url()).content.decode()


def test_detail_shows_facts_business_case_kpis_and_licences(login, reviewer):
    model = AIModelFactory(name="gpt-4o-mini")
    initiative = InitiativeFactory(tags=["gdpr", "customer-facing"], vendors=[model.provider])
    initiative.ai_models.set([model])
    BusinessCaseFactory(initiative=initiative)
    KPIFactory(initiative=initiative, name="First contact resolution")
    LicencePoolFactory(initiative=initiative, tool="Copilot Seats", seats_purchased=100,
                       price_per_seat_month=Decimal("19"))

    response = login(reviewer).get(initiative.get_absolute_url())
    content = response.content.decode()

    assert response.status_code == 200
    assert initiative.external_id in content
    assert "gpt-4o-mini" in content and "Mid" in content
    assert "customer-facing" in content
    # TCO: 800 + 50 + 300 + oversight 20h x 65 = 1300 -> 2450
    assert response.context["business_case"].tco_monthly == Decimal("2450.00")
    assert "2,450.00" in content
    assert "1,300.00" in content and "20.0 h × 65.00/h" in content
    assert "0.1225" in content  # expected cost per outcome = 2450 / 20000
    assert "4.5000" in content or "4.5" in content  # baseline cost per outcome
    assert "First contact resolution" in content
    assert "Count (e.g. tickets deflected)" in content
    assert '$0.75 <span class="muted">value per unit (USD)' in content
    assert "Copilot Seats" in content and "1,900.00" in content


def test_detail_without_business_case_renders(login, reviewer, initiative):
    response = login(reviewer).get(initiative.get_absolute_url())
    assert response.status_code == 200
    assert "No business case yet" in response.content.decode()


def test_detail_edit_button_only_for_those_who_may_edit(login, owner, reviewer, other_owner, initiative):
    edit_url = reverse("portfolio:initiative_edit", args=[initiative.pk])
    assert edit_url in login(owner).get(initiative.get_absolute_url()).content.decode()
    assert edit_url not in login(reviewer).get(initiative.get_absolute_url()).content.decode()
    assert edit_url not in login(other_owner).get(initiative.get_absolute_url()).content.decode()


def test_detail_missing_initiative_is_404(login, reviewer):
    assert login(reviewer).get(reverse("portfolio:initiative_detail", args=[999999])).status_code == 404


def test_detail_query_count_is_constant(login, reviewer, initiative):
    client = login(reviewer)
    BusinessCaseFactory(initiative=initiative)
    KPIFactory(initiative=initiative)
    LicencePoolFactory(initiative=initiative)  # its history names a vendor: one query for vendors however many
    ContentType.objects.clear_cache()
    client.get(initiative.get_absolute_url())  # what a first request reads once (the content types)
    few = count_queries(client, initiative.get_absolute_url())
    KPIFactory.create_batch(5, initiative=initiative)
    LicencePoolFactory.create_batch(3, initiative=initiative)
    initiative.vendors.set(VendorFactory.create_batch(4))
    initiative.ai_models.set(AIModelFactory.create_batch(4))
    initiative.delegates.set(UserFactory.create_batch(3))
    LicencePoolFactory(initiative=initiative)
    many = count_queries(client, initiative.get_absolute_url())
    assert few == many == 34


@pytest.mark.parametrize("who, expected", [
    ("owner", 36), ("delegate", 36), ("owners_delegate", 36), ("reviewer", 35), ("executive", 34), ("admin", 35)])
def test_detail_asks_no_query_twice_for_any_role(client, who, expected):
    """Each role check, the cost periods and the business-case versions are read once per page: the delegate checks
    come with the initiative (tollgate.roles.initiative_viewer_annotations), the months' states with the periods."""
    from portfolio.models import Profile
    from tests.portfolio.tco_example import build_example

    initiative = build_example().recorded
    roles = {"reviewer": Role.REVIEWER, "executive": Role.EXECUTIVE, "admin": Role.ADMIN}
    user = initiative.owner if who == "owner" else UserFactory(role=roles.get(who, Role.OWNER))
    if who == "delegate":
        initiative.delegates.add(user)
    if who == "owners_delegate":
        Profile.objects.get_or_create(user=initiative.owner)[0].delegates.add(user)
    client.force_login(user)
    ContentType.objects.clear_cache()
    client.get(initiative.get_absolute_url())  # the first request of a process reads the content types once
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(initiative.get_absolute_url()).status_code == 200
    sql = [query["sql"] for query in ctx.captured_queries]
    assert [query for query in set(sql) if sql.count(query) > 1] == []
    assert len(sql) == expected


def test_detail_lists_the_value_reports_with_verdicts_and_the_history_their_decisions(login, reviewer, owner):
    from reviews.models import Verdict
    from tests.factories import ReviewCycleFactory, ValueReportFactory
    from tollgate.audit import audit_event

    report = ValueReportFactory(initiative__owner=owner, cycle=ReviewCycleFactory(name="2026-Q3"),
                                status="submitted")
    initiative = report.initiative
    client = login(reviewer)
    client.get(initiative.get_absolute_url())  # what a first request of a session reads once
    few = count_queries(client, initiative.get_absolute_url())
    audit_event(report, actor=owner, event="value_report_submitted")
    Verdict.objects.create(report=report, reviewer=reviewer, decision="scale", rationale="Grow it.")
    audit_event(report, actor=reviewer, event="verdict", decision="scale", reason="Grow it.")
    ValueReportFactory(initiative=initiative, cycle=ReviewCycleFactory(name="2026-Q4"))
    page = client.get(initiative.get_absolute_url()).content.decode()
    section = page[page.index('id="value-reports"'):]
    assert f'href="{report.get_absolute_url()}">2026-Q3</a>' in section
    assert section.index("2026-Q4") < section.index("2026-Q3")  # newest first
    assert "Scale" in section and "Verdict given" in section and "none yet" in section
    history = page[page.index('id="initiative-history"'):]
    assert "Verdict on 2026-Q3: Scale" in history and "Value report submitted: 2026-Q3" in history
    assert count_queries(client, initiative.get_absolute_url()) == few


# Register and edit ---------------------------------------------------------------------------------------------------


def form_data(department, cost_center=None, kpis=(), initial_kpis=0, **overrides) -> dict:
    """A complete POST of the one-page form; `kpis` are dicts of KPI fields (with 'id' for existing ones)."""
    data = {
        "name": "Invoice reader",
        "description": "Extracts line items from supplier invoices.",
        "category": Category.DOCUMENT_PROCESSING,
        "department": department.pk,
        "cost_center": cost_center.pk if cost_center else "",
        "start_date": "2025-03-01",
        "tags": "finance, gdpr",
        "declared_monthly_cost": "1500.00",
        "bc-problem": "Invoices are keyed in by hand.",
        "bc-process_replaced": "Manual keying",
        "bc-baseline_cost_per_outcome": "3.20",
        "bc-outcome_unit": "invoice processed",
        "bc-expected_monthly_volume": "10000",
        "bc-targets": "90% straight-through",
        "bc-tco_inference": "600",
        "bc-tco_compute": "0",
        "bc-tco_storage": "40",
        "bc-tco_licences": "0",
        "bc-oversight_hours_per_month": "10",
        "bc-loaded_hourly_rate": "60",
        "bc-tco_maintenance": "200",
        "bc-expected_monthly_value": "20000",
        "bc-min_viable_scale": "2000",
        "bc-success_criteria": "Cost per invoice below 1 USD",
        "kpis-TOTAL_FORMS": str(len(kpis)),
        "kpis-INITIAL_FORMS": str(initial_kpis),
        "kpis-MIN_NUM_FORMS": "0",
        "kpis-MAX_NUM_FORMS": "1000",
    }
    for i, kpi in enumerate(kpis):
        for key, value in kpi.items():
            data[f"kpis-{i}-{key}"] = value
    data.update(overrides)
    return data


KPI_ROW = {"name": "Cost per invoice", "unit": "USD", "kind": KpiKind.PER_OUTCOME, "baseline": "3.20",
           "target": "0.80", "direction": KpiDirection.DECREASE, "value_per_unit": "1"}
BLANK_KPI_ROW = {"name": "", "unit": "", "kind": KpiKind.COUNT, "baseline": "", "target": "",
                 "direction": KpiDirection.INCREASE, "value_per_unit": ""}


def test_create_form_renders_three_sections_with_stable_ids(login, owner):
    response = login(owner).get(CREATE_URL)
    content = response.content.decode()
    assert response.status_code == 200
    for section in ("Initiative", "Business case", "KPIs"):
        assert f"<legend>{section}</legend>" in content
    for element_id in ('id="id_name"', 'id="id_cost_center"', 'id="id_bc-tco_inference"', 'id="id_kpis-0-name"',
                       'id="id_kpis-1-name"', 'id="id_kpis-0-kind"', 'name="kpis-TOTAL_FORMS"'):
        assert element_id in content
    assert "Value per unit / per point (USD)" in content and "Ratio or score: the value of one point" in content
    assert 'name="stage"' not in content
    assert 'name="owner"' not in content  # only administrators pick another owner


def test_owner_registers_initiative_with_business_case_and_kpis(login, owner):
    department = DepartmentFactory()
    cost_center = CostCenterFactory(department=department)
    vendor = VendorFactory()
    data = form_data(department, cost_center, kpis=[KPI_ROW, BLANK_KPI_ROW], vendors=[vendor.pk])

    response = login(owner).post(CREATE_URL, data)

    initiative = Initiative.objects.get(name="Invoice reader")
    assert response.status_code == 302
    assert response["Location"] == initiative.get_absolute_url()
    assert initiative.owner == owner
    assert initiative.stage == Stage.PROPOSED
    assert initiative.cost_center == cost_center
    assert initiative.tags == ["finance", "gdpr"]
    assert list(initiative.vendors.all()) == [vendor]
    assert initiative.external_id.startswith("TG-")
    case = initiative.business_case
    assert case.tco_monthly == Decimal("1440.00")  # 600 + 40 + 200 + 10h x 60
    assert case.outcome_unit == "invoice processed"
    assert [(k.name, k.kind, k.direction, k.target) for k in initiative.kpis.all()] == [
        ("Cost per invoice", KpiKind.PER_OUTCOME, KpiDirection.DECREASE, Decimal("0.8"))
    ]
    follow = login(owner).get(response["Location"])
    assert "registered" in follow.content.decode()


def test_admin_may_register_for_another_owner(login, admin_user, owner):
    department = DepartmentFactory()
    response = login(admin_user).post(CREATE_URL, form_data(department, owner=owner.pk))
    assert response.status_code == 302
    assert Initiative.objects.get(name="Invoice reader").owner == owner


def test_owner_cannot_smuggle_another_owner_or_a_stage(login, owner, other_owner):
    department = DepartmentFactory()
    login(owner).post(CREATE_URL, form_data(department, owner=other_owner.pk, stage=Stage.PRODUCTION))
    initiative = Initiative.objects.get(name="Invoice reader")
    assert initiative.owner == owner
    assert initiative.stage == Stage.PROPOSED


@pytest.mark.parametrize("role", [Role.EXECUTIVE, Role.REVIEWER])
def test_executives_and_reviewers_cannot_register(login, role):
    user = UserFactory(role=role)
    client = login(user)
    assert client.get(CREATE_URL).status_code == 403
    assert client.post(CREATE_URL, form_data(DepartmentFactory())).status_code == 403
    assert not Initiative.objects.exists()


def test_negative_cost_shows_errors_and_writes_nothing(login, owner):
    department = DepartmentFactory()
    data = form_data(department, kpis=[KPI_ROW], declared_monthly_cost="-5", **{"bc-tco_inference": "-1"})

    response = login(owner).post(CREATE_URL, data)

    assert response.status_code == 200
    assert response.context["form"].errors["declared_monthly_cost"]
    assert response.context["case_form"].errors["tco_inference"]
    assert "Nothing was saved" in response.content.decode()
    assert not Initiative.objects.exists() and not BusinessCase.objects.exists() and not KPI.objects.exists()


def test_cost_center_of_another_department_is_an_error_on_the_field_and_writes_nothing(login, owner):
    department = DepartmentFactory()
    foreign_cost_center = CostCenterFactory(department=DepartmentFactory())

    response = login(owner).post(CREATE_URL, form_data(department, foreign_cost_center, kpis=[KPI_ROW]))

    assert response.status_code == 200
    error = " ".join(response.context["form"].errors["cost_center"])
    assert f"belongs to {foreign_cost_center.department.name}, not to {department.name}" in error
    assert f"pick one of {possessive(department.name)} cost centers" in error
    assert not Initiative.objects.exists() and not BusinessCase.objects.exists() and not KPI.objects.exists()


def test_cost_center_error_shows_with_the_other_errors(login, owner):
    department = DepartmentFactory()
    foreign_cost_center = CostCenterFactory(department=DepartmentFactory())
    data = form_data(department, foreign_cost_center, **{"bc-tco_inference": "-1"})

    response = login(owner).post(CREATE_URL, data)

    assert response.context["form"].errors["cost_center"] and response.context["case_form"].errors["tco_inference"]
    assert not Initiative.objects.exists()


def test_form_page_can_add_and_remove_kpi_rows_and_serves_its_own_assets(login, owner):
    body = login(owner).get(CREATE_URL).content.decode()
    template = body[body.index('<template id="kpi-empty-row">'):]
    template = template[:template.index("</template>")]
    assert 'name="kpis-__prefix__-name"' in template and 'name="kpis-__prefix__-DELETE"' in template
    assert 'id="add-kpi" hidden' in body  # shown by the script; without it the two blank rows remain
    assert 'name="kpis-0-DELETE"' in body and 'name="kpis-1-DELETE"' in body
    for asset in ("js/initiative_form.js", "js/kpi_kind.js", "admin/js/vendor/select2/select2.full.min.js",
                  "django_select2/django_select2.js", "admin/css/vendor/select2/select2.min.css"):
        assert f'"/static/{asset}"' in body, asset
    assert not re.search(r'(src|href)="(https?:)?//', body)
    assert "<script>" not in body  # no inline script: scripts are static files


def test_registering_with_three_kpis_and_one_removed(login, owner):
    department = DepartmentFactory()
    kpis = [{**KPI_ROW, "name": name} for name in ("Cost per invoice", "Straight-through rate", "Cycle time")]
    kpis.append({**KPI_ROW, "name": "Added then removed", "DELETE": "on"})

    response = login(owner).post(CREATE_URL, form_data(department, kpis=kpis))

    assert response.status_code == 302
    initiative = Initiative.objects.get(name="Invoice reader")
    assert list(initiative.kpis.order_by("pk").values_list("name", flat=True)) == [
        "Cost per invoice", "Straight-through rate", "Cycle time"]


def test_a_failing_later_step_rolls_back_the_initiative(login, owner):
    """A KPI the service rejects (full_clean) must undo the initiative and business case written before it."""
    department = DepartmentFactory()
    bad_kpi = {**KPI_ROW, "value_per_unit": "-3"}

    response = login(owner).post(CREATE_URL, form_data(department, kpis=[bad_kpi]))

    assert response.status_code == 200
    assert not Initiative.objects.exists() and not BusinessCase.objects.exists() and not KPI.objects.exists()


def _edit_data(initiative, **overrides) -> dict:
    kpis = [
        {"id": str(k.pk), "name": k.name, "unit": k.unit, "baseline": str(k.baseline), "target": str(k.target),
         "direction": k.direction, "kind": k.kind, "value_per_unit": str(k.value_per_unit)}
        for k in initiative.kpis.order_by("pk")
    ]
    data = form_data(initiative.department, initiative.cost_center, kpis=kpis, initial_kpis=len(kpis))
    data.update(overrides)
    return data


def test_owner_edits_initiative_business_case_and_kpis(login, owner, initiative):
    BusinessCaseFactory(initiative=initiative)
    keep = KPIFactory(initiative=initiative, name="Handle time")
    drop = KPIFactory(initiative=initiative, name="Obsolete")
    edit_url = reverse("portfolio:initiative_edit", args=[initiative.pk])
    client = login(owner)

    form = client.get(edit_url)
    assert form.status_code == 200
    assert 'value="Handle time"' in form.content.decode()

    data = _edit_data(initiative, name="Renamed initiative", **{"bc-tco_inference": "900", "kpis-0-target": "3.5",
                                                                 "kpis-1-DELETE": "on"})
    response = client.post(edit_url, data)

    assert response.status_code == 302, response.context and response.context["form"].errors
    initiative.refresh_from_db()
    assert initiative.name == "Renamed initiative"
    assert initiative.owner == owner
    assert initiative.stage == Stage.PROPOSED
    assert initiative.business_case.tco_inference == Decimal("900")
    assert list(initiative.kpis.values_list("pk", "target")) == [(keep.pk, Decimal("3.5"))]
    assert not KPI.objects.filter(pk=drop.pk).exists()


def test_a_save_over_someone_elses_meanwhile_is_refused_keeping_what_was_typed(login, owner, admin_user, initiative):
    """Two people open the edit page; the first saves; the second's save would silently undo the first's."""
    BusinessCaseFactory(initiative=initiative)
    KPIFactory(initiative=initiative, name="Handle time")
    edit_url = reverse("portfolio:initiative_edit", args=[initiative.pk])
    owner_page = login(owner).get(edit_url)
    opened_on = owner_page.context["edit_version"]
    assert f'name="edit_version" value="{opened_on}"' in owner_page.content.decode()

    admin = login(admin_user)
    first = admin.post(edit_url, _edit_data(initiative, name="Admin's name", edit_version=opened_on))
    assert first.status_code == 302

    second = login(owner).post(edit_url, _edit_data(initiative, name="Owner's name", description="Owner's words",
                                                    edit_version=opened_on))
    assert second.status_code == 200
    page = second.content.decode()
    assert f"{admin_user.get_full_name()} saved this initiative at " in page and "while you were editing it" in page
    assert 'value="Owner&#x27;s name"' in page  # what they typed is still there
    initiative.refresh_from_db()
    assert initiative.name == "Admin's name" and initiative.description != "Owner's words"

    # Saving again from the page that came back (it carries the current version) keeps theirs, on purpose.
    again = login(owner).post(edit_url, _edit_data(initiative, name="Owner's name",
                                                   edit_version=second.context["edit_version"]))
    assert again.status_code == 302
    initiative.refresh_from_db()
    assert initiative.name == "Owner's name"


def test_a_kpi_changed_meanwhile_also_counts_as_someone_elses_change(login, owner, initiative):
    kpi = KPIFactory(initiative=initiative, name="Handle time")
    edit_url = reverse("portfolio:initiative_edit", args=[initiative.pk])
    opened_on = login(owner).get(edit_url).context["edit_version"]
    kpi_save(actor=owner, initiative=initiative, kpi=kpi, target=Decimal("2"))
    refused = login(owner).post(edit_url, _edit_data(initiative, name="Renamed", edit_version=opened_on))
    # Their own save in another tab: the page says it was them, not "someone else".
    assert refused.status_code == 200 and "You saved this initiative at " in refused.content.decode()
    assert "Someone else" not in refused.content.decode()


def test_forged_kpi_id_of_another_initiative_is_left_alone(login, owner, initiative, other_initiative):
    foreign = KPIFactory(initiative=other_initiative, name="Theirs")
    data = form_data(initiative.department, initiative.cost_center, initial_kpis=1,
                     kpis=[{**KPI_ROW, "id": str(foreign.pk), "name": "Mine now"}])

    response = login(owner).post(reverse("portfolio:initiative_edit", args=[initiative.pk]), data)

    assert response.status_code == 302
    foreign.refresh_from_db()
    assert (foreign.initiative, foreign.name) == (other_initiative, "Theirs")
    assert list(initiative.kpis.values_list("name", flat=True)) == ["Mine now"]


def _business_case_as_drawn(page: str) -> dict[str, str]:
    """The business-case part of the form as the page draws it: what a browser posts when nobody touches it."""
    inputs = re.findall(r'name="(bc-[a-z_]+)"[^>]*?value="([^"]*)"', page)
    drawn = {name: html.unescape(value) for name, value in inputs}
    drawn.update({name: html.unescape(text.strip("\n")) for name, text in re.findall(
        r'<textarea name="(bc-[a-z_]+)"[^>]*>(.*?)</textarea>', page, flags=re.S)})
    return drawn


def test_saving_an_initiative_without_a_business_case_creates_none(login, owner, initiative):
    """The QA walk: an initiative without a business case, only its tags changed and saved. The untouched business-case
    part of the form used to create a case of $0.00 everywhere (recorded as "Business case added"), which replaced the
    declared monthly cost the initiative's cost is estimated from."""
    edit_url = reverse("portfolio:initiative_edit", args=[initiative.pk])
    client = login(owner)
    page = client.get(edit_url).content.decode()
    drawn = _business_case_as_drawn(page)
    assert {"bc-problem", "bc-tco_inference", "bc-loaded_hourly_rate", "bc-success_criteria"} <= set(drawn)
    data = {key: value for key, value in _edit_data(initiative, tags="retagged").items() if not key.startswith("bc-")}
    entries_before = LogEntry.objects.count()
    response = client.post(edit_url, {**data, **drawn})
    assert response.status_code == 302
    initiative.refresh_from_db()
    assert initiative.tags == ["retagged"]
    assert not BusinessCase.objects.filter(initiative=initiative).exists()
    business_case_type = ContentType.objects.get_for_model(BusinessCase)
    assert not LogEntry.objects.filter(content_type=business_case_type).exists()
    assert LogEntry.objects.count() == entries_before + 1  # the tags' change, nothing else
    # What is typed into the part is a business case, validated as ever.
    response = client.post(edit_url, {**data, **drawn, "bc-problem": "Invoices keyed by hand.",
                                      "bc-tco_inference": "-1"})
    assert response.status_code == 200 and not BusinessCase.objects.filter(initiative=initiative).exists()
    response = client.post(edit_url, {**data, **drawn, "bc-problem": "Invoices keyed by hand."})
    assert response.status_code == 302
    assert BusinessCase.objects.get(initiative=initiative).problem == "Invoices keyed by hand."


def test_after_approval_the_start_date_is_read_only_to_the_owner_and_changed_by_an_admin_with_a_reason(
        login, owner, admin_user):
    pilot = InitiativeFactory(owner=owner, stage=Stage.PILOT, start_date=date(2026, 1, 1))
    edit_url = reverse("portfolio:initiative_edit", args=[pilot.pk])
    page = login(owner).get(edit_url).content.decode()
    field = page[page.index('name="start_date"'):]
    assert field[:field.index(">")].count("disabled") == 1
    assert "Once approved, the start date is changed only by an administrator or a CoE reviewer" in page
    assert 'name="start_date_reason"' not in page
    login(owner).post(edit_url, _edit_data(pilot, start_date="2026-06-01"))  # a forged POST changes nothing
    pilot.refresh_from_db()
    assert pilot.start_date == date(2026, 1, 1)
    admin_page = login(admin_user).get(edit_url).content.decode()
    assert 'name="start_date_reason"' in admin_page
    refused = login(admin_user).post(edit_url, _edit_data(pilot, start_date="2026-02-01"))
    assert refused.status_code == 200 and "Give the reason for changing the start date" in refused.content.decode()
    saved = login(admin_user).post(edit_url, _edit_data(pilot, start_date="2026-02-01",
                                                        start_date_reason="Signed in February."))
    assert saved.status_code == 302
    pilot.refresh_from_db()
    assert pilot.start_date == date(2026, 2, 1)


@pytest.fixture
def pilot_with_costs(owner):
    """A pilot that started 2026-01-01, with cost records from 2026-02."""
    from portfolio.models import MonthlyCost

    pilot = InitiativeFactory(owner=owner, stage=Stage.PILOT, start_date=date(2026, 1, 1))
    MonthlyCost.objects.create(initiative=pilot, month=date(2026, 2, 1), category="inference", amount=Decimal("900"))
    return pilot


def test_a_coe_reviewer_changes_a_running_initiative_s_start_date_on_its_own_page(login, owner, reviewer,
                                                                                   pilot_with_costs):
    """A reviewer could move the start date through the service but had no page for it (the edit page is the owner's
    and administrators'): "Change start date" on the initiative's page asks the date and a reason, refuses what the
    service refuses, writes nothing then, and audits the change with the reason."""
    pilot = pilot_with_costs
    url = reverse("portfolio:initiative_start_date", args=[pilot.pk])
    detail = reverse("portfolio:initiative_detail", args=[pilot.pk])
    assert url in login(reviewer).get(detail).content.decode()
    assert url not in login(owner).get(detail).content.decode()
    client = login(reviewer)
    page = client.get(url)
    assert page.status_code == 200 and 'value="2026-01-01"' in page.content.decode()
    refusals = [
        ({"start_date": "2026-02-15", "reason": "  "}, "This field is required."),
        ({"start_date": "2026-03-01", "reason": "Signed in March."},
         "later than its first month with cost records, 2026-02"),
        ({"start_date": "2026-01-01", "reason": "No change."}, "The start date is already 2026-01-01"),
        ({"start_date": "0001-01-01", "reason": "A slip."}, "A start date is between 1990-01-01 and"),
    ]
    for data, says in refusals:
        response = client.post(url, data)
        assert response.status_code == 200 and says in html.unescape(response.content.decode()), data
        assert "Nothing was saved" in response.content.decode()
    pilot.refresh_from_db()
    assert pilot.start_date == date(2026, 1, 1)
    assert not LogEntry.objects.filter(additional_data__event="start_date_changed").exists()
    response = client.post(url, {"start_date": "2026-02-15", "reason": "Contract signed mid-February."}, follow=True)
    assert "moved from 2026-01-01 to 2026-02-15" in response.content.decode()
    pilot.refresh_from_db()
    assert pilot.start_date == date(2026, 2, 15)
    entry = LogEntry.objects.get(additional_data__event="start_date_changed")
    assert (entry.actor, entry.additional_data["reason"], entry.changes_dict["start_date"]) == (
        reviewer, "Contract signed mid-February.", ["2026-01-01", "2026-02-15"])


def test_the_start_date_page_refuses_who_is_not_independent_and_an_initiative_not_running(
        login, owner, reviewer, executive, pilot_with_costs):
    pilot = pilot_with_costs
    url = reverse("portfolio:initiative_start_date", args=[pilot.pk])
    change = {"start_date": "2025-12-01", "reason": "Work began in December."}
    for who in (owner, executive):
        assert login(who).get(url).status_code == 403
        assert login(who).post(url, change).status_code == 403
    pilot.delegates.add(reviewer)  # a reviewer acting for the initiative is not independent of it
    refused = login(reviewer).post(url, change)
    assert refused.status_code == 403 and "you are its delegate" in refused.content.decode()
    assert url not in login(reviewer).get(reverse("portfolio:initiative_detail", args=[pilot.pk])).content.decode()
    pilot.refresh_from_db()
    assert pilot.start_date == date(2026, 1, 1)
    for stage, says in ((Stage.PROPOSED, "Before approval the start date is its owner's to plan"),
                        (Stage.KILLED, "an ended initiative is read-only")):
        other = InitiativeFactory(stage=stage, start_date=date(2026, 1, 1))
        other_url = reverse("portfolio:initiative_start_date", args=[other.pk])
        for method in ("get", "post"):
            response = getattr(login(reviewer), method)(other_url, change, follow=True)
            assert response.redirect_chain[-1][0] == other.get_absolute_url()
            assert says in html.unescape(response.content.decode())
        other.refresh_from_db()
        assert other.start_date == date(2026, 1, 1)
    assert not LogEntry.objects.filter(additional_data__event="start_date_changed").exists()


def test_the_start_date_page_reads_as_many_queries_however_many_people_act_for_it(login, reviewer, pilot_with_costs):
    url = reverse("portfolio:initiative_start_date", args=[pilot_with_costs.pk])
    client = login(reviewer)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = queries()
    pilot_with_costs.delegates.add(*UserFactory.create_batch(5, role=Role.OWNER))
    assert queries() == few


def test_delegate_may_edit(login, initiative):
    delegate = UserFactory(role=Role.OWNER)
    initiative.delegates.add(delegate)
    response = login(delegate).post(
        reverse("portfolio:initiative_edit", args=[initiative.pk]), _edit_data(initiative, name="By delegate")
    )
    assert response.status_code == 302
    initiative.refresh_from_db()
    assert initiative.name == "By delegate"


def test_a_delegate_sees_the_delegates_read_only_and_cannot_change_them(login, owner, reviewer, initiative):
    """Only the owner and administrators choose who acts for an initiative: a delegate's form shows the list disabled,
    with why, and a forged POST (adding a CoE reviewer, removing themselves) changes nothing of it."""
    delegate, colleague = UserFactory(role=Role.OWNER), UserFactory(role=Role.OWNER)
    initiative.delegates.add(delegate, colleague)
    edit_url = reverse("portfolio:initiative_edit", args=[initiative.pk])
    page = login(delegate).get(edit_url).content.decode()
    field = page[page.index('name="delegates"') - 300:page.index('name="delegates"') + 300]
    assert "disabled" in field and "Only the owner and administrators choose who acts for an initiative" in page
    response = login(delegate).post(edit_url, _edit_data(initiative, name="By delegate", delegates=[reviewer.pk]))
    assert response.status_code == 302
    initiative.refresh_from_db()
    assert initiative.name == "By delegate"
    assert set(initiative.delegates.all()) == {delegate, colleague}
    owner_page = login(owner).get(edit_url).content.decode()
    assert "Only the owner and administrators choose" not in owner_page
    assert login(owner).post(edit_url, _edit_data(initiative, delegates=[colleague.pk])).status_code == 302
    assert set(initiative.delegates.all()) == {colleague}


@pytest.mark.parametrize("who", ["other_owner", "reviewer", "executive"])
def test_others_cannot_edit(request, login, initiative, who):
    user = request.getfixturevalue(who)
    edit_url = reverse("portfolio:initiative_edit", args=[initiative.pk])
    client = login(user)
    assert client.get(edit_url).status_code == 403
    assert client.post(edit_url, _edit_data(initiative, name="Hijacked")).status_code == 403
    initiative.refresh_from_db()
    assert initiative.name != "Hijacked"


def test_edit_with_foreign_cost_center_keeps_the_old_values(login, owner, initiative):
    old_cost_center = initiative.cost_center
    foreign = CostCenterFactory(department=DepartmentFactory())
    data = _edit_data(initiative, name="Should not stick", cost_center=foreign.pk)

    response = login(owner).post(reverse("portfolio:initiative_edit", args=[initiative.pk]), data)

    assert response.status_code == 200
    assert response.context["form"].errors["cost_center"]
    initiative.refresh_from_db()
    assert initiative.name != "Should not stick"
    assert initiative.cost_center == old_cost_center
    assert not BusinessCase.objects.filter(initiative=initiative).exists()


# Reference pages -----------------------------------------------------------------------------------------------------


def _reference_rows(n: int) -> None:
    """n of every reference object, each linked to initiatives, models and licence pools."""
    person = UserFactory()
    for _ in range(n):
        department = DepartmentFactory(head=person)
        cost_center = CostCenterFactory(department=department, budget_owner=person)
        vendor = VendorFactory()
        model = AIModelFactory(provider=vendor)
        initiative = InitiativeFactory(department=department, cost_center=cost_center, vendors=[vendor], owner=person)
        initiative.ai_models.set([model])
        LicencePoolFactory(vendor=vendor, initiative=initiative)


REFERENCE_LISTS = ["department_list", "costcenter_list", "vendor_list", "aimodel_list", "licencepool_list"]


@pytest.mark.parametrize("url_name", REFERENCE_LISTS)
def test_reference_list_query_count_is_constant(login, reviewer, url_name):
    client = login(reviewer)
    url = reverse(f"portfolio:{url_name}")
    _reference_rows(3)
    few = count_queries(client, url)
    _reference_rows(12)
    many = count_queries(client, url)
    assert few == many
    few_csv = count_queries(client, url + "?_export=csv")
    _reference_rows(2)
    assert count_queries(client, url + "?_export=csv") == few_csv


@pytest.mark.parametrize("url_name", [*REFERENCE_LISTS, "initiative_list"])
def test_lists_need_a_role(login, url_name):
    assert login(UserFactory()).get(reverse(f"portfolio:{url_name}")).status_code == 403


def test_department_list_totals_are_not_multiplied_by_joins(login, reviewer):
    department = DepartmentFactory(name="Marketing")
    CostCenterFactory.create_batch(3, department=department)
    InitiativeFactory(department=department, cost_center=None, declared_monthly_cost=Decimal("100"))
    InitiativeFactory(department=department, cost_center=None, declared_monthly_cost=Decimal("250"))

    response = login(reviewer).get(reverse("portfolio:department_list"), {"_export": "csv"})

    header, *body = csv_rows(response)
    assert header[:6] == ["Name", "Code", "Head", "Initiatives", "Cost centers", "Declared monthly cost (USD)"]
    assert [row[:6] for row in body] == [["Marketing", department.code, "", "2", "3", "350.00"]]


def test_department_list_search_and_sort(login, reviewer):
    DepartmentFactory(name="Finance", code="fin")
    DepartmentFactory(name="Legal", code="legal")
    client = login(reviewer)
    url = reverse("portfolio:department_list")
    assert [d.name for d in rows(client.get(url, {"q": "fin"}))] == ["Finance"]
    assert [d.name for d in rows(client.get(url, {"sort": "-name"}))] == ["Legal", "Finance"]


def test_cost_center_list_filter_by_department_and_csv(login, reviewer):
    finance = DepartmentFactory(name="Finance")
    wanted = CostCenterFactory(code="CC-FIN-1", name="Finance ops", department=finance)
    CostCenterFactory(code="CC-OTHER")
    InitiativeFactory(department=finance, cost_center=wanted, declared_monthly_cost=Decimal("42"))
    client = login(reviewer)
    url = reverse("portfolio:costcenter_list")

    assert rows(client.get(url, {"department": finance.pk})) == [wanted]
    header, *body = csv_rows(client.get(url, {"department": finance.pk, "_export": "csv"}))
    assert header[:6] == ["Code", "Name", "Department", "Budget owner", "Initiatives", "Declared monthly cost (USD)"]
    assert [row[:6] for row in body] == [["CC-FIN-1", "Finance ops", "Finance", "", "1", "42.00"]]


def test_vendor_list_counts_initiatives_and_models(login, reviewer):
    vendor = VendorFactory(name="Acme AI")
    AIModelFactory.create_batch(2, provider=vendor)
    InitiativeFactory.create_batch(3, vendors=[vendor])
    VendorFactory(name="Zeta")

    response = login(reviewer).get(reverse("portfolio:vendor_list"), {"q": "acme", "_export": "csv"})

    header, *body = csv_rows(response)
    assert header == ["Name", "Website", "Initiatives", "Models"]
    assert body == [["Acme AI", "", "3", "2"]]


def test_model_list_filters_by_tier_and_open_weights(login, reviewer):
    small = AIModelFactory(name="llama-small", tier="small", open_weights=True)
    AIModelFactory(name="frontier-x", tier="frontier")
    InitiativeFactory().ai_models.set([small])
    client = login(reviewer)
    url = reverse("portfolio:aimodel_list")

    assert rows(client.get(url, {"tier": "small"})) == [small]
    assert rows(client.get(url, {"open_weights": "true"})) == [small]
    header, *body = csv_rows(client.get(url, {"q": "llama", "_export": "csv"}))
    assert header[:3] == ["Provider", "Name", "Tier"]
    assert body[0][:3] == [small.provider.name, "llama-small", "Small"]
    assert body[0][-1] == "1"


def test_licence_list_sorts_by_monthly_cost(login, reviewer):
    big = LicencePoolFactory(tool="Big", seats_purchased=1000, price_per_seat_month=Decimal("10"))
    small = LicencePoolFactory(tool="Small", seats_purchased=5, price_per_seat_month=Decimal("30"))
    client = login(reviewer)
    url = reverse("portfolio:licencepool_list")

    assert rows(client.get(url, {"sort": "monthly_cost"})) == [small, big]
    assert rows(client.get(url, {"sort": "-monthly_cost"})) == [big, small]
    header, *body = csv_rows(client.get(url, {"q": "big", "_export": "csv"}))
    assert header[5] == "Monthly cost (USD)"
    assert body[0][:6] == ["Big", "GitHub", big.initiative.name, "1000", "10.00", "10000.00"]


def test_licence_list_shows_seat_utilisation_of_the_latest_month(login, reviewer):
    copilot = LicencePoolFactory(tool="Copilot", seats_purchased=200)
    LicencePoolActivity.objects.create(licence_pool=copilot, month=date(2026, 8, 1), purchased=200, assigned=190,
                                       active_30d=150)
    LicencePoolActivity.objects.create(licence_pool=copilot, month=date(2026, 9, 1), purchased=200, assigned=180,
                                       active_30d=62)
    otter = LicencePoolFactory(tool="Otter", seats_purchased=10)  # no source reports its seats
    client = login(reviewer)
    url = reverse("portfolio:licencepool_list")

    header, *body = csv_rows(client.get(url, {"_export": "csv", "sort": "tool"}))
    by_tool = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    assert by_tool["Copilot"]["Utilisation"] == "31.0" and by_tool["Copilot"]["Active seats (30 days)"] == "62"
    assert by_tool["Copilot"]["Seat data month"] == "2026-09"
    assert by_tool["Otter"]["Utilisation"] == by_tool["Otter"]["Seat data month"] == ""
    html = client.get(url).content.decode()
    assert "31.0 %" in html and "Utilisation" in html
    assert rows(client.get(url, {"sort": "-utilisation"}))[0] == copilot and otter in rows(client.get(url))


def test_department_detail_shows_cost_centers_people_and_initiatives(login, reviewer):
    department = DepartmentFactory(name="Support")
    cost_center = CostCenterFactory(department=department, code="CC-SUP")
    person = UserFactory(first_name="Pat", last_name="Member")
    person.profile.department = department
    person.profile.save()
    initiative = InitiativeFactory(department=department, cost_center=cost_center, name="Ticket summariser")
    InitiativeFactory(name="Not here")

    response = login(reviewer).get(department.get_absolute_url())
    content = response.content.decode()

    assert response.status_code == 200
    assert "CC-SUP" in content and "Pat Member" in content and "Ticket summariser" in content
    assert "Not here" not in content
    assert [row.record for row in response.context["initiative_table"].page.object_list] == [initiative]


def test_cost_center_detail_shows_its_initiatives(login, reviewer):
    cost_center = CostCenterFactory()
    initiative = InitiativeFactory(department=cost_center.department, cost_center=cost_center)
    InitiativeFactory(name="Other one")

    response = login(reviewer).get(cost_center.get_absolute_url())

    assert response.status_code == 200
    assert [row.record for row in response.context["initiative_table"].page.object_list] == [initiative]
    assert "Other one" not in response.content.decode()


@pytest.mark.parametrize("kind", ["department", "costcenter"])
def test_reference_detail_query_count_is_constant(login, reviewer, kind):
    cost_center = CostCenterFactory()
    department = cost_center.department
    obj = department if kind == "department" else cost_center
    client = login(reviewer)

    def add(n: int) -> None:
        vendor = VendorFactory()
        for _ in range(n):
            InitiativeFactory(department=department, cost_center=cost_center, vendors=[vendor])
            CostCenterFactory(department=department)
            user = UserFactory()
            user.profile.department = department
            user.profile.save()

    add(2)
    few = count_queries(client, obj.get_absolute_url())
    add(10)
    assert count_queries(client, obj.get_absolute_url()) == few


def test_csv_is_utf8_and_parseable(login, reviewer):
    InitiativeFactory(name="Résumé screener, v2")
    header, *body = csv_rows(login(reviewer).get(LIST_URL, {"_export": "csv"}))
    assert body[0][0] == "Résumé screener, v2"
    assert json.dumps(header)  # plain strings only


@pytest.mark.parametrize(("name", "text"), [
    ("portfolio:department_list", "No departments yet"),
    ("portfolio:costcenter_list", "No cost centers yet"),
    ("portfolio:vendor_list", "No vendors yet"),
    ("portfolio:aimodel_list", "No models yet"),
    ("portfolio:licencepool_list", "No licence pools yet"),
])
def test_an_empty_reference_list_says_how_to_add_one(login, reviewer, name, text):
    content = login(reviewer).get(reverse(name)).content.decode()
    assert text in content and "importing the inventory" in content
