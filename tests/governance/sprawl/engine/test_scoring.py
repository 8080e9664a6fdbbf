"""The pure sprawl scorer: archetype placement, pair scores, average-linkage grouping, quality figures."""

from __future__ import annotations

import dataclasses
import socket

import numpy as np
import pytest

from governance.sprawl.engine import calibration, scoring
from governance.sprawl.engine import pairs as pair_model
from governance.sprawl.engine.embeddings import OnnxMiniLMEmbedder, text_hash
from governance.sprawl.engine.quality import measure, pairs

ARCHETYPES = [
    scoring.Archetype(
        code="campaign-images", name="Campaign image generation",
        job="Generates images and visual variants for campaigns, ads and social posts from text prompts.",
        synonyms=("text-to-image for marketing", "AI generated visuals", "creative asset generation",
                  "employer brand imagery"),
        vendor_products=("Midjourney", "Adobe Firefly", "Canva Magic Media"), outputs=("campaign images",),
    ),
    scoring.Archetype(
        code="meeting-notes", name="Meeting transcription and notes",
        job="Records meetings, transcribes them and writes summaries with action items.",
        synonyms=("meeting minutes", "call recap", "transcribe meetings", "action items from calls"),
        vendor_products=("Otter.ai", "Fireflies.ai", "Zoom AI Companion"), outputs=("meeting summary",),
    ),
    scoring.Archetype(
        code="invoice-capture", name="Invoice data capture",
        job="Extracts supplier, amounts and line items from incoming invoices into the ERP for accounts payable.",
        synonyms=("AP automation", "invoice OCR", "read supplier invoices", "three-way match"),
        vendor_products=("Rossum", "ABBYY Vantage"), outputs=("invoice fields",),
    ),
]


@pytest.fixture(scope="module")
def embedder():
    return OnnxMiniLMEmbedder()


@pytest.fixture(scope="module")
def index(embedder):
    """The test catalogue indexed as MiniLM ships: its constants and its learnt purpose metric."""
    return calibration.MINILM.catalogue_index(ARCHETYPES, embedder.embed)


def _items():
    return [
        scoring.Item(key="A", name="Marketing's Midjourney accounts",
                     description="Midjourney seats for the brand team to generate campaign images and ad visuals.",
                     vendors=("Midjourney",), department="Marketing"),
        scoring.Item(key="B", name="Firefly for the creative studio",
                     description="Adobe Firefly for the studio to generate campaign images and ad visuals faster.",
                     vendors=("Adobe",), department="Corporate Communications"),
        scoring.Item(key="C", name="Project Quill", description="Transcribes our weekly meetings and writes a "
                     "summary with action items.", vendors=("Otter.ai",), department="Sales"),
        scoring.Item(key="D", name="Meeting recap bot", description="Zoom AI Companion transcribes every meeting "
                     "and writes minutes with action items.", vendors=("Zoom",), department="Finance"),
        scoring.Item(key="E", name="AP invoice reader", description="Reads supplier invoices into SAP.",
                     vendors=("Rossum",), department="Finance"),
    ]


def test_tokens_fold_plurals_and_drop_stop_words():
    assert scoring.tokens("The Invoices of our Companies") == ["invoice", "company"]
    assert "invoice_reader" in scoring.terms("invoice readers")


def test_embedder_is_offline_normalised_and_semantic(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the embedder must not open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    embedder = OnnxMiniLMEmbedder()
    vectors = embedder.embed(["generate campaign images", "create marketing visuals with AI", "reconcile invoices"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert embedder.embed([]).shape == (0, 384)


def test_text_hash_changes_with_text_and_model():
    assert text_hash("a", "m") != text_hash("b", "m")
    assert text_hash("a", "m") != text_hash("a", "n")
    assert text_hash("a", "m") == text_hash("a", "m")


def test_items_land_on_their_archetype(embedder, index):
    items = _items()
    scored = scoring.score_items(items, embedder.embed([i.purpose for i in items]), index)
    best = [scoring.suggestions(scored.distribution, index.codes)[i][0][0] for i in range(len(items))]
    assert best == ["campaign-images", "campaign-images", "meeting-notes", "meeting-notes", "invoice-capture"]


def test_clusters_group_same_job_in_different_words(embedder, index):
    items = _items()
    scored = scoring.score_items(items, embedder.embed([i.purpose for i in items]), index)
    found = [{items[m].key for m in c.members} for c in scoring.clusters(scored)]
    assert {"A", "B"} in found and {"C", "D"} in found
    assert not any("E" in group for group in found)
    top = scoring.top_duplicates(scored, top=2)
    assert items[top[0][0][0]].key == "B"
    assert all(len(row) == 2 for row in top)
    # The score shown is the fused one: it agrees with the order, from 0 to 1.
    assert all(0.0 <= row[1][1] <= row[0][1] <= 1.0 for row in top)
    # Ranked two rows at a time, it says how far it is after each block, and ranks the same.
    shares: list[float] = []
    assert scoring.top_duplicates(scored, top=2, block_size=2, progress=shares.append) == top
    assert shares == pytest.approx([0.4, 0.8, 1.0])


def test_confirmed_use_cases_replace_inference(embedder, index):
    item = scoring.Item(key="X", name="Project Nimbus", description="", confirmed_use_cases=("invoice-capture",))
    scored = scoring.score_items([item], embedder.embed([item.purpose]), index)
    assert scoring.suggestions(scored.distribution, index.codes)[0] == [("invoice-capture", 1.0)]


def _scored_from_matrix(matrix: np.ndarray, threshold: float) -> scoring.Scored:
    """A Scored whose pair scores are exactly `matrix` (symmetric, unit diagonal), for testing the grouping."""
    values, vectors = np.linalg.eigh(matrix)
    embedding = (vectors * np.sqrt(np.clip(values, 0, None))).astype(np.float32)
    items = [scoring.Item(key=i, name=str(i)) for i in range(len(matrix))]
    params = scoring.Params(w_archetype=0.0, rank_w_archetype=0.0, kernel_floor=1.0, purpose_floor=0.0,
                            threshold=threshold)
    return scoring.Scored(items=items, vectors=embedding, distribution=np.ones((len(matrix), 1), np.float32),
                          codes=["x"], params=params)


def _matrix_scores(matrix: np.ndarray):
    def score(rows, cols=None):
        return matrix[rows][:, slice(None) if cols is None else cols]

    return score


def test_average_linkage_does_not_chain():
    # a~b and b~c reach the threshold, a~c is weak: single linkage would chain all three; average linkage keeps a pair.
    matrix = np.array([[1.0, 0.9, 0.3], [0.9, 1.0, 0.62], [0.3, 0.62, 1.0]])
    found = scoring.group(3, _matrix_scores(matrix), 0.6)
    assert [c.members for c in found] == [[0, 1]]
    assert found[0].score == pytest.approx(0.9, abs=1e-3)


def test_clusters_empty_when_nothing_reaches_the_threshold():
    matrix = np.array([[1.0, 0.3], [0.3, 1.0]])
    assert scoring.group(2, _matrix_scores(matrix), 0.6) == []


def test_must_link_groups_and_cannot_link_separates():
    matrix = np.array([[1.0, 0.9, 0.85, 0.2], [0.9, 1.0, 0.88, 0.2], [0.85, 0.88, 1.0, 0.2], [0.2, 0.2, 0.2, 1.0]])
    assert [c.members for c in scoring.group(4, _matrix_scores(matrix), 0.6)] == [[0, 1, 2]]
    # A reviewer removed 2 from the cluster (cannot-link with the others) and said 3 is a duplicate of 0.
    found = scoring.group(4, _matrix_scores(matrix), 0.6, must_link=[(3, 0)], cannot_link=[(2, 0), (2, 1)])
    assert [c.members for c in found] == [[0, 3]]  # 1 averages 0.55 with {0, 3}: below the threshold, alone
    # Must-links the linkage alone would leave apart ({0, 2} against 1 averages 0.45) still end in one group...
    unlike = np.array([[1.0, 0.1, 0.2], [0.1, 1.0, 0.2], [0.2, 0.2, 1.0]])
    found = scoring.group(3, _matrix_scores(unlike), 0.6, must_link=[(0, 2), (1, 2)])
    assert [c.members for c in found] == [[0, 1, 2]]
    # ...unless that group would hold a cannot-link pair: the cannot-link wins.
    found = scoring.group(3, _matrix_scores(unlike), 0.6, must_link=[(0, 2), (1, 2)], cannot_link=[(0, 1)])
    assert not any({0, 1} <= set(c.members) for c in found) and len(found) == 1
    # A pair decided both ways keeps the cannot-link: the later "not a duplicate" wins over an earlier grouping.
    found = scoring.group(4, _matrix_scores(matrix), 0.6, must_link=[(0, 1)], cannot_link=[(1, 0)])
    assert not any({0, 1} <= set(c.members) for c in found)


def test_a_confirmed_cluster_takes_in_an_initiative_alike_to_every_confirmed_member():
    # 0, 1 confirmed together; 2 is alike to both (0.4, 0.45), 3 to one only (0.7, 0.2), 4 to neither.
    matrix = np.array([
        [1.0, 0.9, 0.4, 0.7, 0.1],
        [0.9, 1.0, 0.45, 0.2, 0.1],
        [0.4, 0.45, 1.0, 0.3, 0.1],
        [0.7, 0.2, 0.3, 1.0, 0.1],
        [0.1, 0.1, 0.1, 0.1, 1.0],
    ])
    score = _matrix_scores(matrix)
    found = scoring.group(5, score, 0.6, must_link=[(0, 1)])
    assert [c.members for c in found] == [[0, 1]]  # 2 averages 0.425 with {0, 1}: the linkage leaves it out
    joined = scoring.join_confirmed(found, 5, score, 0.35, must_link=[(0, 1)])
    assert [c.members for c in joined] == [[0, 1, 2]]  # 3 is alike to 0 only: the weakest, 0.2, decides
    assert joined[0].score == pytest.approx((0.9 + 0.4 + 0.45) / 3, abs=1e-3)
    # Not without a decision (a cluster nobody confirmed is still a guess), not above the bar, not against a
    # cannot-link with any member, and not at all with the bar at 1.
    assert scoring.join_confirmed(found, 5, score, 0.35) == found
    assert scoring.join_confirmed(found, 5, score, 0.42, must_link=[(0, 1)]) == found
    assert scoring.join_confirmed(found, 5, score, 0.35, must_link=[(0, 1)], cannot_link=[(2, 1)]) == found
    assert scoring.join_confirmed(found, 5, score, 1.0, must_link=[(0, 1)]) == found


def test_an_initiative_joins_the_confirmed_cluster_it_is_most_alike_to():
    matrix = np.full((5, 5), 0.1)
    np.fill_diagonal(matrix, 1.0)
    matrix[0, 1] = matrix[1, 0] = matrix[2, 3] = matrix[3, 2] = 0.9
    matrix[4, [0, 1]] = matrix[[0, 1], 4] = 0.4
    matrix[4, [2, 3]] = matrix[[2, 3], 4] = 0.5
    score = _matrix_scores(matrix)
    must = [(0, 1), (2, 3)]
    found = scoring.group(5, score, 0.6, must_link=must)
    joined = scoring.join_confirmed(found, 5, score, 0.35, must_link=must)
    assert sorted(c.members for c in joined) == [[0, 1], [2, 3, 4]]


def test_clusters_join_confirmed_before_the_possible_ones_are_grouped():
    matrix = np.array([[1.0, 0.95, 0.4, 0.1], [0.95, 1.0, 0.4, 0.1], [0.4, 0.4, 1.0, 0.3], [0.1, 0.1, 0.3, 1.0]])

    class Probabilities:  # what clusters() reads of a Scored: its items and the pair model's probabilities
        items = list(range(4))

        @staticmethod
        def probability(rows, cols=None, *, model):
            return matrix[rows][:, slice(None) if cols is None else cols]

    scored = Probabilities()
    model = dataclasses.replace(pair_model.SHIPPED, threshold=0.6, possible=0.25, join=0.35)
    with_links = scoring.clusters(scored, model, must_link=[(0, 1)])
    assert [(c.members, c.confidence) for c in with_links] == [([0, 1, 2], scoring.LIKELY)]
    without = scoring.clusters(scored, model)
    assert [(c.members, c.confidence) for c in without] == [([0, 1], scoring.LIKELY), ([2, 3], scoring.POSSIBLE)]


def test_grouping_reports_how_far_it_is_scanning_then_clustering():
    matrix = np.full((6, 6), 0.1)
    np.fill_diagonal(matrix, 1.0)
    matrix[0, 1] = matrix[1, 0] = matrix[2, 3] = matrix[3, 2] = matrix[2, 4] = matrix[4, 2] = 0.9
    matrix[3, 4] = matrix[4, 3] = 0.8
    shares: list[float] = []
    found = scoring.group(6, _matrix_scores(matrix), 0.6, block_size=2, progress=shares.append)
    assert [c.members for c in found] == [[0, 1], [2, 3, 4]]
    # three blocks of rows scanned, then the components by their pairs: {0, 1} holds 4 of 13, {2, 3, 4} 9
    scan = scoring.GROUP_SCAN
    assert shares == pytest.approx([scan / 3, 2 * scan / 3, scan, scan + (1 - scan) * 4 / 13, 1.0])


def test_clusters_report_the_likely_pass_as_the_first_half_and_the_possible_one_as_the_second():
    matrix = np.array([[1.0, 0.95, 0.1, 0.1], [0.95, 1.0, 0.1, 0.1], [0.1, 0.1, 1.0, 0.3], [0.1, 0.1, 0.3, 1.0]])

    class Probabilities:
        items = list(range(4))

        @staticmethod
        def probability(rows, cols=None, *, model):
            return matrix[rows][:, slice(None) if cols is None else cols]

    model = dataclasses.replace(pair_model.SHIPPED, threshold=0.6, possible=0.25)
    shares: list[float] = []
    found = scoring.clusters(Probabilities(), model, progress=shares.append)
    assert [(c.members, c.confidence) for c in found] == [([0, 1], scoring.LIKELY), ([2, 3], scoring.POSSIBLE)]
    assert shares == sorted(shares) and shares[-1] == pytest.approx(1.0)
    assert max(share for share in shares[:shares.index(0.5)]) <= 0.5 and 0.5 in shares
    assert any(0.5 < share < 1.0 for share in shares)  # the possible pass's scan, before its components
    shares.clear()
    scoring.clusters(Probabilities(), dataclasses.replace(model, possible=0.6), progress=shares.append)
    assert shares[-1] == 0.5  # no possible pass: the bar stops where the next step takes over


def test_possible_clusters_come_from_what_the_likely_ones_left():
    matrix = np.array([[1.0, 0.95, 0.1, 0.1], [0.95, 1.0, 0.1, 0.1], [0.1, 0.1, 1.0, 0.7], [0.1, 0.1, 0.7, 1.0]])
    likely = scoring.group(4, _matrix_scores(matrix), 0.9)
    assert [c.members for c in likely] == [[0, 1]]
    assert [c.members for c in scoring.group(4, _matrix_scores(matrix), 0.6)] == [[0, 1], [2, 3]]


def test_quality_measure_counts_pairs_and_top_k():
    labels = {"a": "x", "b": "x", "c": "x", "d": "y", "e": "y"}
    quality = measure([["a", "b"], ["d", "e", "f"]], labels, top={"a": ["f", "b"], "b": ["c"], "c": ["z"],
                                                                  "d": ["e"], "e": []})
    assert pairs([["a", "b", "c"]]) == {frozenset("ab"), frozenset("ac"), frozenset("bc")}
    # predicted pairs ab, de, df, ef; true pairs ab, ac, bc, de
    assert quality.correct_pairs == 2 and quality.predicted_pairs == 4 and quality.true_pairs == 4
    assert quality.precision == pytest.approx(0.5) and quality.recall == pytest.approx(0.5)
    assert quality.f1 == pytest.approx(0.5)
    assert quality.top_k_hit_rate == pytest.approx(3 / 5)


def test_same_department_is_a_weak_negative_and_unknown_matches_nothing():
    matrix = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.8], [0.8, 0.8, 1.0]])
    scored = _scored_from_matrix(matrix, threshold=0.6)
    items = [scoring.Item(key=0, name="a", department="Sales"), scoring.Item(key=1, name="b", department="Sales"),
             scoring.Item(key=2, name="c", department="")]
    params = scoring.Params(w_archetype=0.0, rank_w_archetype=0.0, kernel_floor=1.0, purpose_floor=0.0,
                            threshold=0.6, w_department=-0.05)
    scored = scoring.Scored(items=items, vectors=scored.vectors, distribution=scored.distribution, codes=["x"],
                            params=params)
    block = scored.block(slice(None))
    assert block[0, 1] == pytest.approx(0.75, abs=1e-3)  # same department
    assert block[0, 2] == pytest.approx(0.8, abs=1e-3)  # unknown department: no penalty


def test_same_owner_is_a_pair_feature_and_an_unknown_owner_matches_nothing(embedder, index):
    """One person's two initiatives of one job are phases of one thing, not two teams duplicating each other: the
    shipped model weighs a shared owner against the pair."""
    items = [dataclasses.replace(item, owner=owner) for item, owner in zip(_items(), ("ann", "ann", "", "", "bob"),
                                                                              strict=True)]
    scored = scoring.score_items(items, embedder.embed([i.purpose for i in items]), index)
    same = scored.features(slice(None))["same_owner"]
    assert same[0, 1] == 1.0 and same[2, 3] == 0.0 and same[0, 4] == 0.0  # no owner matches no other
    assert pair_model.SHIPPED.weights[pair_model.FEATURES.index("same_owner")] < 0
    apart = scoring.score_items([dataclasses.replace(item, owner="") for item in items],
                                embedder.embed([i.purpose for i in items]), index)
    assert scored.probability(slice(None))[0, 1] < apart.probability(slice(None))[0, 1]
    assert scored.probability(slice(None))[2, 3] == pytest.approx(apart.probability(slice(None))[2, 3])
    # The words one person's initiatives share are their author's: the wording ranking list counts none of them.
    features = scored.features(slice(None))
    wording = scoring._ranking_lists(scored, features, scored._top, pair_model.SHIPPED)[2]
    assert features["wording"][0, 1] > 0 and wording[0, 1] == 0.0
    assert wording[2, 3] == pytest.approx(features["wording"][2, 3]) and wording[2, 3] > 0
    # A draft is placed among the portfolio's owners, an unknown one among none.
    for owner, expected in (("ann", [1.0, 1.0, 0.0, 0.0, 0.0]), ("carol", [0.0] * 5), ("", [0.0] * 5)):
        draft = scored.draft(dataclasses.replace(items[0], key="draft", owner=owner), scored.vectors[0],
                             scored.distribution[0])
        assert scored.draft_features(draft)["same_owner"][0].tolist() == expected


def test_fused_ranking_rewards_agreement_and_ignores_nothing_in_common():
    diagonal = (np.arange(1), np.arange(1))
    # Row 0 against four columns (column 0 is itself): column 1 leads two lists, column 2 leads the third, column 3
    # shares nothing in the third (0) and earns nothing there however the ties fall.
    blend = np.asarray([[1.0, 0.9, 0.5, 0.4]], dtype=np.float32)
    model = np.asarray([[1.0, 0.8, 0.3, 0.2]], dtype=np.float32)
    wording = np.asarray([[1.0, 0.1, 0.7, 0.0]], dtype=np.float32)
    fused = scoring.fuse_rankings([blend, model, wording], diagonal, depth=3)
    assert fused[0, 0] == 0.0  # never its own candidate
    assert fused[0, 1] > fused[0, 2] > fused[0, 3]
    k = scoring.FUSION_K
    assert fused[0, 3] == pytest.approx(2 * (k + 1) / (k + 3) / 3)  # third in two lists, nothing from the wording
    first_everywhere = scoring.fuse_rankings([blend, blend, blend], diagonal, depth=3)
    assert first_everywhere[0, 1] == pytest.approx(1.0)


def test_fused_ranking_counts_only_each_lists_top():
    diagonal = (np.arange(1), np.arange(1))
    signal = np.asarray([[1.0, 0.9, 0.8, 0.7, 0.6]], dtype=np.float32)
    fused = scoring.fuse_rankings([signal], diagonal, depth=2)
    assert fused[0, 3] == fused[0, 4] == 0.0 and fused[0, 1] > fused[0, 2] > 0.0


@pytest.mark.parametrize("learnt_metric", [False, True], ids=["encoder cosine", "learnt metric"])
def test_a_draft_of_an_item_has_exactly_that_items_features(embedder, index, learnt_metric):
    """The initiative page ranks an initiative as a draft against the portfolio (excluding itself): its features,
    probabilities and ranking must be the analysis's own row, or the page and the recomputation would disagree."""
    items = _items()
    if not learnt_metric:  # as an encoder without a metric of its own compares purposes
        index = dataclasses.replace(index, purpose_metric=None)
    scored = scoring.score_items(items, embedder.embed([i.purpose for i in items]), index)
    assert (scored.metric is not None) == learnt_metric
    refit = pair_model.PairModel(weights=tuple(0.5 for _ in pair_model.FEATURES), bias=-1.0,
                            use_case_bias=(("campaign-images", 0.7),))
    for position, item in enumerate(items):
        draft = scored.draft(item, scored.vectors[position], scored.distribution[position], exclude=position)
        features, own = scored.draft_features(draft), scored.features(np.asarray([position]))
        others = np.arange(len(items)) != position  # the pair with itself is never ranked
        for name in pair_model.FEATURES:
            assert np.allclose(features[name][0, others], own[name][0, others], atol=1e-6), name
        for model in (pair_model.SHIPPED, refit):
            assert np.allclose(scored.draft_probability(draft, model=model)[0, others],
                               scored.probability(np.asarray([position]), model=model)[0, others], atol=1e-6)
    ranked = scoring.top_duplicates(scored, top=3)
    for position, item in enumerate(items):
        draft = scored.draft(item, scored.vectors[position], scored.distribution[position], exclude=position)
        assert scoring.rank_draft_fused(scored, draft, exclude=position, top=3) == ranked[position]


def test_a_new_draft_is_weighed_on_the_portfolios_terms(embedder, index):
    items = _items()
    scored = scoring.score_items(items, embedder.embed([i.purpose for i in items]), index)
    text = scoring.Item(key="draft", name="Campaign image studio",
                        description="Generate campaign images and ad visuals for the brand team.",
                        department="Marketing")
    vector = embedder.embed([text.purpose])[0]
    affinity = scoring.archetype_affinity([text], vector[None, :], index)
    draft = scored.draft(text, vector, scoring.archetype_distribution(affinity, [text], index.codes)[0])
    features = scored.draft_features(draft)
    assert features["same_department"].tolist() == [[True, False, False, False, False]]
    assert features["wording"][0, 0] > 0 and features["wording"][0, 4] == 0  # "campaign images" vs invoices
    best = scoring.rank_draft_fused(scored, draft, top=2)
    assert {items[j].key for j, _ in best} == {"A", "B"}


def test_a_job_phrased_around_one_generic_technique_is_less_specific():
    """Specificity comes from the catalogue alone, on a fixed scale: a job whose phrasings all say one technique lumps
    together what a company runs as different jobs, so agreeing on it counts less than agreeing on a job of varied,
    specific tasks."""
    generic = np.asarray([[1.0, 0.0, 0.0], [0.99, 0.141, 0.0], [0.98, 0.199, 0.0]], dtype=np.float32)  # alike
    varied = np.asarray([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32)  # coherence 0
    middle = np.asarray([[1.0, 0.0, 0.0], [0.33, 0.944, 0.0]], dtype=np.float32)  # coherence 0.33
    lone = np.asarray([[0.0, 1.0, 0.0]], dtype=np.float32)  # one phrasing: no coherence to measure
    vectors = np.vstack([generic, varied, middle, lone])
    owners = np.asarray([0, 0, 0, 1, 1, 1, 2, 2, 3])
    specificity = scoring.job_specificity(vectors, owners, 4)
    assert specificity[0] == 0.0 and specificity[1] == 1.0  # beyond the scale's ends
    expected = (scoring.GENERIC_COHERENCE - 0.33) / (scoring.GENERIC_COHERENCE - scoring.SPECIFIC_COHERENCE)
    assert specificity[2] == pytest.approx(expected, abs=1e-3)
    assert specificity[3] == pytest.approx(specificity[2])  # the median of the others
    # The same job measures the same in any catalogue, however small: the scale is fixed.
    assert scoring.job_specificity(middle, np.asarray([0, 0]), 1)[0] == pytest.approx(specificity[2])
    assert scoring.job_specificity(lone, np.asarray([0]), 1).tolist() == [1.0]  # nothing to measure at all
    # Another encoder's cosines sit elsewhere: its own scale ends place the same coherence elsewhere on [0, 1].
    moved = scoring.job_specificity(middle, np.asarray([0, 0]), 1, specific=0.23, generic=0.43)
    assert moved[0] == pytest.approx(0.5, abs=1e-3)


def test_agreement_on_a_specific_job_counts_more_than_on_a_generic_one(embedder, index):
    items = _items()
    scored = scoring.score_items(items, embedder.embed([i.purpose for i in items]), index)
    features = scored.features(slice(None))
    exact, specific = features["archetype_exact"], features["archetype_specific"]
    assert np.all(specific <= exact + 1e-6)  # each job weighs at most 1
    weighed = scoring.Scored(items=items, vectors=scored.vectors, distribution=scored.distribution,
                             codes=scored.codes, params=scored.params,
                             specificity=np.asarray([1.0, 0.0, 1.0], dtype=np.float32))
    both_meetings = weighed.features(np.asarray([2]), np.asarray([3]))  # C and D: meeting notes
    both_images = weighed.features(np.asarray([0]), np.asarray([1]))  # A and B: campaign images
    assert both_meetings["archetype_specific"][0, 0] < 0.2 * both_meetings["archetype_exact"][0, 0]
    assert both_images["archetype_specific"][0, 0] == pytest.approx(both_images["archetype_exact"][0, 0], abs=1e-5)
    assert index.specificity is not None and index.specificity.shape == (len(ARCHETYPES),)


def test_phrases_in_common_leave_out_filler_words():
    a = scoring.Item(key=1, name="Mail triage", description="Classify incoming mail and route it to the right queue.")
    b = scoring.Item(key=2, name="Service desk triage",
                     description="Route each ticket the best way, to the right team queue; classify its urgency.")
    assert scoring.common_phrases(a, b) == ["classify", "triage", "queue", "route"]  # not "right"
    # Evidence only: the same words still count in what the scores read.
    assert "right" in scoring.terms(a.description) and "right" not in scoring.STOPWORDS


def test_phrases_in_common_are_written_in_both_texts_as_shown():
    a = scoring.Item(key=1, name="Claims fraud scoring",
                     description="Scores incoming claims for fraud indicators and refers suspicious ones to the SIU.")
    b = scoring.Item(key=2, name="Sentinel home claims fraud scoring",
                     description="Scores home claims for fraud indicators and refers suspicious ones to investigators.")
    shown = scoring.common_phrases(a, b)
    assert shown == ["fraud indicators", "refers suspicious", "fraud scoring", "suspicious ones"]
    # Not "indicator refer" (across a stop word), "scoring score" (across a sentence) or "suspiciou" (the fold).
    assert scoring.written_forms("Fraud scoring. Scores indicators and refers.") == {
        "fraud": "fraud", "scoring": "scoring", "fraud_scoring": "fraud scoring", "score": "scores",
        "indicator": "indicators", "and": "and", "refer": "refers", "score_indicator": "scores indicators",
        "indicator_and": "indicators and", "and_refer": "and refers"}


def test_the_jobs_kernel_is_computed_once_per_catalogue_and_equals_a_fresh_one(embedder, index):
    """The kernel depends on the catalogue alone: kept on its index, it is the one a fresh computation gives, every
    Scored of the index shares it, and an index derived with other job vectors computes its own."""
    items = _items()
    vectors = np.asarray(embedder.embed([item.purpose for item in items]))
    floor = index.params.kernel_floor
    first = scoring.score_items(items, vectors, index)
    assert index.kernels[floor] is first.kernel and scoring.score_items(items, vectors, index).kernel is first.kernel
    fresh = scoring.job_kernel(dataclasses.replace(index), floor)  # a copy starts without kept kernels
    assert fresh is not first.kernel and np.array_equal(fresh, first.kernel)
    assert not first.kernel.flags.writeable
    other = dataclasses.replace(index, job_vectors=index.job_vectors[::-1].copy())
    assert not other.kernels and not np.array_equal(scoring.job_kernel(other, floor), first.kernel)


def test_a_clusters_phrases_in_common_leave_out_filler_words(embedder, index):
    """One rule for all evidence (`says_something`): a cluster's phrases drop filler as a pair's reasons do."""
    items = _items()
    items[2] = dataclasses.replace(items[2], description="Transcribes our weekly meetings the right way and writes a "
                                   "summary with action items.")
    items[3] = dataclasses.replace(items[3], description="Zoom AI Companion transcribes every meeting the right way "
                                   "and writes minutes with action items.")
    scored = scoring.score_items(items, embedder.embed([i.purpose for i in items]), index)
    shown = scored.shared_phrases([2, 3])
    assert "action items" in shown
    assert not {"right way", "right", "way"} & set(shown), shown
    # Evidence only: the scores still read the filler phrase.
    assert "right_way" in scored.vocabulary
