"""The pair model: how likely two initiatives do the same job, from features a reviewer can check. Pure; no ORM.

A logistic model over a few pair features (agreement on the catalogue's jobs, similarity of what the two say they do,
shared distinctive wording, and whether they share a department or a category). The shipped weights were fitted on
the tuning sets only (`bench/sprawl_tune.py --fit`); a company's own reviewer decisions refit them (`refit`: the
most probable weights given those decisions, with the shipped weights as a Gaussian prior), so a handful of decisions
nudge the model and hundreds can move it. The thresholds are fixed: a cluster is shown as likely only when its
members' average probability reaches `threshold` (chosen for precision first), and as possible above `possible`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import minimize

# The pair features, in the order of PairModel.weights.
FEATURES: tuple[str, ...] = (
    "archetype",  # agreement of the two archetype profiles, neighbouring jobs counting partly (kernel)
    "archetype_exact",  # agreement on exactly the same catalogue jobs
    "archetype_rare",  # the same, each job weighed by how rare it is in this portfolio
    "archetype_specific",  # the same, each job weighed by how specific the catalogue's phrasings of it are
    "purpose",  # similarity of the purpose embeddings, below a floor counting as nothing
    "purpose_local",  # purpose similarity above the two items' neighbourhoods' (how crowded their area is)
    "wording",  # TF-IDF cosine of the two texts, weighted by how rare each word is in this portfolio
    "job_and_purpose",  # the lesser of `archetype` and `purpose`: the catalogue and the descriptions both agree
    "same_department",
    "same_category",
    "same_owner",  # one person accountable for both: phases or variants of one initiative, not two teams
)

FEATURE_LABELS = {
    "archetype": "same or neighbouring job in the catalogue",
    "archetype_exact": "the same job in the catalogue",
    "archetype_rare": "the same job in the catalogue, one few of this company's initiatives do",
    "archetype_specific": "the same job in the catalogue, one it describes by specific tasks, not a generic technique",
    "purpose": "similar description of what it does",
    "purpose_local": "more alike than their neighbours in the portfolio",
    "wording": "shared distinctive wording",
    "job_and_purpose": "same job by the catalogue and by the descriptions",
    "same_department": "same department",
    "same_category": "same category",
    "same_owner": "same owner",
}

# The catalogue's three agreements tell a reviewer one thing, the same job, each with its own qualifier: said once.
SAME_JOB = ("archetype_exact", "archetype_rare", "archetype_specific")
SAME_JOB_QUALIFIERS = {"archetype_rare": "one few initiatives here do",
                       "archetype_specific": "described by its tasks"}


def weighed_most(contributions: Mapping[str, float], *, limit: int = 2, floor: float = 0.05) -> list[str]:
    """What weighed most in a pair's (or a cluster's mean) logit, in words, largest first: the features whose share
    exceeds `floor`, the catalogue's agreements counted together as "the same job in the catalogue" with their
    qualifiers, so no phrase is said twice."""
    entries = [(value, FEATURE_LABELS[name]) for name, value in contributions.items()
               if name not in SAME_JOB and value > floor]
    job = [name for name in SAME_JOB if contributions.get(name, 0.0) > floor]
    if job:
        qualifiers = [SAME_JOB_QUALIFIERS[name] for name in job if name in SAME_JOB_QUALIFIERS]
        entries.append((sum(contributions[name] for name in job),
                        ", ".join(["the same job in the catalogue", *qualifiers])))
    return [label for _, label in sorted(entries, key=lambda entry: -entry[0])[:limit]]


@dataclass(frozen=True)
class PairModel:
    """Weights of the logistic pair model and its two fixed thresholds."""

    weights: tuple[float, ...]
    bias: float
    threshold: float = 0.55  # a likely cluster: precision first (bench/sprawl_select.py)
    possible: float = 0.25  # a possible cluster: shown apart, for a reviewer to look at
    # A cluster a reviewer confirmed takes in an initiative left out of every likely cluster whose probability with
    # each confirmed member is at least this (bench/sprawl_feedback.py --choose-join); 1 turns it off.
    join: float = 0.35
    # The company's own correction per catalogue job, for pairs both placed first on that job: a job the catalogue
    # does not separate finely enough for this company (its clusters dismissed) loses trust, one confirmed gains.
    use_case_bias: tuple[tuple[str, float], ...] = ()
    decisions: int = 0  # reviewer decisions it was refit on (0: the shipped model)
    fingerprint: str = ""  # of the decisions it was refit on: refitting on the same ones changes nothing

    def __post_init__(self) -> None:
        if len(self.weights) != len(FEATURES):
            raise ValueError(f"a pair model needs {len(FEATURES)} weights ({', '.join(FEATURES)})")

    def logit(self, features: Mapping[str, np.ndarray]) -> np.ndarray:
        """w . f + b for matrices (or vectors) of each feature, accumulated without stacking them; a feature of
        weight 0 is not read (a lazy mapping never computes it)."""
        total: np.ndarray | None = None
        for name, weight in zip(FEATURES, self.weights, strict=True):
            if weight:
                term = np.float32(weight) * np.asarray(features[name], dtype=np.float32)
                total = term + np.float32(self.bias) if total is None else total + term
        if total is None:
            return np.full(np.shape(features[FEATURES[0]]), self.bias, dtype=np.float32)
        return total

    def probability(self, features: Mapping[str, np.ndarray]) -> np.ndarray:
        return sigmoid(self.logit(features))

    def contributions(self, values: Sequence[float]) -> dict[str, float]:
        """Each feature's share of one pair's logit: what made the model say so."""
        return {name: float(weight * value) for name, weight, value in zip(FEATURES, self.weights, values,
                                                                           strict=True)}

    @classmethod
    def from_dict(cls, data: Mapping, *, prior: PairModel) -> PairModel:
        """The model a run recorded (`as_dict`), on `prior`'s thresholds; `prior` itself when the record is empty or
        names other features (a run before the features changed)."""
        if not data or list(data.get("features", ())) != list(FEATURES):
            return prior
        corrections = tuple(sorted((str(code), float(value)) for code, value in data.get("use_case_bias", {}).items()))
        return replace(prior, weights=tuple(float(w) for w in data["weights"]), bias=float(data["bias"]),
                       use_case_bias=corrections, decisions=int(data.get("decisions", 0)),
                       fingerprint=str(data.get("fingerprint", "")))

    def as_dict(self) -> dict:
        return {"features": list(FEATURES), "weights": [round(w, 6) for w in self.weights],
                "bias": round(self.bias, 6), "use_case_bias": dict(self.use_case_bias), "decisions": self.decisions,
                "fingerprint": self.fingerprint}


def sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0))), dtype=np.float32)


# Fitted with `bench/sprawl_tune.py --fit` on the tuning sets (bench/sprawl_sets.py: logistic regression over every
# pair of each set, duplicates as rare as they are), the purposes compared with MiniLM's learnt metric
# (engine/metric.py) and the initiatives placed on the catalogue at MiniLM's temperature (engine/calibration.py,
# MINILM_TEMPERATURE); the thresholds were chosen on the selection sets, precision first (bench/sprawl_select.py), the
# bar to join a confirmed cluster on the tuning and selection sets (bench/sprawl_feedback.py --choose-join).
SHIPPED = PairModel(
    weights=(0.0, 2.669269, 3.80023, 2.299675, 2.39659, 2.70136, 1.140117, 2.755763, -0.739411, 0.0, -1.640919),
    bias=-6.90769, threshold=0.6, possible=0.2, join=0.5,
)
# The same fit on MiniLM's own cosine, without the learnt metric (`bench/sprawl_tune.py --cosine --fit`; its
# thresholds and bar chosen by the same rules, `bench/sprawl_select.py --cosine` and `bench/sprawl_feedback.py
# --choose-join --cosine`): the model an encoder without a calibration of its own starts from (engine/calibration.py).
# Without the metric the six selection sets' mean precision reaches 0.75 only at 0.85, so such an encoder's likely
# clusters are few and its possible ones (from 0.30) carry the recall (docs/sprawl-quality.md, "An encoder without a
# calibration").
COSINE = PairModel(
    weights=(0.0, 2.182364, 3.626712, 2.647219, 2.854161, 3.35249, 1.192237, 2.650965, -0.824591, 0.0, -1.674766),
    bias=-6.12893, threshold=0.85, possible=0.3, join=0.8,
)

# How strongly the shipped weights hold against a company's decisions: the precision of the Gaussian prior, i.e. the
# number of decisions' worth of log-loss one unit of change in a weight costs. 1500: the weights move only once a
# company has made hundreds of consistent decisions. Chosen on the selection sets (bench/sprawl_feedback.py), as the
# weakest prior that does no harm there: with 30 the first 30% of clusters' decisions (a few dozen pairs, all among
# the detector's strongest proposals) pulled the weights far enough to add wrong clusters elsewhere; with the
# job-specificity feature, 300 still cost manufacturing 0.004 of F1 on the undecided pairs, 1000 nothing; with the
# six selection sets of 2026-12-05, 1000 cost grocer 0.018 and airline 0.002, 1500 nothing.
PRIOR_PRECISION = 1500.0
# The same for a job's own correction, which starts at 0: a job's decisions move it once they are many and
# consistent. 100, chosen the same way: at 3 (and up to 30) the handful of decisions on one job moved its correction
# far enough to cost manufacturing 0.017 of F1 (one confirmed cluster lifted every pair placed on that job).
USE_CASE_PRECISION = 100.0


@dataclass(frozen=True)
class Decision:
    """A reviewer's verdict on a pair, with the pair's features when it was refit: 1 same job, 0 not."""

    pair: tuple[int, int]
    same: bool
    features: tuple[float, ...] = field(default=())
    use_case: str = ""  # the catalogue job both members are placed on first, if the same ("" otherwise)


def decisions_fingerprint(decisions: Sequence[Decision]) -> str:
    """A digest of the decided pairs, their verdicts and features (rounded): equal decisions, equal refit."""
    payload = sorted((d.pair, d.same, tuple(round(v, 4) for v in d.features), d.use_case) for d in decisions)
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:16]


def refit(prior: PairModel, decisions: Sequence[Decision], *, precision: float = PRIOR_PRECISION,
          free_bias: bool = False) -> PairModel:
    """The most probable weights given the company's decisions, with `prior` as a Gaussian prior.

    Deterministic (same decisions, same weights: the optimiser starts from the prior). The bias is held as firmly as
    the weights: the pairs a reviewer decides are the detector's strongest proposals, not a sample of all pairs, so
    they say which features mislead in this company, not how rare duplicates are. `free_bias` lets the bias follow
    the base rate (fitting the shipped weights on every labelled pair of the tuning sets).
    """
    if not decisions:
        return replace(prior, decisions=0, fingerprint="")
    fingerprint = decisions_fingerprint(decisions)
    if fingerprint == prior.fingerprint:
        return prior
    x = np.asarray([d.features for d in decisions], dtype=np.float64)
    y = np.asarray([1.0 if d.same else 0.0 for d in decisions])
    count = len(y)
    codes = sorted({d.use_case for d in decisions if d.use_case})
    column = {code: n for n, code in enumerate(codes)}
    one_hot = np.zeros((count, len(codes)))
    for row, decision in enumerate(decisions):
        if decision.use_case:
            one_hot[row, column[decision.use_case]] = 1.0
    known = dict(prior.use_case_bias)
    start = np.asarray([*prior.weights, *(known.get(code, 0.0) for code in codes), prior.bias], dtype=np.float64)
    design = np.hstack([x, one_hot, np.ones((count, 1))])
    pull = np.full_like(start, precision)
    pull[len(FEATURES):len(FEATURES) + len(codes)] = USE_CASE_PRECISION
    if free_bias:
        pull[-1] = precision / 100  # every pair: the bias follows the base rate freely

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ w, -40, 40)))
        log_loss = -(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12)).sum()
        delta = w - start
        value = (log_loss + 0.5 * (pull * delta ** 2).sum()) / count
        gradient = (design.T @ (p - y) + pull * delta) / count
        return float(value), gradient

    result = minimize(objective, start, jac=True, method="L-BFGS-B")
    weights = tuple(round(float(v), 6) for v in result.x[:len(FEATURES)])
    corrections = {**known, **{code: round(float(v), 6) for code, v in zip(
        codes, result.x[len(FEATURES):len(FEATURES) + len(codes)], strict=True)}}
    return replace(prior, weights=weights, bias=round(float(result.x[-1]), 6), decisions=count,
                   use_case_bias=tuple(sorted(corrections.items())), fingerprint=fingerprint)


# Left at zero in the shipped model. `archetype` (neighbouring jobs counting partly): agreement on the catalogue
# alone was the selection sets' main source of wrong pairs (jobs the catalogue does not separate finely enough), so
# the catalogue counts through the exact and rarity-weighed agreements and `job_and_purpose` only. `same_category`:
# the labelled sets' authors filed duplicates under different categories on purpose, which says nothing about another
# company. `same_department` is fitted: sprawl is teams duplicating each other, and a second initiative of one
# department is more often its next phase. A company's own decisions can still give each of them weight.
SHIPPED_ZERO = ("archetype", "same_category")
# The shipped fit's prior precision towards zero (chosen with the method on the selection sets).
FIT_PRECISION = 3.0


def fit(x: np.ndarray, y: np.ndarray, *, fixed_zero: Sequence[str] = ()) -> tuple[tuple[float, ...], float]:
    """L2-regularised logistic regression of labelled pairs: the shipped weights, from the tuning sets. Features
    named in `fixed_zero` are left out (weight 0).

    Not class-balanced: every pair counts once, so duplicates are as rare as in a real portfolio and the model's
    probability means what it says. A balanced fit (as before) ranked pairs as well but put most pairs of a crowded
    job near 1, so no threshold could separate them: precision stayed near 0.35 on an independent set at any
    threshold."""
    mask = np.asarray([name not in fixed_zero for name in FEATURES], dtype=np.float64)
    decisions = [Decision(pair=(n, n), same=bool(label), features=tuple(row)) for n, (row, label) in
                 enumerate(zip((x * mask).tolist(), y.tolist(), strict=True))]
    flat = PairModel(weights=(0.0,) * len(FEATURES), bias=0.0)
    fitted = refit(flat, decisions, precision=FIT_PRECISION, free_bias=True)
    return fitted.weights, fitted.bias
