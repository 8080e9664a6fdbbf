"""Sprawl reads: each initiative's main use case, spend by use case, the duplication
criterion, and engine results mapped onto initiatives."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from governance.choices import DuplicateVerdict, SprawlConfidence, UseCaseOrigin
from governance.models import DuplicatePairDecision, SprawlRun
from governance.sprawl.analysis import Duplicate
from governance.sprawl.engine import pairs
from governance.sprawl.selectors import (
    clusters_shared_with,
    draft_possible_duplicates,
    duplication_criterion,
    initiative_possible_duplicates,
    latest_pair_model,
    primary_use_case_of,
    spend_by_use_case,
    sprawl_track_record,
)
from governance.sprawl.services.clusters import sprawl_cluster_confirm, sprawl_cluster_dismiss, sprawl_member_remove
from governance.sprawl.services.pair_decisions import duplicate_pair_decide
from portfolio.choices import Stage
from tests.factories import InitiativeFactory, RubricCriterionFactory
from tests.governance.sprawl.factories import (
    InitiativeUseCaseFactory,
    SprawlClusterFactory,
    UseCaseFactory,
    decided_clusters,
)
from tollgate.jobs import RunStatus

pytestmark = pytest.mark.django_db


def test_main_use_case_is_a_confirmed_one_then_the_most_confident():
    a, b = InitiativeFactory(), InitiativeFactory()
    high, low, chosen = UseCaseFactory(), UseCaseFactory(), UseCaseFactory()
    InitiativeUseCaseFactory(initiative=a, use_case=high, confidence=Decimal("0.9"))
    InitiativeUseCaseFactory(initiative=a, use_case=low, confidence=Decimal("0.3"))
    InitiativeUseCaseFactory(initiative=b, use_case=high, confidence=Decimal("0.95"))
    InitiativeUseCaseFactory(initiative=b, use_case=chosen, confidence=Decimal("1.0"), origin=UseCaseOrigin.CONFIRMED)
    assert primary_use_case_of() == {a.pk: high.pk, b.pk: chosen.pk}
    assert primary_use_case_of(initiative_ids=[a.pk]) == {a.pk: high.pk}


def test_spend_by_use_case_adds_up_to_the_running_portfolio():
    notes = UseCaseFactory()
    images = UseCaseFactory()
    a = InitiativeFactory(declared_monthly_cost=Decimal("100"))
    b = InitiativeFactory(declared_monthly_cost=Decimal("40"))
    killed = InitiativeFactory(declared_monthly_cost=Decimal("1000"), stage=Stage.KILLED)
    InitiativeUseCaseFactory(initiative=a, use_case=notes, confidence=Decimal("0.8"))
    InitiativeUseCaseFactory(initiative=a, use_case=images, confidence=Decimal("0.5"))
    InitiativeUseCaseFactory(initiative=b, use_case=images)
    InitiativeUseCaseFactory(initiative=killed, use_case=images)
    assert spend_by_use_case() == {notes.pk: Decimal("100.00"), images.pk: Decimal("40.00")}


def test_duplication_criterion_is_found_by_its_name():
    criteria = [RubricCriterionFactory(name="Strategic fit"),
                RubricCriterionFactory(name="Reuse of shared services / duplication")]
    assert duplication_criterion(criteria) == criteria[1]
    assert duplication_criterion(criteria[:1]) is None


def test_engine_duplicates_are_mapped_to_initiatives_in_order(monkeypatch, django_assert_max_num_queries):
    first, second = InitiativeFactory(), InitiativeFactory()
    monkeypatch.setattr("governance.sprawl.analysis.draft_duplicates", lambda **kw: [
        Duplicate(second.pk, 0.9, ["similar purpose"]), Duplicate(999_999, 0.8, []), Duplicate(first.pk, 0.5, [])])
    with django_assert_max_num_queries(4):
        found = draft_possible_duplicates(name="x", description="y")
    assert [(d.initiative, d.score, d.reasons) for d in found] == [(second, 0.9, ["similar purpose"]), (first, 0.5, [])]


def test_possible_duplicates_say_which_open_or_confirmed_cluster_already_holds_both(
        monkeypatch, reviewer, django_assert_num_queries):
    this, beside, confirmed_too, taken_out, dismissed, alone = (InitiativeFactory() for _ in range(6))
    open_cluster = SprawlClusterFactory(initiatives=[this, beside, taken_out, InitiativeFactory()],
                                        title="Meeting notes")
    confirmed = SprawlClusterFactory(initiatives=[this, confirmed_too, beside], title="Transcription")
    sprawl_cluster_confirm(actor=reviewer, cluster=confirmed)
    sprawl_member_remove(actor=reviewer, cluster=open_cluster, initiative=taken_out, reason="Another job.")
    gone = SprawlClusterFactory(initiatives=[this, dismissed])
    sprawl_cluster_dismiss(actor=reviewer, cluster=gone, reason="Not the same job.")
    SprawlClusterFactory(initiatives=[alone, beside])  # holds the candidate but not this initiative
    candidates = [beside, confirmed_too, taken_out, dismissed, alone]
    monkeypatch.setattr("governance.sprawl.analysis.draft_duplicates", lambda **kw: [
        Duplicate(c.pk, 0.9 - n / 10, []) for n, c in enumerate(candidates)])

    with django_assert_num_queries(1):
        shared = clusters_shared_with(this.pk, [c.pk for c in candidates])
    assert shared == {beside.pk: [open_cluster, confirmed], confirmed_too.pk: [confirmed]}

    # A member taken out of a cluster with this one, and a dismissed cluster's other member, are kept apart from it
    # by the recomputation and possible_duplicates alike: the page leaves them out too.
    listed = initiative_possible_duplicates(this)
    assert [(d.initiative, d.clusters) for d in listed] == [
        (beside, (open_cluster, confirmed)), (confirmed_too, (confirmed,)), (alone, ())]
    # Once this initiative leaves the open cluster, the two no longer share it.
    sprawl_member_remove(actor=reviewer, cluster=open_cluster, initiative=this, reason="Another job.")
    assert clusters_shared_with(this.pk, [beside.pk]) == {beside.pk: [confirmed]}
    with django_assert_num_queries(0):
        assert clusters_shared_with(this.pk, []) == {}


# What a recomputation with the in-process MiniLM records beside its pair model.
MINILM_RUN = {"encoder": "all-MiniLM-L6-v2", "purpose_metric": "minilm"}


def test_pages_rank_with_the_pair_model_of_the_last_successful_recomputation():
    assert latest_pair_model() == pairs.SHIPPED  # before any recomputation
    refit = pairs.PairModel(weights=tuple(0.25 for _ in pairs.FEATURES), bias=-2.0, decisions=3, fingerprint="abc",
                            use_case_bias=(("meeting-notes", 0.5),), threshold=pairs.SHIPPED.threshold,
                            possible=pairs.SHIPPED.possible, join=pairs.SHIPPED.join)
    SprawlRun.objects.create(status=RunStatus.SUCCEEDED, pair_model={**refit.as_dict(), **MINILM_RUN})
    SprawlRun.objects.create(status=RunStatus.FAILED, pair_model={})  # newer, but failed: not what grouped
    assert latest_pair_model() == refit
    # A record of other features (a run from before they changed) gives the shipped model, not a misread one.
    SprawlRun.objects.create(status=RunStatus.SUCCEEDED,
                             pair_model={**refit.as_dict(), **MINILM_RUN, "features": ["purpose"]})
    assert latest_pair_model() == pairs.SHIPPED
    # So does a run from before the purpose metric: its weights were fitted on the encoder's own cosine.
    SprawlRun.objects.create(status=RunStatus.SUCCEEDED, pair_model={**refit.as_dict(), "encoder": "all-MiniLM-L6-v2"})
    assert latest_pair_model() == pairs.SHIPPED


@pytest.fixture
def mpnet_bars(monkeypatch):
    """mpnet's calibration with bars of its own (its shipped ones may equal MiniLM's), so that a test can tell whose
    bars a run is read back with."""
    from governance.sprawl.engine import calibration

    mpnet = dataclasses.replace(calibration.MPNET, model=dataclasses.replace(
        calibration.MPNET.model, threshold=0.7, possible=0.25, join=0.5))
    monkeypatch.setattr(calibration, "MPNET", mpnet)
    monkeypatch.setitem(calibration.CALIBRATIONS, "all-mpnet-base-v2", mpnet)
    return mpnet


def test_a_run_of_another_encoder_gives_the_configured_encoders_model(settings, mpnet_bars):
    """After a company switches encoders, a page ranks with the new encoder's shipped model until the next
    recomputation, never with weights fitted on another model's cosines."""
    from governance.sprawl.engine import calibration

    refit = pairs.PairModel(weights=tuple(0.25 for _ in pairs.FEATURES), bias=-2.0, decisions=3, fingerprint="abc")
    SprawlRun.objects.create(status=RunStatus.SUCCEEDED, pair_model={**refit.as_dict(), **MINILM_RUN})
    assert latest_pair_model() == dataclasses.replace(  # on MiniLM's bars
        refit, threshold=pairs.SHIPPED.threshold, possible=pairs.SHIPPED.possible, join=pairs.SHIPPED.join)
    settings.TOLLGATE_EMBEDDER = {"backend": "http", "base_url": "http://embeddings.invalid",
                                  "model": "sentence-transformers/all-mpnet-base-v2"}
    assert latest_pair_model() == calibration.MPNET.model
    SprawlRun.objects.create(status=RunStatus.SUCCEEDED, pair_model={
        **refit.as_dict(), "encoder": "all-mpnet-base-v2", "purpose_metric": "mpnet"})
    assert latest_pair_model() == dataclasses.replace(refit, threshold=0.7, possible=0.25, join=0.5)  # mpnet's bars


def test_a_runs_pair_model_reads_back_with_its_encoders_shipped_weights_beside_it(mpnet_bars):
    from governance.sprawl.engine import calibration
    from governance.sprawl.selectors import run_pair_model

    UseCaseFactory(code="load-forecasting", name="Load forecasting")
    refit = dataclasses.replace(calibration.MPNET.model, weights=(0.0, 2.0, *calibration.MPNET.model.weights[2:]),
                                decisions=4, use_case_bias=(("load-forecasting", -1.2), ("gone", 0.1)))
    run = SprawlRun.objects.create(status=RunStatus.SUCCEEDED, pair_model=calibration.run_record(
        refit, encoder="all-mpnet-base-v2", purpose_metric="mpnet"))
    found = run_pair_model(run)
    assert found is not None and found.encoder == "all-mpnet-base-v2" and found.decisions == 4
    assert (found.likely, found.possible, found.join) == (0.7, 0.25, 0.5)  # mpnet's thresholds, not MiniLM's
    assert found.weights[0] == (pairs.FEATURE_LABELS["archetype_exact"], mpnet_bars.model.weights[1], 2.0)
    assert found.corrections == [("Load forecasting", -1.2), ("gone", 0.1)] and found.changed
    shipped = SprawlRun.objects.create(status=RunStatus.SUCCEEDED, pair_model={**pairs.SHIPPED.as_dict(), **MINILM_RUN})
    unchanged = run_pair_model(shipped)
    assert unchanged is not None and unchanged.encoder == "all-MiniLM-L6-v2" and not unchanged.changed
    assert (unchanged.likely, unchanged.possible, unchanged.join) == (
        pairs.SHIPPED.threshold, pairs.SHIPPED.possible, pairs.SHIPPED.join)
    # A run from before the purpose metric reads back beside the weights it was shipped with then.
    before = run_pair_model(SprawlRun.objects.create(status=RunStatus.SUCCEEDED, pair_model=pairs.COSINE.as_dict()))
    assert before is not None and not before.changed
    assert (before.likely, before.possible) == (pairs.COSINE.threshold, pairs.COSINE.possible)
    assert run_pair_model(SprawlRun.objects.create(status=RunStatus.SUCCEEDED, pair_model={})) is None


def test_a_run_reads_back_the_thresholds_it_recorded_not_the_ones_shipped_since():
    from governance.sprawl.engine import calibration
    from governance.sprawl.selectors import run_pair_model

    then = dataclasses.replace(pairs.SHIPPED, threshold=0.5, possible=0.25, join=0.45)
    run = SprawlRun.objects.create(status=RunStatus.SUCCEEDED, pair_model=calibration.run_record(
        then, encoder="all-MiniLM-L6-v2", purpose_metric="minilm"))
    found = run_pair_model(run)
    assert found is not None and (found.likely, found.possible, found.join) == (0.5, 0.25, 0.45)
    assert (found.likely, found.possible) != (pairs.SHIPPED.threshold, pairs.SHIPPED.possible)


def test_a_run_of_an_earlier_versions_features_is_shown_as_it_was_recorded():
    from governance.sprawl.selectors import run_pair_model

    UseCaseFactory(code="meeting-notes", name="Meeting notes")
    earlier = [name for name in pairs.FEATURES if name != "same_owner"]  # before the owner feature
    record = {"features": [*earlier, "retired_feature"], "weights": [0.0, 1.5, 3.0, 2.0, 2.9, 3.2, 1.3, 2.6, -0.9,
                                                                       0.0, 0.7],
              "bias": -6.2, "use_case_bias": {"meeting-notes": -0.4}, "decisions": 7,
              "encoder": "all-MiniLM-L6-v2", "purpose_metric": "minilm"}
    found = run_pair_model(SprawlRun.objects.create(status=RunStatus.SUCCEEDED, pair_model=record))
    assert found is not None and found.earlier_features and found.changed and found.decisions == 7
    # Each weighed feature by what it means (a name no longer known, as recorded), with no shipped weight beside it.
    assert found.weights[0] == (pairs.FEATURE_LABELS["archetype_exact"], None, 1.5)
    assert found.weights[-1] == ("retired feature", None, 0.7) and len(found.weights) == 9
    assert found.corrections == [("Meeting notes", -0.4)]
    assert (found.likely, found.possible, found.join) == (None, None, None)  # not recorded then
    kept = run_pair_model(SprawlRun.objects.create(status=RunStatus.SUCCEEDED, pair_model={
        **record, "thresholds": {"likely": 0.5, "possible": 0.25, "join": 0.45}}))
    assert kept is not None and (kept.likely, kept.possible, kept.join) == (0.5, 0.25, 0.45)


def test_a_run_of_an_uncalibrated_model_says_its_constants_were_moved():
    from governance.sprawl.selectors import run_pair_model

    run = SprawlRun.objects.create(status=RunStatus.SUCCEEDED,
                                   pair_model={**pairs.COSINE.as_dict(), "encoder": "text-embedding-3-small"})
    found = run_pair_model(run)
    assert found is not None and found.encoder == "text-embedding-3-small" and found.adapted
    # MiniLM's pair model on its own cosine, which an encoder without a calibration starts from.
    assert (found.likely, found.possible) == (pairs.COSINE.threshold, pairs.COSINE.possible)


# The track record ----------------------------------------------------------------------------------------------------


def test_track_record_counts_the_proposed_pairs_reviewers_found_right(reviewer, django_assert_num_queries):
    decided_clusters(reviewer)
    a, b, c = InitiativeFactory.create_batch(3)
    duplicate_pair_decide(actor=reviewer, initiative=a, other=b, verdict=DuplicateVerdict.DUPLICATE, reason="Same job.")
    duplicate_pair_decide(actor=reviewer, initiative=a, other=c, verdict=DuplicateVerdict.NOT_DUPLICATE,
                          reason="Another audience")

    with django_assert_num_queries(3):
        (likely, possible), verdicts = sprawl_track_record()

    assert (likely.confidence, likely.decided, likely.confirmed_whole, likely.confirmed_trimmed,
            likely.dismissed) == (SprawlConfidence.LIKELY, 3, 1, 1, 1)
    assert (likely.right, likely.pairs) == (2, 5)  # 1 of 3 trimmed, 1 of 1 whole (the late member left out), 0 of 1
    assert likely.precision == pytest.approx(0.4)
    assert likely.interval == (0.118, 0.769)  # five pairs say little: Wilson's 95% interval
    assert (possible.decided, possible.right, possible.pairs, possible.precision) == (1, 1, 1, 1.0)
    assert (verdicts.duplicate, verdicts.not_duplicate, verdicts.total) == (1, 1, 2)


def test_a_confirmed_pair_later_marked_not_a_duplicate_is_not_counted_right(reviewer, admin_user):
    """The latest decision on a pair wins: a pair of a confirmed cluster that a reviewer marks "not a duplicate"
    afterwards (once one of them left the cluster, or as recorded before such verdicts were refused) is wrong."""
    a, b, c = InitiativeFactory.create_batch(3)
    cluster = SprawlClusterFactory(initiatives=[a, b, c])
    sprawl_cluster_confirm(actor=admin_user, cluster=cluster)
    DuplicatePairDecision.objects.create(initiative_a=min(a, b, key=lambda i: i.pk),
                                         initiative_b=max(a, b, key=lambda i: i.pk),
                                         verdict=DuplicateVerdict.NOT_DUPLICATE, reason="Different data.",
                                         decided_by=reviewer, decided_at=timezone.now() + timedelta(minutes=1))

    (likely, _), _ = sprawl_track_record()

    assert (likely.decided, likely.pairs, likely.right) == (1, 3, 2)


def test_track_record_before_any_decision_has_no_share(reviewer):
    SprawlClusterFactory(initiatives=InitiativeFactory.create_batch(2))

    records, verdicts = sprawl_track_record()

    assert [(r.label, r.decided, r.pairs, r.precision, r.interval) for r in records] == [
        ("Likely", 0, 0, None, None), ("Possible", 0, 0, None, None)]
    assert verdicts.total == 0


# How often clusters of a score were right elsewhere ----------------------------------------------------------------


def test_the_shipped_reliability_table_covers_every_score_a_cluster_gets_and_adds_up():
    from bench.sprawl_sets import LATE, REPORTING
    from governance.sprawl.engine import calibration
    from governance.sprawl.selectors import _reliability

    for encoder, measured in _reliability().items():
        model = calibration.calibration_for(encoder).model
        assert measured["sets"] == [*REPORTING, *LATE]  # only sets nobody tuned on
        bands = measured["bands"]
        assert bands[0]["low"] == model.possible and bands[-1]["high"] == 1.0
        assert all(a["high"] == b["low"] for a, b in zip(bands, bands[1:], strict=False))
        assert [b["confidence"] for b in bands] == ["possible" if b["high"] <= model.threshold else "likely"
                                                    for b in bands]
        for band in bands:
            assert 0 <= band["right"] <= band["pairs"] and band["clusters"] <= band["pairs"]
            assert band["all_right"] + band["all_wrong"] <= band["clusters"]


def test_a_clusters_score_finds_its_band_for_the_configured_encoder(settings):
    from governance.sprawl.selectors import _reliability, score_band

    bands = _reliability()["all-MiniLM-L6-v2-onnx-int8"]["bands"]
    middle = next(b for b in bands if b["low"] == 0.7)
    band = score_band(Decimal("0.75"))
    assert (band.confidence, band.low, band.high, band.right, band.pairs) == (
        "likely", 0.7, 0.8, middle["right"], middle["pairs"])
    measured = _reliability()["all-MiniLM-L6-v2-onnx-int8"]["sets"]
    assert band.sets == len(measured) == 10 and band.share == pytest.approx(middle["right"] / middle["pairs"])
    assert band.interval[0] < band.share < band.interval[1]
    assert score_band(0.7).low == 0.7 and score_band(1.0).high == 1.0  # a band holds its lower end; 1 the last
    assert score_band(0.05) is None  # below the possible threshold: nothing was measured there
    settings.TOLLGATE_EMBEDDER = {"backend": "http", "url": "http://embed:8080", "model": "my-model"}
    assert score_band(0.75) is None  # a served model nobody measured: nothing to say
    settings.TOLLGATE_EMBEDDER = {"backend": "http", "url": "http://embed:8080",
                                  "model": "sentence-transformers/all-mpnet-base-v2"}
    served = _reliability()["http:sentence-transformers/all-mpnet-base-v2"]["bands"]
    band = score_band(0.55)  # mpnet's likely threshold is 0.50: its table has its own bands
    assert (band.confidence, band.low, band.high) == ("likely", 0.5, 0.6)
    assert (band.right, band.pairs) == next((b["right"], b["pairs"]) for b in served if b["low"] == 0.5)
