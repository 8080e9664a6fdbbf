"""One filterset per governance resource: the audit trail, use cases and sprawl clusters select the same rows on the
page and in the API for the same query string (sprawl's page alone starts on the open clusters)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from governance.choices import AuditEvent, SprawlStatus
from governance.services import initiative_transition
from portfolio.choices import Stage
from portfolio.models import Initiative
from tests.factories import (
    DepartmentFactory,
    InitiativeFactory,
    KPIFactory,
    LicencePoolFactory,
    ValueReportFactory,
)
from tests.governance.sprawl.factories import InitiativeUseCaseFactory, SprawlClusterFactory, UseCaseFactory
from tests.page_and_api import api_keys, assert_page_and_api_agree, page_keys

pytestmark = pytest.mark.django_db


def test_audit_trail(client, api_client, admin_user, owner, initiative):
    InitiativeFactory(name="Contract reviewer", owner=owner)
    Initiative.objects.filter(pk=initiative.pk).update(stage=Stage.PRODUCTION)
    initiative_transition(actor=admin_user, initiative=initiative, transition="kill", reason="No value.")
    today = timezone.localdate()
    assert_page_and_api_agree(client, api_client, admin_user, "/governance/audit/", "/api/governance/audit-entries/", [
        {"initiative": initiative.external_id}, {"initiative": "contract"}, {"actor": admin_user.pk},
        {"event": AuditEvent.TRANSITION}, {"event": AuditEvent.FIELD_CHANGE}, {"since": today.isoformat()},
        {"until": (today - timedelta(days=1)).isoformat()}, {"record": "initiatives"}, {"record": "people"},
        {"record": "people", "event": AuditEvent.FIELD_CHANGE},
    ])


def reports_and_pools_audited(initiative, actor):
    """A value report of the initiative submitted, measured, given an attachment and a verdict, and a licence pool:
    every entry's text names the initiative, none its external id."""
    from reviews.models import KpiActual, ReportAttachment, Verdict
    from tollgate.audit import audit_event

    report = ValueReportFactory(initiative=initiative)
    audit_event(report, actor=actor, event=AuditEvent.REPORT_SUBMITTED)
    KpiActual.objects.create(report=report, kpi=KPIFactory(initiative=initiative), actual=Decimal("3"))
    ReportAttachment.objects.create(report=report, file="reviews/evidence.txt", original_name="evidence.txt",
                                    size=1)
    Verdict.objects.create(report=report, reviewer=actor, decision="continue", rationale="Fine.")
    LicencePoolFactory(initiative=initiative, tool="Copilot seats")
    return report


def test_the_initiative_filter_finds_its_reports_and_licence_pools_by_external_id(
        client, api_client, admin_user, initiative, django_assert_max_num_queries):
    reports_and_pools_audited(initiative, admin_user)
    reports_and_pools_audited(InitiativeFactory(), admin_user)  # another initiative's: never found
    by_name = set(LogEntry.objects.filter(object_repr__icontains=initiative.name).values_list("pk", flat=True))
    pool = LogEntry.objects.get(content_type__model="licencepool", object_repr__startswith="Copilot seats",
                                object_id=initiative.licence_pools.get().pk)
    kinds = {"valuereport", "kpiactual", "reportattachment", "verdict", "licencepool"}
    client.force_login(admin_user)
    found = page_keys(client, "/governance/audit/", {"initiative": initiative.external_id})
    assert by_name | {pool.pk} <= found
    assert kinds <= set(LogEntry.objects.filter(pk__in=found).values_list("content_type__model", flat=True))
    assert found == page_keys(client, "/governance/audit/", {"initiative": initiative.name}) | {pool.pk}
    api_client.force_authenticate(admin_user)
    assert api_keys(api_client, "/api/governance/audit-entries/", {"initiative": initiative.external_id}) == found
    exported = client.get("/governance/audit/", {"initiative": initiative.external_id, "_export": "csv"})
    assert exported.content.count(b"Licence pool: Copilot seats") == 1
    # The related records are subqueries: one query for the rows; then one per kind of record the changes name by id
    # (initiative, KPI, vendor, review cycle, people, department, cost center), read once for the page.
    with django_assert_max_num_queries(17):
        client.get("/governance/audit/", {"initiative": initiative.external_id})


def test_use_cases(client, api_client, admin_user, initiative):
    used = UseCaseFactory(code="zz-invoice-capture", name="Zz invoice capture", job="Reads invoices.")
    UseCaseFactory(code="zz-contract-review", name="Zz contract review", job="Reads contracts.", is_active=False)
    InitiativeUseCaseFactory(initiative=initiative, use_case=used)
    assert_page_and_api_agree(client, api_client, admin_user, "/governance/use-cases/",
                              "/api/governance/use-cases/", [
                                  {"q": "zz"}, {"q": "zz", "used": "true"}, {"q": "zz", "used": "false"},
                                  {"q": "zz", "is_active": "false"}, {"q": "contracts"},
                              ], page_key="code", api_key="code")


def test_sprawl_clusters(client, api_client, admin_user, initiative, other_initiative):
    finance = DepartmentFactory(name="Finance")
    invoice = InitiativeFactory(name="Invoice reader", department=finance)
    chat = UseCaseFactory(code="zz-chat", name="Zz chat")
    SprawlClusterFactory(title="Meeting notes", initiatives=[initiative, other_initiative])
    SprawlClusterFactory(title="Invoices", initiatives=[invoice, InitiativeFactory()], use_case=chat)
    SprawlClusterFactory(title="Chatbots", status=SprawlStatus.DISMISSED, initiatives=[initiative, invoice])
    assert_page_and_api_agree(client, api_client, admin_user, "/governance/sprawl/",
                              "/api/governance/sprawl-clusters/", [
                                  {"status": ""}, {"status": SprawlStatus.OPEN}, {"status": SprawlStatus.DISMISSED},
                                  {"status": "", "department": finance.pk}, {"status": "", "q": "invoice"},
                                  {"status": "", "use_case": chat.pk},
                              ])


def test_the_sprawl_page_starts_on_the_open_clusters_and_the_api_on_all(client, api_client, admin_user, initiative,
                                                                     other_initiative):
    SprawlClusterFactory(title="Open one", initiatives=[initiative, other_initiative])
    SprawlClusterFactory(title="Dismissed one", status=SprawlStatus.DISMISSED, initiatives=[initiative])
    client.force_login(admin_user)
    api_client.force_authenticate(admin_user)
    page = client.get("/governance/sprawl/")
    assert [c.title for c in page.context["object_list"]] == ["Open one"]
    assert 'value="open" selected' in page.content.decode()
    api = api_client.get("/api/governance/sprawl-clusters/").json()
    assert {c["title"] for c in api["results"]} == {"Open one", "Dismissed one"}


def test_the_initiative_filter_keeps_entries_about_records_deleted_since(client, api_client, admin_user, owner):
    """A KPI actual cleared from a draft, an attachment taken off it and a KPI removed are gone, but the entries
    about them stay in their initiative's trail (page, API and CSV alike); another initiative's never show."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from reviews import services
    from tests.factories import BusinessCaseFactory

    initiative = InitiativeFactory(owner=owner, stage=Stage.PILOT)
    BusinessCaseFactory(initiative=initiative)
    kept, removed = KPIFactory(initiative=initiative, name="Kept"), KPIFactory(initiative=initiative, name="Gone")
    report = ValueReportFactory(initiative=initiative)
    services.value_report_save_draft(actor=owner, report=report, kpi_actuals={kept.pk: Decimal("-5")})
    services.value_report_save_draft(actor=owner, report=report, kpi_actuals={kept.pk: None})
    attachment = services.attachment_add(actor=owner, report=report,
                                         file=SimpleUploadedFile("evidence.csv", b"a,b\n1,2\n"))
    services.attachment_remove(actor=owner, attachment=attachment)
    removed.delete()
    ValueReportFactory(initiative=InitiativeFactory())  # another initiative's: never found
    about = {model: set(LogEntry.objects.filter(content_type__model=model).values_list("pk", flat=True))
             for model in ("kpiactual", "reportattachment", "kpi")}
    deletions = set(LogEntry.objects.filter(action=LogEntry.Action.DELETE).values_list("content_type__model",
                                                                                           flat=True))
    assert deletions == set(about)
    client.force_login(admin_user)
    found = page_keys(client, "/governance/audit/", {"initiative": initiative.external_id})
    assert set().union(*about.values()) <= found
    api_client.force_authenticate(admin_user)
    assert api_keys(api_client, "/api/governance/audit-entries/", {"initiative": initiative.external_id}) == found
    exported = client.get("/governance/audit/", {"initiative": initiative.external_id, "_export": "csv"})
    assert exported.content.count(b"\n") - 1 == len(found)
    assert b"evidence.csv" in exported.content
    other = page_keys(client, "/governance/audit/", {"initiative": InitiativeFactory().external_id})
    assert not other & found


def test_existing_entries_are_linked_to_their_initiative_by_the_migration(owner):
    """Entries written before entries named their initiative: the migration links them through the record when it
    exists, else through the parent their changes name (a deleted actual's report)."""
    from importlib import import_module

    from django.apps import apps

    from portfolio.models import AuditEntryInitiative
    from reviews import services

    initiative = InitiativeFactory(owner=owner, stage=Stage.PILOT)
    kpi = KPIFactory(initiative=initiative)
    report = ValueReportFactory(initiative=initiative)
    services.value_report_save_draft(actor=owner, report=report, kpi_actuals={kpi.pk: Decimal("3")})
    services.value_report_save_draft(actor=owner, report=report, kpi_actuals={kpi.pk: None})
    linked = dict(AuditEntryInitiative.objects.values_list("entry_id", "initiative_id"))
    assert len(linked) >= 3
    AuditEntryInitiative.objects.all().delete()
    import_module("portfolio.migrations.0032_audit_entry_initiative").link_existing_entries(apps, None)
    import_module("reviews.migrations.0009_audit_entries_name_their_initiative").link_existing_entries(apps, None)
    assert dict(AuditEntryInitiative.objects.values_list("entry_id", "initiative_id")) == linked
