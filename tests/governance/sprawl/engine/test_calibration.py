"""Each encoder is scored with its own constants and pair model: cosines sit on each model's own scale."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from governance.sprawl.engine import calibration, pairs, scoring
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
        assert calibration.calibration_for("http:nomic-embed-text-v9") is calibration.MINILM
        assert calibration.calibration_for("http:nomic-embed-text-v9") is calibration.MINILM
    warnings = [r for r in caplog.records if "nomic-embed-text-v9" in r.getMessage()]
    assert len(warnings) == 1 and "not fitted for it" in warnings[0].getMessage()


def test_minilm_is_what_ships_and_every_calibration_is_complete():
    assert calibration.MINILM.model is pairs.SHIPPED and calibration.MINILM.params is scoring.DEFAULT_PARAMS
    for calibrated in calibration.CALIBRATIONS.values():
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
