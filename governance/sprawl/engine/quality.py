"""How good the sprawl detector is against labelled duplicate clusters: the figures `make bench` prints."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from tollgate.spreadsheet import restore


def pairs(groups: Iterable[Sequence[str]]) -> set[frozenset[str]]:
    """Every unordered pair of members that share a group."""
    return {frozenset(pair) for group in groups for pair in combinations(sorted(set(group)), 2)}


@dataclass(frozen=True)
class Quality:
    precision: float
    recall: float
    f1: float
    top_k_hit_rate: float
    predicted_pairs: int
    true_pairs: int
    correct_pairs: int
    duplicate_members: int

    def as_dict(self) -> dict[str, float | int]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class Comparison:
    """The figures (`quality`) and the pairs behind them, each pair a sorted tuple, each list sorted."""

    quality: Quality
    wrong_pairs: list[tuple[str, str]]  # found together, not labelled together
    missed_pairs: list[tuple[str, str]]  # labelled together, not found together
    without_partner: list[str]  # labelled members with no labelled partner among their top candidates


def compare(predicted: Iterable[Sequence[str]], labelled: Mapping[str, str],
            top: Mapping[str, Sequence[str]] | None = None, *,
            exclude: Iterable[frozenset[str]] = ()) -> Comparison:
    """`measure`, with the wrong and missed pairs and the members without a true partner that its figures count."""
    truth_groups: dict[str, list[str]] = {}
    for member, label in labelled.items():
        truth_groups.setdefault(label, []).append(member)
    excluded = set(exclude)
    truth = pairs(truth_groups.values()) - excluded
    found = pairs(predicted) - excluded
    correct = len(found & truth)
    precision = correct / len(found) if found else 0.0
    recall = correct / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    without = sorted(
        member for member, label in labelled.items()
        if not any(labelled.get(other) == label for other in (top or {}).get(member, []) if other != member)
    )
    hit_rate = (len(labelled) - len(without)) / len(labelled) if labelled else 0.0
    quality = Quality(precision=precision, recall=recall, f1=f1, top_k_hit_rate=hit_rate, predicted_pairs=len(found),
                      true_pairs=len(truth), correct_pairs=correct, duplicate_members=len(labelled))
    return Comparison(quality=quality, wrong_pairs=sorted(_sorted_pair(pair) for pair in found - truth),
                      missed_pairs=sorted(_sorted_pair(pair) for pair in truth - found), without_partner=without)


def _sorted_pair(pair: frozenset[str]) -> tuple[str, str]:
    first, second = sorted(pair)
    return first, second


def measure(predicted: Iterable[Sequence[str]], labelled: Mapping[str, str],
            top: Mapping[str, Sequence[str]] | None = None, *,
            exclude: Iterable[frozenset[str]] = ()) -> Quality:
    """Pairwise precision / recall / F1 of the predicted clusters against `labelled` (member -> cluster label), and
    the share of labelled members with a true partner among their top candidates. Pairs in `exclude` (decided by a
    reviewer) count on neither side."""
    return compare(predicted, labelled, top, exclude=exclude).quality


def score_bands(clusters: Iterable[tuple[float, int, int]], *, likely: float, possible: float) -> list[dict[str, Any]]:
    """How often the clusters of each score were right: bands of a tenth of the score from the possible threshold up
    (the likely threshold starts a band, so no band mixes likely and possible clusters), each with its clusters, those
    wholly right and wholly wrong, their pairs and the pairs labelled together. `clusters` gives each cluster's
    (score, pairs counted, pairs right); one with no pair counted (all left out) counts nowhere. The shape of
    governance/data/sprawl_reliability.json's bands, which bench/sprawl_reliability.py writes with it."""
    edges = sorted({possible, likely, *(round(x / 10, 1) for x in range(11) if possible < x / 10 < 1), 1.0})
    bands: list[dict[str, Any]] = [
        {"confidence": "likely" if low >= likely else "possible", "low": low, "high": high, "clusters": 0,
         "all_right": 0, "all_wrong": 0, "pairs": 0, "right": 0}
        for low, high in zip(edges, edges[1:], strict=False)]
    for score, counted, right in clusters:
        if not counted:
            continue
        band = next(b for b in reversed(bands) if score >= b["low"] or b is bands[0])
        band["clusters"] += 1
        band["pairs"] += counted
        band["right"] += right
        band["all_right"] += right == counted
        band["all_wrong"] += right == 0
    return bands


Z_95 = 1.959963984540054  # the standard normal's 97.5th percentile


def interval(successes: int, trials: int) -> tuple[float, float] | None:
    """The 95% Wilson score interval of a proportion, None without trials: how far a figure measured on a few dozen
    pairs may be from the detector's rate on the rest of the portfolio. The pairs of one cluster are not independent,
    so the true uncertainty is, if anything, wider. Written out rather than imported from statsmodels (whose
    `proportion_confint(method="wilson")` the tests compare it with), which takes most of a second to import on the
    Sprawl page's first request in each worker."""
    if trials <= 0:
        return None
    share = successes / trials
    spread = Z_95 * math.sqrt(share * (1 - share) / trials + Z_95**2 / (4 * trials**2))
    centre = share + Z_95**2 / (2 * trials)
    scale = 1 + Z_95**2 / trials
    low = 0.0 if successes == 0 else (centre - spread) / scale  # exactly 0 and 1 at the ends, not 1e-17 away
    high = 1.0 if successes == trials else (centre + spread) / scale
    return low, high


@dataclass(frozen=True)
class LabelIssue:
    """One thing wrong with a labels file, where a person can find it (row 1 is the header)."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = ", ".join(part for part in (f"row {self.row}" if self.row else "",
                                            f"column {self.column}" if self.column else "") if part)
        return f"{where}: {self.message}" if where else self.message


class LabelsError(ValueError):
    """A labels file that cannot be measured against; `issues` names every problem found."""

    def __init__(self, issues: Sequence[LabelIssue]) -> None:
        super().__init__(f"{len(issues)} problem(s) in the labels")
        self.issues = list(issues)


@dataclass(frozen=True)
class Labels:
    """Labelled initiatives: each one's cluster label (by external id) and the row it was read from. A label of one
    member (allowed only when the file lists every initiative it checked) says that initiative duplicates nothing."""

    clusters: dict[str, str]
    rows: dict[str, int]

    @property
    def duplicates(self) -> dict[str, str]:
        """The labelled duplicates: the initiatives whose label has two members or more."""
        sizes: dict[str, int] = {}
        for label in self.clusters.values():
            sizes[label] = sizes.get(label, 0) + 1
        return {external_id: label for external_id, label in self.clusters.items() if sizes[label] > 1}


LABEL_COLUMNS = ("external_id", "cluster")


def read_labels_file(content: bytes, *, listed_only: bool = False) -> Labels:
    """`read_labels` of a file's bytes, which must be UTF-8 (a byte-order mark is allowed, as Excel writes it)."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        row = content[: exc.start].count(b"\n") + 1
        raise LabelsError([LabelIssue(row, None, "not UTF-8; save the labels as CSV UTF-8")]) from exc
    return read_labels(text, listed_only=listed_only)


def read_labels(text: str, *, listed_only: bool = False) -> Labels:
    """Parse a labels CSV (`external_id,cluster`, one row per initiative that duplicates another; the format of
    bench/sprawl/*_labels.csv). Every problem is collected before anything is measured, so that one pass over the
    file names them all: a missing column, an empty cell, an initiative labelled twice, a cluster of one (a duplicate
    needs a partner). With `listed_only` the file lists every initiative its author checked, and a label of one
    member says that one duplicates nothing; at least one label must still have two members, or there is no
    duplicate to find."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [column for column in LABEL_COLUMNS if column not in header]
    if missing:
        raise LabelsError([LabelIssue(1, None, f"the header must name {', '.join(LABEL_COLUMNS)}; missing "
                                                f"{', '.join(missing)} (found: {', '.join(header) or 'nothing'})")])
    issues: list[LabelIssue] = []
    clusters: dict[str, str] = {}
    rows: dict[str, int] = {}
    for raw in reader:
        number = reader.line_num  # the line a person finds it on (a blank line above it counts)
        row = {(key or "").strip(): (value or "").strip() for key, value in raw.items() if isinstance(value, str)}
        # A file Tollgate wrote (the file to fill in) has formula-like cells behind an apostrophe: read them as ids.
        external_id, label = restore(row.get("external_id", "")), restore(row.get("cluster", ""))
        if not external_id and not label:
            continue  # a blank line
        if not external_id:
            issues.append(LabelIssue(number, "external_id", "empty"))
            continue
        if not label:
            issues.append(LabelIssue(number, "cluster", f"empty for {external_id!r}"))
            continue
        if external_id in rows:
            issues.append(LabelIssue(number, "external_id",
                                     f"{external_id!r} is already labelled on row {rows[external_id]}"))
            continue
        clusters[external_id] = label
        rows[external_id] = number
    members: dict[str, list[str]] = {}
    for external_id, label in clusters.items():
        members.setdefault(label, []).append(external_id)
    for label, ids in members.items():
        if len(ids) == 1 and not listed_only:
            issues.append(LabelIssue(rows[ids[0]], "cluster",
                                     f"{label!r} has one member ({ids[0]!r}): list only initiatives that duplicate "
                                     "another, each with its partners' label (or measure only the initiatives "
                                     "listed, where a label of its own says one duplicates nothing)"))
    if not clusters and not issues:
        issues.append(LabelIssue(None, None, "no labelled initiatives"))
    elif listed_only and clusters and all(len(ids) == 1 for ids in members.values()):
        issues.append(LabelIssue(None, "cluster", "every label has one member: label the initiatives that duplicate "
                                                  "each other with one label, or there is nothing to find"))
    if issues:
        raise LabelsError(sorted(issues, key=lambda issue: issue.row or 0))
    return Labels(clusters=clusters, rows=rows)
