"""The use-case catalogue loader: idempotent create/update by code, administrators' entries kept, bad files refused."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.core.management.base import CommandError

from governance.choices import AuditEvent
from governance.models import UseCase
from governance.sprawl.engine.catalogue import CATALOGUE_PATH, CatalogueError, use_case_catalogue_parse
from governance.sprawl.services.use_cases import use_case_catalogue_load
from tests import paths

SMALL = paths.FIXTURES / "use_cases" / "small.yaml"
SMALL_CODES = {"meeting-notes", "campaign-image-generation", "customer-support-chatbot"}

pytestmark = pytest.mark.django_db


@pytest.fixture
def empty_catalogue(db):
    """Start without any use case (the shipped catalogue may have been loaded on migrate)."""
    UseCase.objects.all().delete()


def catalogue_events() -> int:
    return LogEntry.objects.filter(additional_data__event=AuditEvent.CATALOGUE_LOADED).count()


def test_load_creates_every_entry_with_its_version(empty_catalogue):
    result = use_case_catalogue_load(path=SMALL)
    assert set(result.created) == SMALL_CODES
    notes = UseCase.objects.get(code="meeting-notes")
    assert notes.name == "Meeting notes and summaries"
    assert notes.catalogue_version == "2026.11-test"
    assert notes.synonyms == ["meeting summariser", "minutes"]
    assert catalogue_events() == 3


def test_second_load_writes_nothing(empty_catalogue, django_assert_num_queries):
    use_case_catalogue_load(path=SMALL)
    stamps = dict(UseCase.objects.values_list("code", "updated_at"))
    events = catalogue_events()
    with django_assert_num_queries(3):  # savepoint, read, release: no writes
        result = use_case_catalogue_load(path=SMALL)
    assert not result.changed and set(result.unchanged) == SMALL_CODES
    assert dict(UseCase.objects.values_list("code", "updated_at")) == stamps
    assert catalogue_events() == events


def test_new_version_updates_by_code_keeps_admin_entries_and_retires_dropped_ones(empty_catalogue, tmp_path):
    use_case_catalogue_load(path=SMALL)
    admin_added = UseCase.objects.create(code="claims-triage", name="Claims triage", job="Route insurance claims.")
    text = SMALL.read_text().replace('version: "2026.11-test"', 'version: "2027.01"')
    text = text.replace("Turn recorded meetings", "Turn recorded calls and meetings")
    start = text.index("  - code: customer-support-chatbot")
    (tmp_path / "next.yaml").write_text(text[:start])

    result = use_case_catalogue_load(path=tmp_path / "next.yaml")

    assert set(result.updated) == {"meeting-notes", "campaign-image-generation"}
    assert result.retired == ["customer-support-chatbot"]
    notes = UseCase.objects.get(code="meeting-notes")
    assert notes.job.startswith("Turn recorded calls and meetings") and notes.catalogue_version == "2027.01"
    retired = UseCase.objects.get(code="customer-support-chatbot")
    assert not retired.is_active  # deactivated, not deleted: initiatives may still point at it
    admin_added.refresh_from_db()
    assert admin_added.is_active and admin_added.catalogue_version == ""
    row = LogEntry.objects.filter(object_pk=str(notes.pk), additional_data__event=AuditEvent.CATALOGUE_LOADED)
    row = row.order_by("pk").last()
    assert row.additional_data["version"] == "2027.01"
    assert "job" in row.changes_dict


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: '1'\nuse_cases: [{code: a, name: A, job: x", "not valid YAML"),
        ("- just a list", "expected a mapping"),
        ("use_cases:\n  - {code: a, name: A, job: j, functions: [], inputs: [], outputs: [], synonyms: [], "
         "vendor_products: []}", "'version' is missing"),
        ("version: '1'\nuse_cases: []", "'use_cases' must be a non-empty list"),
        ("version: '1'\nuse_cases:\n  - {code: meeting-notes, name: Notes, job: j}",
         "Entry 1 ('meeting-notes'): missing key(s) functions, inputs, outputs, synonyms, vendor_products"),
        ("version: '1'\nuse_cases:\n  - {code: Bad Code, name: N, job: j, functions: [], inputs: [], outputs: [], "
         "synonyms: [], vendor_products: []}", "Entry 1 ('Bad Code'): 'code' must be a slug"),
        ("version: '1'\nuse_cases:\n  - {code: a, name: N, job: j, functions: x, inputs: [], outputs: [], "
         "synonyms: [], vendor_products: x}", "'functions' must be a list of non-empty texts; 'vendor_products' must"),
        ("version: '1'\nuse_cases:\n  - {code: a, name: N, job: j, functions: [], inputs: [], outputs: [], "
         "synonyms: [], vendor_products: [], synonym: []}", "unknown key(s) synonym"),
        ("version: '1'\nuse_cases:\n  - {code: a, name: N, job: j, functions: [], inputs: [], outputs: [], "
         "synonyms: [], vendor_products: []}\n  - {code: a, name: M, job: '', functions: [], inputs: [], "
         "outputs: [], synonyms: [], vendor_products: []}",
         "Entry 2 ('a'): 'job' must be non-empty text; code 'a' is already used by entry 1"),
    ],
)
def test_bad_catalogue_names_the_problem(text, expected):
    with pytest.raises(CatalogueError) as caught:
        use_case_catalogue_parse(text, source="bad.yaml")
    assert expected in " ".join(caught.value.messages)


def test_a_catalogue_still_listing_not_is_refused_naming_each_entry_and_writes_nothing(empty_catalogue, tmp_path):
    """`not` (the neighbouring jobs an archetype is not) went in 2026.12: the scorer never read it. An operator's own
    file that still has it is told so, entry by entry, rather than have it dropped silently."""
    text = SMALL.read_text()
    text = text.replace("    vendor_products: [Otter.ai, Fireflies, Microsoft Teams Premium]\n",
                        "    vendor_products: [Otter.ai, Fireflies, Microsoft Teams Premium]\n"
                        "    not: [call-centre quality monitoring]\n")
    text = text.replace("    vendor_products: [Intercom Fin, Zendesk AI agents]\n",
                        "    vendor_products: [Intercom Fin, Zendesk AI agents]\n    not: []\n")
    assert text.count("    not: [") == 2
    (tmp_path / "own.yaml").write_text(text)
    with pytest.raises(CatalogueError) as caught:
        use_case_catalogue_load(path=tmp_path / "own.yaml")
    reason = "'not' was removed in catalogue 2026.12: the scorer never used it; delete the key"
    assert caught.value.messages == [f"Entry 1 ('meeting-notes'): {reason}.",
                                     f"Entry 3 ('customer-support-chatbot'): {reason}."]
    assert not UseCase.objects.exists()

    # Over a loaded catalogue, a newer version that still has `not` changes nothing either.
    use_case_catalogue_load(path=SMALL)
    stamps = dict(UseCase.objects.values_list("code", "updated_at"))
    events = catalogue_events()
    newer = text.replace('version: "2026.11-test"', 'version: "2027.01"').replace("Turn recorded", "Turn taped")
    (tmp_path / "newer.yaml").write_text(newer)
    with pytest.raises(CommandError, match=r"Entry 1 \('meeting-notes'\): 'not' was removed.*nothing was changed"):
        call_command("load_use_cases", str(tmp_path / "newer.yaml"))
    assert dict(UseCase.objects.values_list("code", "updated_at")) == stamps
    assert set(UseCase.objects.values_list("catalogue_version", flat=True)) == {"2026.11-test"}
    assert catalogue_events() == events


def test_bad_file_writes_nothing_even_when_other_entries_are_fine(empty_catalogue, tmp_path):
    text = SMALL.read_text() + "  - code: broken\n    name: Broken\n"
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(CommandError, match=r"Entry 4 \('broken'\): missing key\(s\) job.*nothing was changed"):
        call_command("load_use_cases", str(tmp_path / "bad.yaml"))
    assert not UseCase.objects.exists()
    assert catalogue_events() == 0


def test_command_reports_counts(empty_catalogue, capsys):
    call_command("load_use_cases", str(SMALL))
    assert "3 created, 0 updated, 0 unchanged, 0 retired" in capsys.readouterr().out


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match=r"Cannot read the use-case catalogue .*nope.yaml"):
        call_command("load_use_cases", str(tmp_path / "nope.yaml"))


@pytest.mark.skipif(not CATALOGUE_PATH.exists(), reason="the shipped catalogue file has not landed yet")
def test_shipped_catalogue_is_valid_and_loaded_on_migrate():
    version, entries = use_case_catalogue_parse(CATALOGUE_PATH.read_text(), source=CATALOGUE_PATH.name)
    assert len(entries) >= 150
    # post_migrate loaded it into the test database already.
    assert UseCase.objects.filter(catalogue_version=version).count() == len(entries)
