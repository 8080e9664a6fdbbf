"""Role-matrix rows of the governance pages and API (merged into tests/test_roles_matrix.py)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from tests.matrix import (
    ADMIN,
    ADMIN_ONLY,
    API_ADMIN_WRITE,
    API_ANON,
    API_READ,
    EXECUTIVE,
    OWNER,
    PAGE_READ,
    REVIEWER,
    Case,
    May,
    only,
)

REVIEWER_ONLY = only({REVIEWER: 200})
AUDIT_READERS = only({REVIEWER: 200, EXECUTIVE: 200, ADMIN: 200})
OWNER_OR_ADMIN = only({OWNER: 200, ADMIN: 200})
SIGNAL_READERS = only({OWNER: 200, REVIEWER: 200, EXECUTIVE: 200, ADMIN: 200})
# A refused transition (an empty POST fails the guard or lacks the reason) re-shows its form with the errors: 400.
OWNER_OR_ADMIN_REFUSED = only({OWNER: 400, ADMIN: 400})
REVIEWER_REFUSED = only({REVIEWER: 400})

ROWS: dict[str, list[Case]] = {
    "governance:queue": [Case(REVIEWER_ONLY), Case(REVIEWER_ONLY, query="_export=csv")],
    # Owners, delegates and executives never score; an empty POST re-shows the form with errors (200).
    "governance:score": [Case(REVIEWER_ONLY, obj="own_in_review"),
                         Case(REVIEWER_ONLY, method="post", obj="own_in_review")],
    # Transition pages: GET shows the guard status; an empty POST fails the guard or the reason (400, form errors).
    "governance:transition_submit": [Case(OWNER_OR_ADMIN, obj="own"),
                                     Case(OWNER_OR_ADMIN_REFUSED, method="post", obj="own")],
    # Withdrawing an intake in review: its owner (or an admin); an empty POST lacks the reason (400, form errors).
    "governance:transition_withdraw": [Case(OWNER_OR_ADMIN, obj="own_in_review"),
                                       Case(OWNER_OR_ADMIN_REFUSED, method="post", obj="own_in_review")],
    "governance:transition_request_changes": [Case(REVIEWER_ONLY, obj="own_in_review"),
                                              Case(REVIEWER_REFUSED, method="post", obj="own_in_review")],
    "governance:transition_approve": [Case(REVIEWER_ONLY, obj="own_in_review"),
                                      Case(REVIEWER_REFUSED, method="post", obj="own_in_review")],
    "governance:transition_reject": [Case(REVIEWER_ONLY, obj="own_in_review"),
                                     Case(REVIEWER_REFUSED, method="post", obj="own_in_review")],
    "governance:transition_start_pilot": [Case(OWNER_OR_ADMIN, obj="own")],
    "governance:transition_promote": [Case(only({OWNER: 200, REVIEWER: 200, ADMIN: 200}), obj="own")],
    "governance:transition_retire": [Case(OWNER_OR_ADMIN, obj="own")],
    "governance:transition_kill": [Case(only({REVIEWER: 200, ADMIN: 200}), obj="own"),
                                   Case(only({REVIEWER: 400, ADMIN: 400}), method="post", obj="own")],
    "governance:audit": [Case(AUDIT_READERS), Case(AUDIT_READERS, query="_export=csv"),
                         Case(AUDIT_READERS, query="event=transition&initiative=EXT&since=2020-01-01")],
    "governance:policy_list": [Case(PAGE_READ), Case(PAGE_READ, query="_export=csv")],
    "governance:policy_edit": [Case(ADMIN_ONLY, obj="policy"), Case(ADMIN_ONLY, method="post", obj="policy")],
    "governance:rubric": [Case(PAGE_READ)],
    # API
    "governance_api:transitions": [
        Case(only({OWNER: 400, REVIEWER: 400, ADMIN: 400}, anon=API_ANON), method="post", obj="own"),
    ],
    "governance_api:scores": [
        Case(API_READ, obj="own_in_review"),
        Case(only({REVIEWER: 400}, anon=API_ANON), method="post", obj="own_in_review"),
    ],
    "governance_api:policy-list": [Case(API_READ)],
    # An empty PUT or PATCH of a policy lacks its value (400) for administrators.
    "governance_api:policy-detail": [Case(API_READ, obj="policy"),
                                     Case(May("governance.change_policy", 400), method="put", obj="policy"),
                                     Case(May("governance.change_policy", 400), method="patch", obj="policy")],
    "governance_api:rubriccriterion-list": [Case(API_READ)],
    "governance_api:rubriccriterion-detail": [Case(API_READ, obj="criterion")],
    "governance_api:auditentry-list": [Case(only({REVIEWER: 200, EXECUTIVE: 200, ADMIN: 200}, anon=API_ANON))],
    # Sprawl detection: everyone with a role reads clusters and use cases; reviewers and admins who own no member
    # decide a cluster (the cluster holds the owner's and the other owner's initiatives); an empty dismiss or
    # remove-member fails on the missing reason / member (400). Use cases of an initiative: its editors and reviewers.
    "governance:sprawl_list": [Case(PAGE_READ), Case(PAGE_READ, query="_export=csv"),
                               Case(PAGE_READ, query="status=&q=notes&sort=-score")],
    "governance:sprawl_detail": [Case(PAGE_READ, obj="cluster")],
    "governance:sprawl_confirm": [Case(only({REVIEWER: 302, ADMIN: 302}), method="post", obj="cluster")],
    "governance:sprawl_dismiss": [Case(only({REVIEWER: 400, ADMIN: 400}), method="post", obj="cluster")],
    "governance:sprawl_member_remove": [Case(only({REVIEWER: 400, ADMIN: 400}), method="post", obj="cluster")],
    "governance:sprawl_recompute": [Case(only({REVIEWER: 302, ADMIN: 302}), method="post")],
    "governance:sprawl_run_detail": [Case(PAGE_READ, obj="sprawl_run")],
    # Measuring the detector against a labels file: reviewers and admins (an empty POST re-shows the form with its
    # error, 200); reviewers, executives and admins read a check and export its pairs.
    "governance:sprawl_check_new": [Case(only({REVIEWER: 200, ADMIN: 200})),
                                    Case(only({REVIEWER: 200, ADMIN: 200}), method="post")],
    "governance:sprawl_check_template": [Case(only({REVIEWER: 200, ADMIN: 200}))],
    "governance:sprawl_check_detail": [Case(AUDIT_READERS, obj="label_check"),
                                       Case(AUDIT_READERS, obj="label_check", query="kind=missed"),
                                       Case(AUDIT_READERS, obj="label_check", query="_export=csv")],
    "governance:usecase_list": [Case(PAGE_READ), Case(PAGE_READ, query="_export=csv"),
                                Case(PAGE_READ, query="q=meeting&used=true&sort=-monthly_spend")],
    "governance:usecase_detail": [Case(PAGE_READ, obj="use_case")],
    "governance:initiative_use_cases": [Case(only({OWNER: 302, REVIEWER: 302, ADMIN: 302}), method="post",
                                             obj="own")],
    "governance:initiative_duplicates": [Case(PAGE_READ, obj="own")],
    # Verdicts on possible-duplicate pairs: reviewers and admins acting for neither initiative (the fixture's decision
    # pairs the owner's and the other owner's initiatives). An empty verdict form comes back to the page with its
    # error (302); undoing the decision redirects (302).
    "governance:duplicate_pair_decide": [Case(only({REVIEWER: 302, ADMIN: 302}), method="post", obj="own")],
    "governance:duplicate_pair_undo": [Case(only({REVIEWER: 302, ADMIN: 302}), method="post", obj="pair_decision")],
    "governance_api:duplicatepairdecision-list": [
        Case(API_READ), Case(API_READ, query="initiative=1&verdict=not_duplicate&since=2020-01-01"),
        Case(only({REVIEWER: 400, ADMIN: 400}, anon=API_ANON), method="post"),
    ],
    "governance_api:duplicatepairdecision-detail": [
        Case(API_READ, obj="pair_decision"),
        Case(only({REVIEWER: 204, ADMIN: 204}, anon=API_ANON), method="delete", obj="pair_decision"),
    ],
    "governance:draft_duplicates": [Case(PAGE_READ)],
    "governance_api:usecase-list": [Case(API_READ), Case(API_ADMIN_WRITE, method="post")],
    "governance_api:usecase-detail": [Case(API_READ, obj="use_case"),
                                      Case(only({ADMIN: 200}, anon=API_ANON), method="patch", obj="use_case"),
                                      Case(May("governance.change_usecase", 200), method="put", obj="use_case")],
    "governance_api:sprawlcluster-list": [Case(API_READ)],
    "governance_api:sprawlcluster-detail": [Case(API_READ, obj="cluster")],
    "governance_api:sprawlcluster-track-record": [Case(API_READ)],
    "governance_api:sprawlcluster-confirm": [Case(only({REVIEWER: 200, ADMIN: 200}, anon=API_ANON), method="post",
                                                  obj="cluster")],
    "governance_api:sprawlcluster-dismiss": [Case(only({REVIEWER: 400, ADMIN: 400}, anon=API_ANON), method="post",
                                                  obj="cluster")],
    "governance_api:sprawlcluster-remove-member": [Case(only({REVIEWER: 400, ADMIN: 400}, anon=API_ANON),
                                                        method="post", obj="cluster")],
    "governance_api:sprawlrun-list": [Case(API_READ), Case(only({REVIEWER: 202, ADMIN: 202}, anon=API_ANON),
                                                           method="post")],
    "governance_api:sprawlrun-detail": [Case(API_READ, obj="sprawl_run")],
    # Label checks: reviewers and admins POST a labels file (an empty one is refused, 400); reviewers, executives
    # and admins read them.
    "governance_api:sprawllabelcheck-list": [
        Case(only({REVIEWER: 200, EXECUTIVE: 200, ADMIN: 200}, anon=API_ANON)),
        Case(only({REVIEWER: 400, ADMIN: 400}, anon=API_ANON), method="post")],
    "governance_api:sprawllabelcheck-detail": [
        Case(only({REVIEWER: 200, EXECUTIVE: 200, ADMIN: 200}, anon=API_ANON), obj="label_check")],
    "governance_api:possible_duplicates": [Case(API_READ, obj="own")],
    "governance_api:initiative_use_cases": [
        Case(API_READ, obj="own"),
        Case(only({OWNER: 400, REVIEWER: 400, ADMIN: 400}, anon=API_ANON), method="put", obj="own"),
    ],
    # Signals: reviewers, executives and administrators read all; an owner reads and acknowledges the signals of
    # their initiatives (the fixture's signal is about the owner's); reviewers and administrators who do not own it
    # decide it; an empty dismiss lacks its reason (400).
    "governance:signal_list": [Case(PAGE_READ), Case(PAGE_READ, query="_export=csv"),
                               Case(PAGE_READ, query="status=&type=cost_overrun&severity=high&sort=-monthly_saving")],
    "governance:signal_detail": [Case(SIGNAL_READERS, obj="signal")],
    "governance:signal_acknowledge": [Case(only({OWNER: 302, REVIEWER: 302, ADMIN: 302}), method="post",
                                           obj="signal")],
    "governance:signal_dismiss": [Case(only({REVIEWER: 400, ADMIN: 400}), method="post", obj="signal")],
    "governance:signal_resolve": [Case(only({REVIEWER: 302, ADMIN: 302}), method="post", obj="signal")],
    "governance:signal_recompute": [Case(only({REVIEWER: 302, ADMIN: 302}), method="post")],
    "governance:signal_run_detail": [Case(PAGE_READ, obj="signal_run")],
    "governance_api:signal-list": [Case(API_READ), Case(API_READ, query="status=live&type=cost_overrun")],
    "governance_api:signal-detail": [Case(only({OWNER: 200, REVIEWER: 200, EXECUTIVE: 200, ADMIN: 200},
                                               anon=API_ANON), obj="signal")],
    "governance_api:signal-acknowledge": [Case(only({OWNER: 200, REVIEWER: 200, ADMIN: 200}, anon=API_ANON),
                                               method="post", obj="signal")],
    "governance_api:signal-dismiss": [Case(only({REVIEWER: 400, ADMIN: 400}, anon=API_ANON), method="post",
                                           obj="signal")],
    "governance_api:signal-resolve": [Case(only({REVIEWER: 200, ADMIN: 200}, anon=API_ANON), method="post",
                                           obj="signal")],
    "governance_api:signalrun-list": [Case(API_READ), Case(only({REVIEWER: 202, ADMIN: 202}, anon=API_ANON),
                                                           method="post")],
    "governance_api:signalrun-detail": [Case(API_READ, obj="signal_run")],
}


def build_objects(objects: dict[str, Any], users: dict[str, Any]) -> dict[str, Any]:
    from django.utils import timezone

    from governance.models import DuplicatePairDecision, Signal, SignalRun, SprawlLabelCheck, SprawlRun, UseCase
    from portfolio.choices import Stage
    from tests.factories import InitiativeFactory, RubricCriterionFactory
    from tests.governance.sprawl.factories import SprawlClusterFactory, UseCaseFactory

    # A use case of the shipped catalogue (loaded on migrate): adding one would make the engine rebuild its index.
    use_case = UseCase.objects.order_by("code").first() or UseCaseFactory(code="matrix-meeting-notes")
    signal = Signal.objects.create(
        type="cost_overrun", subject=f"cost_overrun:{objects['own'].external_id}", period="2026-Q3", severity="high",
        metric=Decimal("60"), monthly_saving=Decimal("1200"), first_seen_at=timezone.now(),
        evidence_changed_at=timezone.now(),
        evidence={"rule": "Cost over the business case.", "policies": {"kill.cost_overrun_pct": "25"},
                  "numbers": [{"label": "TCO, 2026-Q3", "value": "9000.00", "url": "/"}]},
    )
    signal.initiatives.add(objects["own"])
    a, b = sorted((objects["own"], objects["other"]), key=lambda i: i.pk)
    return {
        "pair_decision": DuplicatePairDecision.objects.create(
            initiative_a=a, initiative_b=b, verdict="not_duplicate", reason="Different jobs.",
            decided_at=timezone.now()),
        "signal": signal,
        "signal_run": SignalRun.objects.create(status="succeeded", trigger="schedule"),
        "cluster": SprawlClusterFactory(initiatives=[objects["own"], objects["other"]], use_case=use_case),
        "use_case": SimpleNamespace(pk=use_case.code),
        "sprawl_run": SprawlRun.objects.create(status="succeeded", trigger="schedule"),
        "label_check": SprawlLabelCheck.objects.create(
            status="succeeded", filename="labels.csv", labels={objects["own"].external_id: "x",
                                                               objects["other"].external_id: "x"},
            result={"precision": 0.0, "recall": 0.0, "f1": 0.0, "top": 5, "top_hit_rate": 1.0,
                    "missed_pairs": [sorted([objects["own"].external_id, objects["other"].external_id])],
                    "wrong_pairs": [], "without_partner": [], "names": {}}),
        "own_in_review": InitiativeFactory(owner=users[OWNER], stage=Stage.IN_REVIEW),
        # Policies are addressed by key; the matrix puts `.pk` into the URL.
        "policy": SimpleNamespace(pk="intake.quorum"),
        "criterion": RubricCriterionFactory(name="Strategic fit"),
    }
