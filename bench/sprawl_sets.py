"""The labelled inventories under bench/sprawl/ and what each may be used for.

- tuning: the pair model's weights are fitted on these (bench/sprawl_tune.py --fit); the catalogue's synonyms were
  tuned on design and validation only. utility and logistics were written, like the reporting sets, by authors who
  saw neither the catalogue nor any other set, so the weights learn from companies the catalogue was not made for;
  so were airline and grocer (2026-12-05), committed before any tuning touched them;
- selection: held out from fitting; used once to choose the pair model's fixed thresholds, precision first
  (manufacturing and media, too, by authors who saw nothing else);
- reporting: written by authors who saw neither the catalogue nor any other set, committed before any tuning, and
  used for nothing but the figures we report (bench/sprawl_quality.py). The tuning script refuses them.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "sprawl"

TUNING = ("design", "validation", "utility", "logistics", "airline", "grocer")
SELECTION = ("holdout", "heldout2", "manufacturing", "media")
REPORTING = ("telco", "pharma", "council", "lawfirm")
# Written like the reporting sets but arrived after the method and its thresholds were fixed: never used for any
# choice; reported like them (bench/sprawl_quality.py --late).
LATE = ("university",)
ALL = (*TUNING, *SELECTION, *REPORTING, *LATE)


def role(name: str) -> str:
    for label, names in (("tuning", TUNING), ("selection", SELECTION), ("reporting", REPORTING), ("late", LATE)):
        if name in names:
            return label
    raise ValueError(f"unknown labelled set {name!r}; known: {', '.join(ALL)}")
