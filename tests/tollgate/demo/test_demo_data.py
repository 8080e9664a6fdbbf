"""The demo company's data files (tollgate/demo/northwind/): read into the records the builder uses, the same
company as before they were files, and shipped with the package."""

from __future__ import annotations

import tomllib

from portfolio.choices import Category, KpiDirection, KpiKind, ModelTier, Stage
from tests import paths
from tollgate.demo import data
from tollgate.roles import Role

# The fingerprint of Northwind Mutual's 152 initiatives as data.py generated them when its data was Python code:
# the data files must describe exactly that company. Change it only with a deliberate change of the demo company.
# Changed once, deliberately, by the value model: the KPIs got their kinds and values per unit (per-month counts
# became per-quarter counts, times per outcome name their outcome); everything else in the specs is unchanged.
# And once more, deliberately: the business cases' targets and success criteria print their KPI figures with
# thousands separators ("1,560,000 USD per quarter"); the figures themselves are unchanged.
# And again: the targets print their costs per outcome as unit prices ("from $0.002 to $0.0014", not "from $0.00 to
# $0.00"); nothing else changed.
# And again: the targets quote the first KPI's baseline as its KPI row holds it ("from 403.2 per quarter", not the
# template's 420 beside a row of 403.2); nothing else changed.
NORTHWIND_DIGEST = "bb09c7e73051738a17b07b8266127275e0de580bc8418b6aca63c0080ed75a23"


def test_the_data_files_describe_the_same_company():
    specs = data.initiative_specs()
    assert len(specs) == 152
    assert data.specs_digest(specs) == NORTHWIND_DIGEST


def test_the_business_cases_targets_print_sub_cent_costs_per_outcome_as_unit_prices():
    """The LLM gateway's target read "Cost per request routed from $0.00 to $0.00" beside a card saying $0.002."""
    targets = [s.business_case["targets"] for s in data.initiative_specs() if s.business_case
               and s.business_case.get("targets")]
    assert targets and not [t for t in targets if "$0.00 " in t]
    assert any(t.startswith("Cost per request routed from $0.002 to $0.0014 at ") for t in targets)
    assert any(t.startswith("Cost per ticket replied from $3.20 to $2.24 at ") for t in targets)  # cents stay cents


def test_the_files_are_read_into_typed_records():
    assert (data.COMPANY_NAME, data.EMAIL_DOMAIN, str(data.REFERENCE_DATE), data.SEED) == (
        "Northwind Mutual", "northwind-demo.com", "2026-10-01", 42)
    assert [p.username for p in data.DEMO_LOGINS] == ["admin", "reviewer", "executive", "owner", "reviewer2"]
    assert all(isinstance(p.role, Role) for p in data.all_people())
    assert all(isinstance(m.tier, ModelTier) for m in data.AI_MODELS)
    assert list(data.TEMPLATES) == [d.key for d in data.DEPARTMENTS]
    for templates in data.TEMPLATES.values():
        for template in templates:
            assert isinstance(template.category, Category)
            assert isinstance(template.stacks, tuple) and isinstance(template.kpis, tuple)
            assert all(isinstance(k.direction, KpiDirection) for k in template.kpis)
            assert all(isinstance(k.kind, KpiKind) for k in template.kpis)
            # A stated KPI's value is stated in each report, never computed from a value per unit.
            assert all(k.value_per_unit is None for k in template.kpis if k.kind == KpiKind.STATED)
            assert all(s is None or isinstance(s, Stage) for s in template.stages)
    # References between files hold: heads, budget owners and template owners are people; pools and vendors exist.
    locals_ = {p.email.split("@")[0] for p in data.all_people()}
    assert {d.head for d in data.DEPARTMENTS} <= locals_
    assert {cc.budget_owner for d in data.DEPARTMENTS for cc in d.cost_centres} <= locals_
    templates = [t for ts in data.TEMPLATES.values() for t in ts]
    assert {t.owner for t in templates if t.owner} | {t.delegate for t in templates if t.delegate} <= locals_
    assert {t.pool for t in templates if t.pool} <= {p.tool for p in data.LICENCE_POOLS}
    assert {v for t in templates for s in t.stacks for v in s.vendors} <= {name for name, _ in data.VENDORS}


def test_every_data_file_ships_with_the_package():
    config = tomllib.loads((paths.REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["tollgate.demo"]
    package = data.DATA_DIR.parent
    files = {p for p in data.DATA_DIR.rglob("*") if p.is_file()}
    shipped = {p for pattern in patterns for p in package.glob(pattern)}
    assert files and files <= shipped, sorted(str(p) for p in files - shipped)


def test_each_business_case_s_targets_quote_its_first_kpi_s_baseline_as_the_kpi_row_holds_it():
    from tollgate.formatting import format_number

    checked = 0
    for spec in data.initiative_specs():
        if not spec.kpis or not spec.business_case or "targets" not in spec.business_case:
            continue
        first = spec.kpis[0]
        sep = "" if first["unit"] == "%" else " "
        assert f"from {format_number(first['baseline'])}{sep}{first['unit']} to" in spec.business_case["targets"]
        checked += 1
    assert checked > 50
