"""The API against its own OpenAPI schema: schemathesis fuzzes every operation with every role's token.

The schema is the one served at /api/schema/; requests go through Django's WSGI application in this process (no
network, no live server), against the demo company so that detail endpoints get ids of real objects. Every example
runs in a savepoint that is rolled back, so POST, PUT, PATCH and DELETE are fuzzed too without one example changing
what the next one sees. Bounded and reproducible: a fixed number of derandomized examples per operation, no deadline.

Run alone: pytest tests/tollgate/test_api_schema_fuzz.py
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import hypothesis
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.urls import resolve
from django.utils import timezone
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from governance.policies import BY_KEY as POLICIES
from portfolio.models import CurrencyRate, Initiative
from tollgate.demo import data as demo_data
from tollgate.roles import Role

# Examples per operation, valid and invalid (by the schema) data mixed; each is sent with every role's token.
MAX_EXAMPLES = 5
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# The demo company's login of each role (tollgate/demo/northwind/company.yaml).
DEMO_LOGINS = {Role.OWNER: "owner", Role.REVIEWER: "reviewer", Role.EXECUTIVE: "executive", Role.ADMIN: "admin"}
# Views that answer about an initiative without a queryset of their own (they call selectors and services).
MODELS_OF_VIEWS_WITHOUT_QUERYSET = {"/api/governance/initiatives/{id}/": Initiative}
# Real ids per operation: the first objects of the view's queryset, enough for variety.
IDS_PER_OPERATION = 40


@contextmanager
def keeping_the_connection() -> Iterator[None]:
    """Requests to Django's WSGI application that keep the test's connection: a request's start and end would close
    it (and lose the rolled-back transaction the demo lives in), which is why Django's test client does the same."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def token_of(username: str) -> str:
    """The role's API token, asked for at the token endpoint like a client would."""
    response = APIClient().post("/api/auth/token/", {"username": username, "password": demo_data.DEMO_PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def real_ids(operation: Any) -> dict[str, list[Any]]:
    """Values of real objects for each path parameter, from the queryset of the view that answers the operation."""
    names = [parameter.name for parameter in operation.path_parameters]
    if not names:
        return {}
    if operation.path.startswith("/api/governance/policies/"):  # policies are declared in code, not rows
        return {names[0]: sorted(POLICIES)}
    path = operation.path
    for name in names:
        path = path.replace("{" + name + "}", "1")
    cls = getattr(resolve(path).func, "cls", None)
    model = next((m for prefix, m in MODELS_OF_VIEWS_WITHOUT_QUERYSET.items() if operation.path.startswith(prefix)),
                 None) or getattr(getattr(cls, "queryset", None), "model", None)
    if model is None:  # a get_queryset() needing a request: the serializer names the model
        model = getattr(getattr(getattr(cls, "serializer_class", None), "Meta", None), "model", None)
    assert model is not None, f"{operation.label}: no queryset on {cls} to take real ids from"
    assert len(names) == 1, f"{operation.label}: one path parameter expected"
    lookup = getattr(cls, "lookup_field", "pk")
    values = list(model._default_manager.order_by("pk").values_list(lookup, flat=True)[:IDS_PER_OPERATION])
    assert values, f"{operation.label}: the demo company has no {model.__name__}"
    return {names[0]: values}


def fuzz_operation(operation: Any, tokens: dict[Role, str]) -> str | None:
    """Run the operation's examples, each sent once with every role's token; the failure report, or None."""
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @hypothesis.given(case=strategy, data=st.data())
    def run(case: Any, data: st.DataObject) -> None:
        for name, values in ids.items():
            # Mostly a real object; now and then the generated value (an id that does not exist, or a bad one).
            if data.draw(st.integers(0, 4), label="generated id") != 0:
                case.path_parameters[name] = data.draw(st.sampled_from(values), label=name)
        for role, token in tokens.items():
            with keeping_the_connection(), transaction.atomic():
                try:
                    response = case.call(headers={"Authorization": f"Token {token}"})
                    try:
                        case.validate_response(response, checks=CHECKS)
                    except (Exception, BaseExceptionGroup) as exc:
                        exc.add_note(f"as {role.value}")
                        raise
                finally:
                    transaction.set_rollback(True)

    try:
        ids = real_ids(operation)
        run()
    except (Exception, BaseExceptionGroup) as exc:  # every operation runs; the failures are reported together
        notes = "; ".join(getattr(exc, "__notes__", []))
        return f"{operation.label} ({notes}):\n{exc}"
    return None


def complete_the_demo() -> None:
    """What the demo company lacks and an operation needs an id of: a currency rate (it reports in one currency) and
    a finished sprawl run (the demo detects sprawl without a run record), a verdict on a possible-duplicate pair and
    a finished label check."""
    from governance.choices import DuplicateVerdict
    from governance.models import DuplicatePairDecision, SprawlLabelCheck, SprawlRun
    from portfolio.choices import RunStatus

    CurrencyRate.objects.create(currency="EUR", valid_from=date(2025, 1, 1), rate_to_reporting=Decimal("1.08"))
    SprawlRun.objects.create(status=RunStatus.SUCCEEDED, initiatives=120, clusters_found=4)
    first, second = Initiative.objects.order_by("pk")[:2]
    DuplicatePairDecision.objects.create(initiative_a=first, initiative_b=second, verdict=DuplicateVerdict.DUPLICATE,
                                         decided_at=timezone.now())
    SprawlLabelCheck.objects.create(
        status=RunStatus.SUCCEEDED, filename="labels.csv", labels={first.external_id: "x", second.external_id: "x"},
        result={"precision": 0.0, "recall": 0.0, "f1": 0.0, "top": 5, "top_hit_rate": 1.0,
                "missed_pairs": [sorted([first.external_id, second.external_id])], "wrong_pairs": [],
                "without_partner": [], "names": {}})


def test_every_operation_conforms_to_the_schema_for_every_role(demo, settings):
    settings.API_RATE_LIMIT = ""  # thousands of requests a minute with each role's token (the limit has its own tests)
    complete_the_demo()
    tokens = {role: token_of(username) for role, username in DEMO_LOGINS.items()}
    with keeping_the_connection():
        schema = schemathesis.openapi.from_wsgi(
            "/api/schema/", WSGIHandler(), headers={"Authorization": f"Token {tokens[Role.ADMIN]}"}
        )
    failures = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        failure = fuzz_operation(operation, tokens)
        if failure:
            failures.append(failure)
    assert operations > 100
    assert not failures, f"{len(failures)} of {operations} operations failed:\n\n" + "\n\n".join(failures)
