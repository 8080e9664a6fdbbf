"""Sprawl fixtures: the real embedder counting what it embeds, a five-use-case catalogue and a portfolio of five
initiatives, two pairs of which do the same job."""

from __future__ import annotations

import numpy as np
import pytest

from governance.models import UseCase
from governance.sprawl import analysis
from governance.sprawl.engine.embeddings import OnnxMiniLMEmbedder
from tests.factories import DepartmentFactory, InitiativeFactory, VendorFactory
from tests.governance.sprawl.engine.test_scoring import ARCHETYPES


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    _real = None

    def __init__(self) -> None:
        if CountingEmbedder._real is None:
            CountingEmbedder._real = OnnxMiniLMEmbedder()
        self.name, self.dim, self.texts = self._real.name, self._real.dim, []

    def embed(self, texts: list[str], progress=None) -> np.ndarray:
        self.texts.extend(texts)
        return self._real.embed(texts, progress=progress)


@pytest.fixture
def embedder(monkeypatch):
    counting = CountingEmbedder()
    monkeypatch.setattr(analysis, "get_embedder", lambda: counting)
    analysis._catalogue_index.cache_clear()
    analysis._MEMO.clear()
    analysis._PORTFOLIO.clear()
    analysis._text_vector.cache_clear()
    yield counting
    analysis._catalogue_index.cache_clear()
    analysis._PORTFOLIO.clear()
    analysis._text_vector.cache_clear()


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
                               description="Midjourney seats for the brand team to generate campaign images and ad "
                               "visuals.", vendors=[VendorFactory(name="Midjourney")]),
        "B": InitiativeFactory(external_id="B", name="Firefly for the creative studio", department=comms,
                               description="Adobe Firefly for the studio to generate campaign images and ad "
                               "visuals faster."),
        "C": InitiativeFactory(external_id="C", name="Project Quill", department=sales,
                               description="Transcribes our weekly meetings and writes a summary with action items.",
                               vendors=[VendorFactory(name="Otter.ai")]),
        "D": InitiativeFactory(external_id="D", name="Meeting recap bot", department=finance,
                               description="Zoom AI Companion transcribes every meeting and writes minutes with "
                               "action items."),
        "E": InitiativeFactory(external_id="E", name="AP invoice reader", department=finance,
                               description="Reads supplier invoices into SAP.", vendors=[VendorFactory(name="Rossum")]),
    }


@pytest.fixture
def engine(monkeypatch):
    """The detection engine's draft functions, answering fixed results (the engine has its own tests)."""
    calls: dict[str, list] = {"draft_duplicates": [], "suggest_use_cases": []}
    state: dict[str, list] = {"duplicates": [], "use_cases": []}

    def draft_duplicates(**kwargs):
        calls["draft_duplicates"].append(kwargs)
        return state["duplicates"]

    def suggest_use_cases(**kwargs):
        calls["suggest_use_cases"].append(kwargs)
        return state["use_cases"]

    monkeypatch.setattr("governance.sprawl.analysis.draft_duplicates", draft_duplicates)
    monkeypatch.setattr("governance.sprawl.analysis.suggest_use_cases", suggest_use_cases)
    return {"calls": calls, "state": state}


@pytest.fixture
def images_cluster(portfolio, embedder):
    """The recomputation's stored cluster of A and B (campaign images), exactly those two."""
    from governance.models import SprawlCluster
    from governance.sprawl.services.recompute import sprawl_recompute

    sprawl_recompute()
    a, b = portfolio["A"], portfolio["B"]
    cluster = SprawlCluster.objects.filter(members__initiative=a).get(members__initiative=b)
    assert set(cluster.members.values_list("initiative_id", flat=True)) == {a.pk, b.pk}
    return cluster
