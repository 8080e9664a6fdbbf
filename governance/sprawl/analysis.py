"""Sprawl analysis of the current database: loads initiatives and the catalogue, keeps the embedding cache, and calls
the pure scorer (governance/sprawl/engine/scoring.py). Read-only apart from the embedding cache."""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from django.db import IntegrityError, transaction

from governance.sprawl.engine import scoring
from governance.sprawl.engine.embeddings import Embedder, OnnxMiniLMEmbedder, get_embedder, text_hash

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InitiativeItem(scoring.Item):
    """A stored initiative as the scorer sees it, keyed by its primary key (a draft on the intake form is not)."""

    key: int


@dataclass(frozen=True)
class Duplicate:
    initiative_id: int
    score: float
    reasons: list[str]


@dataclass(frozen=True)
class Cluster:
    member_ids: list[int]
    score: float
    use_case_code: str | None


@dataclass
class Analysis:
    clusters: list[Cluster]
    duplicates: dict[int, list[Duplicate]]
    use_cases: dict[int, list[tuple[str, float]]]


def archetype_of(use_case) -> scoring.Archetype:
    """The scorer's view of a use case (a stored one, or an unsaved UseCase built from catalogue fields)."""
    return scoring.Archetype(
        code=use_case.code, name=use_case.name, job=use_case.job, synonyms=tuple(use_case.synonyms or ()),
        vendor_products=tuple(use_case.vendor_products or ()), inputs=tuple(use_case.inputs or ()),
        outputs=tuple(use_case.outputs or ()), functions=tuple(use_case.functions or ()),
        not_this=tuple(use_case.not_this or ()),
    )


def archetypes_from_file(path) -> list[scoring.Archetype]:
    """The scorer's view of a catalogue file, validated as `load_use_cases` validates it, without the database."""
    from pathlib import Path

    from governance.models import UseCase
    from governance.sprawl.engine.catalogue import use_case_catalogue_parse

    _, entries = use_case_catalogue_parse(Path(path).read_text(), source=str(path))
    return [archetype_of(UseCase(**fields)) for fields in entries]


def _archetypes() -> list[scoring.Archetype]:
    from governance.models import UseCase

    return [archetype_of(u) for u in UseCase.objects.filter(is_active=True).order_by("code")]


# Vectors this process has already computed or read, by text hash: catalogue phrases, mostly (5,000 x 1.5 KiB).
_MEMO: dict[str, np.ndarray] = {}
_MEMO_LIMIT = 50_000


# Catalogue phrases a helper thread is embedding (catalogue_embed_ahead), and its vectors not stored yet, by text hash,
# until cached_embed takes them.
_AHEAD: Future[dict[str, np.ndarray]] | None = None
_AHEAD_UNSTORED: dict[str, np.ndarray] = {}


def _stored_hashes(hashes: list[str]) -> set[str]:
    from governance.models import TextEmbedding

    stored: set[str] = set()
    for start in range(0, len(hashes), 900):  # stay under SQLite's limit of query parameters
        stored.update(TextEmbedding.objects.filter(text_hash__in=hashes[start:start + 900]).values_list(
            "text_hash", flat=True))
    return stored


def catalogue_embed_ahead() -> int:
    """Start embedding the active catalogue's phrases that have no stored vector in a helper thread, and return how
    many. A caller with database work to do first (the demo's build) overlaps the two on two cores: the model runs
    outside the interpreter lock. The next cached_embed that misses them waits for the thread, then stores them as if
    it had embedded them itself. The helper never touches the database."""
    global _AHEAD
    if _AHEAD is not None:
        return 0
    embedder = get_embedder()
    jobs, synonyms, _ = scoring.catalogue_phrases(_archetypes())
    by_hash = {text_hash(text, embedder.name): text for text in dict.fromkeys(jobs + synonyms)}
    stored = _stored_hashes(list(by_hash))
    todo = [(digest, text) for digest, text in by_hash.items() if digest not in stored and digest not in _MEMO]
    if not todo:
        return 0

    def embed() -> dict[str, np.ndarray]:
        # On one core of its own: the offline model's default pool of spinning threads would take the writer's too;
        # on one thread, batches of 16 took about 15% less CPU than 64 here (short phrases and long jobs alike).
        helper = embedder
        if isinstance(embedder, OnnxMiniLMEmbedder):
            helper = OnnxMiniLMEmbedder(threads=1)
            helper.batch_size = 16
        vectors = helper.embed([text for _, text in todo])
        return {digest: vector for (digest, _), vector in zip(todo, vectors, strict=True)}

    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="catalogue-embed")
    _AHEAD = executor.submit(embed)
    executor.shutdown(wait=False)
    return len(todo)


def _ahead_vectors() -> dict[str, np.ndarray]:
    """The helper thread's vectors not stored yet (waiting for it first); empty when none ran or it failed."""
    global _AHEAD
    future, _AHEAD = _AHEAD, None
    if future is not None:
        try:
            _AHEAD_UNSTORED.update(future.result())
        except Exception:  # the caller embeds the phrases itself
            logger.exception("Embedding the catalogue ahead failed")
    return _AHEAD_UNSTORED


def cached_embed(texts: list[str], embedder: Embedder | None = None) -> np.ndarray:
    """Embed texts through this process's memo and the TextEmbedding table: only texts never seen with this model
    are embedded."""
    from governance.models import TextEmbedding

    embedder = embedder or get_embedder()
    hashes = [text_hash(text, embedder.name) for text in texts]
    unique = list(dict.fromkeys(hashes))
    found = {digest: _MEMO[digest] for digest in unique if digest in _MEMO}
    unread = [digest for digest in unique if digest not in found]
    for start in range(0, len(unread), 900):  # stay under SQLite's limit of query parameters
        for digest, vector in TextEmbedding.objects.filter(text_hash__in=unread[start:start + 900]).values_list(
                "text_hash", "vector"):
            found[digest] = np.frombuffer(bytes(vector), dtype="<f4")
    missing = [digest for digest in unique if digest not in found]
    if missing:
        text_of = dict(zip(hashes, texts, strict=True))
        ahead = _ahead_vectors()
        fresh = {digest: ahead.pop(digest) for digest in missing if digest in ahead}
        rest = [digest for digest in missing if digest not in fresh]
        if rest:
            fresh.update(zip(rest, embedder.embed([text_of[digest] for digest in rest]), strict=True))
        rows = []
        for digest in missing:
            embedded = found[digest] = fresh[digest]
            rows.append(TextEmbedding(text_hash=digest, model_name=embedder.name,
                                      vector=embedded.astype("<f4").tobytes()))
        TextEmbedding.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    if len(_MEMO) + len(found) > _MEMO_LIMIT:
        _MEMO.clear()
    _MEMO.update(found)
    if not texts:
        return np.zeros((0, embedder.dim or 384), dtype=np.float32)
    return np.vstack([found[digest] for digest in hashes]).astype(np.float32)


def warm_catalogue_memo(archetypes: list[scoring.Archetype]) -> int:
    """Embed a catalogue's phrases into this process's memo without touching the database (a worker that starts
    before any request, a test session); returns how many phrases were embedded."""
    embedder = get_embedder()
    count = 0

    def embed(texts: list[str]) -> np.ndarray:
        nonlocal count
        vectors = embedder.embed(texts)
        _MEMO.update({text_hash(text, embedder.name): v for text, v in zip(texts, vectors, strict=True)})
        count += len(texts)
        return vectors

    scoring.build_catalogue_index(archetypes, embed)
    return count


@lru_cache(maxsize=4)
def _catalogue_index(fingerprint: tuple, embedder_name: str) -> scoring.CatalogueIndex:
    return scoring.build_catalogue_index(_archetypes(), cached_embed)


def catalogue_index() -> scoring.CatalogueIndex:
    """The indexed catalogue, rebuilt in a process only when a use case changes; its vectors come from the
    TextEmbedding cache, so only a new or edited phrase is embedded (all 5,000 take seconds on two cores)."""
    from django.db.models import Count, Max

    from governance.models import UseCase

    stats = UseCase.objects.filter(is_active=True).aggregate(n=Count("id"), changed=Max("updated_at"))
    return _catalogue_index((stats["n"], stats["changed"]), get_embedder().name)


def _items(queryset) -> list[InitiativeItem]:
    from governance.models import UseCaseOrigin

    items = []
    for initiative in queryset:
        confirmed = tuple(
            link.use_case.code for link in initiative.use_case_links.all() if link.origin == UseCaseOrigin.CONFIRMED
        )
        items.append(InitiativeItem(
            key=initiative.pk, name=initiative.name, description=initiative.description,
            vendors=tuple(v.name for v in initiative.vendors.all()),
            models=tuple(m.name for m in initiative.ai_models.all()),
            category=initiative.category, department=initiative.department.name if initiative.department_id else "",
            confirmed_use_cases=confirmed,
        ))
    return items


def _initiatives():
    from portfolio.models import Initiative

    return (
        Initiative.objects.select_related("department")
        .prefetch_related("vendors", "ai_models", "use_case_links__use_case")
        .order_by("pk")
    )


def purpose_vectors(items: list[InitiativeItem], embedder: Embedder | None = None) -> np.ndarray:
    """Embeddings of the items' purpose, from the cache where the text has not changed; new ones are stored."""
    from governance.models import InitiativeEmbedding

    embedder = embedder or get_embedder()
    hashes = [text_hash(item.purpose, embedder.name) for item in items]
    cached = {e.initiative_id: e for e in InitiativeEmbedding.objects.filter(initiative_id__in=[i.key for i in items])}
    found: dict[int, np.ndarray] = {}
    for position, (item, digest) in enumerate(zip(items, hashes, strict=True)):
        entry = cached.get(item.key)
        if entry is not None and entry.text_hash == digest:
            found[position] = np.frombuffer(bytes(entry.vector), dtype="<f4")
    missing = [p for p in range(len(items)) if p not in found]
    if missing:
        fresh = embedder.embed([items[p].purpose for p in missing])
        create, update = [], []
        for row, position in enumerate(missing):
            found[position] = fresh[row]
            payload = fresh[row].astype("<f4").tobytes()
            entry = cached.get(items[position].key)
            if entry is None:
                create.append(InitiativeEmbedding(initiative_id=items[position].key, model_name=embedder.name,
                                                  text_hash=hashes[position], vector=payload))
            else:
                entry.model_name, entry.text_hash, entry.vector = embedder.name, hashes[position], payload
                update.append(entry)
        from portfolio.models import Initiative

        alive = set(Initiative.objects.filter(pk__in=[e.initiative_id for e in create]).values_list("pk", flat=True))
        create = [entry for entry in create if entry.initiative_id in alive]
        try:
            with transaction.atomic():
                InitiativeEmbedding.objects.bulk_create(create, batch_size=500)
                InitiativeEmbedding.objects.bulk_update(update, ["model_name", "text_hash", "vector"], batch_size=500)
        except IntegrityError:
            # An initiative deleted (or cached by a concurrent run) meanwhile: the cache is best effort, the vectors
            # computed here are right either way.
            logger.info("Initiative embeddings not cached: an initiative changed during the analysis.")
    if not items:
        return np.zeros((0, embedder.dim or 384), dtype=np.float32)
    return np.vstack([found[p] for p in range(len(items))]).astype(np.float32)


def _reasons(scored: scoring.Scored, i: int, j: int, names: dict[str, str]) -> list[str]:
    reasons = []
    shared = scored.shared_use_case(i, j)
    if shared:
        reasons.append(f"shared use case: {names.get(shared, shared)}")
    similarity = scored.purpose_similarity(i, j)
    if similarity >= 0.5:
        reasons.append(f"similar purpose ({similarity:.2f})")
    if not reasons:
        reasons.append("weak match")
    return reasons


def analyse_portfolio(*, top: int = 5, params: scoring.Params = scoring.DEFAULT_PARAMS) -> Analysis:
    """Clusters, each initiative's top duplicates and its inferred use cases, for the whole live portfolio."""
    items = _items(_initiatives())
    if not items:
        return Analysis(clusters=[], duplicates={}, use_cases={})
    index = catalogue_index()
    vectors = purpose_vectors(items)
    scored = scoring.score_items(items, vectors, index, params)
    names = {a.code: a.name for a in index.archetypes}
    keys = [item.key for item in items]
    duplicates = {
        keys[i]: [Duplicate(initiative_id=keys[j], score=round(s, 4), reasons=_reasons(scored, i, j, names))
                  for j, s in row]
        for i, row in enumerate(scoring.top_duplicates(scored, top=top))
    }
    found = []
    for result in scoring.clusters(scored):
        members = result.members
        shared = scored.distribution[members].prod(axis=0) if members else None
        code = index.codes[int(np.argmax(shared))] if shared is not None and shared.max() > 1e-6 else None
        found.append(Cluster(member_ids=[keys[m] for m in members], score=result.score, use_case_code=code))
    use_cases = dict(zip(keys, scoring.suggestions(scored.distribution, index.codes), strict=True))
    return Analysis(clusters=found, duplicates=duplicates, use_cases=use_cases)


def _draft_scored(item: scoring.Item, exclude_id: int | None, params: scoring.Params):
    items = [i for i in _items(_initiatives()) if i.key != exclude_id]
    index = catalogue_index()
    embedder = get_embedder()
    vectors = purpose_vectors(items, embedder) if items else np.zeros((0, embedder.dim or 384), dtype=np.float32)
    draft_vector = embedder.embed([item.purpose])
    all_items = [item, *items]
    all_vectors = np.vstack([draft_vector, vectors]) if items else draft_vector
    return scoring.score_items(all_items, all_vectors, index, params), index


def _draft_item(name, description, vendor_names, model_names, category, department_name="") -> scoring.Item:
    return scoring.Item(
        key="draft", name=name or "", description=description or "", vendors=tuple(vendor_names or ()),
        models=tuple(model_names or ()), category=category or "", department=department_name,
    )


def draft_duplicates(*, name: str, description: str, vendor_names: list[str], model_names: list[str], category: str,
                     department_id: int | None, exclude_id: int | None = None, top: int = 5,
                     params: scoring.Params = scoring.DEFAULT_PARAMS) -> list[Duplicate]:
    """Possible duplicates of an initiative still being written (intake form), best first."""
    from portfolio.models import Department

    if not (name or "").strip() and not (description or "").strip():
        return []
    department = ""
    if department_id is not None:
        department = Department.objects.filter(pk=department_id).values_list("name", flat=True).first() or ""
    item = _draft_item(name, description, vendor_names, model_names, category, department)
    scored, index = _draft_scored(item, exclude_id, params)
    if len(scored.items) < 2:
        return []
    names = {a.code: a.name for a in index.archetypes}
    row = scored.block(slice(0, 1), ranking=True)[0]
    order = (np.argsort(-row[1:], kind="stable") + 1)[:top]  # position 0 is the draft itself
    return [Duplicate(initiative_id=scored.items[j].key, score=round(float(row[j]), 4),
                      reasons=_reasons(scored, 0, int(j), names)) for j in order]


def suggest_use_cases(*, name: str, description: str, vendor_names: list[str], model_names: list[str],
                      category: str) -> list[tuple[str, float]]:
    """The likeliest use cases of a text, best first (at most 3)."""
    if not (name or "").strip() and not (description or "").strip():
        return []
    index = catalogue_index()
    if not index.archetypes:
        return []
    item = _draft_item(name, description, vendor_names, model_names, category)
    vectors = get_embedder().embed([item.purpose])
    scored = scoring.score_items([item], vectors, index)
    return scoring.suggestions(scored.distribution, index.codes)[0]
