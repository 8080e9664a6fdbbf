"""`python manage.py sprawl_quality LABELS.csv [--top 5] [--possible] [--undecided] [--listed-only] [--json]
[--limit N]`: how the sprawl detector does on the current database against a company's own labelled duplicates,
before it trusts them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.sprawl.engine.quality import LabelsError, read_labels_file
from governance.sprawl.selectors import LabelledQuality, label_bands, labelled_quality


class Command(BaseCommand):
    help = (
        "Measure the sprawl detector on this database against labelled duplicates: a UTF-8 CSV with the header "
        "external_id,cluster and one row per initiative that duplicates another (the same cluster label for the "
        "initiatives that do one job); initiatives not listed are taken to duplicate nothing (with --listed-only, "
        "they are left out instead). Prints pairwise "
        "precision, recall and F1 of the likely clusters, the share of labelled duplicates with a true partner in "
        "their top candidates, and the wrong and missed pairs. Reads only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="Labels CSV (external_id,cluster).")
        parser.add_argument("--top", type=int, default=5, help="How many possible duplicates per initiative (5).")
        parser.add_argument("--possible", action="store_true", help="Count the possible clusters as found too.")
        parser.add_argument("--undecided", action="store_true",
                            help="Leave out the pairs a reviewer decided (on clusters or possible duplicates).")
        parser.add_argument("--listed-only", action="store_true",
                            help="The file lists every initiative checked (a label of its own for one that duplicates "
                                 "nothing); pairs with an initiative it leaves out count on neither side.")
        parser.add_argument("--limit", type=int, default=20,
                            help="How many wrong and missed pairs to list in the text report (20; 0 lists all).")
        parser.add_argument("--json", action="store_true", help="Print the figures and every pair as JSON.")

    def handle(self, *args: Any, path: str, top: int, possible: bool, undecided: bool, listed_only: bool,
               limit: int, **options: Any) -> None:
        if top < 1:
            raise CommandError("--top must be at least 1.")
        if limit < 0:
            raise CommandError("--limit must be 0 (all) or more.")
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            result = labelled_quality(read_labels_file(file.read_bytes(), listed_only=listed_only), top=top,
                                      possible=possible, undecided=undecided, listed_only=listed_only)
        except LabelsError as exc:
            for issue in exc.issues:
                self.stderr.write(f"{file.name}: {issue}")
            raise CommandError(f"{file.name}: {len(exc.issues)} problem(s); nothing was measured.") from exc
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(file.name)))
            return
        self._report(result, file.name, limit)

    def _report(self, result: LabelledQuality, filename: str, limit: int) -> None:
        q = result.quality
        found = "likely and possible clusters" if result.possible else "likely clusters"
        self.stdout.write(
            f"Sprawl detection against {filename} ({result.encoder}; {result.initiatives} initiatives, "
            f"{q.duplicate_members} labelled duplicates in {result.labelled_clusters} clusters)"
        )
        if result.decided_pairs_left_out:
            self.stdout.write(f"  {result.decided_pairs_left_out} pairs decided by reviewers left out on both sides")
        if result.listed_only:
            self.stdout.write(f"  only the {result.listed} initiatives listed: {result.unlisted_pairs} pairs found "
                              "with an initiative the file leaves out left out on both sides")
        bounds = result.intervals()

        def within(key: str) -> str:
            span = bounds[key]
            return f"; 95% interval {span[0]:.3f}-{span[1]:.3f}" if span else ""

        for label, value in (
            (f"{found} found", f"{result.clusters_found}"),
            ("pairwise precision", f"{q.precision:.3f}  ({q.correct_pairs}/{q.predicted_pairs} pairs found are "
                                   f"labelled together{within('precision')})"),
            ("pairwise recall", f"{q.recall:.3f}  ({q.correct_pairs}/{q.true_pairs} labelled pairs found"
                                f"{within('recall')})"),
            ("pairwise F1", f"{q.f1:.3f}"),
            (f"true partner in top {result.top}",
             f"{q.top_k_hit_rate:.3f}  ({result.top_hits}/{q.duplicate_members} labelled duplicates"
             f"{within('top_hit_rate')})"),
        ):
            self.stdout.write(f"  {label + ':':<30} {value}")
        if not result.listed_only and result.unlisted_pairs:
            self.stdout.write(
                f"  Note: {result.unlisted_pairs} of the {len(result.wrong_pairs)} wrong pairs put together an "
                "initiative the file does not list. They are errors if the file lists every duplicate in the "
                "portfolio; if it labels only part of it, list every initiative checked (a label of its own for one "
                "that duplicates nothing) and measure with --listed-only."
            )
        self._bands(result)
        self._pairs("Wrong pairs (in one cluster found, not labelled together)", result.wrong_pairs, result, limit)
        self._pairs("Missed pairs (labelled together, in no cluster found together)", result.missed_pairs, result,
                    limit)
        self._list(f"Labelled duplicates without a true partner in their top {result.top}",
                   [f"{i} {result.names.get(i, '')}" for i in result.without_partner], limit)

    def _bands(self, result: LabelledQuality) -> None:
        """Every cluster found, likely and possible, by score, against the labels and beside the same band elsewhere."""
        bands = label_bands(result.bands)
        if not any(band.clusters for band in bands):
            return
        self.stdout.write("Every cluster found, by score (likely and possible), against these labels:")
        self.stdout.write("  confidence score      clusters all right all wrong  pairs right  share  elsewhere")
        for band in bands:
            share = "—" if band.share is None else f"{band.share:.3f}"
            there = "—" if band.elsewhere_share is None else f"{band.elsewhere_share:.3f}"
            self.stdout.write(
                f"  {band.confidence:10} {band.low:.2f}-{band.high:.2f} {band.clusters:8} {band.all_right:9} "
                f"{band.all_wrong:9}  {band.right:5} of {band.pairs:<5} {share:>5}  {there:>9}")

    def _pairs(self, title: str, pairs: list[tuple[str, str]], result: LabelledQuality, limit: int) -> None:
        self._list(title, [f"{a} {result.names.get(a, '')}  ~  {b} {result.names.get(b, '')}" for a, b in pairs],
                   limit)

    def _list(self, title: str, lines: list[str], limit: int) -> None:
        self.stdout.write(f"{title}: {len(lines)}")
        shown = lines if limit == 0 else lines[:limit]
        for line in shown:
            self.stdout.write(f"  {line}")
        if len(shown) < len(lines):
            self.stdout.write(f"  ... and {len(lines) - len(shown)} more (--limit 0 lists all)")

