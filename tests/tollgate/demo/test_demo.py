"""The Northwind Mutual demo company: complete, deterministic, idempotent, and built through the services."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db.models import Max

from governance.models import IntakeScore, IntakeSubmission
from portfolio import models
from portfolio.choices import Category, Stage
from portfolio.services import licence_pool_save
from reviews.choices import ReportStatus
from reviews.models import KpiActual, ReviewCycle, ValueReport, Verdict
from tests.factories import InitiativeFactory, UserFactory, VendorFactory
from tollgate.demo import data
from tollgate.demo.builder import build_demo_company, demo_is_loaded
from tollgate.roles import Role, may

User = get_user_model()
SNAPSHOT_MODELS = (
    models.Department, models.CostCenter, models.Profile, models.Vendor, models.AIModel, models.Initiative,
    models.BusinessCase, models.KPI, models.LicencePool,
)
RELATIONS = ("vendors", "ai_models", "delegates")


def load_demo(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    """Row counts, newest updated_at per model, audit rows and password hashes: anything a write would change."""
    state = {
        m.__name__: (m.objects.count(), m.objects.aggregate(last=Max("updated_at"))["last"]) for m in SNAPSHOT_MODELS
    }
    state["audit"] = LogEntry.objects.count()
    # The history: scoring rounds, scores, cycles, reports (and when they last changed), actuals, verdicts.
    for model in (IntakeSubmission, IntakeScore, ReviewCycle, KpiActual, Verdict):
        state[model.__name__] = model.objects.count()
    state["ValueReport"] = (ValueReport.objects.count(), ValueReport.objects.aggregate(last=Max("updated_at"))["last"])
    state["users"] = sorted(User.objects.values_list("username", "password", "is_superuser", "is_staff"))
    state["groups"] = sorted(User.groups.through.objects.values_list("user_id", "group_id"))
    state["m2m"] = sorted(
        (i.external_id, *(tuple(sorted(getattr(i, rel).values_list("pk", flat=True))) for rel in RELATIONS))
        for i in models.Initiative.objects.all()
    )
    return state


# --- The data, without a database ---------------------------------------------------------------------------------


def test_specs_are_deterministic():
    first, second = data.initiative_specs(), data.initiative_specs()
    assert data.specs_digest(first) == data.specs_digest(second)
    assert [(s.external_id, s.name, s.stage) for s in first] == [(s.external_id, s.name, s.stage) for s in second]


def test_specs_cover_every_stage_category_and_department():
    specs = data.initiative_specs()
    assert len(specs) >= 150
    assert {s.stage for s in specs} == set(Stage.values)
    assert {s.category for s in specs} == set(Category.values)
    assert {s.department for s in specs} == {d.name for d in data.DEPARTMENTS}
    assert len({s.external_id for s in specs}) == len(specs)
    assert len({s.name for s in specs}) == len(specs), "every initiative has its own name"
    assert all(s.external_id.startswith("NW-") for s in specs)


def test_specs_are_plausible():
    specs = data.initiative_specs()
    for spec in specs:
        if spec.stage != Stage.PROPOSED:
            assert spec.business_case is not None, spec.external_id
            assert 1 <= len(spec.kpis) <= 3, spec.external_id
            tco = sum(spec.business_case[f] for f in ("tco_inference", "tco_compute", "tco_storage", "tco_licences"))
            assert tco > 0 and spec.business_case["oversight_hours_per_month"] > 0
        # The past three years, or a planned start a few months out for what is not approved yet.
        assert data.REFERENCE_DATE - timedelta(days=3 * 366) <= spec.start_date <= data.REFERENCE_DATE + timedelta(120)
    declared = [s.declared_monthly_cost for s in specs if s.stage != Stage.REJECTED]
    assert min(declared) < Decimal("500") and max(declared) > Decimal("20000")
    assert any("pilot-overdue" in s.tags for s in specs), "pilots that never ended are part of the story"
    # Deliberate sprawl: several customer-facing or employee chatbots and image generators on different vendors.
    chatbots = [s for s in specs if s.category == Category.CONVERSATIONAL_ASSISTANT]
    assert len({tuple(s.vendors) for s in chatbots}) >= 4
    assert sum("imagery" in s.name for s in specs) >= 3


# --- The build ----------------------------------------------------------------------------------------------------


def test_load_demo_builds_the_company(demo):
    output = demo.output  # what load_demo printed when it built the company for this session

    assert models.Department.objects.count() >= 10
    for department in models.Department.objects.all():
        assert department.head is not None
        assert 1 <= department.cost_centers.count() <= 3
        assert all(cc.budget_owner_id for cc in department.cost_centers.all())
    initiatives = models.Initiative.objects.all()
    assert initiatives.count() >= 150
    assert set(initiatives.values_list("stage", flat=True)) == set(Stage.values)
    assert set(initiatives.values_list("category", flat=True)) == set(Category.values)
    beyond_proposed = initiatives.exclude(stage=Stage.PROPOSED)
    assert not beyond_proposed.filter(business_case__isnull=True).exists()
    assert not beyond_proposed.filter(kpis__isnull=True).exists()
    assert models.KPI.objects.count() >= beyond_proposed.count()
    assert models.LicencePool.objects.filter(tool="Microsoft 365 Copilot", initiative__isnull=False).exists()
    assert models.LicencePool.objects.count() == len(data.LICENCE_POOLS)
    assert models.AIModel.objects.filter(open_weights=True, name__icontains="llama").exists()
    assert models.AIModel.objects.get(name="gpt-4o").input_price_per_mtok == Decimal("2.50")

    # Same mapping as the data, so two fresh databases hold the same company (the data is deterministic above).
    expected = {s.external_id: (s.name, s.stage) for s in data.initiative_specs()}
    assert {i.external_id: (i.name, i.stage) for i in initiatives} == expected

    assert 'Demo company "Northwind Mutual": 14 departments, 152 initiatives,' in output
    assert "Review cycle 2026-Q3: " in output and "; 2026-Q2: " in output and " overdue." in output
    assert "Demo logins (password tollgate-demo): admin (administrator), reviewer (CoE reviewer)" in output


def test_demo_logins_have_one_role_and_the_demo_password(demo, client):
    for username, role in (("admin", Role.ADMIN), ("reviewer", Role.REVIEWER), ("executive", Role.EXECUTIVE),
                           ("owner", Role.OWNER), ("reviewer2", Role.REVIEWER)):
        user = authenticate(username=username, password=data.DEMO_PASSWORD)
        assert user is not None, username
        assert list(user.groups.values_list("name", flat=True)) == [role.value]
        assert user.email.endswith("@northwind-demo.com")
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.get_full_name() == "Ada Admin"
    # Being a superuser is no role: the demo admin administers but never scores, decides or gives a verdict.
    intake = models.Initiative.objects.filter(stage=Stage.IN_REVIEW).first()
    assert not may(admin, "governance.score_initiative", intake)
    assert not may(admin, "governance.decide_initiative", intake)
    assert not may(admin, "reviews.give_verdict", ValueReport.objects.filter(status=ReportStatus.SUBMITTED).first())
    assert may(admin, "governance.change_policy") and may(admin, "portfolio.change_costsource")
    # Everyone else is a named person who cannot log in until invited.
    assert User.objects.get(username="reviewer2").get_full_name() == "Priya Raman"
    others = User.objects.exclude(username__in=["admin", "reviewer", "executive", "owner", "reviewer2"])
    assert others.count() >= 40
    assert not any(u.has_usable_password() for u in others)
    assert others.filter(groups__name=Role.REVIEWER).count() >= 1

    owner = User.objects.get(username="owner")
    owned = models.Initiative.objects.filter(owner=owner)
    assert 5 <= owned.count() <= 7
    assert owned.values("stage").distinct().count() >= 5
    assert 1 <= models.Initiative.objects.filter(delegates=owner).count() <= 2
    assert client.login(username="owner", password=data.DEMO_PASSWORD)


def test_second_run_changes_nothing(demo):
    before = snapshot()

    build_demo_company()  # a forced re-sync, the slow path

    assert snapshot() == before
    assert "Demo company already loaded" in load_demo()
    assert snapshot() == before


def test_sync_repairs_drift_and_reports_missing_initiatives(demo):
    initiative = models.Initiative.objects.get(external_id="NW-0001")
    initiative.name = "Renamed by hand"
    initiative.save()
    initiative.kpis.first().delete()
    models.Initiative.objects.filter(external_id="NW-0002").delete()
    assert not demo_is_loaded()

    load_demo()

    initiative.refresh_from_db()
    assert initiative.name == "Ask Northwind — web and app support assistant"
    assert initiative.kpis.count() == len(data.initiative_specs()[0].kpis)
    assert models.Initiative.objects.filter(external_id="NW-0002").exists()
    assert demo_is_loaded()


def test_existing_admin_account_is_reused_not_duplicated(demo):
    # An `admin` account the operator made themselves (no e-mail, their own password), then load_demo --sync.
    existing = User.objects.get(username="admin")
    existing.email = ""
    existing.set_password("the-operator-s-own")
    existing.save()

    build_demo_company()

    assert User.objects.filter(username="admin").get().pk == existing.pk
    existing.refresh_from_db()
    assert existing.email == "ada.admin@northwind-demo.com"
    assert existing.check_password(data.DEMO_PASSWORD)


# --- licence_pool_save --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_licence_pool_save_creates_then_writes_only_changes():
    admin = UserFactory(role=Role.ADMIN)
    vendor = VendorFactory(name="GitHub")
    initiative = InitiativeFactory()

    pool = licence_pool_save(
        actor=admin, tool="GitHub Copilot Business", vendor=vendor, seats_purchased=100,
        price_per_seat_month=Decimal("19.00"), initiative=initiative,
    )
    assert pool.monthly_cost == Decimal("1900.00")
    stamp = pool.updated_at
    audit = LogEntry.objects.count()

    same = licence_pool_save(
        actor=admin, pool=pool, tool="GitHub Copilot Business", vendor=vendor, seats_purchased=100,
        price_per_seat_month=Decimal("19"), initiative=initiative,
    )
    same.refresh_from_db()
    assert same.updated_at == stamp and LogEntry.objects.count() == audit

    grown = licence_pool_save(
        actor=admin, pool=pool, tool="GitHub Copilot Business", vendor=vendor, seats_purchased=250,
        price_per_seat_month=Decimal("19"), initiative=None,
    )
    grown.refresh_from_db()
    assert (grown.seats_purchased, grown.initiative) == (250, None)
    assert LogEntry.objects.count() == audit + 1


@pytest.mark.django_db
def test_licence_pool_save_refuses_executives():
    executive = UserFactory(role=Role.EXECUTIVE)
    with pytest.raises(PermissionDenied):
        licence_pool_save(
            actor=executive, tool="Claude Team", vendor=VendorFactory(), seats_purchased=5,
            price_per_seat_month=Decimal("30"),
        )
    assert not models.LicencePool.objects.exists()
