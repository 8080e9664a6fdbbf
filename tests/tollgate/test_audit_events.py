"""One registry of audit events (tollgate/audit_events.py): every event the code writes is declared there, the audit
page's Event filter offers each, and a writer naming an undeclared one is refused."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from governance.filtersets import AuditFilterSet
from tests.paths import REPO
from tollgate.audit import audit_event, audit_events, audit_table_event
from tollgate.audit_events import AuditEvent

APPS = ("portfolio", "governance", "reviews", "tollgate")


def _strings(node: ast.AST) -> Iterator[str]:
    """The string constants an expression may evaluate to ("a" if x else "b" gives both); none for a call or a
    name (a value worked out at run time is refused by the writer itself)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _strings(node.body)
        yield from _strings(node.orelse)


def events_written() -> dict[str, str]:
    """Every event name the source writes, by where: an `event=` argument, an `event`/`EVENT` variable (a migration's,
    or one chosen before the call) or an `{"event": ...}` written into additional_data."""
    found: dict[str, str] = {}
    for app in APPS:
        for path in sorted((REPO / app).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                values: list[ast.AST] = []
                if isinstance(node, ast.keyword) and node.arg == "event":
                    values.append(node.value)
                elif isinstance(node, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id in ("event", "EVENT") for t in node.targets):
                    values.append(node.value)
                elif isinstance(node, ast.Dict):
                    values.extend(v for k, v in zip(node.keys, node.values, strict=True)
                                  if isinstance(k, ast.Constant) and k.value == "event")
                for value in values:
                    if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) \
                            and value.value.id == "AuditEvent":
                        found[AuditEvent[value.attr].value] = f"{Path(path).relative_to(REPO)}:{node.lineno}"
                    for name in _strings(value):
                        found.setdefault(name, f"{Path(path).relative_to(REPO)}:{getattr(node, 'lineno', 0)}")
    return found


def test_every_event_the_code_writes_is_declared_and_offered_by_the_event_filter():
    written = events_written()
    assert {"ingestion_run_started", "allocation_rule_created", "cost_forecast_computed", "transition",
            "empty_business_case_removed"} <= set(written)  # the scan reads calls, variables and migrations alike
    undeclared = {name: where for name, where in written.items() if name not in AuditEvent.values}
    assert undeclared == {}
    offered = {value for value, _ in AuditFilterSet.base_filters["event"].extra["choices"]}
    assert set(AuditEvent.values) <= offered


@pytest.mark.django_db
def test_an_undeclared_event_is_refused_and_writes_nothing(admin_user):
    for write in (lambda: audit_event(admin_user, actor=admin_user, event="made_up_event"),
                  lambda: audit_events([admin_user], actor=admin_user, event="made_up_event"),
                  lambda: audit_table_event(LogEntry, actor=admin_user, event="field_change", what="rows")):
        with pytest.raises(ValueError, match="not an audit event declared in tollgate/audit_events.py"):
            write()
    assert not LogEntry.objects.filter(additional_data__event__in=["made_up_event", "field_change"]).exists()


@pytest.mark.django_db
def test_the_audit_page_filters_by_an_event_the_cost_services_write(login, admin_user):
    """`?event=ingestion_run_started` answered 400 "not an event": the filter offered a hand list of 45."""
    from portfolio.costs.services.sources import cost_source_create

    source = cost_source_create(actor=admin_user, name="aws-focus", type="focus", settings={})
    client = login(admin_user)
    page = client.get(reverse("governance:audit"), {"event": "cost_source_created"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "Cost source created" in body and source.name in body
    assert '<option value="ingestion_run_started">Ingestion run started</option>' in body
    assert client.get(reverse("governance:audit"), {"event": "ingestion_run_started"}).status_code == 200
