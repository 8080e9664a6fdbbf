"""Inventory import: the service (parse, validate, upsert, audit), the management command and the upload pages."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portfolio import selectors
from portfolio.choices import Category, RunStatus, RunTrigger, Stage
from portfolio.models import (
    AIModel,
    BusinessCaseVersion,
    CostCenter,
    Department,
    ImportRun,
    Initiative,
    LicencePool,
    Vendor,
)
from portfolio.selectors import import_run_initiatives
from portfolio.services import business_case_version_record
from portfolio.services.inventory_import import HEADER_LINE, import_run_create, inventory_import_run, inventory_parse
from portfolio.services.inventory_import.write import UNSPECIFIED_PROVIDER
from tests import paths
from tests.factories import (
    AIModelFactory,
    CostCenterFactory,
    DepartmentFactory,
    InitiativeFactory,
    UserFactory,
    VendorFactory,
)
from tollgate.roles import Role

FIXTURES = paths.FIXTURES / "inventory"
User = get_user_model()

GOOD_ROWS = 6
# A valid data row, used to build small files; change one cell to make it bad.
ROW = {
    "external_id": "INV-900", "name": "Invoice reader", "description": "Reads supplier invoices.",
    "department": "Finance", "cost_center": "CC-3100", "owner_email": "ap.team@example.com", "stage": "pilot",
    "category": "document_processing", "vendors": "OpenAI", "models": "gpt-4o", "start_date": "2024-05-01",
    "monthly_cost_usd": "1200", "seats_purchased": "",
}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def csv_bytes(*rows: dict[str, str], header: str = HEADER_LINE) -> bytes:
    """A small file: the header, then ROW once per argument with the given cells changed (quoted as needed)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header.split(","))
    for row in rows:
        writer.writerow([{**ROW, **row}[c] for c in HEADER_LINE.split(",")])
    return out.getvalue().encode()


def run_import(content: bytes, *, actor=None, dry_run: bool = False, filename: str = "inventory.csv") -> ImportRun:
    run = import_run_create(actor=actor, filename=filename, content=content, trigger=RunTrigger.COMMAND,
                            dry_run=dry_run)
    return inventory_import_run(run=run)


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Initiative, Department, CostCenter, User, Vendor, AIModel, LicencePool, LogEntry)
    }


def error_cells(run: ImportRun) -> set[tuple[int | None, str]]:
    return {(e["row"], e["column"]) for e in run.errors}


# --- a good file --------------------------------------------------------------------------------------------------


def test_good_fixture_really_has_bom_crlf_and_quoted_multiline_cells():
    content = fixture_bytes("good.csv")
    assert content.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in content
    assert b'"Drafts replies to inbound tickets, in the agent\'s voice.\r\nAgents' in content


def test_good_file_creates_everything(admin_user):
    run = run_import(fixture_bytes("good.csv"), actor=admin_user, filename="good.csv")

    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert (run.rows_total, run.rows_created, run.rows_updated, run.rows_unchanged) == (GOOD_ROWS, GOOD_ROWS, 0, 0)
    assert run.errors == []
    assert run.started_at and run.finished_at
    assert Initiative.objects.count() == GOOD_ROWS

    support = Initiative.objects.get(external_id="INV-001")
    assert support.name == "Support reply assistant"
    assert support.description == (
        "Drafts replies to inbound tickets, in the agent's voice.\nAgents approve every reply before it is sent."
    )
    assert support.stage == Stage.PRODUCTION
    assert support.category == Category.CONVERSATIONAL_ASSISTANT
    assert support.department.name == "Customer Service"
    assert support.cost_center.code == "CC-4100"
    assert support.cost_center.department == support.department
    assert support.owner.email == "maria.gonzalez@example.com"
    assert support.declared_monthly_cost == Decimal("18500.00")
    assert str(support.start_date) == "2024-03-01"
    assert sorted(v.name for v in support.vendors.all()) == ["OpenAI", "Zendesk"]
    assert sorted(m.name for m in support.ai_models.all()) == ["gpt-4o", "gpt-4o-mini"]
    assert support.ai_models.get(name="gpt-4o").provider.name == "OpenAI"

    assert set(Department.objects.values_list("name", flat=True)) == {
        "Customer Service", "Engineering", "Legal", "Supply Chain", "Marketing",
    }
    assert set(CostCenter.objects.values_list("code", flat=True)) == {"CC-4100", "CC-2200", "CC-7300", "CC-5100"}
    assert set(Vendor.objects.values_list("name", flat=True)) == {"OpenAI", "Zendesk", "GitHub", "Anthropic", "AWS"}
    assert AIModel.objects.count() == 4  # gpt-4o, gpt-4o-mini, claude-3-5-sonnet, claude-3-5-haiku (used twice)

    # People are created by e-mail (lower-cased), without a usable password until invited.
    imported_people = User.objects.exclude(pk=admin_user.pk)
    assert set(imported_people.values_list("email", flat=True)) == {
        "maria.gonzalez@example.com", "dev.lead@example.com", "l.chen@example.com", "ines.marketing@example.com",
    }
    assert not any(person.has_usable_password() for person in imported_people)
    assert User.objects.get(email="l.chen@example.com").profile.department.name == "Legal"

    marketing = Initiative.objects.get(external_id="INV-005")
    assert marketing.cost_center is None and marketing.start_date is None
    assert sorted(v.name for v in marketing.vendors.all()) == ["Anthropic", "OpenAI"]

    pool = LicencePool.objects.get()
    copilot = Initiative.objects.get(external_id="INV-002")
    assert copilot.description == 'Code completion for all developers, "Business" plan'
    assert (pool.initiative, pool.tool, pool.vendor.name, pool.seats_purchased) == (
        copilot, "GitHub Copilot for engineering", "GitHub", 2000,
    )
    assert pool.price_per_seat_month == Decimal("19.0000")


def test_reimporting_the_same_file_changes_nothing(admin_user):
    run_import(fixture_bytes("good.csv"), actor=admin_user)
    before = counts()
    stamps = dict(Initiative.objects.values_list("external_id", "updated_at"))

    again = run_import(fixture_bytes("good.csv"), actor=admin_user)

    assert again.status == RunStatus.SUCCEEDED
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, GOOD_ROWS)
    assert counts() == before  # no new initiatives, references or LogEntry rows
    assert dict(Initiative.objects.values_list("external_id", "updated_at")) == stamps


def test_a_modified_row_is_updated_in_place(admin_user):
    run_import(fixture_bytes("good.csv"), actor=admin_user)
    pool_id = LicencePool.objects.get().pk
    initiatives_before = Initiative.objects.count()

    run = run_import(fixture_bytes("good_modified.csv"), actor=admin_user, filename="good_modified.csv")

    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert (run.rows_created, run.rows_updated, run.rows_unchanged) == (0, 2, GOOD_ROWS - 2)
    assert Initiative.objects.count() == initiatives_before
    assert Initiative.objects.get(external_id="INV-003").stage == Stage.PRODUCTION
    copilot = Initiative.objects.get(external_id="INV-002")
    assert copilot.declared_monthly_cost == Decimal("47500.00")
    pool = LicencePool.objects.get()
    assert pool.pk == pool_id  # the initiative's pool is updated, not duplicated
    assert (pool.seats_purchased, pool.price_per_seat_month) == (2500, Decimal("19.0000"))

    # The stage change is audited as coming from this import.
    entry = LogEntry.objects.get_for_object(Initiative.objects.get(external_id="INV-003")).latest("pk")
    assert entry.changes_dict["stage"] == ["pilot", "production"]
    expected = {"source": "inventory_import", "import_run": run.pk, "filename": "good_modified.csv"}
    assert entry.additional_data == expected
    assert entry.actor == admin_user


def test_import_updates_an_initiative_registered_before(admin_user):
    existing = InitiativeFactory(external_id="INV-900", stage=Stage.PILOT)

    run = run_import(csv_bytes({"stage": "production"}), actor=admin_user)

    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert run.rows_updated == 1
    existing.refresh_from_db()
    assert existing.stage == Stage.PRODUCTION
    assert existing.name == "Invoice reader"
    assert existing.owner.email == "ap.team@example.com"


def test_import_may_not_change_the_declared_cost_of_an_initiative_in_review(admin_user):
    existing = InitiativeFactory(external_id="INV-900", stage=Stage.IN_REVIEW, declared_monthly_cost=Decimal("12.00"))

    run = run_import(csv_bytes({"stage": "in_review", "monthly_cost_usd": "1200"}), actor=admin_user)

    assert run.status == RunStatus.FAILED
    assert error_cells(run) == {(2, "monthly_cost_usd")}
    assert "cannot change while it is in review" in run.errors[0]["message"]
    existing.refresh_from_db()
    assert existing.declared_monthly_cost == Decimal("12.00")


@pytest.mark.parametrize(("stage", "new_stage", "way"), [
    (Stage.IN_REVIEW, "production", "INV-900 is in review: its stage changes through the review (approve or reject "
                                    "on its page), not an import."),
    (Stage.IN_REVIEW, "approved", "INV-900 is in review: "),
    (Stage.PROPOSED, "approved", "INV-900 is proposed: its stage changes through the review (submit it"),
    (Stage.CHANGES_REQUESTED, "in_review", "INV-900 has changes requested: its stage changes through the review"),
    (Stage.PILOT, "in_review", "INV-900 is pilot: an import cannot move it back to in review"),
    (Stage.PRODUCTION, "rejected", "INV-900 is production: an import cannot move it back to rejected"),
    (Stage.APPROVED, "proposed", "INV-900 is approved: an import cannot move it back to proposed"),
])
@pytest.mark.parametrize("dry_run", [False, True])
def test_import_may_not_move_an_initiative_into_out_of_or_within_the_intake(admin_user, stage, new_stage, way,
                                                                            dry_run):
    """The intake's stages move only through the review (scores, quorum, an independent reviewer): an import that
    would skip it is refused on the stage cell, naming the way, and writes nothing."""
    existing = InitiativeFactory(external_id="INV-900", stage=stage, name="Invoice reader")
    before = counts()

    run = run_import(csv_bytes({"stage": new_stage}), actor=admin_user, dry_run=dry_run)

    assert run.status == RunStatus.FAILED
    assert error_cells(run) == {(2, "stage")}
    assert run.errors[0]["message"].startswith(way)
    assert counts() == before
    existing.refresh_from_db()
    assert existing.stage == stage


@pytest.mark.parametrize(("stage", "new_stage"), [
    (Stage.APPROVED, Stage.PILOT), (Stage.PILOT, Stage.PRODUCTION), (Stage.PRODUCTION, Stage.PILOT),
    (Stage.PRODUCTION, Stage.RETIRED), (Stage.PILOT, Stage.KILLED),
])
def test_import_still_moves_a_running_initiative_between_running_stages_and_to_its_end(admin_user, stage, new_stage):
    existing = InitiativeFactory(external_id="INV-900", stage=stage)

    run = run_import(csv_bytes({"stage": new_stage}), actor=admin_user)

    assert run.status == RunStatus.SUCCEEDED, run.errors
    existing.refresh_from_db()
    assert existing.stage == new_stage


def test_an_intake_row_changing_its_stage_and_a_locked_cost_lists_both(admin_user):
    """Every lock the row meets is listed at once, also on a row whose other cells are bad (only checked)."""
    InitiativeFactory(external_id="INV-900", stage=Stage.IN_REVIEW, declared_monthly_cost=Decimal("12.00"))
    InitiativeFactory(external_id="INV-901", stage=Stage.IN_REVIEW, declared_monthly_cost=Decimal("1200.00"))

    run = run_import(csv_bytes({"stage": "production"},
                               {"external_id": "INV-901", "stage": "approved", "category": "nope"}),
                     actor=admin_user)

    assert [(e["row"], e["column"]) for e in run.errors] == [
        (2, "stage"), (2, "monthly_cost_usd"), (3, "category"), (3, "stage")]


def test_an_intake_row_keeping_its_stage_is_still_updated(admin_user):
    existing = InitiativeFactory(external_id="INV-900", stage=Stage.PROPOSED, name="Old name")

    run = run_import(csv_bytes({"stage": "proposed"}), actor=admin_user)

    assert run.status == RunStatus.SUCCEEDED, run.errors
    existing.refresh_from_db()
    assert (existing.stage, existing.name) == (Stage.PROPOSED, "Invoice reader")


def test_external_ids_differing_only_in_case_are_duplicates_in_a_file(admin_user):
    before = counts()

    run = run_import(csv_bytes({"external_id": "QA-0001"}, {"external_id": "qa-0001", "name": "Fraud pattern alerts"}),
                     actor=admin_user)

    assert run.status == RunStatus.FAILED
    assert [(e["row"], e["column"], e["message"]) for e in run.errors] == [
        (3, "external_id", "Duplicate external_id 'qa-0001' (first on row 2).")]
    assert counts() == before


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_row_finds_its_initiative_whatever_the_case_of_its_external_id(admin_user, dry_run):
    """A spreadsheet that changed the case of a key updates the initiative (which keeps its spelling): an exact copy
    of its row is unchanged, not a second initiative."""
    run_import(csv_bytes({"external_id": "QA-0002"}), actor=admin_user)
    (existing,) = Initiative.objects.all()

    same = run_import(csv_bytes({"external_id": "qa-0002"}), actor=admin_user, dry_run=dry_run)
    assert (same.status, same.rows_created, same.rows_updated, same.rows_unchanged) == (RunStatus.SUCCEEDED, 0, 0, 1)

    run = run_import(csv_bytes({"external_id": "qa-0002", "name": "Renamed reader"}), actor=admin_user,
                     dry_run=dry_run)

    assert (run.status, run.rows_created, run.rows_updated) == (RunStatus.SUCCEEDED, 0, 1), run.errors
    assert list(Initiative.objects.values_list("pk", "external_id")) == [(existing.pk, "QA-0002")]
    assert Initiative.objects.get().name == ("Invoice reader" if dry_run else "Renamed reader")


def test_of_stored_ids_differing_only_in_case_the_one_spelt_as_the_row_is_updated(admin_user):
    """Two initiatives whose ids differ only in case (created before ids were compared so) stay two: each row
    updates the one spelt the same."""
    upper = InitiativeFactory(external_id="QA-0003", stage=Stage.PILOT, name="Upper")
    lower = InitiativeFactory(external_id="qa-0003", stage=Stage.PILOT, name="Lower")

    run = run_import(csv_bytes({"external_id": "qa-0003", "name": "Lower renamed"}), actor=admin_user)

    assert run.status == RunStatus.SUCCEEDED, run.errors
    upper.refresh_from_db()
    lower.refresh_from_db()
    assert (upper.name, lower.name) == ("Upper", "Lower renamed")


def test_import_may_not_change_an_ended_initiative(admin_user):
    existing = InitiativeFactory(external_id="INV-900", stage=Stage.KILLED, name="Old name")

    run = run_import(csv_bytes({"stage": "production"}), actor=admin_user)

    assert run.status == RunStatus.FAILED
    assert [(e["row"], e["message"]) for e in run.errors] == [
        (2, "“Old name” is killed: an ended initiative is read-only. Register a new initiative to start again.")]
    existing.refresh_from_db()
    assert (existing.stage, existing.name) == (Stage.KILLED, "Old name")


def test_import_changing_the_declared_cost_after_approval_records_a_version(admin_user, reviewer):
    existing = InitiativeFactory(external_id="INV-900", stage=Stage.PILOT, declared_monthly_cost=Decimal("900.00"))
    business_case_version_record(initiative=existing, actor=reviewer, approve=True)

    run = run_import(csv_bytes({}), actor=admin_user)

    assert run.status == RunStatus.SUCCEEDED, run.errors
    latest = BusinessCaseVersion.objects.filter(initiative=existing).latest("number")
    assert (latest.number, latest.is_approved, latest.created_by) == (2, False, admin_user)
    assert latest.figures["declared_monthly_cost"] == "1200.00"


def test_stage_and_category_labels_are_accepted(admin_user):
    run = run_import(csv_bytes({"stage": "In review", "category": "Document Processing"}), actor=admin_user)
    assert run.status == RunStatus.SUCCEEDED, run.errors
    initiative = Initiative.objects.get()
    assert (initiative.stage, initiative.category) == (Stage.IN_REVIEW, Category.DOCUMENT_PROCESSING)


def test_imported_initiative_creation_is_audited_as_an_import(admin_user):
    before = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0  # the administrator's account
    run = run_import(fixture_bytes("good.csv"), actor=admin_user, filename="good.csv")

    initiative = Initiative.objects.get(external_id="INV-003")
    created = LogEntry.objects.get_for_object(initiative).get(action=LogEntry.Action.CREATE)
    assert created.additional_data["source"] == "inventory_import"
    assert created.additional_data["import_run"] == run.pk
    assert created.additional_data["filename"] == "good.csv"
    assert created.actor == admin_user
    assert created.changes_dict["stage"][1] == "pilot"
    # Everything the import wrote carries the source: departments, licence pools and the owners it created included.
    written = LogEntry.objects.filter(pk__gt=before)
    assert written.count() > GOOD_ROWS
    assert all(e.additional_data and e.additional_data["source"] == "inventory_import" for e in written)
    owner = Initiative.objects.get(external_id="INV-003").owner
    assert LogEntry.objects.get_for_object(owner).get(action=LogEntry.Action.CREATE).actor == admin_user


def test_owners_without_a_role_get_the_owner_role_and_roles_held_are_kept(admin_user):
    """An imported owner had no role: invited, they signed in and saw nothing, not even the initiatives they own."""
    roleless = UserFactory(email="no.role@example.com")
    reviewer = UserFactory(email="rita@example.com", role=Role.REVIEWER)
    run = run_import(csv_bytes({}, {"external_id": "INV-901", "owner_email": "no.role@example.com"},
                               {"external_id": "INV-902", "owner_email": "rita@example.com"}), actor=admin_user)
    assert run.status == RunStatus.SUCCEEDED, run.errors

    def roles(user) -> set[str]:
        return set(user.groups.values_list("name", flat=True))

    assert roles(User.objects.get(email="ap.team@example.com")) == {Role.OWNER.value}  # created by the import
    assert roles(roleless) == {Role.OWNER.value}
    assert roles(reviewer) == {Role.REVIEWER.value}  # a role held is left as it is
    changed = LogEntry.objects.get_for_object(roleless).get(additional_data__event="roles_changed")
    assert (changed.actor, changed.additional_data["source"]) == (admin_user, "inventory_import")


# --- bad files: all or nothing, every error with its row and column -------------------------------------------------


BAD_ROWS = [
    ("unknown stage", {"stage": "live"}, "stage"),
    ("unknown category", {"category": "fortune_telling"}, "category"),
    ("bad date", {"start_date": "01/05/2024"}, "start_date"),
    ("impossible date", {"start_date": "2024-02-30"}, "start_date"),
    ("negative cost", {"monthly_cost_usd": "-30"}, "monthly_cost_usd"),
    ("non-numeric cost", {"monthly_cost_usd": "$1,200"}, "monthly_cost_usd"),
    ("missing name", {"name": ""}, "name"),
    ("missing external_id", {"external_id": ""}, "external_id"),
    ("bad owner e-mail", {"owner_email": "ap.team(at)example.com"}, "owner_email"),
    ("negative seats", {"seats_purchased": "-5"}, "seats_purchased"),
    ("non-integer seats", {"seats_purchased": "12.5"}, "seats_purchased"),
    ("seats without a vendor", {"seats_purchased": "10", "vendors": "", "models": ""}, "vendors"),
]


@pytest.mark.parametrize(("label", "cells", "column"), BAD_ROWS, ids=[b[0] for b in BAD_ROWS])
def test_a_bad_cell_rejects_the_whole_file(admin_user, label, cells, column):
    before = counts()
    # The bad row is the second data row (line 3): the good row before it must not be written either.
    run = run_import(csv_bytes({"external_id": "INV-1"}, {"external_id": "INV-2", **cells}), actor=admin_user)

    assert run.status == RunStatus.FAILED
    assert error_cells(run) == {(3, column)}, run.errors
    assert counts() == before


def test_duplicate_external_id_is_reported_on_the_second_line(admin_user):
    before = counts()
    run = run_import(csv_bytes({"name": "One"}, {"external_id": "INV-7"}, {"name": "Two"}), actor=admin_user)
    assert run.status == RunStatus.FAILED
    assert error_cells(run) == {(4, "external_id")}
    assert "row 2" in run.errors[0]["message"]
    assert counts() == before


@pytest.mark.parametrize(
    ("label", "content", "expected"),
    [
        ("empty file", b"", {(1, "")}),
        ("only a BOM and blank lines", b"\xef\xbb\xbf\r\n\r\n", {(1, "")}),
        ("header only", (HEADER_LINE + "\n").encode(), {(1, "")}),
        ("missing column", csv_bytes({}, header=HEADER_LINE.replace(",seats_purchased", "")).replace(b",\n", b"\n"),
         {(1, "seats_purchased")}),
        ("renamed column", csv_bytes({}, header=HEADER_LINE.replace("owner_email", "owner")),
         {(1, "owner_email"), (1, "owner")}),
        ("not UTF-8", csv_bytes({}) + "INV-2,Résumé screening,,HR,,a@example.com,pilot,other,,,,0,\n".encode("latin-1"),
         {(3, "")}),
        ("wrong number of values", csv_bytes({}) + b"INV-2,Too short\n", {(3, "")}),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_bad_file_is_rejected_with_its_line(admin_user, label, content, expected):
    before = counts()
    run = run_import(content, actor=admin_user)
    assert run.status == RunStatus.FAILED
    assert error_cells(run) == expected, run.errors
    assert all(e["message"] for e in run.errors)
    assert counts() == before


@pytest.mark.parametrize(("separator", "name"), [(";", "semicolons"), ("\t", "tabs")])
def test_a_file_separated_by_semicolons_or_tabs_gets_one_message(admin_user, separator, name):
    """Excel's "CSV" in most European regions uses semicolons: one message saying so, not 14 missing columns."""
    content = csv_bytes({"vendors": "OpenAI", "description": "Reads invoices, then files them"}).decode()
    before = counts()

    run = run_import(content.replace(",", separator).encode(), actor=admin_user)

    assert run.status == RunStatus.FAILED
    assert [(e["row"], e["column"], e["message"]) for e in run.errors] == [
        (1, "", f"The file is separated by {name}, not commas. Save it as 'CSV UTF-8' (comma-separated) and upload "
                "it again.")]
    assert counts() == before


def test_every_error_of_the_file_is_reported(admin_user):
    before = counts()
    run = run_import(fixture_bytes("bad_many.csv"), actor=admin_user)

    assert run.status == RunStatus.FAILED
    assert error_cells(run) == {
        (2, "stage"),
        (3, "owner_email"), (3, "category"), (3, "start_date"), (3, "monthly_cost_usd"),
        (4, "name"), (4, "monthly_cost_usd"), (4, "seats_purchased"),
        (5, "external_id"),
        (6, "external_id"),
    }
    assert counts() == before


def test_rows_are_numbered_by_line_in_the_file_including_multiline_cells(admin_user):
    # good.csv: INV-001's description spans lines 2-3, so INV-003 is on line 5.
    content = fixture_bytes("good.csv").replace(b",pilot,document_processing", b",beta,document_processing")
    run = run_import(content, actor=admin_user)
    assert error_cells(run) == {(5, "stage")}


def test_cost_center_of_another_department_rejects_the_file(admin_user):
    CostCenterFactory(code="CC-3100", department=DepartmentFactory(name="Procurement", code="procurement"))
    before = counts()
    run = run_import(csv_bytes({"external_id": "INV-1", "cost_center": "CC-9"}, {"external_id": "INV-2"}),
                     actor=admin_user)
    assert run.status == RunStatus.FAILED
    assert error_cells(run) == {(3, "cost_center")}
    assert "Procurement" in run.errors[0]["message"]
    assert counts() == before  # INV-1, Finance and CC-9 were rolled back


def test_a_department_named_in_the_plural_reads_as_a_plural_possessive(admin_user):
    """"pick one of Digital Channels' cost centers", never "Digital Channels's" (tollgate.text.possessive)."""
    CostCenterFactory(code="CC-3100", department=DepartmentFactory(name="Procurement", code="procurement"))
    DepartmentFactory(name="Digital Channels", code="digital")
    run = run_import(csv_bytes({"external_id": "INV-1", "department": "Digital Channels"}), actor=admin_user)
    assert run.status == RunStatus.FAILED
    assert run.errors[0]["message"] == ("Cost center CC-3100 (" + CostCenter.objects.get(code="CC-3100").name
                                        + ") belongs to Procurement, not to Digital Channels: pick one of Digital "
                                        "Channels' cost centers, or leave it empty.")


def test_errors_only_the_database_finds_are_listed_with_the_format_errors(admin_user):
    """One correction round: a row that reads well but names another department's cost center is listed beside a
    row whose cells are malformed, in row order, and nothing is written."""
    CostCenterFactory(code="CC-3100", department=DepartmentFactory(name="Procurement", code="procurement"))
    before = counts()
    run = run_import(csv_bytes({"external_id": "INV-1", "stage": "someday"}, {"external_id": "INV-2"}),
                     actor=admin_user)
    assert run.status == RunStatus.FAILED
    assert [(e["row"], e["column"]) for e in run.errors] == [(2, "stage"), (2, "cost_center"), (3, "cost_center")]
    assert counts() == before
    header = run_import(csv_bytes({}, header=HEADER_LINE.replace("owner_email", "owner")), actor=admin_user)
    assert {e["row"] for e in header.errors} == {1}  # a broken header: nothing else is read, nothing written
    assert counts() == before


@pytest.mark.parametrize("start_date", ["0001-01-01", "1989-12-31", "2099-01-01"])
def test_a_start_date_the_api_refuses_rejects_the_file(admin_user, start_date):
    """The same rule as the pages and the API (initiatives.start_date_check): 1990 to ten years ahead."""
    before = counts()
    run = run_import(csv_bytes({"external_id": "INV-1"}, {"external_id": "INV-2", "start_date": start_date}),
                     actor=admin_user)
    assert run.status == RunStatus.FAILED
    assert error_cells(run) == {(3, "start_date")}
    assert run.errors[0]["message"].startswith("A start date is between 1990-01-01 and ")
    assert run.errors[0]["message"].endswith(f", not {start_date}.")
    assert counts() == before


def test_an_owner_who_has_left_rejects_the_file(admin_user):
    """The same rule as the pages and the API (initiatives.people_check): a newly named owner has not left."""
    UserFactory(email="george.whitfield@example.com", username="george.whitfield@example.com", first_name="George",
                last_name="Whitfield", is_active=False)
    before = counts()
    run = run_import(csv_bytes({"external_id": "INV-1"},
                               {"external_id": "INV-2", "owner_email": "George.Whitfield@example.com"}),
                     actor=admin_user)
    assert run.status == RunStatus.FAILED
    assert [(e["row"], e["column"], e["message"]) for e in run.errors] == [
        (3, "owner_email", "George Whitfield has left (account deactivated): name an active owner.")]
    assert counts() == before


def test_an_owner_address_that_is_another_account_s_username_is_refused_on_its_row_and_column(admin_user):
    """A new owner is named by their address and usernames are unique ignoring case: an account already named so
    with another e-mail address fails the file with the row and column (not the database's constraint), on a row
    with other bad cells too; an address differing only in case from someone's e-mail address is that person."""
    UserFactory(username="AP.Team@example.com", email="payables@corp.example", first_name="Pay", last_name="Ables",
                role=Role.OWNER)
    before = counts()
    run = run_import(csv_bytes({"external_id": "INV-1"},
                               {"external_id": "INV-2", "start_date": "someday"}), actor=admin_user)
    assert run.status == RunStatus.FAILED
    message = ("ap.team@example.com is already the username of another account (Pay Ables, whose e-mail address is "
               "payables@corp.example): give that account this e-mail address, or change its username in the "
               "Django admin, then try again.")
    owner_errors = [(e["row"], e["column"], e["message"]) for e in run.errors if e["column"] == "owner_email"]
    assert owner_errors == [(2, "owner_email", message), (3, "owner_email", message)]
    assert counts() == before

    same = UserFactory(username="apteam", email="AP.Team@Example.com", role=Role.OWNER)
    run = run_import(csv_bytes({"external_id": "INV-1"}), actor=admin_user)
    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert Initiative.objects.get(external_id="INV-1").owner == same
    assert User.objects.filter(email__iexact="ap.team@example.com").count() == 1


def test_every_rule_a_row_breaks_is_listed_and_an_owner_who_left_may_stay(admin_user):
    """A row breaking several rules lists each on its column. An initiative whose owner left since is updated as
    initiative_update would: the owner is not named anew, so the import (like the API) keeps them."""
    leaver = UserFactory(email="ap.team@example.com", username="ap.team@example.com", is_active=False)
    kept = InitiativeFactory(external_id="INV-1", owner=leaver, name="Old name", stage=Stage.PILOT)
    CostCenterFactory(code="CC-9", department=DepartmentFactory(name="Procurement", code="procurement"))
    before = counts()

    run = run_import(csv_bytes({"external_id": "INV-1"},
                               {"external_id": "INV-2", "cost_center": "CC-9", "start_date": "2099-01-01"}),
                     actor=admin_user)

    assert run.status == RunStatus.FAILED
    assert error_cells(run) == {(3, "cost_center"), (3, "owner_email"), (3, "start_date")}
    assert counts() == before
    kept.refresh_from_db()
    assert kept.name == "Old name"

    run = run_import(csv_bytes({"external_id": "INV-1"}), actor=admin_user)
    assert run.status == RunStatus.SUCCEEDED, run.errors
    kept.refresh_from_db()
    assert (kept.name, kept.owner) == ("Invoice reader", leaver)


def test_a_row_with_bad_cells_still_gets_the_checks_only_the_database_makes(admin_user):
    """One correction round (README): a bad cell no longer hides the row's other errors. Each row below has a cell
    error and at least one error only the database finds; every one is listed, in row order, cell errors first. A
    check that needs a bad cell cannot run (row 7: no department to hold the cost center to)."""
    finance = DepartmentFactory(name="Finance", code="finance")
    CostCenterFactory(code="CC-4110", department=DepartmentFactory(name="Customer Service", code="cs"))
    UserFactory(email="george.whitfield@example.com", username="george.whitfield@example.com", first_name="George",
                last_name="Whitfield", is_active=False)
    InitiativeFactory(external_id="INV-REVIEW", stage=Stage.IN_REVIEW, department=finance,
                      declared_monthly_cost=Decimal("12.00"))
    InitiativeFactory(external_id="INV-KILLED", stage=Stage.KILLED, name="Old name", department=finance)
    before = counts()

    run = run_import(csv_bytes(
        {"external_id": "QA-070", "category": "nope", "start_date": "0001-01-01"},
        {"external_id": "QA-071", "monthly_cost_usd": "12a", "cost_center": "CC-4110",
         "owner_email": "george.whitfield@example.com"},
        {"external_id": "INV-REVIEW", "stage": "in_review", "category": "nope", "monthly_cost_usd": "1200"},
        {"external_id": "INV-KILLED", "stage": "killed", "seats_purchased": "abc"},
        {"external_id": "QA-070", "start_date": "2099-01-01"},
        {"external_id": "QA-072", "department": "", "cost_center": "CC-4110",
         "owner_email": "George.Whitfield@example.com"},
    ), actor=admin_user)

    assert run.status == RunStatus.FAILED
    assert [(e["row"], e["column"]) for e in run.errors] == [
        (2, "category"), (2, "start_date"),
        (3, "monthly_cost_usd"), (3, "cost_center"), (3, "owner_email"),
        (4, "category"), (4, "monthly_cost_usd"),
        (5, "seats_purchased"), (5, ""),
        (6, "external_id"), (6, "start_date"),
        (7, "department"), (7, "owner_email"),
    ]
    messages = {(e["row"], e["column"]): e["message"] for e in run.errors}
    assert messages[2, "start_date"].endswith(", not 0001-01-01.")
    assert "belongs to Customer Service" in messages[3, "cost_center"]
    assert messages[3, "owner_email"] == "George Whitfield has left (account deactivated): name an active owner."
    assert "cannot change while it is in review" in messages[4, "monthly_cost_usd"]
    assert "an ended initiative is read-only" in messages[5, ""]
    assert run.rows_total == 6
    assert counts() == before


def test_new_model_without_a_vendor_goes_under_an_unspecified_provider(admin_user):
    run = run_import(csv_bytes({"vendors": "", "models": "XGBoost;whisper-large-v3"}), actor=admin_user)
    assert run.status == RunStatus.SUCCEEDED, run.errors
    models = AIModel.objects.filter(name__in=["XGBoost", "whisper-large-v3"])
    assert {m.provider.name for m in models} == {UNSPECIFIED_PROVIDER} and len(models) == 2
    initiative = Initiative.objects.get(external_id=ROW["external_id"])
    assert set(initiative.ai_models.values_list("name", flat=True)) == {"XGBoost", "whisper-large-v3"}
    assert not initiative.vendors.exists()  # the placeholder is the model's provider, not the initiative's vendor
    again = run_import(csv_bytes({"vendors": "Acme", "models": "xgboost"}), actor=admin_user)
    assert again.status == RunStatus.SUCCEEDED and AIModel.objects.filter(name__iexact="xgboost").count() == 1


def test_dry_run_writes_nothing_but_reports_what_would_happen(admin_user):
    run_import(fixture_bytes("good.csv"), actor=admin_user)
    before = counts()
    runs_before = ImportRun.objects.count()

    run = run_import(fixture_bytes("good_modified.csv") + b"INV-777,New one,,Legal,CC-7300,a@example.com,proposed,"
                     b"other,,,,0,\n", actor=admin_user, dry_run=True)

    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert run.dry_run
    assert (run.rows_created, run.rows_updated, run.rows_unchanged) == (1, 2, GOOD_ROWS - 2)
    assert counts() == before
    assert ImportRun.objects.count() == runs_before + 1  # only the run itself is recorded
    assert Initiative.objects.get(external_id="INV-003").stage == Stage.PILOT


def test_dry_run_of_a_bad_file_fails_with_its_errors(admin_user):
    run = run_import(csv_bytes({"stage": "live"}), actor=admin_user, dry_run=True)
    assert run.status == RunStatus.FAILED
    assert error_cells(run) == {(2, "stage")}


def test_parse_is_pure_and_returns_typed_rows():
    rows, errors = inventory_parse(csv_bytes({"seats_purchased": "3", "monthly_cost_usd": "100", "vendors": "A; B;a"}))
    assert errors == []
    (row,) = rows
    assert row.row == 2 and row.seats == 3 and row.vendors == ("A", "B")
    assert row.price_per_seat == Decimal("33.3333")


def test_only_administrators_may_create_a_run(owner):
    with pytest.raises(PermissionDenied):
        import_run_create(actor=owner, filename="x.csv", content=csv_bytes({}), dry_run=False)


# --- the management command ---------------------------------------------------------------------------------------


def test_command_imports_and_prints_a_summary(db, capsys):
    call_command("import_initiatives", str(FIXTURES / "good.csv"))
    out = capsys.readouterr().out
    assert f"{GOOD_ROWS} created, 0 updated, 0 unchanged" in out
    assert Initiative.objects.count() == GOOD_ROWS
    run = ImportRun.objects.get()
    assert (run.trigger, run.status, run.filename) == (RunTrigger.COMMAND, RunStatus.SUCCEEDED, "good.csv")

    call_command("import_initiatives", str(FIXTURES / "good.csv"))
    assert f"0 created, 0 updated, {GOOD_ROWS} unchanged" in capsys.readouterr().out


def test_command_records_the_actor(admin_user):
    call_command("import_initiatives", str(FIXTURES / "good.csv"), "--actor", admin_user.email)
    assert ImportRun.objects.get().actor == admin_user
    assert LogEntry.objects.filter(actor=admin_user).exists()


def test_command_fails_with_every_error_on_stderr(db, capsys):
    before = counts()
    with pytest.raises(CommandError, match="failed with 10 error"):
        call_command("import_initiatives", str(FIXTURES / "bad_many.csv"))
    err = capsys.readouterr().err
    assert "row 2, column stage: Unknown stage 'live'" in err
    assert "row 6, column external_id: Duplicate external_id 'INV-101'" in err
    assert len(err.strip().splitlines()) == 10
    assert counts() == before
    assert ImportRun.objects.get().status == RunStatus.FAILED


def test_command_exit_code_is_non_zero(db, capsys, monkeypatch):
    """As from a shell: manage.py turns the CommandError into exit status 1."""
    from portfolio.management.commands.import_initiatives import Command

    # run_from_argv closes the connections when done, which would end the test's transaction.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)
    with pytest.raises(SystemExit) as exit_info:
        Command().run_from_argv(["manage.py", "import_initiatives", str(FIXTURES / "bad_many.csv")])
    assert exit_info.value.code != 0
    assert "row 3, column category" in capsys.readouterr().err


def test_command_dry_run_writes_nothing(db, capsys):
    call_command("import_initiatives", str(FIXTURES / "good.csv"), "--dry-run")
    assert "Dry run" in capsys.readouterr().out
    assert Initiative.objects.count() == 0
    assert ImportRun.objects.get().dry_run


def test_command_rejects_a_missing_file(db):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_initiatives", str(FIXTURES / "nope.csv"))


# --- the pages ------------------------------------------------------------------------------------------------------


def upload(client, content: bytes, *, name: str = "inventory.csv", dry_run: bool = False):
    data = {"file": SimpleUploadedFile(name, content, content_type="text/csv")}
    if dry_run:
        data["dry_run"] = "on"
    return client.post(reverse("portfolio:import_create"), data)


def test_upload_page_imports_end_to_end(login, admin_user, django_capture_on_commit_callbacks):
    client = login(admin_user)
    page = client.get(reverse("portfolio:import_create"))
    assert page.status_code == 200
    assert HEADER_LINE in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = upload(client, fixture_bytes("good.csv"), name="good.csv")

    assert len(callbacks) == 2  # the import, then the sprawl recomputation a successful import queues
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("portfolio:import_detail", args=[run.pk])
    assert (run.status, run.trigger, run.actor, run.rows_created) == (
        RunStatus.SUCCEEDED, RunTrigger.USER, admin_user, GOOD_ROWS,
    )
    assert run.file.name.endswith(".csv")
    assert Initiative.objects.count() == GOOD_ROWS
    from governance.models import SprawlRun

    assert SprawlRun.objects.get().status == RunStatus.SUCCEEDED  # recomputed after the import

    detail = client.get(response["Location"]).content.decode()
    assert "Succeeded" in detail
    assert 'http-equiv="refresh"' not in detail
    assert reverse("portfolio:initiative_list") in detail

    listing = client.get(reverse("portfolio:import_list"))
    assert listing.status_code == 200
    assert "good.csv" in listing.content.decode()
    export = client.get(reverse("portfolio:import_list"), {"_export": "csv"})
    assert export.status_code == 200
    exported = b"".join(export.streaming_content if export.streaming else [export.content]).decode()
    assert "good.csv" in exported
    row = next(line for line in exported.splitlines() if "good.csv" in line)
    # As the page shows it: "yes"/blank for a dry run, the time to the minute; the account that ran it.
    assert f",{admin_user.username}," in row and ",True," not in row and ",False," not in row
    assert re.search(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2},", row), row


def test_upload_page_shows_the_errors_of_a_bad_file(login, admin_user, django_capture_on_commit_callbacks):
    client = login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, fixture_bytes("bad_many.csv"))
    detail = client.get(response["Location"]).content.decode()
    assert "Failed" in detail
    assert "Unknown stage &#x27;live&#x27;" in detail
    assert "Duplicate external_id" in detail
    assert Initiative.objects.count() == 0


def test_upload_dry_run_from_the_page(login, admin_user, django_capture_on_commit_callbacks):
    client = login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, fixture_bytes("good.csv"), dry_run=True)
    run = ImportRun.objects.get()
    assert run.dry_run and run.status == RunStatus.SUCCEEDED and run.rows_created == GOOD_ROWS
    assert Initiative.objects.count() == 0
    assert "would be created" in client.get(response["Location"]).content.decode()


def test_upload_form_rejects_other_files(login, admin_user):
    response = upload(login(admin_user), b"%PDF-1.7", name="inventory.pdf")
    assert response.status_code == 200
    assert "Upload a .csv file" in response.content.decode()
    assert not ImportRun.objects.exists()


def test_upload_form_rejects_files_over_5_mb(login, admin_user):
    response = upload(login(admin_user), csv_bytes({}) + b"#" * (5 * 1024 * 1024))
    assert response.status_code == 200
    assert "the limit is 5 MB" in response.content.decode()
    assert not ImportRun.objects.exists()


def test_detail_of_a_run_in_progress_refreshes_itself(login, admin_user):
    run = import_run_create(actor=admin_user, filename="later.csv", content=csv_bytes({}))
    page = login(admin_user).get(run.get_absolute_url()).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "refreshes every 2 seconds" in page


@pytest.mark.parametrize("role", [Role.OWNER, Role.REVIEWER, Role.EXECUTIVE])
def test_import_pages_are_for_administrators_only(login, admin_user, role):
    run = import_run_create(actor=admin_user, filename="x.csv", content=csv_bytes({}))
    client = login(UserFactory(role=role))
    for url in (reverse("portfolio:import_list"), reverse("portfolio:import_create"), run.get_absolute_url()):
        assert client.get(url).status_code == 403, url
    assert upload(client, csv_bytes({})).status_code == 403
    assert ImportRun.objects.count() == 1


def test_unknown_run_is_404_for_an_admin(login, admin_user):
    assert login(admin_user).get(reverse("portfolio:import_detail", args=[999999])).status_code == 404


def test_a_nul_byte_is_refused_with_its_line_and_nothing_is_written(db):
    before = counts()
    header = fixture_bytes("good.csv").split(b"\n", 1)[0]
    run = run_import(header.replace(b"name", b"na\x00me", 1) + b"\nINV-1,x\n")
    assert run.status == RunStatus.FAILED
    assert [(e["row"], e["column"]) for e in run.errors] == [(1, "")]
    assert "NUL byte" in run.errors[0]["message"] and "CSV UTF-8" in run.errors[0]["message"]
    assert counts() == before


def test_the_run_page_lists_the_initiatives_created_and_changed_with_links(login, admin_user):
    first = run_import(fixture_bytes("good.csv"), actor=admin_user)
    imported = import_run_initiatives(first)
    assert imported.created_total == GOOD_ROWS and imported.changed == []
    assert [i.external_id for i in imported.created] == sorted(Initiative.objects.values_list("external_id",
                                                                                                flat=True))
    second = run_import(fixture_bytes("good_modified.csv"), actor=admin_user, filename="good_modified.csv")
    imported = import_run_initiatives(second)
    assert imported.created == [] and [i.external_id for i in imported.changed] == ["INV-002", "INV-003"]
    assert imported.changed_total == second.rows_updated

    client = login(admin_user)
    html = client.get(reverse("portfolio:import_detail", args=[second.pk])).content.decode()
    changed = html[html.index('id="imported-changed"'):]
    changed = changed[:changed.index("</ul>")]
    for external_id in ("INV-002", "INV-003"):
        initiative = Initiative.objects.get(external_id=external_id)
        assert f'href="{initiative.get_absolute_url()}">{external_id} · {initiative.name}<' in changed
    assert "Created (0)" in html and "Changed (2)" in html
    dry = run_import(fixture_bytes("good_modified.csv"), actor=admin_user, dry_run=True)
    assert 'id="imported-' not in client.get(reverse("portfolio:import_detail", args=[dry.pk])).content.decode()


def test_the_run_page_runs_a_constant_number_of_queries(login, admin_user):
    client = login(admin_user)

    def queries(run: ImportRun) -> int:
        ContentType.objects.clear_cache()  # each page reads the audit rows' content types afresh: same start for both
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("portfolio:import_detail", args=[run.pk])).status_code == 200
        return len(captured)

    unpriced = {"seats_purchased": "5", "monthly_cost_usd": "0"}  # pools without a price, which the page lists
    few = run_import(csv_bytes({**ROW, **unpriced}, {**ROW, "external_id": "INV-901", **unpriced}), actor=admin_user)
    # Each run names new owners (whose missing passwords the page counts, in one query however many).
    many = run_import(csv_bytes(*({**ROW, "external_id": f"INV-{n}", "name": f"Reader {n}",
                                   "owner_email": f"reader{n}@example.com", **unpriced} for n in range(920, 932))),
                      actor=admin_user)
    assert many.rows_created == 12 and queries(few) == queries(many)


def test_the_run_page_names_the_licence_pools_it_created_without_a_price_with_a_link_to_price_them(
    login, admin_user, reviewer
):
    """Seats with a monthly cost of 0 make a pool at $0 a seat: the page used to say nothing of it."""
    run = run_import(csv_bytes(
        {"external_id": "INV-901", "name": "Chat helper", "seats_purchased": "40", "monthly_cost_usd": "0"},
        {"external_id": "INV-902", "name": "Code helper", "seats_purchased": "1", "monthly_cost_usd": "0"},
        {"external_id": "INV-903", "name": "Priced helper", "seats_purchased": "10", "monthly_cost_usd": "190"},
    ), actor=admin_user)
    assert run.status == RunStatus.SUCCEEDED, run.errors
    unpriced = selectors.import_run_pools_without_price(run)
    assert [(p.tool, p.initiative.external_id, p.price_per_seat_month) for p in unpriced] == [
        ("Chat helper", "INV-901", Decimal("0")), ("Code helper", "INV-902", Decimal("0"))]

    html = login(admin_user).get(reverse("portfolio:import_detail", args=[run.pk])).content.decode()
    listed = html[html.index('id="pools-without-price"'):]
    listed = listed[:listed.index("</div>")]
    assert "Licence pools created without a price (2)" in listed
    assert "Chat helper (OpenAI) · 40 seats · " in listed and "Code helper (OpenAI) · 1 seat · " in listed
    for pool in unpriced:
        assert f'href="{reverse("portfolio:licencepool_edit", args=[pool.pk])}">set its price</a>' in listed
    assert "Priced helper" not in listed

    # Once priced, a pool is no longer listed; a re-import that changes nothing lists none.
    LicencePool.objects.filter(pk=unpriced[0].pk).update(price_per_seat_month=Decimal("19"))
    assert [p.tool for p in selectors.import_run_pools_without_price(run)] == ["Code helper"]
    dry = run_import(csv_bytes({"external_id": "INV-904", "seats_purchased": "3", "monthly_cost_usd": "0"}),
                     actor=admin_user, dry_run=True)
    assert selectors.import_run_pools_without_price(dry) == []


def _queries_of_import(content: bytes, actor) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        run = run_import(content, actor=actor)
    assert run.status == RunStatus.SUCCEEDED, run.errors
    return [q["sql"] for q in captured.captured_queries]


def test_references_are_looked_up_once_per_name_not_once_per_row(admin_user):
    """No N+1 (a 5,000-row file made ~30 queries a row): the departments, cost centers, people, vendors and models
    rows share are looked up by name once per import, and the initiatives of a re-import are read in bulk."""
    def rows(n: int, first: int) -> bytes:
        return csv_bytes(*({"external_id": f"INV-{i}", "name": f"Reader {i}", "vendors": "OpenAI; Anthropic",
                            "models": "gpt-4o; claude-3", "seats_purchased": "5" if i % 2 else ""}
                           for i in range(first, first + n)))

    def by_name(sqls: list[str]) -> int:  # lookups in any case: LIKE on SQLite, UPPER() on PostgreSQL
        return sum(1 for sql in sqls if " LIKE " in sql or "UPPER(" in sql)

    _queries_of_import(rows(1, 0), admin_user)  # the references exist from here on
    few, many = rows(2, 100), rows(12, 200)
    assert by_name(_queries_of_import(few, admin_user)) == by_name(_queries_of_import(many, admin_user))
    assert len(_queries_of_import(few, admin_user)) == len(_queries_of_import(many, admin_user))  # all unchanged


def test_an_import_reports_its_progress_as_it_writes(admin_user, monkeypatch):
    """The run page counts the rows written so far (and a long import keeps its heartbeat)."""
    from portfolio.services.inventory_import import write
    from tollgate import jobs

    reported: list[int] = []
    monkeypatch.setattr(write, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(jobs, "run_progress", lambda run, done: reported.append(done))
    run = run_import(csv_bytes(*({"external_id": f"INV-{i}"} for i in range(5))), actor=admin_user)
    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert reported == [2, 4]


TYPO_ROW = {"external_id": "QA-200", "name": "Typo dept", "department": "Claimz", "cost_center": "CC-4210X",
            "owner_email": "jon.smith@example.com", "vendors": "OpenAl", "models": "gpt4o"}


@pytest.fixture
def claims(db):
    """What the typos of TYPO_ROW are typos of."""
    department = DepartmentFactory(name="Claims", code="claims")
    CostCenterFactory(code="CC-4210", department=department)
    AIModelFactory(name="gpt-4o", provider=VendorFactory(name="OpenAI"))
    UserFactory(email="john.smith@example.com", username="john.smith@example.com")
    return department


def test_a_dry_run_lists_the_reference_data_it_would_create_with_what_it_looks_like(admin_user, claims):
    """A dry run said "1 created" for a row whose typos would have made a new department, cost center, vendor, model
    and person; it lists each by name, with the existing one a typo is close to. Nothing is written."""
    before = counts()
    run = run_import(csv_bytes(TYPO_ROW, {"external_id": "QA-201", "department": "CLAIMS", "cost_center": "cc-4210",
                                          "owner_email": "Jon.Smith@example.com", "vendors": "openai; OpenAl"}),
                     actor=admin_user, dry_run=True)

    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert run.new_references == {
        "departments": {"total": 1, "names": [{"name": "Claimz", "did_you_mean": "Claims"}]},
        "cost_centers": {"total": 1, "names": [{"name": "CC-4210X", "did_you_mean": "CC-4210"}]},
        "vendors": {"total": 1, "names": [{"name": "OpenAl", "did_you_mean": "OpenAI"}]},
        "models": {"total": 1, "names": [{"name": "gpt4o", "did_you_mean": "gpt-4o"}]},
        "people": {"total": 1, "names": [{"name": "jon.smith@example.com", "did_you_mean": "john.smith@example.com"}]},
    }
    assert counts() == before  # and the names of row 3, which differ only in case, are the existing records



def test_a_new_address_is_compared_with_colleagues_by_the_part_before_the_at(admin_user, claims):
    """The shared domain made nearly every new address at the company "close" to some colleague (mary.jones to
    john.smith, newbie.owner to oscar.owner): only the part before the @ is compared, at the same domain, or the
    domain when that part is the same."""
    UserFactory(email="oscar.owner@example.com", username="oscar.owner@example.com")
    rows = [{**TYPO_ROW, "external_id": f"QA-21{i}", "name": f"Row {i}", "owner_email": email}
            for i, email in enumerate(["mary.jones@example.com", "Newbie.Owner@Example.com", "john.smith@example.co",
                                       "jon.smith@elsewhere.org"])]
    run = run_import(csv_bytes(*rows), actor=admin_user, dry_run=True)
    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert {n["name"]: n["did_you_mean"] for n in run.new_references["people"]["names"]} == {
        "mary.jones@example.com": None, "newbie.owner@example.com": None,
        "john.smith@example.co": "john.smith@example.com",  # a typo in the domain
        "jon.smith@elsewhere.org": None}  # another company's jon.smith

def test_the_command_and_the_run_page_list_the_reference_data_created(login, admin_user, claims, tmp_path, capsys):
    file = tmp_path / "typo.csv"
    file.write_bytes(csv_bytes(TYPO_ROW, {"external_id": "QA-201", "department": "Claims", "cost_center": "",
                                          "owner_email": "new.person@example.com", "vendors": "OpenAI",
                                          "models": ""}))
    call_command("import_initiatives", str(file), "--dry-run")
    out = capsys.readouterr().out
    assert "Would have: 2 created" in out
    assert "Would create 1 departments:\n  Claimz -- did you mean Claims?\n" in out
    assert "Would create 1 vendors:\n  OpenAl -- did you mean OpenAI?\n" in out
    assert ("Would create 2 people:\n  jon.smith@example.com -- did you mean john.smith@example.com?\n"
            "  new.person@example.com\n") in out

    call_command("import_initiatives", str(file))
    out = capsys.readouterr().out
    assert "Created 1 cost centers:\n  CC-4210X -- did you mean CC-4210?\n" in out
    run = ImportRun.objects.latest("pk")
    page = login(admin_user).get(run.get_absolute_url()).content.decode()
    assert "Reference data created" in page
    assert re.search(r"Claimz\s*<strong[^>]*>did you mean Claims\?</strong>", page)
    assert "new.person@example.com" in page

    call_command("import_initiatives", str(file))  # everything exists now
    out = capsys.readouterr().out
    assert "Created" not in out and ImportRun.objects.latest("pk").new_references == {}


def test_the_run_page_says_new_owners_have_no_password_and_links_to_invite_them(login, admin_user):
    run = run_import(fixture_bytes("good.csv"), actor=admin_user, filename="good.csv")
    new_people = run.new_references["people"]["total"]
    assert new_people > 1
    url = reverse("portfolio:import_detail", args=[run.pk])
    page = login(admin_user).get(url).content.decode()
    invite = f'<a href="{reverse("portfolio:person_list")}#invite-all">invite them</a>'
    assert f"{new_people} new owners have no password yet: {invite}" in page
    newcomer = get_user_model().objects.get(email__iexact=run.new_references["people"]["names"][0]["name"])
    newcomer.set_password("chosen-by-them-1")
    newcomer.save()
    assert f"{new_people - 1} new owner" in login(admin_user).get(url).content.decode()
    dry = run_import(fixture_bytes("good.csv"), actor=admin_user, dry_run=True)
    assert "no password yet" not in login(admin_user).get(
        reverse("portfolio:import_detail", args=[dry.pk])).content.decode()
