"""Sprawl analysis of the database: embedding cache, clusters, duplicates at intake, the commands (and the
measure of a company's own labels)."""

from __future__ import annotations

import dataclasses
import io
import json

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from governance.models import InitiativeEmbedding, InitiativeUseCase, TextEmbedding, UseCase, UseCaseOrigin
from governance.sprawl import analysis
from governance.sprawl.engine import calibration, metric, pairs, scoring
from governance.sprawl.engine.quality import measure
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bars(monkeypatch):
    """MiniLM's calibration with other bars (`bars(threshold=0.85)`), for a test that needs a pair on each side of
    one: the probabilities of a five-item portfolio sit where they sit (campaign images 0.82, meeting notes 0.95)."""
    def use(**values) -> pairs.PairModel:
        model = dataclasses.replace(pairs.SHIPPED, **values)
        monkeypatch.setattr(calibration, "MINILM", dataclasses.replace(calibration.MINILM, model=model))
        return model
    return use


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_analysis_finds_the_clusters_and_duplicates(portfolio, embedder):
    result = analysis.analyse_portfolio()
    ids = {i.pk: key for key, i in portfolio.items()}
    found = [{ids[m] for m in c.member_ids} for c in result.clusters]
    assert {"A", "B"} in found and {"C", "D"} in found
    codes = {frozenset(ids[m] for m in c.member_ids): c.use_case_code for c in result.clusters}
    assert codes[frozenset("AB")] == "campaign-images"
    top = result.duplicates[portfolio["A"].pk]
    assert ids[top[0].initiative_id] == "B" and len(top) == 4
    assert any(r.startswith("shared use case: Campaign image generation") for r in top[0].reasons)
    assert result.use_cases[portfolio["E"].pk][0][0] == "invoice-capture"


def test_the_analysis_reports_each_of_its_steps_as_it_starts_and_how_far_it_is_within_them(portfolio, embedder,
                                                                                            monkeypatch):
    steps: list[float] = []
    embedded_at: list[list[float]] = []
    real = analysis.purpose_vectors
    monkeypatch.setattr(analysis, "purpose_vectors",
                        lambda items, **kw: (embedded_at.append(list(steps)), real(items, **kw))[1])
    monkeypatch.setattr(embedder._real, "batch_size", 2)  # five texts in three batches
    analysis.analyse_portfolio(progress=steps.append)
    # A first run embeds the catalogue in step 1, after reading the portfolio: its phrases two at a time.
    catalogue = [s for s in steps if 1 < s < 2]
    assert len(catalogue) > 3 and catalogue == sorted(catalogue) and catalogue[-1] == pytest.approx(1.99)
    assert catalogue[0] > 1 + analysis.CATALOGUE_AFTER_READING
    # 2 of 5 texts, 4 of 5, then all five: still step 2 until step 3 begins
    assert [s for s in steps if s < 4 and not 1 < s < 2] == pytest.approx([1, 2, 2.4, 2.8, 2.99, 3])
    assert len(analysis.ANALYSIS_STEPS) == 5
    assert [[s for s in at if not 1 < s < 2] for at in embedded_at] == [[1, 2]]  # during the step that says so
    assert analysis.ANALYSIS_STEPS[1].startswith("Embedding what each initiative does")
    # The ranking (one block of five) is RANKING_SHARE of step 4; the grouping GROUPING_SHARE of step 5, then the
    # evidence of each of its two clusters is put into words.
    ranking = [s for s in steps if 4 <= s < 5]
    assert ranking == pytest.approx([4, 4 + analysis.RANKING_SHARE])
    grouping = [s for s in steps if s >= 5]
    assert grouping[0] == 5 and grouping == sorted(grouping) and grouping[-1] < 6
    assert grouping[-2:] == pytest.approx([5 + analysis.GROUPING_SHARE, 5 + analysis.GROUPING_SHARE + 0.05])
    steps.clear()
    analysis.analyse_portfolio(progress=steps.append)
    assert [s for s in steps if s < 4] == [1, 2, 3]  # nothing left to embed: steps 1 and 2 have nothing to say


def test_the_catalogue_says_how_far_its_indexing_is_only_while_it_embeds(embedder, catalogue):
    shares: list[float] = []
    analysis.catalogue_index(store=True, progress=shares.append)
    # the jobs (longer) then the synonyms, each call placed by its characters
    assert len(shares) == 2 and 0 < shares[0] < 1 and shares[1] == pytest.approx(1.0)
    shares.clear()
    analysis._catalogue_index.cache_clear()  # rebuilt, every phrase's vector at hand in the memo: nothing to say
    analysis.catalogue_index(store=True, progress=shares.append)
    assert shares == []


def test_cached_embed_counts_the_texts_found_as_done_at_once(embedder, db, monkeypatch):
    analysis.cached_embed(["first text", "second text"])
    shares: list[float] = []
    analysis.cached_embed(["first text", "second text", "third text", "fourth text", "third text"],
                          progress=shares.append)
    assert shares == pytest.approx([1.0])  # two of four distinct texts found, the other two in one batch
    monkeypatch.setattr(embedder._real, "batch_size", 1)
    analysis.cached_embed(["fifth text", "first text", "sixth text"], progress=shares.append)
    assert shares[1:] == pytest.approx([2 / 3, 1.0])
    assert len(embedder.texts) == 6  # each distinct text embedded once


def test_embeddings_are_cached_and_recomputed_only_when_the_text_changes(portfolio, embedder):
    analysis.analyse_portfolio()
    assert InitiativeEmbedding.objects.count() == 5
    first = len(embedder.texts)
    analysis.analyse_portfolio()
    assert len(embedder.texts) == first  # nothing re-embedded, the catalogue index is cached too
    initiative = portfolio["E"]
    initiative.description = "Reads supplier invoices and credit notes into SAP."
    initiative.save()
    analysis.analyse_portfolio()
    assert embedder.texts[first:] == [f"{initiative.name}. {initiative.description}"]


def test_a_confirmed_use_case_overrides_inference(portfolio, embedder):
    InitiativeUseCase.objects.create(initiative=portfolio["E"], use_case=UseCase.objects.get(code="meeting-notes"),
                                     confidence=1, origin=UseCaseOrigin.CONFIRMED)
    result = analysis.analyse_portfolio()
    assert result.use_cases[portfolio["E"].pk] == [("meeting-notes", 1.0)]


def test_draft_duplicates_at_intake(portfolio, embedder):
    found = analysis.draft_duplicates(
        name="Creative AI imagery", description="Generate social media visuals for campaigns with Canva.",
        vendor_names=["Canva"], model_names=[], category="content_generation", department_id=None,
    )
    assert [d.initiative_id for d in found[:2]] in ([portfolio["A"].pk, portfolio["B"].pk],
                                                    [portfolio["B"].pk, portfolio["A"].pk])
    assert len(found) == 5
    # editing an existing initiative never lists itself
    own = analysis.draft_duplicates(name=portfolio["A"].name, description=portfolio["A"].description,
                                    vendor_names=["Midjourney"], model_names=[], category="", department_id=None,
                                    exclude_id=portfolio["A"].pk)
    assert portfolio["A"].pk not in [d.initiative_id for d in own]
    assert analysis.draft_duplicates(name=" ", description="", vendor_names=[], model_names=[], category="",
                                     department_id=None) == []
    # Typed noise reads like nothing in the portfolio: no candidates, however the fused ranking would rank them.
    for noise in ("zzzz", "the", "qwerty asdf", "\x00"):
        assert analysis.draft_duplicates(name=noise, description="", vendor_names=[], model_names=[], category="",
                                         department_id=None) == [], noise
    assert analysis.draft_duplicates(name="Meeting minutes", description="", vendor_names=[], model_names=[],
                                     category="", department_id=None)


def test_the_scorer_knows_each_initiatives_owner(portfolio, embedder, monkeypatch):
    """Owners are a pair feature (one person's two initiatives are phases of one thing): the recomputation, the
    portfolio index and a draft all see them."""
    owners = {i.pk: str(i.owner_id) for i in portfolio.values()}
    items, _ = analysis._portfolio_items()
    assert {item.key: item.owner for item in items} == owners
    assert {item.key: item.owner for item in analysis._items(analysis._initiatives())} == owners
    seen = []
    draft = scoring.Scored.draft

    def spy(self, item, *args, **kwargs):
        seen.append(item.owner)
        return draft(self, item, *args, **kwargs)

    monkeypatch.setattr(scoring.Scored, "draft", spy)
    a, c = portfolio["A"], portfolio["C"]
    text = {"name": a.name, "description": a.description, "vendor_names": [], "model_names": [], "category": "",
            "department_id": None}
    analysis.draft_duplicates(**text, exclude_id=a.pk)
    analysis.draft_duplicates(**text, owner_id=c.owner_id)
    analysis.draft_duplicates(**text)
    assert seen == [str(a.owner_id), str(c.owner_id), ""]


def test_draft_duplicates_with_fewer_initiatives_than_asked(portfolio, embedder):
    found = analysis.draft_duplicates(name="Minutes bot", description="Writes meeting minutes.", vendor_names=[],
                                      model_names=[], category="", department_id=None, top=10)
    assert sorted(d.initiative_id for d in found) == sorted(i.pk for i in portfolio.values())


DRAFT = {"name": "Creative AI imagery", "description": "Generate social media visuals for campaigns with Canva.",
         "vendor_names": ["Canva"], "model_names": [], "category": "content_generation"}


def test_draft_ranking_is_the_fused_ranking_on_the_portfolios_terms(portfolio, embedder):
    """The index ranks a draft as the engine ranks a text against the scored portfolio: the fused ranking, its
    score, and the reasons of the full scoring."""
    department = portfolio["B"].department
    found = analysis.draft_duplicates(**DRAFT, department_id=department.pk, top=5)

    items = analysis._items(analysis._initiatives())
    draft = analysis._draft_item(DRAFT["name"], DRAFT["description"], DRAFT["vendor_names"], [], DRAFT["category"],
                                 department.name)
    catalogue = analysis.catalogue_index()
    scored = scoring.score_items(items, analysis.purpose_vectors(items), catalogue)
    vector = embedder.embed([draft.purpose])[0]
    affinity = scoring.archetype_affinity([draft], vector[None, :], catalogue)
    placed = scoring.archetype_distribution(affinity, [draft], catalogue.codes)[0]
    ranked = scoring.rank_draft_fused(scored, scored.draft(draft, vector, placed), top=5)
    assert [d.initiative_id for d in found] == [items[j].key for j, _ in ranked]
    assert [d.score for d in found] == pytest.approx([score for _, score in ranked], abs=1e-4)
    assert found[0].initiative_id == portfolio["B"].pk  # same department, same job, same words
    together = scoring.score_items([draft, *items], np.vstack([vector, scored.vectors]), catalogue)
    names = {a.code: a.name for a in catalogue.archetypes}
    assert [d.reasons for d in found] == [analysis._reasons(together, 0, j + 1, names) for j, _ in ranked]


def test_an_initiatives_page_lists_what_the_recomputation_ranks(portfolio, embedder):
    """The initiative page ranks the initiative as a draft of itself: the same candidates, in the same order, with
    the same scores as the recomputation's (and `possible_duplicates`')."""
    result = analysis.analyse_portfolio()
    for initiative in portfolio.values():
        page = analysis.draft_duplicates(
            name=initiative.name, description=initiative.description,
            vendor_names=[v.name for v in initiative.vendors.all()], model_names=[], category=initiative.category,
            department_id=initiative.department_id, exclude_id=initiative.pk, top=4)
        listed = result.duplicates[initiative.pk]
        assert [d.initiative_id for d in page] == [d.initiative_id for d in listed]
        assert [d.score for d in page] == pytest.approx([d.score for d in listed], abs=1e-4)


def test_each_candidate_carries_the_pair_probability_a_cluster_of_the_two_scores(portfolio, embedder):
    """The rank's score orders the list; beside it, each candidate carries the pair model's probability for the pair,
    computed as the clusters are (`Scored.probability`), so a two-member cluster's score is that very figure. The
    ranking itself is untouched."""
    result = analysis.analyse_portfolio()
    pair_clusters = {frozenset(c.member_ids): c.score for c in result.clusters if len(c.member_ids) == 2}
    a, b = portfolio["A"], portfolio["B"]
    assert frozenset((a.pk, b.pk)) in pair_clusters
    page = analysis.draft_duplicates(
        name=a.name, description=a.description, vendor_names=[v.name for v in a.vendors.all()], model_names=[],
        category=a.category, department_id=a.department_id, exclude_id=a.pk, top=4)
    assert [(d.initiative_id, d.score) for d in page] == [(d.initiative_id, d.score)
                                                           for d in result.duplicates[a.pk]]
    partner = next(d for d in page if d.initiative_id == b.pk)
    assert partner.probability == pytest.approx(pair_clusters[frozenset((a.pk, b.pk))], abs=1e-4)
    # Every candidate's figure is the pair model's for that pair, in one batch for the list.
    items = analysis._items(analysis._initiatives())
    scored = scoring.score_items(items, analysis.purpose_vectors(items), analysis.catalogue_index())
    keys = [item.key for item in items]
    row = scored.probability(np.asarray([keys.index(a.pk)]), model=result.pair_model)[0]
    assert [d.probability for d in page] == pytest.approx([row[keys.index(d.initiative_id)] for d in page],
                                                          abs=1e-4)
    # A typed draft is no stored row: its figure is the pair model's against the draft, as the ranking reads it.
    typed = analysis.draft_duplicates(**DRAFT, department_id=None)
    assert all(d.probability is not None and 0 <= d.probability <= 1 for d in typed)


def test_draft_duplicates_write_nothing_and_embed_only_the_typed_text(portfolio, embedder,
                                                                       django_assert_max_num_queries):
    analysis.draft_duplicates(**DRAFT, department_id=None)  # builds the process's index
    assert not InitiativeEmbedding.objects.exists() and not TextEmbedding.objects.exists()
    embedder.texts.clear()
    # The portfolio's version, the catalogue's, and the pair model of the last recomputation.
    with django_assert_max_num_queries(3):
        found = analysis.draft_duplicates(**{**DRAFT, "description": "Campaign visuals for social media."},
                                          department_id=None)
    assert embedder.texts == ["Creative AI imagery. Campaign visuals for social media."]
    assert len(found) == 5


def test_the_index_follows_the_portfolio(portfolio, embedder):
    analysis.draft_duplicates(**DRAFT, department_id=None)
    embedder.texts.clear()
    quill = portfolio["C"]
    quill.description = "Generates campaign images and social visuals with Canva."
    quill.save()
    found = analysis.draft_duplicates(**DRAFT, department_id=None, top=2)
    assert quill.pk in [d.initiative_id for d in found]
    assert embedder.texts == [f"{quill.name}. {quill.description}"]  # only the changed initiative is embedded
    embedder.texts.clear()
    portfolio["A"].vendors.clear()  # a link alone, without saving the initiative
    assert analysis.draft_duplicates(**DRAFT, department_id=None, top=5)
    assert embedder.texts == []  # its vector is kept; only its archetypes were placed again
    index = analysis.portfolio_index()
    assert index.items[index.positions[portfolio["A"].pk]].vendors == ()
    portfolio["E"].delete()
    assert portfolio["E"].pk not in [d.initiative_id for d in analysis.draft_duplicates(**DRAFT, department_id=None)]


@pytest.mark.django_db(transaction=True)  # the warm-up reads the portfolio on its own thread's connection
def test_a_worker_builds_its_index_ahead_so_its_first_lookup_embeds_only_the_draft(portfolio, embedder):
    thread = analysis.warm_portfolio_index()
    thread.join(timeout=120)
    assert not thread.is_alive()
    index = analysis._PORTFOLIO[embedder.name]
    assert sorted(index.positions) == sorted(i.pk for i in portfolio.values())
    embedder.texts.clear()
    analysis.draft_duplicates(**DRAFT, department_id=None)
    assert embedder.texts == [f"{DRAFT['name']}. {DRAFT['description']}"]  # the index was ready
    assert analysis.portfolio_index() is index


def test_a_failed_warm_up_is_logged_and_leaves_the_first_lookup_to_build_the_index(monkeypatch, caplog):
    def broken(catalogue=None):
        raise RuntimeError("database not ready")

    monkeypatch.setattr(analysis, "portfolio_index", broken)
    analysis.warm_portfolio_index().join(timeout=30)
    assert "Possible-duplicates index not built ahead" in caplog.text


def test_stored_embeddings_are_read_and_missing_ones_join_a_few_at_a_time(portfolio, embedder, monkeypatch):
    analysis.purpose_vectors(analysis._items(analysis._initiatives()))  # what the recomputation stores
    portfolio["E"].description = "Reads supplier invoices and credit notes into SAP."
    portfolio["E"].save()
    InitiativeFactory(name="Invoice capture", department=portfolio["E"].department)
    analysis.catalogue_index()
    embedder.texts.clear()
    monkeypatch.setattr(analysis, "EMBED_ON_READ_LIMIT", 1)
    first = analysis.portfolio_index()
    assert len(first.keys) == 5 and first.pending == 1 and len(embedder.texts) == 1
    second = analysis.portfolio_index()
    assert len(second.keys) == 6 and second.pending == 0 and len(embedder.texts) == 2
    assert analysis.portfolio_index() is second  # nothing changed: nothing rebuilt


def test_suggest_use_cases(catalogue, embedder):
    suggested = analysis.suggest_use_cases(name="Minutes bot", description="Writes meeting minutes and action items.",
                                           vendor_names=[], model_names=[], category="")
    assert suggested[0][0] == "meeting-notes" and 0 < suggested[0][1] <= 1


def test_commands_print_the_documented_json(portfolio, embedder, bars):
    bars(threshold=0.85)  # the campaign-image pair (0.82) is then possible, the meeting notes (0.95) likely
    clusters = json.loads(_run("detect_sprawl", "--json"))
    found = clusters[[c["members"] for c in clusters].index(["C", "D"])]
    assert {key: found[key] for key in ("members", "use_case", "confidence")} == {
        "members": ["C", "D"], "use_case": "meeting-notes", "confidence": "likely"}
    assert found["evidence"][0] == "Shared job: Meeting transcription and notes"
    assert all(isinstance(c["score"], float) and 0 < c["score"] <= 1 for c in clusters)
    # The shapes are unchanged by the likelihood the pages show beside each candidate's rank.
    assert all(set(c) == {"members", "score", "use_case", "confidence", "evidence", "right_elsewhere"}
               for c in clusters)
    assert all(c["confidence"] == "likely" for c in clusters)  # possible ones only with --possible
    assert ["A", "B"] not in [c["members"] for c in clusters]
    with_possible = json.loads(_run("detect_sprawl", "--json", "--possible"))
    assert [c for c in with_possible if c["confidence"] == "likely"] == clusters
    images = with_possible[[c["members"] for c in with_possible].index(["A", "B"])]
    assert images["confidence"] == "possible" and images["use_case"] == "campaign-images"
    from governance.sprawl.selectors import score_band

    assert images["right_elsewhere"] == round(score_band(images["score"]).share, 3)  # how often such were right
    duplicates = json.loads(_run("possible_duplicates", "--top", "2", "--json"))
    assert set(duplicates) == set("ABCDE")
    assert duplicates["C"][0] == "D" and all(len(v) == 2 for v in duplicates.values())
    assert all(isinstance(other, str) for v in duplicates.values() for other in v)  # external ids, nothing more
    report = _run("detect_sprawl")
    assert "C, D" in report and report.startswith("score  confidence  right elsewhere")


def test_commands_on_an_empty_portfolio(catalogue, embedder):
    assert json.loads(_run("detect_sprawl", "--json")) == []
    assert json.loads(_run("possible_duplicates", "--json")) == {}


def _labels(tmp_path, text: str):
    path = tmp_path / "labels.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


LABELS = "external_id,cluster\nA,images\nB,images\nC,notes\nD,notes\n"


def test_sprawl_quality_measures_what_the_two_commands_print(portfolio, embedder, bars, tmp_path):
    """The figures are the bench's (engine.quality.measure) over exactly what detect_sprawl and possible_duplicates
    print, so a company's own labels are scored as the labelled inventories are."""
    bars(threshold=0.85)  # meeting notes (0.95) likely, campaign images (0.82) possible
    path = _labels(tmp_path, LABELS)
    expected = measure([c["members"] for c in json.loads(_run("detect_sprawl", "--json"))],
                       {"A": "images", "B": "images", "C": "notes", "D": "notes"},
                       json.loads(_run("possible_duplicates", "--top", "5", "--json")))
    result = json.loads(_run("sprawl_quality", path, "--json"))
    assert {key: result[key] for key in ("precision", "recall", "f1", "top_hit_rate", "predicted_pairs",
                                         "true_pairs", "correct_pairs")} == {
        "precision": round(expected.precision, 4), "recall": round(expected.recall, 4), "f1": round(expected.f1, 4),
        "top_hit_rate": round(expected.top_k_hit_rate, 4), "predicted_pairs": expected.predicted_pairs,
        "true_pairs": expected.true_pairs, "correct_pairs": expected.correct_pairs}
    assert result["precision"] == 1.0 and result["recall"] == 0.5 and result["f1"] == 0.6667
    assert result["missed_pairs"] == [["A", "B"]] and result["wrong_pairs"] == []
    assert result["without_partner"] == [] and result["top"] == 5 and result["top_hit_rate"] == 1.0
    assert {key: result[key] for key in ("labels", "initiatives", "labelled_members", "labelled_clusters",
                                         "possible", "decided_pairs_left_out")} == {
        "labels": "labels.csv", "initiatives": 5, "labelled_members": 4, "labelled_clusters": 2, "possible": False,
        "decided_pairs_left_out": 0}

    with_possible = json.loads(_run("sprawl_quality", path, "--json", "--possible"))
    assert with_possible["recall"] == 1.0 and with_possible["missed_pairs"] == []
    assert with_possible["clusters_found"] == result["clusters_found"] + 1

    report = _run("sprawl_quality", path)
    assert ("pairwise precision:            1.000  (1/1 pairs found are labelled together; 95% interval "
            "0.207-1.000)") in report
    assert "pairwise recall:               0.500  (1/2 labelled pairs found; 95% interval 0.095-0.905)" in report
    assert "true partner in top 5:         1.000  (4/4 labelled duplicates; 95% interval 0.510-1.000)" in report
    assert result["intervals"] == {"precision": [0.207, 1.0], "recall": [0.095, 0.905], "top_hit_rate": [0.51, 1.0]}
    assert ("Missed pairs (labelled together, in no cluster found together): 1\n"
            "  A Marketing's Midjourney accounts  ~  B Firefly for the creative studio\n") in report


def test_sprawl_quality_lists_wrong_pairs_and_limits_the_lists(portfolio, embedder, bars, tmp_path):
    bars(threshold=0.85)
    # C and D labelled apart: their likely cluster is a wrong pair, and each misses a partner in its top 1
    path = _labels(tmp_path, "external_id,cluster\nA,images\nB,images\nC,notes\nE,notes\n")
    result = json.loads(_run("sprawl_quality", path, "--json", "--top", "1"))
    assert result["wrong_pairs"] == [["C", "D"]] and result["precision"] == 0.0
    assert ["C", "E"] in result["missed_pairs"] and "C" in result["without_partner"]
    report = _run("sprawl_quality", path, "--limit", "1")
    assert "Wrong pairs (in one cluster found, not labelled together): 1\n  C Project Quill  ~  D Meeting recap bot" \
        in report
    assert "Missed pairs (labelled together, in no cluster found together): 2\n" in report
    assert "  ... and 1 more (--limit 0 lists all)" in report
    assert "... and" not in _run("sprawl_quality", path, "--limit", "0")


def test_sprawl_quality_says_when_wrong_pairs_involve_initiatives_the_file_leaves_out(portfolio, embedder, bars,
                                                                                   tmp_path):
    """A file that labels part of the portfolio makes the detector's finds elsewhere look wrong: the report says how
    many wrong pairs that is, and --listed-only measures only among the initiatives the file lists."""
    bars(threshold=0.85)  # C-D likely, A-B possible
    path = _labels(tmp_path, "external_id,cluster\nA,images\nB,images\nC,notes\nE,notes\n")  # D not listed
    result = json.loads(_run("sprawl_quality", path, "--json"))
    assert (result["listed_only"], result["listed"], result["unlisted_pairs"]) == (False, 4, 1)
    assert result["wrong_pairs"] == [["C", "D"]] and result["predicted_pairs"] == 1
    assert "Note: 1 of the 1 wrong pairs put together an initiative the file does not list." in _run(
        "sprawl_quality", path)

    sample = _labels(tmp_path, "external_id,cluster\nA,images\nB,images\nC,quill\n")  # C checked: unique
    with pytest.raises(CommandError, match="1 problem"):  # a label of one is a mistake unless the file is a sample
        call_command("sprawl_quality", sample, stdout=io.StringIO(), stderr=io.StringIO())
    listed = json.loads(_run("sprawl_quality", sample, "--json", "--listed-only", "--possible"))
    assert (listed["listed_only"], listed["listed"], listed["unlisted_pairs"]) == (True, 3, 1)  # C-D left out
    assert (listed["predicted_pairs"], listed["true_pairs"], listed["correct_pairs"]) == (1, 1, 1)
    assert listed["wrong_pairs"] == [] and listed["precision"] == 1.0 and listed["recall"] == 1.0
    assert listed["labelled_members"] == 2 and listed["labelled_clusters"] == 1  # C is no labelled duplicate
    report = _run("sprawl_quality", sample, "--listed-only", "--possible")
    assert "only the 3 initiatives listed: 1 pairs found with an initiative the file leaves out left out" in report
    assert "Note:" not in report
    # both listed, labelled apart: still a wrong pair
    apart = _labels(tmp_path, "external_id,cluster\nA,a\nB,b\nC,notes\nD,notes\n")
    both = json.loads(_run("sprawl_quality", apart, "--json", "--listed-only", "--possible"))
    assert both["wrong_pairs"] == [["A", "B"]] and both["precision"] == 0.5 and both["unlisted_pairs"] == 0


def test_sprawl_quality_can_leave_out_what_reviewers_decided(portfolio, embedder, bars, reviewer, tmp_path):
    from governance.choices import DuplicateVerdict
    from governance.sprawl.services.pair_decisions import duplicate_pair_decide

    bars(threshold=0.85)
    duplicate_pair_decide(actor=reviewer, initiative=portfolio["C"], other=portfolio["D"],
                          verdict=DuplicateVerdict.DUPLICATE, reason="Same job.")
    path = _labels(tmp_path, LABELS)
    assert json.loads(_run("sprawl_quality", path, "--json"))["correct_pairs"] == 1  # the decided pair counts
    undecided = json.loads(_run("sprawl_quality", path, "--json", "--undecided"))
    assert undecided["decided_pairs_left_out"] == 1
    assert (undecided["true_pairs"], undecided["predicted_pairs"], undecided["correct_pairs"]) == (1, 0, 0)
    assert undecided["missed_pairs"] == [["A", "B"]]
    assert "1 pairs decided by reviewers left out on both sides" in _run("sprawl_quality", path, "--undecided")


def test_sprawl_quality_names_what_is_wrong_with_the_labels_and_measures_nothing(portfolio, embedder, tmp_path,
                                                                               monkeypatch):
    def fail(**kwargs):
        raise AssertionError("nothing is measured from bad labels")

    monkeypatch.setattr(analysis, "analyse_portfolio", fail)
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"labels.csv: 2 problem\(s\); nothing was measured."):
        call_command("sprawl_quality", _labels(tmp_path, "external_id,cluster\nA,x\nZ,x\nY,y\nE,y\n"),
                     stdout=io.StringIO(), stderr=err)
    assert err.getvalue().splitlines() == [
        "labels.csv: row 3, column external_id: no initiative 'Z' in this database",
        "labels.csv: row 4, column external_id: no initiative 'Y' in this database"]
    with pytest.raises(CommandError, match="labels.csv: 1 problem"):
        call_command("sprawl_quality", _labels(tmp_path, "id,cluster\nA,x\n"), stdout=io.StringIO(),
                     stderr=io.StringIO())
    bad = tmp_path / "latin1.csv"
    bad.write_bytes("external_id,cluster\nA,caf\xe9\n".encode("latin-1"))
    err = io.StringIO()
    with pytest.raises(CommandError, match="latin1.csv: 1 problem"):
        call_command("sprawl_quality", str(bad), stderr=err)
    assert err.getvalue() == "latin1.csv: row 2: not UTF-8; save the labels as CSV UTF-8\n"
    with pytest.raises(CommandError, match="No such file"):
        call_command("sprawl_quality", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="--top must be at least 1"):
        call_command("sprawl_quality", str(bad), "--top", "0")


def test_catalogue_vectors_are_cached_across_processes(catalogue, embedder):
    analysis.catalogue_index(store=True)
    first = len(embedder.texts)
    assert first > 0 and TextEmbedding.objects.count() == len(set(embedder.texts))
    analysis._catalogue_index.cache_clear()  # as a new process would start
    analysis.catalogue_index(store=True)
    assert len(embedder.texts) == first  # every vector came from the cache
    edited = UseCase.objects.get(code="meeting-notes")
    edited.synonyms = ["meeting minutes", "standup digest"]
    edited.save()
    analysis.catalogue_index(store=True)
    assert embedder.texts[first:] == ["standup digest"]  # only the new phrase is embedded


def test_a_request_indexes_the_catalogue_without_storing_and_the_recomputation_stores_it(catalogue, embedder):
    analysis.catalogue_index()
    phrases = set(embedder.texts)
    assert phrases and not TextEmbedding.objects.exists()
    analysis.catalogue_index(store=True)
    assert TextEmbedding.objects.count() == len(phrases)


def test_the_catalogue_embedded_ahead_is_stored_by_the_next_lookup(catalogue, embedder):
    """The demo's build embeds the catalogue in a helper thread while it writes: the index then takes those vectors
    (each phrase embedded once) and stores them for the other processes."""
    jobs, synonyms, _ = scoring.catalogue_phrases(analysis._archetypes())
    phrases = set(jobs + synonyms)
    try:
        assert analysis.catalogue_embed_ahead() == len(phrases) > 0
        index = analysis.catalogue_index(store=True)
    finally:
        analysis._ahead_vectors()
        analysis._AHEAD_UNSTORED.clear()
    assert sorted(embedder.texts) == sorted(phrases)
    assert TextEmbedding.objects.count() == len(phrases)
    assert np.allclose(index.job_vectors, embedder._real.embed(jobs), atol=1e-6)
    assert analysis.catalogue_embed_ahead() == 0  # nothing left to embed: every phrase is stored


def test_cached_embed_matches_the_embedder(embedder):
    texts = ["summarise meetings", "read invoices", "summarise meetings"]
    cached = analysis.cached_embed(texts, embedder)
    assert np.allclose(cached, embedder.embed(texts), atol=1e-6)
    assert TextEmbedding.objects.count() == 2
    analysis._MEMO.clear()  # a new process reads the table
    embedder.texts.clear()
    assert np.allclose(analysis.cached_embed(texts, embedder), cached) and embedder.texts == []


def test_an_initiative_deleted_during_the_analysis_is_not_an_error(portfolio, embedder, monkeypatch):
    items = analysis._items(analysis._initiatives())
    portfolio["E"].delete()  # after it was read, before its vector is cached
    vectors = analysis.purpose_vectors(items)
    assert vectors.shape == (5, 384)


# Reviewer decisions: constraints of the next recomputation and the company's pair model -----------------------------


def test_decisions_are_respected_by_the_next_recomputation(portfolio, embedder, reviewer):
    from governance.choices import DuplicateVerdict, SprawlStatus
    from governance.models import SprawlCluster, SprawlRun
    from governance.sprawl.services.clusters import sprawl_cluster_dismiss
    from governance.sprawl.services.pair_decisions import duplicate_pair_decide
    from governance.sprawl.services.recompute import sprawl_recompute
    from governance.sprawl.services.runs import sprawl_run_execute, sprawl_run_submit

    ids = {i.pk: key for key, i in portfolio.items()}

    def groups() -> set[frozenset[str]]:
        return {frozenset(ids[m] for m in c.member_ids) for c in analysis.analyse_portfolio().clusters}

    assert {frozenset("AB"), frozenset("CD")} <= groups()
    sprawl_recompute()
    images = SprawlCluster.objects.get(members__initiative=portfolio["A"])
    sprawl_cluster_dismiss(actor=reviewer, cluster=images, reason="Different audiences; both stay.")
    # "Not a duplicate" on C and D, "duplicate of" on D and E (an invoice tool the detector never groups with D).
    duplicate_pair_decide(actor=reviewer, initiative=portfolio["C"], other=portfolio["D"],
                          verdict=DuplicateVerdict.NOT_DUPLICATE, reason="Two jobs")
    duplicate_pair_decide(actor=reviewer, initiative=portfolio["D"], other=portfolio["E"],
                          verdict=DuplicateVerdict.DUPLICATE, reason="Same job.")
    found = groups()
    assert not any({"A", "B"} <= g or {"C", "D"} <= g for g in found)  # cannot-link pairs never share a cluster
    assert any({"D", "E"} <= g for g in found)  # a must-link pair always does
    result = analysis.analyse_portfolio()
    assert portfolio["D"].pk not in [d.initiative_id for d in result.duplicates[portfolio["C"].pk]]

    # The decisions refit the company's pair model; a second run on the same decisions refits it identically.
    run = sprawl_run_execute(run=sprawl_run_submit(actor=reviewer))
    assert run.pair_model["decisions"] == 3 and run.pair_model["fingerprint"]
    assert run.pair_model["encoder"] == "all-MiniLM-L6-v2"  # whose calibration it was refit from
    assert run.pair_model["weights"] != list(analysis.pairs.SHIPPED.weights)
    again = sprawl_run_execute(run=sprawl_run_submit(actor=reviewer))
    assert again.pair_model == run.pair_model
    assert again.clusters_created == again.clusters_updated == 0  # nothing changed, nothing written
    assert SprawlCluster.objects.get(pk=images.pk).status == SprawlStatus.DISMISSED
    assert SprawlRun.objects.count() == 2


def test_a_confirmed_cluster_takes_in_an_initiative_alike_to_each_confirmed_member(portfolio, embedder, reviewer,
                                                                                    bars):
    from governance.choices import DuplicateVerdict
    from governance.models import SprawlCluster
    from governance.sprawl.services.pair_decisions import duplicate_pair_decide
    from governance.sprawl.services.recompute import sprawl_recompute

    artwork = InitiativeFactory(external_id="F", name="Social ad artwork", department=portfolio["C"].department,
                                description="The social team generates campaign images and ad illustrations with an "
                                            "image generator.")
    ids = {i.pk: key for key, i in {**portfolio, "F": artwork}.items()}

    def likely(**kwargs) -> set[frozenset[str]]:
        # Likely, or linked by reviewers: a cluster the verdict holds together under the likely bar.
        return {frozenset(ids[m] for m in c.member_ids) for c in analysis.analyse_portfolio(**kwargs).clusters
                if c.confidence in ("likely", "linked")}

    # A and B at 0.72, F at 0.60 and 0.63 with them: with the likely bar at 0.75 and the join's at 0.55,
    model = bars(threshold=0.75, join=0.55)
    assert not any("A" in g for g in likely())  # before any decision, the three are only a possible cluster
    duplicate_pair_decide(actor=reviewer, initiative=portfolio["A"], other=portfolio["B"],
                          verdict=DuplicateVerdict.DUPLICATE, reason="Same job.")
    # The linkage alone leaves F out of {A, B} (its average with them is under the likely threshold)...
    assert frozenset("AB") in likely(prior=dataclasses.replace(model, join=1.0))
    # ...but it is alike to each member a reviewer vouched for, so the confirmed cluster takes it in.
    assert frozenset("ABF") in likely()
    sprawl_recompute()
    cluster = SprawlCluster.objects.get(members__initiative=portfolio["A"])
    assert {m.initiative_id for m in cluster.members.all()} == {portfolio["A"].pk, portfolio["B"].pk, artwork.pk}


def test_clusters_carry_their_evidence_and_confidence(portfolio, embedder, client, reviewer, bars):
    from governance.models import SprawlCluster
    from governance.sprawl.services.recompute import sprawl_recompute

    sprawl_recompute()
    assert SprawlCluster.objects.get(members__initiative=portfolio["A"]).confidence == "likely"
    bars(threshold=0.85)
    sprawl_recompute()  # the campaign-image pair (0.82) is now under the likely bar: shown apart as possible
    assert SprawlCluster.objects.get(members__initiative=portfolio["A"]).confidence == "possible"
    cluster = SprawlCluster.objects.get(members__initiative=portfolio["C"])
    assert cluster.confidence == "likely"
    assert cluster.evidence[0] == "Shared job: Meeting transcription and notes"
    # Two-word phrases are written in both descriptions as shown, for a reviewer to find them there (a word is shown
    # as one of them writes it: "meetings" and "meeting").
    (phrases,) = [line for line in cluster.evidence if line.startswith("Phrases in common: ")]
    shown = [p.strip("\u201c\u201d") for p in phrases.removeprefix("Phrases in common: ").split(", ")]
    assert shown[0] == "action items" and "action" not in shown[1:]
    for member in (portfolio["C"], portfolio["D"]):
        text = f"{member.name}. {member.description}".lower()
        assert all(p in text for p in shown if " " in p), (shown, member.description)
    client.force_login(reviewer)
    page = client.get(cluster.get_absolute_url()).content.decode()
    assert "Why these look like one job" in page and "Shared job: Meeting transcription and notes" in page


def test_a_clusters_evidence_leaves_out_filler_words_on_the_page_and_in_the_json(portfolio, embedder, client,
                                                                                  reviewer, api_client):
    """The meeting-notes pair also shares "the right way": the cluster's evidence shows "action items", as a pair's
    reasons do (one rule, scoring.says_something), in the stored cluster, its page, the API and detect_sprawl."""
    from governance.models import SprawlCluster
    from governance.sprawl.services.recompute import sprawl_recompute
    from portfolio.models import Initiative

    Initiative.objects.filter(pk=portfolio["C"].pk).update(
        description="Transcribes our weekly meetings the right way and writes a summary with action items.")
    Initiative.objects.filter(pk=portfolio["D"].pk).update(
        description="Zoom AI Companion transcribes every meeting the right way and writes minutes with action items.")
    sprawl_recompute()
    cluster = SprawlCluster.objects.get(members__initiative=portfolio["C"])
    (phrases,) = [line for line in cluster.evidence if line.startswith("Phrases in common: ")]
    assert "\u201caction items\u201d" in phrases
    assert "right" not in phrases and "way" not in phrases, phrases
    client.force_login(reviewer)
    page = client.get(cluster.get_absolute_url()).content.decode()
    assert "action items" in page and "right way" not in page
    api_client.force_authenticate(reviewer)
    shown = api_client.get(f"/api/governance/sprawl-clusters/{cluster.pk}/").json()["evidence"]
    assert phrases in shown and not any("right" in line for line in shown)
    (listed,) = [c for c in json.loads(_run("detect_sprawl", "--json", "--possible")) if "C" in c["members"]]
    assert phrases in listed["evidence"]


def test_a_served_model_is_scored_with_its_own_calibration(portfolio, embedder, settings):
    """Cosines sit on each model's own scale: a company serving all-mpnet-base-v2 (EMBEDDINGS_URL + EMBEDDINGS_MODEL)
    gets the constants and pair model fitted for it, not MiniLM's."""
    from governance.sprawl.engine import calibration
    from governance.sprawl.selectors import latest_pair_model

    model = "sentence-transformers/all-mpnet-base-v2"
    settings.TOLLGATE_EMBEDDER = {"backend": "http", "base_url": "http://embeddings.invalid", "model": model}
    embedder.name, embedder.dim = f"http:{model}", 768
    minilm = embedder.embed
    # 768 dimensions as mpnet's, each MiniLM vector twice (the same cosines), for mpnet's metric to apply to.
    embedder.embed = lambda texts, progress=None: np.hstack([minilm(texts, progress=progress)] * 2) / np.sqrt(2.0)
    assert latest_pair_model() == calibration.MPNET.model  # before any recomputation
    result = analysis.analyse_portfolio()
    index = analysis.catalogue_index()
    assert index.params is calibration.MPNET.params and index.purpose_metric is metric.load("mpnet")
    assert result.pair_model == calibration.MPNET.model
    assert result.encoder == "all-mpnet-base-v2" and result.purpose_metric == "mpnet"
    settings.TOLLGATE_EMBEDDER = {"backend": "onnx-minilm"}
    assert latest_pair_model() == pairs.SHIPPED


def test_an_uncalibrated_served_model_is_adapted_and_recorded_by_name(portfolio, embedder, settings):
    from governance.sprawl.engine import calibration

    settings.TOLLGATE_EMBEDDER = {"backend": "http", "base_url": "http://embeddings.invalid",
                                  "model": "text-embedding-3-small"}
    embedder.name = "http:text-embedding-3-small"
    result = analysis.analyse_portfolio()
    index = analysis.catalogue_index()
    assert index.params is not scoring.DEFAULT_PARAMS  # moved onto the model's scale from its catalogue
    assert index.params == calibration.adapted(index).params
    assert result.encoder == "text-embedding-3-small" and result.pair_model.threshold == pairs.COSINE.threshold
    assert result.purpose_metric == "" and index.purpose_metric is None  # MiniLM's metric means nothing here


def test_the_portfolio_and_a_draft_are_placed_with_the_calibrations_temperature(portfolio, embedder):
    catalogue = analysis.catalogue_index()
    assert catalogue.params.temperature == calibration.MINILM_TEMPERATURE != scoring.DEFAULT_PARAMS.temperature
    item = scoring.Item(key="draft", name="Campaign visuals", description="Generates ad images for campaigns.")
    vector, distribution = analysis._draft_distribution(item, catalogue)
    affinity = scoring.archetype_affinity([item], vector[None, :], catalogue)
    assert np.allclose(distribution, scoring.archetype_distribution(affinity, [item], catalogue.codes,
                                                                    catalogue.params))
    assert not np.allclose(distribution, scoring.archetype_distribution(affinity, [item], catalogue.codes))
    # The portfolio index places its initiatives the same way, so a draft meets them on equal terms.
    index = analysis.portfolio_index(catalogue)
    row = index.positions[portfolio["A"].pk]
    item_a = index.items[row]
    affinity_a = scoring.archetype_affinity([item_a], index.vectors[row][None, :], catalogue)
    placed = scoring.archetype_distribution(affinity_a, [item_a], catalogue.codes, catalogue.params)
    assert np.allclose(index.distribution[row], placed[0], atol=1e-6)


def test_a_cluster_only_duplicate_verdicts_hold_together_says_so_and_is_not_called_likely(portfolio, embedder,
                                                                                          reviewer, login):
    from django.urls import reverse
    from django.utils import timezone

    from governance.choices import DuplicateVerdict, SprawlConfidence
    from governance.models import SprawlCluster
    from governance.sprawl.services.pair_decisions import duplicate_pair_decide
    from governance.sprawl.services.recompute import sprawl_recompute

    before = {frozenset(c.member_ids): c for c in analysis.analyse_portfolio().clusters}
    duplicate_pair_decide(actor=reviewer, initiative=portfolio["C"], other=portfolio["D"],
                          verdict=DuplicateVerdict.NOT_DUPLICATE, reason="Two jobs")
    duplicate_pair_decide(actor=reviewer, initiative=portfolio["D"], other=portfolio["E"],
                          verdict=DuplicateVerdict.DUPLICATE, reason="The recap bot also reads the invoices")
    after = {frozenset(c.member_ids): c for c in analysis.analyse_portfolio().clusters}
    linked = after[frozenset((portfolio["D"].pk, portfolio["E"].pk))]
    assert SprawlConfidence.LINKED == analysis.LINKED
    assert linked.confidence == SprawlConfidence.LINKED and linked.score < pairs.SHIPPED.threshold
    name = reviewer.get_full_name() or reviewer.username
    assert linked.evidence[0] == f"E marked a duplicate of D by {name} on {timezone.localdate():%Y-%m-%d}"
    # A cluster no reviewer linked keeps the detector's confidence and score.
    images = frozenset((portfolio["A"].pk, portfolio["B"].pk))
    assert after[images].confidence == before[images].confidence == SprawlConfidence.LIKELY
    assert not any("marked a duplicate" in line for line in after[images].evidence)

    sprawl_recompute()
    stored = SprawlCluster.objects.get(members__initiative=portfolio["E"])
    assert stored.confidence == SprawlConfidence.LINKED
    client = login(reviewer)
    listed = client.get(reverse("governance:sprawl_list")).content.decode()  # open and likely: linked ones too
    assert stored.get_absolute_url() in listed and 'id="confidence-linked"' in listed
    page = client.get(stored.get_absolute_url()).content.decode()
    assert "Linked by reviewers" in page and "A likely cluster" not in page and "E marked a duplicate of D" in page


def test_verdicts_holding_an_ended_initiative_chain_no_live_ones_together(portfolio, embedder, reviewer):
    """A "duplicate of" with an initiative later killed linked the live ones it was decided with into one stored
    cluster, labelled "linked by reviewers"; the must-links of an ended initiative are dropped."""
    from governance.choices import DuplicateVerdict, SprawlConfidence
    from governance.models import SprawlCluster
    from governance.sprawl.selectors import sprawl_constraints
    from governance.sprawl.services.pair_decisions import duplicate_pair_decide
    from governance.sprawl.services.recompute import sprawl_recompute
    from portfolio.choices import Stage

    killed = portfolio["E"]
    for other in (portfolio["A"], portfolio["C"]):
        duplicate_pair_decide(actor=reviewer, initiative=other, other=killed, verdict=DuplicateVerdict.DUPLICATE,
                              reason="Same job.")
    killed.stage = Stage.KILLED
    killed.save()
    assert sprawl_constraints().must == frozenset()

    sprawl_recompute()
    stored = [{m.initiative_id for m in c.members.all()} for c in SprawlCluster.objects.all()]
    assert not any({portfolio["A"].pk, portfolio["C"].pk} <= members for members in stored)
    assert not SprawlCluster.objects.filter(confidence=SprawlConfidence.LINKED).exists()
    assert not any("marked a duplicate" in line for c in SprawlCluster.objects.all() for line in c.evidence)


def test_a_stored_clusters_score_and_evidence_are_its_live_members(portfolio, embedder):
    """The detection groups ended initiatives with the rest (its output is unchanged); the cluster the recomputation
    stores is scored and described over its live members only."""
    from governance.models import SprawlCluster
    from governance.sprawl.services.recompute import sprawl_recompute
    from portfolio.choices import Stage

    retired = InitiativeFactory(external_id="F", name="Teams meeting minutes", stage=Stage.RETIRED,
                                department=portfolio["C"].department,
                                description="Transcribes our Teams meetings and writes minutes with action items.")
    ids = {portfolio[k].pk for k in "CD"}
    result = analysis.analyse_portfolio()
    [group] = [c for c in result.clusters if ids <= set(c.member_ids)]
    assert retired.pk in group.member_ids  # the detection's output keeps it
    [live] = [c for c in result.live_clusters or [] if ids <= set(c.member_ids)]
    assert set(live.member_ids) == ids
    scored = scoring.score_items(analysis._items(analysis._initiatives()), analysis.purpose_vectors(
        analysis._items(analysis._initiatives())), analysis.catalogue_index())
    position = {item.key: n for n, item in enumerate(scored.items)}
    expected = analysis._mean_probability(scored, sorted(position[i] for i in ids), result.pair_model)
    assert live.score == expected != group.score

    sprawl_recompute(analysis=result)
    stored = SprawlCluster.objects.get(members__initiative=portfolio["C"])
    assert float(stored.score) == round(live.score, 3)
    assert list(stored.evidence) == list(live.evidence)


def test_the_live_confidence_of_a_group_an_ended_member_held_together():
    model = pairs.SHIPPED
    likely, possible = model.threshold, model.possible
    assert analysis._live_confidence(scoring.LIKELY, likely + 0.01, likely + 0.05, False, model) == scoring.LIKELY
    assert analysis._live_confidence(scoring.LIKELY, likely - 0.01, likely + 0.05, True, model) == analysis.LINKED
    assert analysis._live_confidence(scoring.LIKELY, likely - 0.01, likely + 0.05, False, model) == scoring.POSSIBLE
    assert analysis._live_confidence(scoring.LIKELY, possible - 0.01, likely, False, model) is None
    assert analysis._live_confidence(scoring.POSSIBLE, possible - 0.01, possible + 0.01, False, model) is None


def test_typed_noise_is_suggested_no_use_case(portfolio, embedder):
    """The duplicates had a noise floor, the use-case suggestions none: "zzzz" was offered three arbitrary jobs."""
    for noise in ("zzzz", "qwerty asdf", "\x00"):
        assert analysis.suggest_use_cases(name=noise, description="", vendor_names=[], model_names=[],
                                          category="") == [], noise
    assert analysis.suggest_use_cases(name="Meeting minutes", description="Writes the minutes of our meetings.",
                                      vendor_names=[], model_names=[], category="")
