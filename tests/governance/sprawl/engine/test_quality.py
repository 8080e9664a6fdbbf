"""Reading a company's labelled duplicates: every problem named by row and column, before anything is measured."""

from __future__ import annotations

import pytest

from governance.sprawl.engine.quality import (
    LabelIssue,
    LabelsError,
    interval,
    read_labels,
    read_labels_file,
    score_bands,
)


def _issues(text: str) -> list[str]:
    with pytest.raises(LabelsError) as caught:
        read_labels(text)
    return [str(issue) for issue in caught.value.issues]


def test_a_labels_file_gives_each_initiatives_cluster_and_row():
    labels = read_labels("\ufeffexternal_id,cluster,note\nA,images,x\nB,images,\n\n C ,notes\nD,notes\n")
    assert labels.clusters == {"A": "images", "B": "images", "C": "notes", "D": "notes"}
    assert labels.rows == {"A": 2, "B": 3, "C": 5, "D": 6}  # the blank line 4 is skipped; cells are trimmed


def test_a_header_without_the_two_columns_is_refused():
    assert _issues("id,label\nA,x\n") == [
        "row 1: the header must name external_id, cluster; missing external_id, cluster (found: id, label)"]
    assert _issues("") == ["row 1: the header must name external_id, cluster; missing external_id, cluster "
                           "(found: nothing)"]


def test_every_bad_row_is_named_at_once_in_the_order_of_the_file():
    one = ("list only initiatives that duplicate another, each with its partners' label (or measure only the "
           "initiatives listed, where a label of its own says one duplicates nothing)")
    assert _issues("external_id,cluster\nA,images\n,images\nB,\nA,notes\nC,notes\nE,alone\n") == [
        f"row 2, column cluster: 'images' has one member ('A'): {one}",  # row 3's partner has no id
        "row 3, column external_id: empty",
        "row 4, column cluster: empty for 'B'",
        "row 5, column external_id: 'A' is already labelled on row 2",
        f"row 6, column cluster: 'notes' has one member ('C'): {one}",
        f"row 7, column cluster: 'alone' has one member ('E'): {one}",
    ]


def test_a_file_of_every_initiative_checked_may_give_one_a_label_of_its_own():
    text = "external_id,cluster\nA,images\nB,images\nC,alone\nD,on its own\n"
    labels = read_labels(text, listed_only=True)
    assert labels.clusters == {"A": "images", "B": "images", "C": "alone", "D": "on its own"}
    assert labels.duplicates == {"A": "images", "B": "images"}  # C and D were checked and duplicate nothing
    assert len(_issues(text)) == 2  # without listed_only, a label of one is a mistake
    with pytest.raises(LabelsError) as caught:
        read_labels("external_id,cluster\nA,a\nB,b\n", listed_only=True)
    assert [str(issue) for issue in caught.value.issues] == [
        "column cluster: every label has one member: label the initiatives that duplicate each other with one label, "
        "or there is nothing to find"]
    assert read_labels_file(text.encode(), listed_only=True) == labels


def test_a_file_with_no_labelled_row_is_refused():
    assert _issues("external_id,cluster\n\n") == ["no labelled initiatives"]


def test_an_issue_reads_as_where_then_what():
    assert str(LabelIssue(4, "cluster", "empty")) == "row 4, column cluster: empty"
    assert str(LabelIssue(None, None, "no labelled initiatives")) == "no labelled initiatives"


def test_a_file_must_be_utf8_and_may_start_with_excels_byte_order_mark():
    assert read_labels_file("\ufeffexternal_id,cluster\nA,x\nB,x\n".encode()).clusters == {"A": "x", "B": "x"}
    with pytest.raises(LabelsError) as caught:
        read_labels_file("external_id,cluster\nA,x\nB,caf\xe9\n".encode("latin-1"))
    assert [str(issue) for issue in caught.value.issues] == ["row 3: not UTF-8; save the labels as CSV UTF-8"]


def test_a_figure_from_few_pairs_has_a_wide_interval():
    low, high = interval(7, 12)
    assert round(low, 3) == 0.320 and round(high, 3) == 0.807  # Wilson's 95% interval
    low, high = interval(70, 120)
    assert 0.49 < low < 7 / 12 < high < 0.67  # ten times the pairs, a third of the width
    assert interval(0, 0) is None
    assert interval(3, 3)[1] == 1.0 and interval(0, 3)[0] == 0.0


@pytest.mark.parametrize(("successes", "trials"), [(0, 1), (1, 1), (1, 2), (7, 12), (30, 39), (0, 45), (68, 78),
                                                   (250, 251), (1, 1000)])
def test_the_interval_is_statsmodels_wilson_interval(successes, trials):
    from statsmodels.stats.proportion import proportion_confint

    expected = proportion_confint(successes, trials, alpha=0.05, method="wilson")
    assert interval(successes, trials) == pytest.approx(expected, abs=1e-12)


def test_clusters_fall_in_bands_of_a_tenth_of_their_score_and_no_band_mixes_likely_and_possible():
    clusters = [(0.22, 3, 0), (0.64, 1, 1), (0.65, 3, 1), (0.7, 1, 1), (0.99, 6, 6), (1.0, 1, 0), (0.9, 0, 0)]
    bands = score_bands(clusters, likely=0.65, possible=0.2)
    assert [(b["confidence"], b["low"], b["high"]) for b in bands] == [
        ("possible", 0.2, 0.3), ("possible", 0.3, 0.4), ("possible", 0.4, 0.5), ("possible", 0.5, 0.6),
        ("possible", 0.6, 0.65), ("likely", 0.65, 0.7), ("likely", 0.7, 0.8), ("likely", 0.8, 0.9),
        ("likely", 0.9, 1.0)]
    by_low = {b["low"]: b for b in bands}
    assert (by_low[0.2]["clusters"], by_low[0.2]["all_wrong"], by_low[0.2]["pairs"]) == (1, 1, 3)
    assert (by_low[0.6]["clusters"], by_low[0.6]["all_right"]) == (1, 1)  # 0.64: under the likely threshold
    assert (by_low[0.65]["right"], by_low[0.65]["pairs"], by_low[0.65]["all_right"], by_low[0.65]["all_wrong"]) == \
        (1, 3, 0, 0)  # partly right: neither wholly right nor wholly wrong
    assert (by_low[0.9]["clusters"], by_low[0.9]["right"], by_low[0.9]["pairs"]) == (2, 6, 7)  # 1.0 in the last band
    assert sum(b["clusters"] for b in bands) == 6  # the cluster with no pair counted counts nowhere
