"""Sprawl analysis of the database: embedding cache, clusters, duplicates at intake, the two commands."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from django.core.management import call_command

from governance.models import InitiativeEmbedding, InitiativeUseCase, TextEmbedding, UseCase, UseCaseOrigin
from governance.sprawl import analysis
from governance.sprawl.engine import scoring
from governance.sprawl.engine.embeddings import OnnxMiniLMEmbedder
from tests.factories import DepartmentFactory, InitiativeFactory, VendorFactory
from tests.governance.sprawl.engine.test_scoring import ARCHETYPES

pytestmark = pytest.mark.django_db


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    _real = None

    def __init__(self) -> None:
        if CountingEmbedder._real is None:
            CountingEmbedder._real = OnnxMiniLMEmbedder()
        self.name, self.dim, self.texts = self._real.name, self._real.dim, []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.texts.extend(texts)
        return self._real.embed(texts)


@pytest.fixture
def embedder(monkeypatch):
    counting = CountingEmbedder()
    monkeypatch.setattr(analysis, "get_embedder", lambda: counting)
    analysis._catalogue_index.cache_clear()
    analysis._MEMO.clear()
    yield counting
    analysis._catalogue_index.cache_clear()


@pytest.fixture
def catalogue(db):
    UseCase.objects.all().delete()
    for a in ARCHETYPES:
        UseCase.objects.create(code=a.code, name=a.name, job=a.job, synonyms=list(a.synonyms),
                               vendor_products=list(a.vendor_products), outputs=list(a.outputs))


@pytest.fixture
def portfolio(catalogue):
    marketing, comms, sales, finance = (DepartmentFactory(name=n, code=n.lower()[:8]) for n in
                                        ("Marketing", "Communications", "Sales", "Finance"))
    return {
        "A": InitiativeFactory(external_id="A", name="Marketing's Midjourney accounts", department=marketing,
                               description="Seats for the brand team.", vendors=[VendorFactory(name="Midjourney")]),
        "B": InitiativeFactory(external_id="B", name="Firefly for the creative studio", department=comms,
                               description="Adobe Firefly to produce ad visuals faster."),
        "C": InitiativeFactory(external_id="C", name="Project Quill", department=sales,
                               description="Transcribes and summarises our weekly calls with action items.",
                               vendors=[VendorFactory(name="Otter.ai")]),
        "D": InitiativeFactory(external_id="D", name="Meeting recap bot", department=finance,
                               description="Zoom AI Companion writes minutes of every meeting."),
        "E": InitiativeFactory(external_id="E", name="AP invoice reader", department=finance,
                               description="Reads supplier invoices into SAP.", vendors=[VendorFactory(name="Rossum")]),
    }


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


def test_draft_duplicates_with_fewer_initiatives_than_asked(portfolio, embedder):
    found = analysis.draft_duplicates(name="Minutes bot", description="Writes meeting minutes.", vendor_names=[],
                                      model_names=[], category="", department_id=None, top=10)
    assert sorted(d.initiative_id for d in found) == sorted(i.pk for i in portfolio.values())


def test_suggest_use_cases(catalogue, embedder):
    suggested = analysis.suggest_use_cases(name="Minutes bot", description="Writes meeting minutes and action items.",
                                           vendor_names=[], model_names=[], category="")
    assert suggested[0][0] == "meeting-notes" and 0 < suggested[0][1] <= 1


def test_commands_print_the_documented_json(portfolio, embedder):
    clusters = json.loads(_run("detect_sprawl", "--json"))
    assert {"members": ["A", "B"], "score": clusters[[c["members"] for c in clusters].index(["A", "B"])]["score"],
            "use_case": "campaign-images"} in clusters
    assert all(isinstance(c["score"], float) and 0 < c["score"] <= 1 for c in clusters)
    duplicates = json.loads(_run("possible_duplicates", "--top", "2", "--json"))
    assert set(duplicates) == set("ABCDE")
    assert duplicates["C"][0] == "D" and all(len(v) == 2 for v in duplicates.values())
    assert "A, B" in _run("detect_sprawl")


def test_commands_on_an_empty_portfolio(catalogue, embedder):
    assert json.loads(_run("detect_sprawl", "--json")) == []
    assert json.loads(_run("possible_duplicates", "--json")) == {}


def test_catalogue_vectors_are_cached_across_processes(catalogue, embedder):
    analysis.catalogue_index()
    first = len(embedder.texts)
    assert first > 0 and TextEmbedding.objects.count() == len(set(embedder.texts))
    analysis._catalogue_index.cache_clear()  # as a new process would start
    analysis.catalogue_index()
    assert len(embedder.texts) == first  # every vector came from the cache
    edited = UseCase.objects.get(code="meeting-notes")
    edited.synonyms = ["meeting minutes", "standup digest"]
    edited.save()
    analysis.catalogue_index()
    assert embedder.texts[first:] == ["standup digest"]  # only the new phrase is embedded


def test_the_catalogue_embedded_ahead_is_stored_by_the_next_lookup(catalogue, embedder):
    """The demo's build embeds the catalogue in a helper thread while it writes: the index then takes those vectors
    (each phrase embedded once) and stores them for the other processes."""
    jobs, synonyms, _ = scoring.catalogue_phrases(analysis._archetypes())
    phrases = set(jobs + synonyms)
    try:
        assert analysis.catalogue_embed_ahead() == len(phrases) > 0
        index = analysis.catalogue_index()
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
