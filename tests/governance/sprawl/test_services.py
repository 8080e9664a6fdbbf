"""Sprawl services: recomputation and its reconciliation with people's decisions, idempotency, the cluster review
lifecycle with segregation of duties, initiatives' use cases, and recompute runs."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.choices import AuditEvent, SprawlStatus, UseCaseOrigin
from governance.models import InitiativeUseCase, SprawlCluster, SprawlClusterMember, SprawlRun
from governance.sprawl.analysis import Analysis, Cluster
from governance.sprawl.selectors import member_costs
from governance.sprawl.services.clusters import sprawl_cluster_confirm, sprawl_cluster_dismiss, sprawl_member_remove
from governance.sprawl.services.recompute import recompute_steps, sprawl_recompute
from governance.sprawl.services.runs import sprawl_run_submit
from governance.sprawl.services.use_cases import initiative_use_cases_set
from portfolio.choices import RunStatus, Stage
from portfolio.models import MonthlyCost
from reviews.choices import ReportStatus
from tests.factories import InitiativeFactory, LicencePoolFactory, UserFactory, ValueReportFactory
from tests.governance.sprawl.factories import InitiativeUseCaseFactory, SprawlClusterFactory, UseCaseFactory
from tollgate import jobs
from tollgate.roles import Role

pytestmark = pytest.mark.django_db


def analysis(*clusters: tuple[list, str | None], use_cases: dict | None = None) -> Analysis:
    """An analysis result as the engine returns it, from [initiatives] and a use-case code per cluster."""
    return Analysis(
        clusters=[Cluster(member_ids=[i.pk for i in members], score=0.8, use_case_code=code)
                  for members, code in clusters],
        duplicates={}, use_cases=use_cases or {},
    )


def events(event: str) -> int:
    return LogEntry.objects.filter(additional_data__event=event).count()


@pytest.fixture
def notes():
    return UseCaseFactory(code="meeting-notes-test", name="Meeting notes")


@pytest.fixture
def trio(owner, other_owner):
    a = InitiativeFactory(name="Notes bot", owner=owner, declared_monthly_cost=Decimal("3000"))
    b = InitiativeFactory(name="Minutes AI", owner=other_owner, declared_monthly_cost=Decimal("1200"))
    c = InitiativeFactory(name="Call summaries", declared_monthly_cost=Decimal("800"))
    return a, b, c


def only(cluster_qs=None) -> SprawlCluster:
    clusters = list(SprawlCluster.objects.all())
    assert len(clusters) == 1, clusters
    return clusters[0]


def active_ids(cluster: SprawlCluster) -> set[int]:
    return set(cluster.members.filter(removed=False).values_list("initiative_id", flat=True))


# Recomputation -------------------------------------------------------------------------------------------------------


def test_recompute_creates_open_clusters_with_spend_saving_and_an_audit_row(trio, notes):
    a, b, c = trio
    summary = sprawl_recompute(analysis=analysis(([a, b, c], "meeting-notes-test")))
    assert (summary.clusters_found, summary.created) == (1, 1)
    cluster = only()
    assert cluster.status == SprawlStatus.OPEN and cluster.use_case == notes and cluster.title == "Meeting notes"
    assert active_ids(cluster) == {a.pk, b.pk, c.pk}
    assert cluster.score == Decimal("0.800")
    assert cluster.monthly_spend == Decimal("5000.00")
    assert cluster.estimated_saving == Decimal("1000.00")  # (1200 + 800) x (1 - 50%): users unknown
    assert "onto Notes bot, the most expensive member" in cluster.saving_basis
    assert events(AuditEvent.SPRAWL_FOUND) == 1


def test_second_recompute_with_nothing_changed_writes_nothing(trio, notes):
    a, b, c = trio
    result = analysis(([a, b, c], "meeting-notes-test"), use_cases={a.pk: [("meeting-notes-test", 0.91)]})
    sprawl_recompute(analysis=result)
    cluster = only()
    stamp, audit_rows = cluster.updated_at, LogEntry.objects.count()
    with CaptureQueriesContext(connection) as queries:
        summary = sprawl_recompute(analysis=result)
    writes = [q["sql"] for q in queries if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []
    assert (summary.created, summary.updated, summary.unchanged, summary.closed) == (0, 0, 1, 0)
    assert summary.use_case_links_written == 0
    cluster.refresh_from_db()
    assert cluster.updated_at == stamp and LogEntry.objects.count() == audit_rows


def test_last_seen_is_refreshed_once_a_day(trio, notes):
    a, b, c = trio
    sprawl_recompute(analysis=analysis(([a, b, c], None)))
    SprawlCluster.objects.update(last_seen_at=timezone.now() - timedelta(days=2))
    sprawl_recompute(analysis=analysis(([a, b, c], None)))
    assert only().last_seen_at > timezone.now() - timedelta(minutes=1)


def test_open_cluster_follows_its_members_when_found_again(trio, notes):
    a, b, c = trio
    d = InitiativeFactory(name="Teams recap", declared_monthly_cost=Decimal("100"))
    sprawl_recompute(analysis=analysis(([a, b, c], "meeting-notes-test")))
    first = only()
    summary = sprawl_recompute(analysis=analysis(([a, b, d], "meeting-notes-test")))  # Jaccard 2/4 = 0.5: same
    assert summary.updated == 1 and summary.created == 0
    cluster = only()
    assert cluster.pk == first.pk and active_ids(cluster) == {a.pk, b.pk, d.pk}
    assert not SprawlClusterMember.objects.filter(initiative=c).exists()
    assert cluster.monthly_spend == Decimal("4300.00")


def test_open_cluster_no_longer_found_is_deleted_with_an_audit_row(trio, notes):
    a, b, c = trio
    sprawl_recompute(analysis=analysis(([a, b, c], None)))
    summary = sprawl_recompute(analysis=analysis())
    assert summary.closed == 1 and not SprawlCluster.objects.exists()
    assert events(AuditEvent.SPRAWL_CLOSED) == 1


def test_little_overlap_makes_a_new_cluster(trio, notes):
    a, b, c = trio
    d, e = InitiativeFactory(), InitiativeFactory()
    sprawl_recompute(analysis=analysis(([a, b, c], None)))
    summary = sprawl_recompute(analysis=analysis(([c, d, e], None)))  # Jaccard 1/5
    assert (summary.created, summary.closed) == (1, 1)


def test_confirmed_cluster_stays_confirmed_new_members_join_removed_never_return(trio, notes, reviewer):
    a, b, c = trio
    d, e = InitiativeFactory(name="Recap"), InitiativeFactory(name="Zoom notes")
    sprawl_recompute(analysis=analysis(([a, b, c, d], None)))
    cluster = only()
    sprawl_member_remove(actor=reviewer, cluster=cluster, initiative=d, reason="Summarises sales calls, not meetings")
    sprawl_cluster_confirm(actor=reviewer, cluster=cluster, reason="Three teams pay for meeting notes")

    summary = sprawl_recompute(analysis=analysis(([a, b, d, e], None)))  # c not found now; d removed; e new

    cluster.refresh_from_db()
    assert summary.updated == 1
    assert cluster.status == SprawlStatus.CONFIRMED and cluster.decided_by == reviewer
    assert cluster.decision_reason == "Three teams pay for meeting notes"
    assert active_ids(cluster) == {a.pk, b.pk, c.pk, e.pk}  # the decided members stay, e joins
    assert SprawlClusterMember.objects.get(cluster=cluster, initiative=d).removed
    assert events(AuditEvent.SPRAWL_MEMBER_JOINED) == 1


def test_dismissed_cluster_stays_dismissed_and_is_not_deleted(trio, notes, reviewer):
    a, b, c = trio
    sprawl_recompute(analysis=analysis(([a, b, c], None)))
    sprawl_cluster_dismiss(actor=reviewer, cluster=only(), reason="Different audiences, kept on purpose")
    sprawl_recompute(analysis=analysis(([a, b, c], None)))
    assert only().status == SprawlStatus.DISMISSED
    summary = sprawl_recompute(analysis=analysis())  # not found at all any more
    assert summary.closed == 0 and only().status == SprawlStatus.DISMISSED


def test_suggested_use_cases_are_replaced_confirmed_ones_never(trio, notes, owner):
    a, b, c = trio
    images = UseCaseFactory(code="campaign-images-test")
    first = {a.pk: [("meeting-notes-test", 0.9), ("campaign-images-test", 0.3)], b.pk: [("meeting-notes-test", 0.7)]}
    sprawl_recompute(analysis=analysis(use_cases=first))
    assert InitiativeUseCase.objects.filter(origin=UseCaseOrigin.SUGGESTED).count() == 3
    initiative_use_cases_set(actor=owner, initiative=a, use_case_codes=["campaign-images-test"])

    second = {a.pk: [("meeting-notes-test", 0.95)], b.pk: [("campaign-images-test", 0.6), ("no-such-code", 0.5)]}
    sprawl_recompute(analysis=analysis(use_cases=second))

    assert [(link.use_case, link.origin) for link in a.use_case_links.all()] == [(images, UseCaseOrigin.CONFIRMED)]
    links = list(b.use_case_links.values_list("use_case__code", "confidence", "origin"))
    assert links == [("campaign-images-test", Decimal("0.600"), UseCaseOrigin.SUGGESTED)]


# Review lifecycle ----------------------------------------------------------------------------------------------------


@pytest.fixture
def cluster(trio):
    return SprawlClusterFactory(initiatives=list(trio))


def test_confirm_and_dismiss_write_the_decision_and_an_audit_row(cluster, reviewer, admin_user):
    sprawl_cluster_confirm(actor=reviewer, cluster=cluster, reason="")
    cluster.refresh_from_db()
    assert cluster.status == SprawlStatus.CONFIRMED and cluster.decided_by == reviewer and cluster.decided_at
    row = LogEntry.objects.get(additional_data__event=AuditEvent.SPRAWL_CONFIRMED)
    assert row.actor == reviewer and row.changes_dict["status"] == ["open", "confirmed"]
    with pytest.raises(ValidationError, match="already confirmed"):
        sprawl_cluster_dismiss(actor=admin_user, cluster=cluster, reason="changed my mind")


def test_dismiss_needs_a_reason_and_writes_nothing_without_one(cluster, reviewer):
    with pytest.raises(ValidationError, match="written reason"):
        sprawl_cluster_dismiss(actor=reviewer, cluster=cluster, reason="   ")
    cluster.refresh_from_db()
    assert cluster.status == SprawlStatus.OPEN and events(AuditEvent.SPRAWL_DISMISSED) == 0


@pytest.mark.parametrize("who", ["owner", "executive", "member_owning_reviewer", "delegate_reviewer",
                                 "profile_delegate_reviewer"])
def test_who_may_not_decide_a_cluster(who, trio, owner, executive):
    a, b, c = trio
    cluster = SprawlClusterFactory(initiatives=[a, b, c])
    actor = {"owner": owner, "executive": executive}.get(who)
    if actor is None:
        actor = UserFactory(role=Role.REVIEWER)
        if who == "member_owning_reviewer":
            c.owner = actor
            c.save()
        elif who == "delegate_reviewer":
            b.delegates.add(actor)
        else:
            owner.profile.delegates.add(actor)  # a delegate of a's owner
    with pytest.raises(PermissionDenied):
        sprawl_cluster_confirm(actor=actor, cluster=cluster, reason="")
    with pytest.raises(PermissionDenied):
        sprawl_member_remove(actor=actor, cluster=cluster, initiative=a, reason="not the same")
    assert SprawlCluster.objects.get(pk=cluster.pk).status == SprawlStatus.OPEN


def test_admin_who_owns_nothing_in_it_may_decide(cluster, admin_user):
    sprawl_cluster_dismiss(actor=admin_user, cluster=cluster, reason="Accepted duplication")
    assert SprawlCluster.objects.get(pk=cluster.pk).status == SprawlStatus.DISMISSED


def test_member_remove_needs_reason_keeps_two_and_refreshes_the_figures(trio, reviewer):
    a, b, c = trio
    cluster = SprawlClusterFactory(initiatives=[a, b, c])
    with pytest.raises(ValidationError, match="written reason"):
        sprawl_member_remove(actor=reviewer, cluster=cluster, initiative=c, reason="")
    member = sprawl_member_remove(actor=reviewer, cluster=cluster, initiative=c, reason="Sales calls only")
    assert member.removed and member.removed_by == reviewer and member.removed_reason == "Sales calls only"
    cluster.refresh_from_db()
    assert cluster.monthly_spend == Decimal("4200.00") and cluster.estimated_saving == Decimal("600.00")
    assert events(AuditEvent.SPRAWL_MEMBER_REMOVED) == 1
    with pytest.raises(ValidationError, match="not an active member"):
        sprawl_member_remove(actor=reviewer, cluster=cluster, initiative=c, reason="again")
    with pytest.raises(ValidationError, match="at least two members"):
        sprawl_member_remove(actor=reviewer, cluster=cluster, initiative=b, reason="Different job")


def test_a_reviewer_s_pair_and_cluster_decisions_show_in_the_history_of_the_initiatives_they_are_about(
        trio, reviewer):
    """They were in the audit trail only: written on the pair or the cluster, not on the initiative."""
    from governance.choices import DuplicateVerdict
    from governance.selectors import initiative_history_rows
    from governance.sprawl.services.pair_decisions import duplicate_pair_decide, duplicate_pair_undo

    a, b, c = trio
    cluster = SprawlClusterFactory(initiatives=[a, b, c], title="Meeting notes")
    other = SprawlClusterFactory(initiatives=[InitiativeFactory(), InitiativeFactory()], title="Elsewhere")
    sprawl_member_remove(actor=reviewer, cluster=cluster, initiative=c, reason="Sales calls only")
    sprawl_cluster_confirm(actor=reviewer, cluster=cluster, reason="One tool for notes")
    sprawl_cluster_dismiss(actor=reviewer, cluster=other, reason="Not ours")
    decision = duplicate_pair_decide(actor=reviewer, initiative=a, other=b, verdict=DuplicateVerdict.DUPLICATE,
                                     reason="Same job")

    def history(initiative):
        return [(row.what, row.reason) for row in initiative_history_rows(initiative)]

    assert history(a)[:3] == [
        ("Possible duplicate decided: Notes bot / Minutes AI", "Same job"),
        ("Sprawl cluster confirmed: Meeting notes", "One tool for notes"),
        ("Sprawl cluster member removed: Meeting notes", "Sales calls only"),
    ]
    assert ("Possible duplicate decided: Notes bot / Minutes AI", "Same job") in history(b)
    assert history(c)[:2] == [("Sprawl cluster confirmed: Meeting notes", "One tool for notes"),
                              ("Sprawl cluster member removed: Meeting notes", "Sales calls only")]
    assert not any("Elsewhere" in what for what, _ in history(a) + history(c))
    duplicate_pair_undo(actor=reviewer, decision=decision)  # no longer standing: it leaves the history
    assert not any(what.startswith("Possible duplicate") for what, _ in history(a))


def test_a_decision_queues_the_signals_so_a_decided_cluster_or_removed_member_leaves_them(trio, reviewer):
    """Only open clusters are sprawl signals: removing a member and confirming the cluster queue one signal
    computation, which moves the signal to the cluster's members and saving, then resolves it."""
    from governance.choices import SignalRunTrigger, SignalStatus, SignalType
    from governance.models import Signal, SignalRun
    from governance.signals.services import signal_run_execute_by_id, signals_compute_now

    a, b, c = trio
    cluster = SprawlClusterFactory(initiatives=[a, b, c])
    signals_compute_now(send_email=False)
    signal = Signal.objects.get(type=SignalType.SPRAWL)
    assert set(signal.initiatives.all()) == {a, b, c}

    sprawl_member_remove(actor=reviewer, cluster=cluster, initiative=c, reason="Sales calls only")
    run = SignalRun.objects.get(status=RunStatus.PENDING)
    assert run.trigger == SignalRunTrigger.SPRAWL
    signal_run_execute_by_id(run_id=run.pk, send_email=False)
    signal.refresh_from_db()
    assert set(signal.initiatives.all()) == {a, b} and signal.status == SignalStatus.OPEN

    sprawl_cluster_confirm(actor=reviewer, cluster=cluster, reason="Consolidate on one")
    signal.refresh_from_db()  # resolved by the decision itself, saying so, not as "condition no longer holds"
    assert (signal.status, signal.resolved_by) == (SignalStatus.RESOLVED, reviewer)
    assert signal.resolution.startswith("cluster confirmed by ") and signal.resolution.endswith(": Consolidate on one")
    run = SignalRun.objects.get(status=RunStatus.PENDING)
    signal_run_execute_by_id(run_id=run.pk, send_email=False)
    signal.refresh_from_db()
    assert signal.status == SignalStatus.RESOLVED and signal.resolution.startswith("cluster confirmed by ")
    [row] = LogEntry.objects.filter(additional_data__event=AuditEvent.SIGNAL_RESOLVED)
    assert row.actor == reviewer and row.additional_data["reason"].startswith("cluster confirmed by ")


def test_a_recomputation_that_changes_nothing_queues_no_signal_computation(trio):
    from governance.models import SignalRun

    a, b, c = trio
    found = analysis(([a, b], None))
    sprawl_recompute(analysis=found)
    assert SignalRun.objects.count() == 1
    SignalRun.objects.all().delete()
    sprawl_recompute(analysis=found)
    assert not SignalRun.objects.exists()


# Initiatives' use cases ----------------------------------------------------------------------------------------------


def test_owner_sets_use_cases_as_confirmed_with_an_audit_row(initiative, owner, notes):
    InitiativeUseCaseFactory(initiative=initiative, use_case=UseCaseFactory(code="old-guess"))
    links = initiative_use_cases_set(actor=owner, initiative=initiative, use_case_codes=["meeting-notes-test"])
    assert [(link.use_case, link.origin, link.confidence) for link in links] == [
        (notes, UseCaseOrigin.CONFIRMED, Decimal("1.000"))]
    assert initiative.use_case_links.count() == 1
    row = LogEntry.objects.get(additional_data__event=AuditEvent.USE_CASES_SET)
    assert row.changes_dict["use_cases"] == [["old-guess (suggested)"], ["meeting-notes-test (confirmed)"]]


def test_unknown_or_inactive_codes_are_refused_naming_them(initiative, owner, notes):
    UseCaseFactory(code="retired-one", is_active=False)
    with pytest.raises(ValidationError, match="no-such, retired-one"):
        initiative_use_cases_set(actor=owner, initiative=initiative,
                                 use_case_codes=["meeting-notes-test", "no-such", "retired-one"])
    assert not initiative.use_case_links.exists()


@pytest.mark.parametrize("stage", [Stage.KILLED, Stage.RETIRED, Stage.REJECTED])
def test_an_ended_initiatives_use_cases_are_read_only(initiative, owner, reviewer, notes, stage):
    InitiativeUseCaseFactory(initiative=initiative, use_case=UseCaseFactory(code="old-guess"))
    initiative.stage = stage
    initiative.save()
    for actor in (owner, reviewer):
        with pytest.raises(ValidationError) as error:
            initiative_use_cases_set(actor=actor, initiative=initiative, use_case_codes=["meeting-notes-test"])
        assert error.value.messages == [
            f"“{initiative}” is {stage.label.lower()}: an ended initiative is read-only. Register a new initiative "
            "to start again."]
    assert [link.use_case.code for link in initiative.use_case_links.all()] == ["old-guess"]
    assert events(AuditEvent.USE_CASES_SET) == 0


def test_who_sets_use_cases(initiative, other_owner, executive, reviewer, admin_user, notes):
    for actor in (other_owner, executive):
        with pytest.raises(PermissionDenied):
            initiative_use_cases_set(actor=actor, initiative=initiative, use_case_codes=["meeting-notes-test"])
    for actor in (reviewer, admin_user):
        initiative_use_cases_set(actor=actor, initiative=initiative, use_case_codes=["meeting-notes-test"])
    assert events(AuditEvent.USE_CASES_SET) == 1  # the second set changed nothing


# Spend and users for savings -----------------------------------------------------------------------------------------


def test_member_costs_use_latest_complete_month_then_declared_and_seats_then_reported_users():
    allocated = InitiativeFactory(declared_monthly_cost=Decimal("999"))
    declared = InitiativeFactory(declared_monthly_cost=Decimal("400"))
    reported = InitiativeFactory(declared_monthly_cost=Decimal("50"))
    today = date(2026, 11, 15)
    MonthlyCost.objects.create(initiative=allocated, month=date(2026, 9, 1), category="inference", amount=10)
    MonthlyCost.objects.create(initiative=allocated, month=date(2026, 10, 1), category="inference", amount=700)
    MonthlyCost.objects.create(initiative=allocated, month=date(2026, 10, 1), category="licences", amount=100)
    MonthlyCost.objects.create(initiative=allocated, month=date(2026, 11, 1), category="inference", amount=5)
    LicencePoolFactory(initiative=allocated, seats_purchased=30)
    LicencePoolFactory(initiative=allocated, seats_purchased=10)
    ValueReportFactory(initiative=reported, status=ReportStatus.SUBMITTED, active_users=12)

    costs = member_costs([allocated.pk, declared.pk, reported.pk], today=today)

    assert (costs[allocated.pk].monthly_spend, costs[allocated.pk].spend_is_allocated) == (Decimal("800.00"), True)
    assert costs[allocated.pk].users == 40
    assert (costs[declared.pk].monthly_spend, costs[declared.pk].users) == (Decimal("400.00"), None)
    assert costs[reported.pk].users == 12


# Recompute runs ------------------------------------------------------------------------------------------------------


def test_run_submit_queues_one_run_and_the_task_records_the_outcome(reviewer, trio, notes, monkeypatch,
                                                                    django_capture_on_commit_callbacks):
    a, b, c = trio

    def found(top=5, progress=None):
        for step in range(1, 6):  # as the analysis reports its steps
            progress(step)
        return analysis(([a, b, c], "meeting-notes-test"))

    monkeypatch.setattr("governance.sprawl.analysis.analyse_portfolio", found)
    steps = []
    real_progress = jobs.run_progress
    monkeypatch.setattr(jobs, "run_progress", lambda run, step: (steps.append(step), real_progress(run, step)))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = sprawl_run_submit(actor=reviewer)
        assert sprawl_run_submit(actor=reviewer) == run  # already queued: no second run
    assert run.status == RunStatus.PENDING and len(callbacks) == 1
    callbacks[0]()  # the task runs in-process (eager)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.clusters_created == 1 and run.finished_at
    assert (run.clusters_found, run.clusters_updated, run.clusters_unchanged, run.clusters_closed) == (1, 0, 0, 0)
    assert SprawlRun.objects.count() == 1
    assert steps == [100, 200, 300, 400, 500, 600] and run.progress == 600  # the page said each step, saving last
    assert recompute_steps()[5] == "Saving the clusters, their evidence and the suggested use cases"


def test_run_failure_is_recorded_on_the_run(admin_user, monkeypatch, django_capture_on_commit_callbacks):
    def broken(top=5, progress=None):
        raise RuntimeError("embedding model missing")

    monkeypatch.setattr("governance.sprawl.analysis.analyse_portfolio", broken)
    with django_capture_on_commit_callbacks(execute=True):
        run = sprawl_run_submit(actor=admin_user)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "embedding model missing" in run.error


def test_only_reviewers_and_admins_recompute(owner, executive):
    for actor in (owner, executive):
        with pytest.raises(PermissionDenied):
            sprawl_run_submit(actor=actor)
    assert not SprawlRun.objects.exists()


def test_ended_initiatives_are_left_out_of_clusters(trio, notes):
    a, b, c = trio
    c.stage = Stage.KILLED
    c.save()
    retired = InitiativeFactory(stage=Stage.RETIRED)
    sprawl_recompute(analysis=analysis(([a, b, c], None), ([c, retired], None)))
    assert active_ids(only()) == {a.pk, b.pk}


@pytest.mark.parametrize("decide", [sprawl_cluster_confirm, sprawl_cluster_dismiss])
def test_an_ended_member_leaves_a_decided_cluster_and_its_spend_with_it(trio, notes, reviewer, decide):
    """Open clusters lost ended members at the next recomputation, confirmed and dismissed ones kept them, their spend
    still counted in the cluster's spend and saving."""
    a, b, c = trio
    sprawl_recompute(analysis=analysis(([a, b, c], None)))
    cluster = only()
    decide(actor=reviewer, cluster=cluster, reason="Three teams pay for meeting notes")
    c.stage = Stage.RETIRED
    c.save()

    sprawl_recompute(analysis=analysis(([a, b, c], None)))

    cluster.refresh_from_db()
    assert cluster.status == decide.__name__.removeprefix("sprawl_cluster_").replace("confirm", "confirmed").replace(
        "dismiss", "dismissed")
    assert set(cluster.members.values_list("initiative_id", flat=True)) == {a.pk, b.pk}
    assert cluster.monthly_spend == Decimal("4200.00")
    [row] = LogEntry.objects.filter(additional_data__event=AuditEvent.SPRAWL_MEMBER_ENDED)
    assert row.additional_data["initiatives"] == [c.pk]
    assert row.changes_dict == {"members": [sorted([a.pk, b.pk, c.pk]), sorted([a.pk, b.pk])]}
    sprawl_recompute(analysis=analysis())  # not found at all any more: it still follows its members' stages
    assert events(AuditEvent.SPRAWL_MEMBER_ENDED) == 1


def test_a_member_removal_is_audited_from_in_to_removed(trio, notes, reviewer):
    """The trail read "removed: Call summaries → —", as if the removal had been undone."""
    a, b, c = trio
    sprawl_recompute(analysis=analysis(([a, b, c], None)))
    sprawl_member_remove(actor=reviewer, cluster=only(), initiative=c, reason="Sales calls only")
    [row] = LogEntry.objects.filter(additional_data__event=AuditEvent.SPRAWL_MEMBER_REMOVED)
    assert row.changes_dict == {"removed": [None, str(c)]}


def test_a_decision_reason_is_at_most_4000_characters(trio, notes, reviewer):
    a, b, c = trio
    sprawl_recompute(analysis=analysis(([a, b, c], None)))
    cluster = only()
    for decide in (sprawl_cluster_confirm, sprawl_cluster_dismiss):
        with pytest.raises(ValidationError, match="Keep the reason to 4000 characters"):
            decide(actor=reviewer, cluster=cluster, reason="x" * 4001)
    with pytest.raises(ValidationError, match="Keep the reason to 4000 characters"):
        sprawl_member_remove(actor=reviewer, cluster=cluster, initiative=c, reason="x" * 4001)
    assert only().status == SprawlStatus.OPEN and active_ids(cluster) == {a.pk, b.pk, c.pk}
    assert not events(AuditEvent.SPRAWL_CONFIRMED) and not events(AuditEvent.SPRAWL_DISMISSED)


def test_what_a_run_found_adds_up_to_new_updated_and_unchanged(trio, notes, reviewer):
    a, b, c = trio
    d, e, f, g, h = InitiativeFactory.create_batch(5)
    retired = InitiativeFactory(stage=Stage.RETIRED)
    first = sprawl_recompute(analysis=analysis(([a, b], None), ([c, d], None), ([e, retired], None)))
    assert (first.clusters_found, first.created, first.updated, first.unchanged) == (2, 2, 0, 0)  # e alone is no group
    sprawl_cluster_dismiss(actor=reviewer, cluster=SprawlCluster.objects.get(members__initiative=a),
                           reason="Two teams, two jobs")

    second = sprawl_recompute(analysis=analysis(([a, b], None), ([c, d, f], None), ([g, h], None),
                                                ([e, retired], None)))

    assert (second.clusters_found, second.created, second.updated, second.unchanged, second.closed) == (3, 1, 1, 1, 0)
    assert second.clusters_found == second.created + second.updated + second.unchanged
    assert SprawlCluster.objects.count() == 3  # the dismissed one, the updated one and the new one
