"""Each encoder is scored with its own constants and pair model: cosines sit on each model's own scale."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pytest

from governance.sprawl.engine import calibration, metric, pairs, scoring
from governance.sprawl.engine.embeddings import OnnxMiniLMEmbedder
from tests.governance.sprawl.engine.test_scoring import ARCHETYPES, _items


@pytest.fixture(scope="module")
def minilm():
    return OnnxMiniLMEmbedder()


def test_a_model_is_found_by_the_name_a_server_gives_it():
    assert calibration.for_model("sentence-transformers/all-mpnet-base-v2") is calibration.MPNET
    assert calibration.for_model(" All-MPNet-Base-v2 ") is calibration.MPNET
    assert calibration.for_model("sentence-transformers/all-MiniLM-L6-v2") is calibration.MINILM
    assert calibration.for_model("text-embedding-3-small") is None


def test_the_in_process_encoder_is_minilm_and_an_unknown_served_model_warns_once(caplog):
    assert calibration.calibration_for(OnnxMiniLMEmbedder.name) is calibration.MINILM
    assert calibration.calibration_for("http:sentence-transformers/all-mpnet-base-v2") is calibration.MPNET
    with caplog.at_level(logging.WARNING, logger=calibration.__name__):
        first = calibration.calibration_for("http:nomic-embed-text-v9")
        assert calibration.calibration_for("http:nomic-embed-text-v9") == first
    # MiniLM's pair model on its own cosine: the metric learnt in MiniLM's space means nothing in another model's.
    assert first.adapt and first.encoder == "nomic-embed-text-v9" and first.model is calibration.MINILM_COSINE.model
    assert first.purpose_metric == ""
    warnings = [r for r in caplog.records if "nomic-embed-text-v9" in r.getMessage()]
    assert len(warnings) == 1 and "not fitted for it" in warnings[0].getMessage()


def test_minilm_is_what_ships_and_every_calibration_is_complete():
    assert calibration.MINILM.model is pairs.SHIPPED
    # MiniLM places initiatives on the catalogue more softly than the default its fallback model was fitted at.
    assert calibration.MINILM.params == dataclasses.replace(scoring.DEFAULT_PARAMS,
                                                           temperature=calibration.MINILM_TEMPERATURE)
    assert calibration.MINILM_TEMPERATURE != scoring.DEFAULT_PARAMS.temperature
    assert calibration.MINILM_COSINE.params is scoring.DEFAULT_PARAMS
    # mpnet's placement was chosen the same way, on its own grid.
    assert calibration.MPNET.params.temperature == calibration.MPNET_TEMPERATURE != scoring.DEFAULT_PARAMS.temperature
    assert calibration.MINILM.purpose_metric == "minilm" and calibration.MPNET.purpose_metric == "mpnet"
    assert calibration.MINILM_COSINE.model is pairs.COSINE and calibration.MINILM_COSINE.purpose_metric == ""
    for calibrated in (*calibration.CALIBRATIONS.values(), calibration.MINILM_COSINE):
        assert len(calibrated.model.weights) == len(pairs.FEATURES)
        assert 0 < calibrated.model.possible <= calibrated.model.threshold < 1
        assert calibrated.coherence[0] < calibrated.coherence[1]
    # mpnet's cosines sit higher than MiniLM's, so its floors and coherences do too.
    assert calibration.MPNET.params.purpose_floor > scoring.DEFAULT_PARAMS.purpose_floor
    assert calibration.MPNET.coherence[0] > calibration.MINILM.coherence[0]


def test_the_index_carries_its_encoders_constants_into_scoring(minilm):
    mpnet = calibration.MPNET
    index = scoring.build_catalogue_index(ARCHETYPES, minilm.embed)
    moved = scoring.build_catalogue_index(ARCHETYPES, minilm.embed, params=mpnet.params, coherence=mpnet.coherence)
    assert moved.params is mpnet.params
    # The same phrasings measure as more specific on a scale whose coherences sit higher.
    assert np.all(moved.specificity >= index.specificity - 1e-6) and np.any(moved.specificity > index.specificity)
    items = _items()
    vectors = minilm.embed([i.purpose for i in items])
    assert scoring.score_items(items, vectors, moved).params is mpnet.params
    assert scoring.score_items(items, vectors, index).params is scoring.DEFAULT_PARAMS
    # A higher purpose floor counts the same cosines for less.
    floor_minilm = scoring.score_items(items, vectors, index).features(slice(None))["purpose"]
    floor_mpnet = scoring.score_items(items, vectors, moved).features(slice(None))["purpose"]
    assert np.all(floor_mpnet <= floor_minilm + 1e-6) and np.any(floor_mpnet < floor_minilm)


class Squeezed:
    """MiniLM with every cosine squeezed into [0.7, 1] (cos' = 0.3 cos + 0.7, exactly: a constant extra dimension),
    as e5-style models put theirs."""

    name = "http:squeezed-embedder"

    def __init__(self, real: OnnxMiniLMEmbedder) -> None:
        self._real = real

    def embed(self, texts: list[str], progress=None) -> np.ndarray:
        vectors = self._real.embed(texts, progress=progress)
        return np.hstack([np.sqrt(0.3) * vectors, np.full((len(vectors), 1), np.sqrt(0.7), np.float32)])


def test_an_uncalibrated_model_gets_minilms_constants_moved_onto_its_scale(minilm, caplog):
    with caplog.at_level(logging.WARNING, logger=calibration.__name__):
        unknown = calibration.calibration_for("http:squeezed-embedder")
    assert unknown.adapt and unknown.encoder == "squeezed-embedder" and unknown.model is pairs.COSINE
    assert "moved onto this model's scale" in caplog.text
    squeezed = Squeezed(minilm)
    reference = scoring.build_catalogue_index(ARCHETYPES, minilm.embed)
    raw = scoring.build_catalogue_index(ARCHETYPES, squeezed.embed)
    # Measured on this catalogue under MiniLM (the shipped MINILM_SCALE is the shipped catalogue's).
    scale = calibration.job_similarity_scale(reference.job_vectors)
    params, coherence = calibration.moved(calibration.job_similarity_scale(raw.job_vectors), scale)
    assert params.purpose_floor == pytest.approx(0.3 * 0.2 + 0.7, abs=1e-4)
    assert coherence[0] == pytest.approx(0.3 * scoring.SPECIFIC_COHERENCE + 0.7, abs=1e-4)
    moved = dataclasses.replace(raw, params=params, specificity=scoring.job_specificity(
        raw.synonym_vectors, raw.synonym_owner, len(raw.archetypes), specific=coherence[0], generic=coherence[1]))
    items = _items()
    features = {label: scoring.score_items(items, embed([i.purpose for i in items]), index).features(slice(None))
                for label, embed, index in (("minilm", minilm.embed, reference), ("raw", squeezed.embed, raw),
                                            ("moved", squeezed.embed, moved))}
    # Moved, the squeezed model's features are MiniLM's; as they were, every pair looked alike.
    assert np.allclose(moved.specificity, reference.specificity, atol=1e-4)
    assert np.allclose(features["moved"]["purpose"], features["minilm"]["purpose"], atol=1e-3)
    assert not np.allclose(features["raw"]["purpose"], features["minilm"]["purpose"], atol=0.05)
    # `adapted` does the same against the shipped catalogue's scale.
    assert calibration.adapted(raw).params.purpose_floor > 0.7


def test_each_calibrated_index_carries_its_own_learnt_metric_and_other_encoders_none(minilm):
    shipped = calibration.MINILM.catalogue_index(ARCHETYPES, minilm.embed)
    assert shipped.purpose_metric is metric.load("minilm") and shipped.purpose_metric.shape == (384, 384)
    assert calibration.MINILM_COSINE.catalogue_index(ARCHETYPES, minilm.embed).purpose_metric is None
    mpnet = calibration.MPNET.catalogue_index(ARCHETYPES, minilm.embed).purpose_metric
    assert mpnet is metric.load("mpnet") and mpnet.shape == (768, 768)  # learnt in mpnet's own space
    joined = metric.load("minilm-use")
    assert joined.shape == (384 + 512, 384 + 512)  # MiniLM's and USE's vectors side by side
    assert calibration.adapted(calibration.MINILM_COSINE.catalogue_index(ARCHETYPES, minilm.embed)).purpose_metric \
        is None  # a model without a calibration gets none
    items = _items()
    vectors = minilm.embed([i.purpose for i in items])
    scored = scoring.score_items(items, vectors, shipped)
    assert scored.metric is shipped.purpose_metric
    # The pair model's purpose cosine is the metric's; the encoder's own cosine is kept for the ranking blend.
    features = scored.features(slice(None))
    assert np.allclose(features.encoder_cosine(), vectors @ vectors.T, atol=1e-5)
    assert not np.allclose(features.purpose_cosine(), vectors @ vectors.T, atol=1e-2)


def test_a_runs_record_names_the_calibration_it_was_made_with():
    minilm_now = {"encoder": "all-MiniLM-L6-v2", "purpose_metric": "minilm"}
    assert calibration.scores_as(calibration.MINILM, minilm_now)
    assert calibration.by_record(minilm_now) is calibration.MINILM
    # A run before the metric (or before encoders were recorded) scored with MiniLM's own cosine.
    for before in ({"encoder": "all-MiniLM-L6-v2"}, {}):
        assert not calibration.scores_as(calibration.MINILM, before)
        assert calibration.by_record(before) is calibration.MINILM_COSINE
    assert calibration.by_record({"encoder": "all-mpnet-base-v2", "purpose_metric": "mpnet"}) is calibration.MPNET
    assert calibration.by_record({"encoder": "nomic-embed-text-v9"}) is calibration.MINILM_COSINE
    joined = calibration.run_record(calibration.MINILM_USE.model, encoder=calibration.MINILM_USE.encoder,
                                    purpose_metric=calibration.MINILM_USE.purpose_metric)
    assert calibration.by_record(joined) is calibration.MINILM_USE
    assert calibration.recorded_thresholds(joined, pairs.SHIPPED) == (0.55, 0.2, 0.5)
