"""What the detector's constants are for each sentence-embedding model it knows.

Cosines sit on each model's own scale, and what a feature is worth depends on the encoder that computed it, so the
scorer's cosine constants (job and synonym weights, purpose and kernel floors, the two coherences of a job's
specificity) and the pair model (weights and thresholds) belong to one encoder. A model without a calibration here
gets MiniLM's pair model with the cosine constants moved onto its scale from the catalogue alone (`adapted`): far
better than MiniLM's constants as they are for a model whose cosines are compressed (e5's sit between 0.7 and 1),
about the same for one whose cosines sit near MiniLM's, never fitted for it; `calibration_for` logs a warning once.

Each calibration was made by the same protocol (`bench/sprawl_encoders.py`): the constants moved onto the model's
scale from the catalogue alone, the weights fitted on the tuning sets, the thresholds chosen on the selection sets by
`bench/sprawl_select.py`'s rule, the bar to join a confirmed cluster on the tuning and selection sets by
`bench/sprawl_feedback.py --choose-join`. The reporting sets chose nothing.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np

from governance.sprawl.engine import metric, pairs, scoring

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Calibration:
    """The scorer's constants and the pair model fitted for one encoder."""

    encoder: str
    params: scoring.Params
    model: pairs.PairModel
    coherence: tuple[float, float]  # (fully specific, not specific at all): see scoring.job_specificity
    # No calibration of its own: move the constants onto the model's scale once its catalogue is embedded (`adapted`).
    adapt: bool = False
    # The purpose metric learnt for this encoder (engine/metric.py, shipped by name); "": the encoder's own cosine.
    purpose_metric: str = ""

    def catalogue_index(self, archetypes, embed) -> scoring.CatalogueIndex:
        """The catalogue indexed with this encoder's constants (`embed` is that encoder's) and its purpose metric,
        moved onto its scale first when it has no calibration of its own."""
        index = scoring.build_catalogue_index(archetypes, embed, params=self.params, coherence=self.coherence)
        if self.purpose_metric:
            index = dataclasses.replace(index, purpose_metric=metric.load(self.purpose_metric))
        return adapted(index) if self.adapt else index


# The mean and spread of the shipped catalogue's job-to-job cosines under MiniLM: the scale the constants were chosen
# on, onto which another model's cosines are moved (cos_minilm ~ a * cos + b, matching these two).
MINILM_SCALE = (0.187262, 0.101938)

# How soft MiniLM's placement on the catalogue is (the tempered softmax over each initiative's five best jobs): 0.30
# since 2026-12-05's third session, chosen on the selection sets (docs/sprawl-quality.md, "A softer placement on the
# catalogue"): duplicates are lost where the catalogue places one job's two descriptions on neighbouring jobs, and a
# softer placement lets them agree in part. mpnet's has its own (MPNET_TEMPERATURE); the cosine fallback keeps the 0.15
# its weights were fitted at.
MINILM_TEMPERATURE = 0.3

# The shipped encoder (all-MiniLM-L6-v2, int8 ONNX, in-process), comparing purposes with the metric learnt from the
# tuning sets' duplicates (engine/metric.py).
MINILM = Calibration(
    encoder="all-MiniLM-L6-v2", params=dataclasses.replace(scoring.DEFAULT_PARAMS, temperature=MINILM_TEMPERATURE),
    model=pairs.SHIPPED,
    coherence=(scoring.SPECIFIC_COHERENCE, scoring.GENERIC_COHERENCE), purpose_metric="minilm",
)
# MiniLM's pair model fitted on its own cosine, without the learnt metric and at the default placement temperature:
# what a model without a calibration of its own starts from (a metric learnt in MiniLM's space means nothing in
# another model's).
MINILM_COSINE = dataclasses.replace(MINILM, params=scoring.DEFAULT_PARAMS, model=pairs.COSINE, purpose_metric="")

# sentence-transformers/all-mpnet-base-v2 (mean pooling, L2-normalised), for a company that serves it from its own
# OpenAI-compatible endpoint (EMBEDDINGS_URL + EMBEDDINGS_MODEL): about seven times MiniLM's CPU per text, so not the
# default (docs/sprawl-quality.md, "Would a stronger embedding model earn its cost?"). Its catalogue's job-to-job
# cosines have MiniLM's spread and sit 0.061 higher, so each cosine constant moves by
# cos_minilm = 1.007933 * cos_mpnet - 0.061249. Since 2026-12-05 it compares purposes in its own learnt metric
# (purpose_metric_mpnet.npy) and weighs a shared owner, fitted and chosen as MiniLM's are (bench/sprawl_tune.py --fit
# --save-metric, bench/sprawl_select.py and bench/sprawl_feedback.py --choose-join, with the model served by
# bench/embeddings_server.py). Its placement on the catalogue is softer too, chosen the way MiniLM's was
# (docs/sprawl-quality.md, "A softer placement for mpnet").
MPNET_TEMPERATURE = 0.35
MPNET = Calibration(
    encoder="all-mpnet-base-v2",
    params=dataclasses.replace(scoring.DEFAULT_PARAMS, w_job=1.007933, w_synonym=1.007933, purpose_floor=0.259193,
                               kernel_floor=0.358406, temperature=MPNET_TEMPERATURE),
    model=pairs.PairModel(
        weights=(0.0, 2.880467, 3.863849, 2.477868, 3.048233, 2.533495, 0.768825, 2.764685, -0.835019, 0.0, -1.471538),
        bias=-8.103555, threshold=0.5, possible=0.2, join=0.45,
    ),
    coherence=(0.275061, 0.498428), purpose_metric="mpnet",
)

# MiniLM and Google's Universal Sentence Encoder multilingual v3 side by side, both in-process
# (EMBEDDINGS_BACKEND=onnx-minilm+use; embeddings.JoinedEmbedder): a cosine is the mean of the two models'. Its
# catalogue's job-to-job cosines sit 0.021 higher and spread a little less than MiniLM's, so each cosine constant
# moves by cos_minilm = 1.085482 * cos_joined - 0.039366.
MINILM_USE = Calibration(
    encoder="all-MiniLM-L6-v2+use-multilingual-v3",
    params=dataclasses.replace(scoring.DEFAULT_PARAMS, w_job=1.085482, w_synonym=1.085482, purpose_floor=0.220516,
                               kernel_floor=0.312641, temperature=MINILM_TEMPERATURE),
    model=pairs.PairModel(
        weights=(0.0, 2.20549, 3.166836, 2.466418, 3.081911, 3.077702, 1.055625, 3.302298, -0.68295, 0.0, -1.42015),
        bias=-7.777555, threshold=0.55, possible=0.2, join=0.5,
    ),
    coherence=(0.235250, 0.442659), purpose_metric="minilm-use",
)

CALIBRATIONS = {"all-minilm-l6-v2": MINILM, "all-mpnet-base-v2": MPNET, MINILM_USE.encoder.lower(): MINILM_USE}

_warned: set[str] = set()


def job_similarity_scale(job_vectors: np.ndarray) -> tuple[float, float]:
    """Mean and spread of the cosines between a catalogue's jobs (no labelled data involved)."""
    sims = job_vectors @ job_vectors.T
    upper = sims[np.triu_indices(len(sims), 1)]
    return (float(upper.mean()), float(upper.std())) if upper.size else MINILM_SCALE


def moved(scale: tuple[float, float], reference: tuple[float, float] = MINILM_SCALE,
          ) -> tuple[scoring.Params, tuple[float, float]]:
    """MiniLM's cosine constants (and specificity coherences) moved onto a model whose catalogue cosines have `scale`:
    cos_reference ~ a * cos + b, by matching the mean and spread of the two."""
    a = reference[1] / max(scale[1], 1e-9)
    b = reference[0] - a * scale[0]
    p = scoring.DEFAULT_PARAMS
    params = dataclasses.replace(p, w_job=p.w_job * a, w_synonym=p.w_synonym * a,
                                 purpose_floor=(p.purpose_floor - b) / a, kernel_floor=(p.kernel_floor - b) / a)
    return params, ((scoring.SPECIFIC_COHERENCE - b) / a, (scoring.GENERIC_COHERENCE - b) / a)


def adapted(index: scoring.CatalogueIndex, reference: tuple[float, float] = MINILM_SCALE) -> scoring.CatalogueIndex:
    """`index` with MiniLM's constants moved onto the scale of the model that embedded it (`reference`: MiniLM's
    scale on this catalogue, where it was measured; the shipped catalogue's by default)."""
    params, coherence = moved(job_similarity_scale(index.job_vectors), reference)
    return dataclasses.replace(index, params=params, specificity=scoring.job_specificity(
        index.synonym_vectors, index.synonym_owner, len(index.archetypes),
        specific=coherence[0], generic=coherence[1]))


def run_record(model: pairs.PairModel, *, encoder: str, purpose_metric: str) -> dict:
    """What a run records of how it scored pairs (`SprawlRun.pair_model`): the model, the encoder and purpose metric
    its weights belong to (read back by `recorded_encoder`, `recorded_metric`, `scores_as`), and the thresholds it
    grouped at (`recorded_thresholds`), which a later version may ship otherwise."""
    return {**model.as_dict(), "encoder": encoder, "purpose_metric": purpose_metric,
            "thresholds": {"likely": model.threshold, "possible": model.possible, "join": model.join}}


def recorded_thresholds(record: dict, default: pairs.PairModel) -> tuple[float, float, float]:
    """(likely, possible, join) a run grouped at; `default`'s for a run recorded before runs kept them."""
    kept = record.get("thresholds") or {}
    return (float(kept.get("likely", default.threshold)), float(kept.get("possible", default.possible)),
            float(kept.get("join", default.join)))


def recorded_encoder(record: dict) -> str:
    """The encoder a run's pair-model record names (`SprawlRun.pair_model["encoder"]`); MiniLM for a run before
    encoders were recorded."""
    return str(record.get("encoder", MINILM.encoder))


def recorded_metric(record: dict) -> str:
    """The purpose metric a run's pair-model record names (`SprawlRun.pair_model["purpose_metric"]`); none for a run
    before the metric."""
    return str(record.get("purpose_metric", ""))


def scores_as(calibrated: Calibration, record: dict) -> bool:
    """Whether a run's record was made with this calibration's encoder and purpose metric (else its weights belong
    to other features' scale)."""
    return (recorded_encoder(record), recorded_metric(record)) == (calibrated.encoder, calibrated.purpose_metric)


def by_record(record: dict) -> Calibration:
    """The calibration a run's record was made with; MiniLM's on its own cosine (whose pair model an uncalibrated
    encoder uses) otherwise."""
    return next((c for c in (*CALIBRATIONS.values(), MINILM_COSINE) if scores_as(c, record)), MINILM_COSINE)


def for_model(model: str) -> Calibration | None:
    """The calibration of a model as a server names it ("sentence-transformers/all-mpnet-base-v2",
    "all-mpnet-base-v2"), path prefix and case aside; None when there is none."""
    return CALIBRATIONS.get(model.strip().rsplit("/", 1)[-1].lower())


def calibration_for(embedder_name: str) -> Calibration:
    """The calibration of an embedder (`Embedder.name`: the in-process MiniLM, alone or with USE beside it, or
    "http:<model>")."""
    if not embedder_name.startswith("http:"):
        return MINILM_USE if embedder_name.endswith("+use-multilingual-v3") else MINILM
    model = embedder_name.removeprefix("http:")
    found = for_model(model)
    if found is None:
        if model not in _warned:
            _warned.add(model)
            logger.warning("No calibration for the embedding model %r: sprawl detection uses MiniLM's pair model with "
                           "its constants moved onto this model's scale, not fitted for it (calibrated: %s).", model,
                           ", ".join(CALIBRATIONS))
        return dataclasses.replace(MINILM_COSINE, encoder=model, adapt=True)
    return found

