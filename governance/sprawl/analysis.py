"""Sprawl analysis of the current database: loads initiatives and the catalogue, keeps the embedding cache, and calls
the pure scorer (governance/sprawl/engine/scoring.py).

Two paths. The recomputation (`analyse_portfolio`, a job) scores the whole portfolio and stores the embeddings it
computed. The intake's possible duplicates (`draft_duplicates`, a GET while an owner types) never write: they rank
the draft against the process's `PortfolioIndex`, built once from the stored embeddings and refreshed for the
initiatives that changed, and embed only the typed text.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
from django.db import IntegrityError, connection, transaction

from governance.sprawl.engine import calibration, pairs, scoring
from governance.sprawl.engine.embeddings import Embedder, OnnxMiniLMEmbedder, get_embedder, text_hash

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InitiativeItem(scoring.Item):
    """A stored initiative as the scorer sees it, keyed by its primary key (a draft on the intake form is not)."""

    key: int


@dataclass(frozen=True)
class Duplicate:
    initiative_id: int
    score: float  # the fused ranking's score: orders the candidates, says nothing of how likely the pair is
    reasons: list[str]
    # The pair model's probability that the two do the same job (`Scored.probability`), the figure a sprawl cluster
    # of the two scores; None where it was not computed (the recomputation's own lists, which only rank).
    probability: float | None = None


@dataclass(frozen=True)
class Cluster:
    member_ids: list[int]
    score: float
    use_case_code: str | None
    confidence: str = scoring.LIKELY
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Constraints:
    """Reviewer decisions as pairs of initiative ids: grouped together (must) or never (cannot). A pair decided both
    ways keeps only its latest decision."""

    must: frozenset[tuple[int, int]] = frozenset()
    cannot: frozenset[tuple[int, int]] = frozenset()

    @classmethod
    def from_decisions(cls, decisions) -> Constraints:
        """`decisions`: (a, b, same, decided_at) in any order; the latest per pair wins."""
        latest: dict[tuple[int, int], tuple[float, bool]] = {}
        for a, b, same, when in decisions:
            if a == b:
                continue
            pair = (min(a, b), max(a, b))
            stamp = (when.timestamp() if hasattr(when, "timestamp") else float(when or 0), same)
            if pair not in latest or stamp >= latest[pair]:
                latest[pair] = stamp
        return cls(must=frozenset(p for p, (_, same) in latest.items() if same),
                   cannot=frozenset(p for p, (_, same) in latest.items() if not same))

    def __len__(self) -> int:
        return len(self.must) + len(self.cannot)


@dataclass
class Analysis:
    clusters: list[Cluster]
    duplicates: dict[int, list[Duplicate]]
    use_cases: dict[int, list[tuple[str, float]]]
    pair_model: pairs.PairModel = pairs.SHIPPED
    encoder: str = calibration.MINILM.encoder  # whose calibration the pair model belongs to
    purpose_metric: str = calibration.MINILM.purpose_metric  # and the purpose metric its features were computed with
    # The clusters as the recomputation stores them: retired, rejected and killed members left out, and the score,
    # confidence and evidence those of the live members (None: `clusters`, e.g. an analysis a test builds).
    live_clusters: list[Cluster] | None = None


def archetype_of(use_case) -> scoring.Archetype:
    """The scorer's view of a use case (a stored one, or an unsaved UseCase built from catalogue fields)."""
    return scoring.Archetype(
        code=use_case.code, name=use_case.name, job=use_case.job, synonyms=tuple(use_case.synonyms or ()),
        vendor_products=tuple(use_case.vendor_products or ()), inputs=tuple(use_case.inputs or ()),
        outputs=tuple(use_case.outputs or ()), functions=tuple(use_case.functions or ()),
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


def cached_embed(texts: list[str], embedder: Embedder | None = None, *, store: bool = True,
                 progress: Callable[[float], None] | None = None) -> np.ndarray:
    """Embed texts through this process's memo and the TextEmbedding table: only texts never seen with this model
    are embedded. Without `store` (a request) the new vectors are neither written nor memoised, so a later storing
    call still finds them missing and writes them. `progress` hears the share of the distinct texts done (those found
    count at once) while the embedder works through the rest; it hears nothing when every text was found."""
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
    if len(_MEMO) + len(found) > _MEMO_LIMIT:
        _MEMO.clear()
    _MEMO.update(found)
    if missing:
        text_of = dict(zip(hashes, texts, strict=True))
        ahead = _ahead_vectors()
        # A request (no store) reads the helper's vectors but leaves them for the next storing call to write.
        fresh = {digest: ahead.pop(digest) if store else ahead[digest] for digest in missing if digest in ahead}
        rest = [digest for digest in missing if digest not in fresh]
        if rest:
            known = len(unique) - len(rest)
            told = None if progress is None else (lambda done: progress((known + done) / len(unique)))
            fresh.update(zip(rest, embedder.embed([text_of[digest] for digest in rest], progress=told), strict=True))
        rows = []
        for digest in missing:
            embedded = found[digest] = fresh[digest]
            rows.append(TextEmbedding(text_hash=digest, model_name=embedder.name,
                                      vector=embedded.astype("<f4").tobytes()))
        if store:
            TextEmbedding.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
            _MEMO.update({digest: found[digest] for digest in missing})
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


# Who hears how far the catalogue's indexing is (catalogue_index's `progress`), read inside the cached builder.
_CATALOGUE_PROGRESS: ContextVar[Callable[[float], None] | None] = ContextVar("catalogue_progress", default=None)


@lru_cache(maxsize=4)
def _catalogue_index(fingerprint: tuple, embedder_name: str, store: bool) -> scoring.CatalogueIndex:
    archetypes = _archetypes()
    report = _CATALOGUE_PROGRESS.get()
    jobs, synonyms, _ = scoring.catalogue_phrases(archetypes)
    total, done = max(sum(map(len, jobs)) + sum(map(len, synonyms)), 1), 0

    def embed(texts: list[str]) -> np.ndarray:
        """The indexing embeds the jobs, then the synonyms: each call placed among all the phrases by its characters
        (the 309 jobs, a sentence or two each, took over a third as long as the 4,627 short synonyms)."""
        nonlocal done
        start, size = done, sum(map(len, texts))
        told = None if report is None else (lambda share: report((start + share * size) / total))
        done += size
        return cached_embed(texts, store=store, progress=told)

    return calibration.calibration_for(embedder_name).catalogue_index(archetypes, embed)


def catalogue_index(*, store: bool = False, progress: Callable[[float], None] | None = None) -> scoring.CatalogueIndex:
    """The indexed catalogue, rebuilt in a process only when a use case changes; its vectors come from the
    TextEmbedding cache, so only a new or edited phrase is embedded (all 5,000 take seconds on two cores). Only the
    recomputation stores the phrases it embedded (`store`); a request keeps them in this process. `progress` hears
    the share of the catalogue's phrases done while some are embedded (a first run, or after the catalogue changed:
    about 9 s for its 4,936 phrases); nothing when the index or every phrase's vector was at hand."""
    from django.db.models import Count, Max

    from governance.models import UseCase

    stats = UseCase.objects.filter(is_active=True).aggregate(n=Count("id"), changed=Max("updated_at"))
    token = _CATALOGUE_PROGRESS.set(progress)
    try:
        return _catalogue_index((stats["n"], stats["changed"]), get_embedder().name, store)
    finally:
        _CATALOGUE_PROGRESS.reset(token)


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
            confirmed_use_cases=confirmed, owner=_owner(initiative.owner_id),
        ))
    return items


def _owner(user_id: int | None) -> str:
    """How the scorer knows an initiative's owner: the user's id (empty when there is none)."""
    return str(user_id) if user_id is not None else ""


def _initiatives():
    from portfolio.models import Initiative

    return (
        Initiative.objects.select_related("department")
        .prefetch_related("vendors", "ai_models", "use_case_links__use_case")
        .order_by("pk")
    )


def purpose_vectors(items: list[InitiativeItem], embedder: Embedder | None = None,
                    progress: Callable[[float], None] | None = None) -> np.ndarray:
    """Embeddings of the items' purpose, from the cache where the text has not changed; new ones are stored.
    `progress` hears the share of the texts to embed that is done (from 0 to 1) as the embedder works through them."""
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
        texts = [items[p].purpose for p in missing]
        if progress is None:
            fresh = embedder.embed(texts)
        else:
            fresh = embedder.embed(texts, progress=lambda done: progress(done / len(texts)))
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
    return _reasons_of(scored.shared_use_case(i, j), scored.purpose_similarity(i, j), names, scored.items[i],
                       scored.items[j])


def _reasons_of(shared: str | None, similarity: float, names: dict[str, str], a: scoring.Item,
                b: scoring.Item) -> list[str]:
    """Why two initiatives may be duplicates, in words a reviewer can check: the shared job, the phrases both use,
    the products both name, how alike the descriptions read."""
    reasons = []
    if shared:
        reasons.append(f"shared use case: {names.get(shared, shared)}")
    phrases = scoring.common_phrases(a, b)
    if phrases:
        reasons.append("phrases in common: " + ", ".join(f"\u201c{p}\u201d" for p in phrases))
    products = _shared_products([a, b])
    if products:
        reasons.append("both name " + ", ".join(products))
    if similarity >= 0.5:
        reasons.append(f"similar purpose ({similarity:.2f})")
    if not reasons:
        reasons.append("weak match")
    return reasons


def _shared_products(items: list[scoring.Item]) -> list[str]:
    """Vendors and models named by at least two of the items (all of them when two)."""
    counts: dict[str, int] = {}
    for item in items:
        for name in {*item.vendors, *item.models}:
            counts[name] = counts.get(name, 0) + 1
    return sorted(name for name, count in counts.items() if count >= 2)[:4]


def cluster_evidence(scored: scoring.Scored, members: list[int], use_case_name: str | None,
                     model: pairs.PairModel) -> tuple[str, ...]:
    """Why the members look like one job, in words a reviewer can check against the initiatives' own texts."""
    evidence = []
    if use_case_name:
        evidence.append(f"Shared job: {use_case_name}")
    phrases = scored.shared_phrases(members)
    if phrases:
        evidence.append("Phrases in common: " + ", ".join(f"\u201c{p}\u201d" for p in phrases))
    products = _shared_products([scored.items[m] for m in members])
    if products:
        evidence.append("Products named by several: " + ", ".join(products))
    # Which features weighed most, on average over the members' pairs (at most 50 members: a sample suffices).
    index = np.asarray(members[:50])
    features = scored.features(index, index)
    upper = np.triu_indices(len(index), 1)
    means = [float(features[name][upper].mean()) for name in pairs.FEATURES]
    weighed = pairs.weighed_most(model.contributions(means))
    if weighed:
        evidence.append("Weighed most: " + "; ".join(weighed))
    return tuple(evidence)


# A cluster only reviewers' decisions hold together (governance.choices.SprawlConfidence.LINKED).
LINKED = "linked"
# A cluster's evidence quotes at most this many "Duplicate of" verdicts, then says how many more.
MAX_VERDICT_LINES = 5


def _must_links_inside(groups: list[list[int]], constraints: Constraints) -> list[set[tuple[int, int]]]:
    """Per group of initiative ids, the must-link pairs (reviewers' decisions) between two of its members."""
    group_of = {key: k for k, members in enumerate(groups) for key in members}
    inside: list[set[tuple[int, int]]] = [set() for _ in groups]
    for a, b in constraints.must:
        if a in group_of and group_of[a] == group_of.get(b):
            inside[group_of[a]].add((a, b))
    return inside


def _verdict_lines(pairs_: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """{pair: "NW-0135 marked a duplicate of NW-0014 by Rita Reviewer on 2026-12-07"} of the pairs a reviewer's
    "Duplicate of" verdict links (pairs linked by a confirmed cluster only have none: its page shows the decision)."""
    if not pairs_:
        return {}
    from governance.sprawl.selectors import duplicate_verdict_lines

    return duplicate_verdict_lines(pairs_)


def _decisions(scored: scoring.Scored, constraints: Constraints, position: dict[int, int]) -> list[pairs.Decision]:
    """The decided pairs among the analysed items, with their features now: what the company's model refits on."""
    decided = []
    for pair_set, same in ((constraints.must, True), (constraints.cannot, False)):
        for a, b in sorted(pair_set):
            if a in position and b in position:
                features = scored.pair_features(position[a], position[b])
                decided.append(pairs.Decision(pair=(a, b), same=same, features=features,
                                              use_case=scored.shared_first_use_case(position[a], position[b])))
    return decided


# What analyse_portfolio reports to `progress`, in order (step n is reported as n as it starts; the embedding, the
# ranking and the grouping, the steps that take longest, also report how far they are, 2.5 halfway, and so does the
# first while it embeds the catalogue): on 10,000 initiatives each takes seconds to a minute, so the page of a
# recomputation or a label check says which is running.
ANALYSIS_STEPS = (
    "Reading the portfolio and the use-case catalogue",
    "Embedding what each initiative does (texts unchanged since the last run are read from the cache)",
    "Placing each initiative on the catalogue and scoring every pair",
    "Ranking each initiative's possible duplicates",
    "Grouping the likely and possible clusters",
)


# Within steps 4 and 5, the share of the step's time the ranking and the grouping take (the rest: the reasons and
# the evidence put into words), measured on 10,000 generated initiatives (bench/sprawl_scale.py): 0.68 and 0.90.
RANKING_SHARE = 0.7
GROUPING_SHARE = 0.9
# Step 1 on a first run (or after the catalogue changed): reading 10,000 initiatives took 2.0 to 2.8 s, embedding the
# catalogue's 4,936 phrases about 9 s; where the catalogue's share of the step starts.
CATALOGUE_AFTER_READING = 0.2


def _within(report: Callable[[float], None], step: int, start: float, width: float) -> Callable[[float], None]:
    """A `progress` for one part of a step: the part's share done (0 to 1) placed at `start` + `width` × share of
    step `step`, never reaching the next step's number (that says the next step began)."""
    return lambda share: report(step + min(start + width * share, 0.99))


def analyse_portfolio(*, top: int = 5, params: scoring.Params | None = None, constraints: Constraints | None = None,
                      prior: pairs.PairModel | None = None,
                      progress: Callable[[float], None] | None = None) -> Analysis:
    """Clusters, each initiative's top duplicates and its inferred use cases, for the whole live portfolio.

    Reviewer decisions (`constraints`; by default every decision stored, governance.sprawl.selectors) are respected
    by the grouping and refit the pair model from `prior`: the same decisions always give the same model. `params`
    and `prior` default to the embedder's calibration (engine/calibration.py). `progress` hears where
    it is among ANALYSIS_STEPS: each step's number as it starts, and within the embedding, the ranking and the grouping
    (and the catalogue's indexing, when it embeds) how far it is (2.5)."""
    report = progress or (lambda step: None)
    report(1)
    calibrated = calibration.calibration_for(get_embedder().name)
    prior = prior or calibrated.model
    if constraints is None:
        from governance.sprawl.selectors import sprawl_constraints

        constraints = sprawl_constraints()
    items = _items(_initiatives())
    if not items:
        return Analysis(clusters=[], duplicates={}, use_cases={}, pair_model=prior, encoder=calibrated.encoder,
                        purpose_metric=calibrated.purpose_metric)
    index = catalogue_index(store=True, progress=_within(report, 1, CATALOGUE_AFTER_READING,
                                                         1 - CATALOGUE_AFTER_READING))
    report(2)
    vectors = purpose_vectors(items, progress=_within(report, 2, 0.0, 1.0))
    report(3)
    scored = scoring.score_items(items, vectors, index, params)
    names = {a.code: a.name for a in index.archetypes}
    keys = [item.key for item in items]
    position = {key: n for n, key in enumerate(keys)}
    model = pairs.refit(prior, _decisions(scored, constraints, position))
    report(4)
    apart = {frozenset(pair) for pair in constraints.cannot}
    duplicates = {}
    ranked = scoring.top_duplicates(scored, top=top + min(len(apart), top), model=model,
                                    progress=_within(report, 4, 0.0, RANKING_SHARE))
    explained = _within(report, 4, RANKING_SHARE, 1 - RANKING_SHARE)
    for i, row in enumerate(ranked):
        kept = [(j, s) for j, s in row if frozenset((keys[i], keys[j])) not in apart][:top]
        duplicates[keys[i]] = [Duplicate(initiative_id=keys[j], score=round(s, 4),
                                         reasons=_reasons(scored, i, j, names)) for j, s in kept]
        if i % 256 == 255:
            explained((i + 1) / len(ranked))
    report(5)
    must = [(position[a], position[b]) for a, b in constraints.must if a in position and b in position]
    cannot = [(position[a], position[b]) for a, b in constraints.cannot if a in position and b in position]
    found, live_found = [], []
    grouped = scoring.clusters(scored, model, must_link=must, cannot_link=cannot,
                               progress=_within(report, 5, 0.0, GROUPING_SHARE))
    linked = _must_links_inside([[keys[m] for m in result.members] for result in grouped], constraints)
    verdicts = _verdict_lines({pair for inside in linked for pair in inside})
    ended = {position[key] for key in _ended_ids() if key in position}

    def described(members: list[int], score: float, confidence: str, inside: set[tuple[int, int]]) -> Cluster:
        shared = scored.distribution[members].prod(axis=0) if members else None
        code = index.codes[int(np.argmax(shared))] if shared is not None and shared.max() > 1e-6 else None
        if inside and confidence == scoring.LIKELY and score < model.threshold:
            confidence = LINKED  # held together by reviewers' decisions, not by the detector's likelihood
        lines = [verdicts[pair] for pair in sorted(inside) if pair in verdicts]
        if len(lines) > MAX_VERDICT_LINES:
            lines[MAX_VERDICT_LINES:] = [f"and {len(lines) - MAX_VERDICT_LINES} more “Duplicate of” verdicts"]
        return Cluster(member_ids=[keys[m] for m in members], score=score, use_case_code=code, confidence=confidence,
                       evidence=(*lines, *cluster_evidence(scored, members, names.get(code or ""), model)))

    explained = _within(report, 5, GROUPING_SHARE, 1 - GROUPING_SHARE)
    for k, result in enumerate(grouped):
        explained(k / len(grouped))
        cluster = described(result.members, result.score, result.confidence, linked[k])
        found.append(cluster)
        live = [m for m in result.members if m not in ended]
        if len(live) == len(result.members):
            live_found.append(cluster)
            continue
        if len(live) < 2:
            continue
        inside = {(a, b) for a, b in linked[k] if position[a] not in ended and position[b] not in ended}
        live_score = _mean_probability(scored, live, model)
        confidence = _live_confidence(result.confidence, live_score, result.score, bool(inside), model)
        if confidence is not None:
            live_found.append(described(live, live_score, confidence, inside))
    use_cases = dict(zip(keys, scoring.suggestions(scored.distribution, index.codes), strict=True))
    return Analysis(clusters=found, duplicates=duplicates, use_cases=use_cases, pair_model=model,
                    encoder=calibrated.encoder, purpose_metric=calibrated.purpose_metric, live_clusters=live_found)


def _ended_ids() -> set[int]:
    """Initiatives retired, rejected or killed: grouped with the rest (the detection's output keeps them), but left
    out of the clusters the recomputation stores."""
    from portfolio.choices import ENDED_STAGES
    from portfolio.models import Initiative

    return set(Initiative.objects.filter(stage__in=ENDED_STAGES).values_list("pk", flat=True))


def _mean_probability(scored: scoring.Scored, members: list[int], model: pairs.PairModel) -> float:
    """The members' average pair probability with each other, rounded as a found cluster's score is."""
    index = np.asarray(members)
    sub = np.asarray(scored.probability(index, index, model=model), dtype=np.float64)
    size = len(members)
    return round(float((sub.sum() - np.trace(sub)) / (size * (size - 1))), 4)


def _live_confidence(found: str, live_score: float, found_score: float, linked: bool,
                     model: pairs.PairModel) -> str | None:
    """The confidence of a group's live members once its ended ones are left out (None: they are no group by
    themselves). They keep the group's confidence when they score as well as it did or clear its bar; a likely group
    that an ended member held together drops to linked (reviewers' links among the live ones), possible, or nothing."""
    if found == scoring.POSSIBLE:
        return scoring.POSSIBLE if live_score >= min(model.possible, found_score) else None
    if live_score >= min(model.threshold, found_score):
        return scoring.LIKELY
    if linked:
        return LINKED
    return scoring.POSSIBLE if live_score >= model.possible else None


# Possible duplicates of a draft: the portfolio index, kept in the process ------------------------------------------

# Initiatives whose text has no stored embedding yet (registered since the last recomputation) are embedded in the
# process, never stored by a request; at most this many per refresh, so a portfolio never recomputed does not hold a
# request for minutes: the rest join at the next lookups (and all of them once the recomputation stored them).
EMBED_ON_READ_LIMIT = 200


@dataclass
class PortfolioIndex:
    """The live portfolio as a draft's ranking needs it, rows in primary-key order: purpose vectors, archetype
    distributions, departments, and the portfolio scored from them. Built from stored embeddings, refreshed only for the
    initiatives whose scorer's view changed, never written to the database."""

    catalogue: scoring.CatalogueIndex
    version: tuple
    items: list[InitiativeItem]
    keys: np.ndarray  # (n,) initiative ids, ascending
    vectors: np.ndarray  # (n, d)
    distribution: np.ndarray  # (n, A)
    departments: np.ndarray  # (n,) department ids
    pending: int = 0  # initiatives left out until their text is embedded (see EMBED_ON_READ_LIMIT)
    positions: dict[int, int] = field(default_factory=dict)
    department_names: dict[int, str] = field(default_factory=dict)
    # The portfolio scored as the recomputation scores it (its wording's IDF, its jobs' rarity, each initiative's
    # neighbourhood), so a draft is ranked exactly as `top_duplicates` ranks an initiative.
    scored: scoring.Scored = field(init=False)

    def __post_init__(self) -> None:
        self.positions = {int(key): n for n, key in enumerate(self.keys)}
        self.department_names = {int(d): item.department for d, item in zip(self.departments, self.items,
                                                                            strict=True) if d >= 0}
        self.scored = scoring.scored_from(self.items, self.vectors, self.distribution, self.catalogue)


_PORTFOLIO: dict[str, PortfolioIndex] = {}  # by embedder name
_PORTFOLIO_LOCK = threading.Lock()


def _portfolio_version() -> tuple:
    """What the index depends on, in one query: row counts, the last id and the last change of the initiatives,
    their vendors and models (links are deleted and re-inserted, so a change moves the count or the last id), the
    confirmed use cases, and the names of vendors and models."""
    from governance.models import InitiativeUseCase
    from portfolio.models import AIModel, Initiative, Vendor

    quote = connection.ops.quote_name
    parts = []
    for model, stamp in ((Initiative, "updated_at"), (Initiative.vendors.through, None),
                         (Initiative.ai_models.through, None), (InitiativeUseCase, "updated_at"),
                         (Vendor, "updated_at"), (AIModel, "updated_at")):
        table = quote(model._meta.db_table)
        parts += [f"(SELECT COUNT(*) FROM {table})", f"(SELECT MAX({quote('id')}) FROM {table})"]
        if stamp:
            parts.append(f"(SELECT MAX({quote(stamp)}) FROM {table})")
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        return tuple(cursor.fetchone())


def _portfolio_items() -> tuple[list[InitiativeItem], dict[int, int]]:
    """Every initiative as the scorer sees it (as `_items` builds them) and its department id, from four queries
    of plain values: no model instances for 10,000 rows."""
    from governance.models import InitiativeUseCase, UseCaseOrigin
    from portfolio.models import Initiative

    vendors: dict[int, list[str]] = {}
    for initiative_id, vendor in Initiative.vendors.through.objects.order_by("vendor__name", "vendor_id").values_list(
            "initiative_id", "vendor__name"):
        vendors.setdefault(initiative_id, []).append(vendor)
    models: dict[int, list[str]] = {}
    for initiative_id, model in Initiative.ai_models.through.objects.order_by(
            "aimodel__provider__name", "aimodel__name", "aimodel_id").values_list("initiative_id", "aimodel__name"):
        models.setdefault(initiative_id, []).append(model)
    confirmed: dict[int, list[str]] = {}
    for initiative_id, code in InitiativeUseCase.objects.filter(origin=UseCaseOrigin.CONFIRMED).order_by(
            "initiative_id", "-confidence", "pk").values_list("initiative_id", "use_case__code"):
        confirmed.setdefault(initiative_id, []).append(code)
    items, departments = [], {}
    for pk, name, description, category, department_id, department, owner_id in (
            Initiative.objects.order_by("pk").values_list(
                "pk", "name", "description", "category", "department_id", "department__name", "owner_id")):
        items.append(InitiativeItem(
            key=pk, name=name, description=description, vendors=tuple(vendors.get(pk, ())),
            models=tuple(models.get(pk, ())), category=category, department=department or "",
            confirmed_use_cases=tuple(confirmed.get(pk, ())), owner=_owner(owner_id),
        ))
        departments[pk] = department_id if department_id is not None else -1
    return items, departments


def _stored_purpose_vectors(items: list[InitiativeItem], embedder: Embedder) -> dict[int, np.ndarray]:
    """{initiative id: vector} of the items whose stored embedding is of their current text; reads only."""
    from governance.models import InitiativeEmbedding

    wanted = {item.key: text_hash(item.purpose, embedder.name) for item in items}
    rows = InitiativeEmbedding.objects.filter(model_name=embedder.name)
    ids = list(wanted)
    batches = [rows] if len(ids) > 900 else [rows.filter(initiative_id__in=ids)]  # SQLite's parameter limit
    found = {}
    for batch in batches:
        for initiative_id, digest, vector in batch.values_list("initiative_id", "text_hash", "vector"):
            if wanted.get(initiative_id) == digest:
                found[initiative_id] = np.frombuffer(bytes(vector), dtype="<f4")
    return found


def _index_rows(items: list[InitiativeItem], catalogue: scoring.CatalogueIndex, embedder: Embedder,
                known: dict[int, np.ndarray]) -> tuple[list[InitiativeItem], np.ndarray, np.ndarray, int]:
    """Vectors and archetype distributions of `items`; their vectors are `known` (same text as before), stored, or
    embedded here (at most EMBED_ON_READ_LIMIT, the rest are returned as pending)."""
    dim = embedder.dim or 384
    unknown = [item for item in items if item.key not in known]
    found = {**(_stored_purpose_vectors(unknown, embedder) if unknown else {}), **known}
    missing = [item for item in items if item.key not in found]
    embed_now, pending = missing[:EMBED_ON_READ_LIMIT], len(missing) - EMBED_ON_READ_LIMIT
    if embed_now:
        for item, vector in zip(embed_now, embedder.embed([i.purpose for i in embed_now]), strict=True):
            found[item.key] = vector
    if pending > 0:
        logger.warning("%d initiatives have no stored embedding: they join the possible duplicates as they are "
                       "embedded; a sprawl recomputation stores them all.", pending)
    kept = [item for item in items if item.key in found]
    vectors = np.vstack([found[item.key] for item in kept]).astype(np.float32) if kept else np.zeros((0, dim),
                                                                                                      np.float32)
    distribution = np.zeros((len(kept), len(catalogue.archetypes)), dtype=np.float32)
    for start in range(0, len(kept), 2000):  # the (rows x synonyms) similarities stay small
        chunk = kept[start:start + 2000]
        affinity = scoring.archetype_affinity(chunk, vectors[start:start + 2000], catalogue)
        distribution[start:start + 2000] = scoring.archetype_distribution(affinity, chunk, catalogue.codes,
                                                                           catalogue.params)
    return kept, vectors, distribution, max(pending, 0)


def _portfolio_build(previous: PortfolioIndex | None, catalogue: scoring.CatalogueIndex, version: tuple,
                     embedder: Embedder) -> PortfolioIndex:
    """The index of the current portfolio; rows whose scorer's view is unchanged are taken from `previous`."""
    items, departments = _portfolio_items()
    reuse = previous if previous is not None and previous.catalogue is catalogue else None
    kept_positions, fresh, known = [], [], {}
    for item in items:
        position = reuse.positions.get(item.key) if reuse is not None else None
        if position is None or reuse is None:
            fresh.append(item)
        elif reuse.items[position] == item:
            kept_positions.append(position)
        else:
            fresh.append(item)
            if reuse.items[position].purpose == item.purpose:  # a vendor or a use case changed, not the text
                known[item.key] = reuse.vectors[position]
    fresh_items, fresh_vectors, fresh_distribution, pending = _index_rows(fresh, catalogue, embedder, known)
    dim, width = fresh_vectors.shape[1], len(catalogue.archetypes)
    if reuse is not None and kept_positions:
        take = np.asarray(kept_positions, dtype=np.int64)
        all_items = [reuse.items[p] for p in kept_positions] + fresh_items
        vectors = np.vstack([reuse.vectors[take], fresh_vectors])
        distribution = np.vstack([reuse.distribution[take], fresh_distribution])
    else:
        all_items, vectors, distribution = fresh_items, fresh_vectors, fresh_distribution
    keys = np.asarray([item.key for item in all_items], dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    all_items = [all_items[n] for n in order]
    vectors = vectors[order].reshape(-1, dim)
    distribution = distribution[order].reshape(-1, width)
    return PortfolioIndex(
        catalogue=catalogue, version=version, items=all_items, keys=keys[order], vectors=vectors,
        distribution=distribution,
        departments=np.asarray([departments[item.key] for item in all_items], dtype=np.int64), pending=pending,
    )


def portfolio_index(catalogue: scoring.CatalogueIndex | None = None) -> PortfolioIndex:
    """This process's index of the portfolio, brought up to date: one query when nothing changed."""
    catalogue = catalogue if catalogue is not None else catalogue_index()
    embedder = get_embedder()
    version = _portfolio_version()
    with _PORTFOLIO_LOCK:
        current = _PORTFOLIO.get(embedder.name)
        if current is None or current.catalogue is not catalogue or current.version != version or current.pending:
            current = _portfolio_build(current, catalogue, version, embedder)
            _PORTFOLIO[embedder.name] = current
        return current


def warm_portfolio_index() -> threading.Thread:
    """Build this process's portfolio index in a background thread and return the thread: a web worker started this
    way answers its first possible-duplicates lookup without building the index then (seconds at 10,000
    initiatives; gunicorn.conf.py calls it for each worker). Best effort: if it fails, the failure is logged and the
    first lookup builds the index as it would have; a lookup that arrives meanwhile waits for the build instead of
    starting its own."""

    def build() -> None:
        try:
            index = portfolio_index()
            logger.info("Possible-duplicates index ready: %d initiatives.", len(index.items))
        except Exception:  # a warm-up never stops a worker: the first lookup builds the index instead
            logger.warning("Possible-duplicates index not built ahead; the first lookup builds it.", exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=build, name="sprawl-index-warm-up", daemon=True)
    thread.start()
    return thread


@lru_cache(maxsize=256)
def _text_vector(text: str, embedder_name: str) -> np.ndarray:
    """A typed text's embedding: the same draft is ranked and matched to use cases, and asked again as the owner
    changes a department or a vendor."""
    vector = get_embedder().embed([text])[0].astype(np.float32)
    vector.flags.writeable = False
    return vector


def _draft_item(name, description, vendor_names, model_names, category, department_name="",
                owner="") -> scoring.Item:
    return scoring.Item(
        key="draft", name=name or "", description=description or "", vendors=tuple(vendor_names or ()),
        models=tuple(model_names or ()), category=category or "", department=department_name, owner=owner,
    )


def _draft_distribution(item: scoring.Item, catalogue: scoring.CatalogueIndex,
                        vector: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The draft's purpose vector (embedded here unless given) and (1, A) archetype distribution."""
    if vector is None:
        vector = _text_vector(item.purpose, get_embedder().name)
    affinity = scoring.archetype_affinity([item], vector[None, :], catalogue)
    return vector, scoring.archetype_distribution(affinity, [item], catalogue.codes, catalogue.params)


# A draft whose purpose is less similar (cosine) than this to every initiative of the portfolio reads like none of them:
# typed noise or a word too short to mean anything. On the demo company (2026-12-06), such text ("zzzz", "a", "the",
# "qwerty asdf", "GPU") came to 0.18-0.25 at best, real purposes ("Copilot", "chatbot", "HR assistant", "summarise
# calls", "translation") to 0.51-0.87; the fused ranking alone ranks noise with scores of 0.6 and more.
DRAFT_MIN_SIMILARITY = 0.35


def draft_duplicates(*, name: str, description: str, vendor_names: list[str], model_names: list[str], category: str,
                     department_id: int | None, owner_id: int | None = None, exclude_id: int | None = None,
                     top: int = 5) -> list[Duplicate]:
    """Possible duplicates of an initiative still being written (intake form), or of an initiative itself
    (`exclude_id`, its page), best first; `owner_id` is the draft's owner (by default an initiative's own). Reads
    only: the draft is ranked against the process's portfolio index with the fused ranking and the pair model of the
    last recomputation, exactly as the recomputation ranks an initiative (`scoring.rank_draft_fused`)."""
    from governance.sprawl.selectors import latest_pair_model

    if not (name or "").strip() and not (description or "").strip():
        return []
    catalogue = catalogue_index()
    portfolio = portfolio_index(catalogue)
    if not len(portfolio.keys):
        return []
    excluded = portfolio.positions.get(exclude_id) if exclude_id is not None else None
    own = portfolio.items[excluded] if excluded is not None else None
    item = replace(
        _draft_item(name, description, vendor_names, model_names, category,
                    portfolio.department_names.get(department_id, "") if department_id is not None else "",
                    _owner(owner_id) if owner_id is not None else own.owner if own is not None else ""),
        # An initiative's own confirmed use cases place it, as they do in the recomputation.
        confirmed_use_cases=own.confirmed_use_cases if own is not None else (),
    )
    # An initiative's own text is ranked with its stored embedding, as the recomputation reads it.
    stored = portfolio.vectors[excluded] if own is not None and own.purpose == item.purpose else None
    vector, distribution = _draft_distribution(item, catalogue, stored)
    if own is None and _reads_like_nothing(portfolio, vector):
        return []  # text that reads like nothing in the portfolio ("zzzz", "the"): the fused ranking would still rank
    draft = portfolio.scored.draft(item, vector, distribution[0], exclude=excluded)
    model = latest_pair_model()
    ranked = scoring.rank_draft_fused(portfolio.scored, draft, exclude=excluded, top=top, model=model)
    itself = excluded if own is not None and _as_stored(own, item) else None
    probability = _pair_probabilities(portfolio, draft, itself, [j for j, _ in ranked], model)
    names = {a.code: a.name for a in catalogue.archetypes}
    return [Duplicate(
        initiative_id=int(portfolio.keys[j]), score=round(score, 4),
        reasons=_reasons_of(scoring.shared_use_case(distribution[0], portfolio.distribution[j], catalogue.codes),
                            float(portfolio.vectors[j] @ vector), names, item, portfolio.items[j]),
        probability=round(float(p), 4),
    ) for (j, score), p in zip(ranked, probability, strict=True)]


def _as_stored(own: scoring.Item, draft: scoring.Item) -> bool:
    """Whether a draft is its initiative exactly as the index holds it (vendors and models in any order)."""
    def view(item: scoring.Item) -> tuple:
        return (item.name, item.description, sorted(item.vendors), sorted(item.models), item.category,
                item.department, item.confirmed_use_cases, item.owner)
    return view(own) == view(draft)


def _pair_probabilities(portfolio: PortfolioIndex, draft: scoring.Draft, own: int | None, columns: list[int],
                        model: pairs.PairModel) -> np.ndarray:
    """The pair model's probability of the draft with each of `columns`, in one batch: an initiative ranked as itself
    (`own`, its position, when the draft is exactly its stored self) by `Scored.probability` of its row, the
    computation its sprawl clusters are scored with; a typed draft against every initiative (`draft_probability`)."""
    if not columns:
        return np.zeros(0, dtype=np.float32)
    if own is not None:
        return portfolio.scored.probability(np.asarray([own]), np.asarray(columns), model=model)[0]
    return portfolio.scored.draft_probability(draft, model=model)[0, columns]


def _reads_like_nothing(portfolio: PortfolioIndex, vector: np.ndarray) -> bool:
    """Whether a draft's purpose is under DRAFT_MIN_SIMILARITY to every initiative: typed noise, not a purpose."""
    return bool(len(portfolio.keys)) and float((portfolio.vectors @ vector).max()) < DRAFT_MIN_SIMILARITY


def suggest_use_cases(*, name: str, description: str, vendor_names: list[str], model_names: list[str],
                      category: str) -> list[tuple[str, float]]:
    """The likeliest use cases of a text, best first (at most 3); none for text that reads like nothing in the
    portfolio (the possible duplicates' noise floor): the catalogue's distribution always names three jobs, so
    "zzzz" was offered "Marketing video generation, 21%"."""
    if not (name or "").strip() and not (description or "").strip():
        return []
    index = catalogue_index()
    if not index.archetypes:
        return []
    item = _draft_item(name, description, vendor_names, model_names, category)
    vector, distribution = _draft_distribution(item, index)
    if _reads_like_nothing(portfolio_index(index), vector):
        return []
    return scoring.suggestions(distribution, index.codes)[0]
