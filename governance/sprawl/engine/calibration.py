"""What the detector's constants are for each sentence-embedding model it knows.

Cosines sit on each model's own scale, and what a feature is worth depends on the encoder that computed it, so the
scorer's cosine constants (job and synonym weights, purpose and kernel floors, the two coherences of a job's
specificity) and the pair model (weights and thresholds) belong to one encoder. A model without a calibration here is
scored with MiniLM's, which is wrong by an unknown amount; `calibration_for` logs a warning once.

Each calibration was made by the same protocol (`bench/sprawl_encoders.py`): the constants moved onto the model's
scale from the catalogue alone, the weights fitted on the tuning sets, the thresholds chosen on the selection sets by
`bench/sprawl_select.py`'s rule. The reporting sets chose nothing.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

from governance.sprawl.engine import pairs, scoring

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Calibration:
    """The scorer's constants and the pair model fitted for one encoder."""

    encoder: str
    params: scoring.Params
    model: pairs.PairModel
    coherence: tuple[float, float]  # (fully specific, not specific at all): see scoring.job_specificity


# The shipped encoder (all-MiniLM-L6-v2, int8 ONNX, in-process).
MINILM = Calibration(
    encoder="all-MiniLM-L6-v2", params=scoring.DEFAULT_PARAMS, model=pairs.SHIPPED,
    coherence=(scoring.SPECIFIC_COHERENCE, scoring.GENERIC_COHERENCE),
)

# sentence-transformers/all-mpnet-base-v2 (mean pooling, L2-normalised), for a company that serves it from its own
# OpenAI-compatible endpoint (EMBEDDINGS_URL + EMBEDDINGS_MODEL): about seven times MiniLM's CPU per text, so not
# the default, but its clusters are right more often on every independent set (README, "Would a stronger embedding
# model earn its cost?"). Its catalogue's job-to-job cosines have MiniLM's spread and sit 0.061 higher, so each
# cosine constant moves by cos_minilm = 1.007933 * cos_mpnet - 0.061249.
MPNET = Calibration(
    encoder="all-mpnet-base-v2",
    params=dataclasses.replace(scoring.DEFAULT_PARAMS, w_job=1.007933, w_synonym=1.007933, purpose_floor=0.259193,
                               kernel_floor=0.358406),
    model=pairs.PairModel(
        weights=(0.0, 2.169521, 3.912646, 2.033038, 2.557056, 3.872788, 0.9942, 2.352967, -1.178514, 0.0),
        bias=-6.253004, threshold=0.7, possible=0.25,
    ),
    coherence=(0.275061, 0.498428),
)

CALIBRATIONS = {"all-minilm-l6-v2": MINILM, "all-mpnet-base-v2": MPNET}

_warned: set[str] = set()


def by_encoder(encoder: str) -> Calibration:
    """The calibration a run recorded (`Calibration.encoder`); MiniLM's for a run before encoders were recorded."""
    return next((c for c in CALIBRATIONS.values() if c.encoder == encoder), MINILM)


def for_model(model: str) -> Calibration | None:
    """The calibration of a model as a server names it ("sentence-transformers/all-mpnet-base-v2",
    "all-mpnet-base-v2"), path prefix and case aside; None when there is none."""
    return CALIBRATIONS.get(model.strip().rsplit("/", 1)[-1].lower())


def calibration_for(embedder_name: str) -> Calibration:
    """The calibration of an embedder (`Embedder.name`: the in-process MiniLM, or "http:<model>")."""
    if not embedder_name.startswith("http:"):
        return MINILM
    model = embedder_name.removeprefix("http:")
    found = for_model(model)
    if found is None:
        if model not in _warned:
            _warned.add(model)
            logger.warning("No calibration for the embedding model %r: sprawl detection uses MiniLM's constants and "
                           "pair model, which were not fitted for it (known: %s).", model, ", ".join(CALIBRATIONS))
        return MINILM
    return found

