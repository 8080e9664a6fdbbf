"""Sprawl scoring: which initiatives do the same job. Plain numbers in, plain numbers out; no ORM.

Surface similarity is not the job: two chatbots for different audiences read alike, and three image tools bought by
three departments read differently. So each initiative is first placed on the use-case catalogue (a distribution over
archetypes, from its text, its vendors' products and the catalogue's synonyms); a pair's score then blends agreement
on the archetype with the similarity of what the two say they do, and a weak structural term. Grouping uses average
linkage, so one ambiguous member cannot chain two unrelated groups together. The threshold is a constant of the
method, not tuned per inventory.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import squareform

from governance.sprawl.engine import pairs
from governance.sprawl.engine.metric import apply as in_metric

STOPWORDS = frozenset("""
a an and are as at be by for from has have in into is it its of on or our so that the their them this to was were
will with we us via using use used per all any can each more most new other over own same such than then these they
those through up very via what when where which while who why within without you your based across team teams tool
tools project pilot ai genai llm gpt model models help helps helping support supports enable enables platform solution
internal company group halvorsen
""".split())

TOKEN = re.compile(r"[a-z0-9]+(?:[+#][a-z0-9]*)?")


def _fold(word: str) -> str:
    """A light plural fold, so 'invoices' meets 'invoice' and 'summaries' meets 'summary'."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """Lower-case word tokens without stop words, plurals folded (`_fold`)."""
    return [_fold(word) for word in TOKEN.findall(text.lower()) if word not in STOPWORDS and len(word) >= 2]


SENTENCE_END = re.compile(r"[.;:!?]+(?:\s|$)")


def written_forms(text: str) -> dict[str, str]:
    """Each word and two-word phrase a text really contains, folded as `terms` folds it, with how it is written there
    ({"fraud_indicator": "fraud indicators", "suspiciou": "suspicious"}): consecutive words of one sentence. The
    bigrams of `terms` skip stop words and run on across sentences, which scores well but would show a reviewer
    phrases nobody wrote ("indicator refer" from "indicators and refers")."""
    forms: dict[str, str] = {}
    for sentence in SENTENCE_END.split(text.lower()):
        words = TOKEN.findall(sentence)
        for word in words:
            forms.setdefault(_fold(word), word)
        for a, b in zip(words, words[1:], strict=False):
            forms.setdefault(f"{_fold(a)}_{_fold(b)}", f"{a} {b}")
    return forms


# Words that name a vendor or an edition, not a product: "Adobe" or "Enterprise" alone identify nothing.
GENERIC_PRODUCT_WORDS = frozenset("""
ai for the and of by with enterprise business team teams pro plus premium studio suite cloud platform services service
microsoft google amazon aws azure openai anthropic ibm oracle sap salesforce adobe meta apple nvidia in house inhouse
custom built llm api apis gpt gpt-4 model models open source self hosted on prem agent agents assistant assistants
""".split())


def product_words(product: str) -> frozenset[str]:
    """The words that identify a product ("Adobe Firefly" -> {"firefly"})."""
    return frozenset(w for w in TOKEN.findall(product.lower()) if w not in GENERIC_PRODUCT_WORDS)


def terms(text: str) -> list[str]:
    """Unigrams and bigrams: 'call' and 'summary' alone say little, 'call summary' says a lot."""
    words = tokens(text)
    return words + [f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)]


# Words that say nothing about what an initiative does, left out of the phrases a possible duplicate's reasons and a
# cluster's evidence show ("right" from "the right queue"; folded as `terms` folds them; `says_something`). Evidence
# text only: no score reads this list, which is why it is not part of STOPWORDS (that would change the scores and the
# clusters).
EVIDENCE_FILLER = frozenset("""
right left new good better best way thing lot well just also really quick quickly easy easily
""".split())


def says_something(term: str) -> bool:
    """A word that is not filler, or a two-word phrase with at least one such word: the one rule every evidence
    phrase (pair reasons, cluster evidence) follows."""
    return any(word not in EVIDENCE_FILLER for word in term.split("_"))


def common_phrases(a: Item, b: Item, limit: int = 4) -> list[str]:
    """Words and two-word phrases both texts use (phrases first, then longer words): evidence a reviewer can find
    in the two descriptions, without filler words (`EVIDENCE_FILLER`). Needs no statistics of the portfolio, so a
    draft on the intake form gets the same."""
    first, second = terms(f"{a.name} {a.description}"), set(terms(f"{b.name} {b.description}"))
    written, other = written_forms(a.purpose), written_forms(b.purpose)
    shared = [t for t in dict.fromkeys(first)
              if t in second and t in written and t in other and says_something(t)]
    ranked = sorted(shared, key=lambda t: (-("_" in t), -len(t), t))
    chosen: list[str] = []
    for term in ranked:
        phrase = written[term]  # as the first initiative writes it
        if any(phrase in other for other in chosen):
            continue
        chosen.append(phrase)
        if len(chosen) == limit:
            break
    return chosen


@dataclass(frozen=True)
class Archetype:
    """A use case of the catalogue, as the scorer needs it."""

    code: str
    name: str
    job: str
    synonyms: tuple[str, ...] = ()
    vendor_products: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()

    @property
    def description_text(self) -> str:
        return f"{self.name}: {self.job}"

    @property
    def lexical_text(self) -> str:
        parts = [self.name, self.name, self.job, *self.synonyms, *self.inputs, *self.outputs]
        return " . ".join(parts)


@dataclass(frozen=True)
class Item:
    """An initiative as the scorer needs it. `purpose` is its name and description; the rest is structure."""

    key: int | str
    name: str
    description: str = ""
    vendors: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    category: str = ""
    department: str = ""
    confirmed_use_cases: tuple[str, ...] = ()
    # Who is accountable for it (any stable identity: a user id, an email); empty when unknown.
    owner: str = ""

    @property
    def purpose(self) -> str:
        return f"{self.name}. {self.description}".strip()

    @property
    def lexical_text(self) -> str:
        return " ".join([self.name, self.description, " ".join(self.vendors)])


@dataclass(frozen=True)
class Params:
    """The method's constants, fixed in code: chosen on the labelled tuning sets (bench/sprawl_tune.py), never on the
    holdout half. A same-category term was tried and left out: teams file one job under different categories."""

    # archetype affinity: embedding to job text, best embedding to a synonym, TF-IDF, named vendor product
    w_job: float = 1.0
    w_synonym: float = 1.0
    w_lexical: float = 2.0
    w_product: float = 0.3
    temperature: float = 0.15
    top_archetypes: int = 5
    # pair score: archetype agreement, purpose similarity, and a weak structural term (same department)
    w_archetype: float = 0.7  # the purpose similarity weighs the rest
    rank_w_archetype: float = 0.4  # the same, when ranking possible duplicates
    # Sprawl is teams duplicating each other; a second initiative of one department is more often its next phase.
    w_department: float = -0.05
    purpose_floor: float = 0.2  # purpose similarity below this counts as nothing
    kernel_floor: float = 0.3  # archetypes whose jobs are more similar than this count as partly the same (1 = off)
    threshold: float = 0.5


DEFAULT_PARAMS = Params()


@dataclass
class CatalogueIndex:
    """The catalogue prepared once: vectors of each archetype's job and synonyms, TF-IDF of its words."""

    archetypes: list[Archetype]
    job_vectors: np.ndarray  # (A, d)
    synonym_vectors: np.ndarray  # (S, d)
    synonym_owner: np.ndarray  # (S,) archetype index of each synonym vector
    vocabulary: dict[str, int]
    idf: np.ndarray
    lexical_matrix: sparse.csr_matrix  # (A, V), rows L2-normalised
    products: list[tuple[frozenset[str], np.ndarray]] = field(default_factory=list)  # (product words, archetypes)
    specificity: np.ndarray | None = None  # (A,) how specific each archetype is (`job_specificity`)
    # (d, d) how this encoder's purposes are compared (engine/metric.py); None: the encoder's own cosine.
    purpose_metric: np.ndarray | None = None
    # The scorer's constants for the encoder that embedded it (engine/calibration.py): scoring with this index uses
    # them unless told otherwise.
    params: Params = DEFAULT_PARAMS
    # The jobs' kernel by kernel floor (`job_kernel`): the catalogue's alone, so computed once, not on every
    # rebuild of the possible duplicates' index (an eigendecomposition, up to a second on two busy cores).
    kernels: dict[float, np.ndarray] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def codes(self) -> list[str]:
        return [a.code for a in self.archetypes]


# The coherence (mean cosine between a job's phrasings) at which a job counts as fully specific, and as not specific
# at all: the shipped catalogue's 5th and 95th percentiles under MiniLM, fixed like the other cosine constants (an
# operator's own catalogue, however small, is measured on the same scale; another encoder needs its own).
SPECIFIC_COHERENCE = 0.215994
GENERIC_COHERENCE = 0.441133


def job_specificity(phrase_vectors: np.ndarray, owners: np.ndarray, count: int, *,
                    specific: float = SPECIFIC_COHERENCE, generic: float = GENERIC_COHERENCE) -> np.ndarray:
    """(count,) how specific each catalogue job is, in [0, 1], from its own phrasings alone (no labelled data).

    A job whose name, synonyms and outputs all say one generic technique ("load forecasting", "renewable generation
    forecasting", "energy price forecasting") lumps together what a company runs as different jobs, so two
    initiatives placed on it are weaker evidence of one job than two placed on a job whose phrasings name specific
    tasks of one domain ("GVD drafting", "HTA submission writing", "payer value story"). Coherence is the mean cosine
    between a job's phrasings; specificity falls linearly from 1 at SPECIFIC_COHERENCE to 0 at GENERIC_COHERENCE. A
    job with fewer than two phrasings has no coherence to measure and gets the median of the others (1 if none).
    `specific` and `generic` move the scale for another encoder (bench/sprawl_encoders.py).
    """
    specificity = np.full(count, np.nan, dtype=np.float64)
    for archetype in range(count):
        own = phrase_vectors[owners == archetype]
        k = len(own)
        if k >= 2:
            similarity = own @ own.T
            coherence = (float(similarity.sum()) - float(np.trace(similarity))) / (k * (k - 1))
            specificity[archetype] = (generic - coherence) / (generic - specific)
    known = specificity[~np.isnan(specificity)]
    specificity[np.isnan(specificity)] = float(np.median(known)) if len(known) else 1.0
    return np.clip(specificity, 0.0, 1.0).astype(np.float32)


def catalogue_phrases(archetypes: Sequence[Archetype]) -> tuple[list[str], list[str], list[int]]:
    """What indexing the catalogue embeds: each archetype's job, then its name, synonyms and outputs (with the index
    of the archetype each of those belongs to)."""
    synonym_texts, owners = [], []
    for index, archetype in enumerate(archetypes):
        for synonym in (archetype.name, *archetype.synonyms, *archetype.outputs):
            synonym_texts.append(synonym)
            owners.append(index)
    return [a.description_text for a in archetypes], synonym_texts, owners


def build_catalogue_index(archetypes: Sequence[Archetype], embed, *, params: Params = DEFAULT_PARAMS,
                          coherence: tuple[float, float] = (SPECIFIC_COHERENCE, GENERIC_COHERENCE)) -> CatalogueIndex:
    """Embed and index the catalogue; `embed(list[str]) -> (n, d) normalised array`. `params` and `coherence` are the
    embedding model's calibration (engine/calibration.py; MiniLM's by default)."""
    archetypes = list(archetypes)
    job_texts, synonym_texts, owners = catalogue_phrases(archetypes)
    job_vectors = embed(job_texts)
    synonym_vectors = embed(synonym_texts)
    documents = [Counter(terms(a.lexical_text)) for a in archetypes]
    vocabulary: dict[str, int] = {}
    for document in documents:
        for term in document:
            vocabulary.setdefault(term, len(vocabulary))
    df = np.zeros(len(vocabulary))
    for document in documents:
        for term in document:
            df[vocabulary[term]] += 1
    idf = np.log((1 + len(archetypes)) / (1 + df)) + 1.0
    lexical = _tfidf(documents, vocabulary, idf)
    # A product named by few archetypes is evidence; one named by many (ChatGPT, Azure OpenAI) is not. A product
    # matches when all its distinctive words appear ("Firefly" finds "Adobe Firefly"; "Copilot" alone finds neither
    # GitHub nor Microsoft 365 Copilot).
    product_owners: dict[frozenset[str], set[int]] = {}
    for index, archetype in enumerate(archetypes):
        for product in archetype.vendor_products:
            words = product_words(product)
            if words:
                product_owners.setdefault(words, set()).add(index)
    products = []
    for words, owners_of in product_owners.items():
        if len(owners_of) <= 4:
            mask = np.zeros(len(archetypes), dtype=np.float32)
            mask[list(owners_of)] = 1.0 / len(owners_of)
            products.append((words, mask))
    return CatalogueIndex(
        archetypes=archetypes, job_vectors=job_vectors, synonym_vectors=synonym_vectors,
        synonym_owner=np.asarray(owners, dtype=np.int64), vocabulary=vocabulary, idf=idf, lexical_matrix=lexical,
        products=products, params=params,
        specificity=job_specificity(synonym_vectors, np.asarray(owners, dtype=np.int64), len(archetypes),
                                    specific=coherence[0], generic=coherence[1]),
    )


def _tfidf(documents: list[Counter], vocabulary: dict[str, int], idf: np.ndarray) -> sparse.csr_matrix:
    rows, cols, values = [], [], []
    for row, document in enumerate(documents):
        for term, count in document.items():
            column = vocabulary.get(term)
            if column is not None:
                rows.append(row)
                cols.append(column)
                values.append((1.0 + math.log(count)) * idf[column])
    matrix = sparse.csr_matrix((values, (rows, cols)), shape=(len(documents), len(vocabulary)), dtype=np.float32)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    return sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ matrix


def archetype_affinity(items: Sequence[Item], vectors: np.ndarray, index: CatalogueIndex,
                       params: Params | None = None) -> np.ndarray:
    """(n, A) affinity of each item to each archetype: higher means the item more likely does that job."""
    params = params or index.params
    n, count = len(items), len(index.archetypes)
    job = vectors @ index.job_vectors.T
    synonym_sim = vectors @ index.synonym_vectors.T
    best_synonym = np.full((n, count), -1.0, dtype=np.float32)
    np.maximum.at(best_synonym.T, index.synonym_owner, synonym_sim.T)
    lexical = _tfidf([Counter(terms(item.lexical_text)) for item in items], index.vocabulary, index.idf)
    lexical_sim = np.asarray((lexical @ index.lexical_matrix.T).todense(), dtype=np.float32)
    product = np.zeros((n, count), dtype=np.float32)
    for row, item in enumerate(items):
        present = set(TOKEN.findall(f"{item.name} {item.description} {' '.join(item.vendors)} "
                                    f"{' '.join(item.models)}".lower()))
        for words, mask in index.products:
            if words <= present:
                product[row] += mask
    return (params.w_job * job + params.w_synonym * best_synonym + params.w_lexical * lexical_sim
            + params.w_product * product)


def archetype_distribution(affinity: np.ndarray, items: Sequence[Item], codes: Sequence[str],
                           params: Params = DEFAULT_PARAMS) -> np.ndarray:
    """(n, A) probabilities over archetypes: a tempered softmax kept to the top few. A person's confirmed use cases
    replace the inference."""
    n, count = affinity.shape
    k = min(params.top_archetypes, count)
    out = np.zeros_like(affinity, dtype=np.float32)
    top = np.argpartition(-affinity, k - 1, axis=1)[:, :k] if count else np.zeros((n, 0), dtype=int)
    position = {code: i for i, code in enumerate(codes)}
    for row in range(n):
        confirmed = [position[c] for c in items[row].confirmed_use_cases if c in position]
        if confirmed:
            out[row, confirmed] = 1.0 / len(confirmed)
            continue
        chosen = top[row]
        logits = affinity[row, chosen] / params.temperature
        weights = np.exp(logits - logits.max())
        out[row, chosen] = weights / weights.sum()
    return out


def suggestions(distribution: np.ndarray, codes: Sequence[str], limit: int = 3,
                minimum: float = 0.05) -> list[list[tuple[str, float]]]:
    """Per item, its likeliest use cases with a confidence, best first."""
    result = []
    for row in distribution:
        order = np.argsort(-row)[:limit]
        result.append([(codes[i], round(float(row[i]), 3)) for i in order if row[i] >= minimum])
    return result


@dataclass
class Scored:
    """Everything the pair scores need, prepared once for a set of items."""

    items: list[Item]
    vectors: np.ndarray  # (n, d) purpose embeddings
    distribution: np.ndarray  # (n, A)
    codes: list[str]
    params: Params

    kernel: np.ndarray | None = None
    # (A,) how specific each archetype is (`job_specificity`); None: every job counts fully.
    specificity: np.ndarray | None = None
    # (d, d) the metric the pair model compares purposes with (engine/metric.py); None: the encoder's cosine.
    metric: np.ndarray | None = None

    def __post_init__(self) -> None:
        # The items' own wording, weighted by how rare each word is among them: "deposition" shared by two of 200
        # initiatives says more than "summary" shared by forty.
        documents = [Counter(terms(f"{item.name} {item.description}")) for item in self.items]
        vocabulary: dict[str, int] = {}
        for document in documents:
            for term in document:
                vocabulary.setdefault(term, len(vocabulary))
        frequency = np.zeros(len(vocabulary))
        for document in documents:
            for term in document:
                frequency[vocabulary[term]] += 1
        self.vocabulary = vocabulary
        self.idf = np.log((1 + len(documents)) / (1 + frequency)) + 1.0
        self._wording = _tfidf(documents, vocabulary, self.idf).tocsr()
        self._category, self._category_code = _coded([i.category for i in self.items])
        # Each item's first catalogue job: a pair placed first on the same job gets that job's company correction.
        self._top = np.argmax(self.distribution, axis=1) if self.distribution.size else np.zeros(len(self.items), int)
        self._exact = unit_rows(self.distribution)
        # Grouping lets neighbouring archetypes partly agree (p_a K p_b with K = L L^T), since two teams describing
        # one job often land on adjacent entries of the catalogue; ranking candidates needs no such help.
        self._profile = self._exact if self.kernel is None else unit_rows(self.distribution @ self.kernel)
        # An unknown department matches nothing, not every other unknown one.
        self._department, self._department_code = _coded([i.department for i in self.items])
        # Likewise an unknown owner. One person's two initiatives of one job are nearly always phases or variants of
        # one thing, not two teams duplicating each other.
        self._owner, self._owner_code = _coded([i.owner for i in self.items])
        # A job many of this portfolio's initiatives are placed on says less when two share it than a rare one: each
        # catalogue job weighs by its rarity here (an IDF over the soft counts, 1 for a job only one item has).
        n = len(self.items)
        self._rarity = np.ones(self.distribution.shape[1], dtype=np.float32)
        if n > 1 and self.distribution.size:
            counts = self.distribution.sum(axis=0)
            self._rarity = np.clip(np.log((1.0 + n) / (1.0 + counts)) / math.log(1.0 + n), 0.0, 1.0)
            self._rare = weighed(self._exact, self._rarity)
        else:
            self._rare = self._exact
        self._specific = weighed(self._exact, self.specificity)
        # The purposes as the pair model compares them (the learnt metric's space); the ranking blend and the
        # evidence shown keep the encoder's own cosine.
        self._purpose_vectors = in_metric(self.vectors, self.metric)
        # How crowded each item's neighbourhood is: the mean purpose similarity to its nearest others. Two items in a
        # crowded area (many assistants, many document tools) must be closer than the crowd to count (CSLS).
        self._crowd = neighbourhood_similarity(self._purpose_vectors, NEIGHBOURS)

    def block(self, rows: slice | np.ndarray, cols: slice | np.ndarray | None = None, *,
              ranking: bool = False) -> np.ndarray:
        """Pair scores of items[rows] against items[cols] (all items by default). `ranking` gives the blend used to
        rank possible duplicates, which leans more on the purpose: a candidate list wants recall, a cluster
        precision."""
        cols = slice(None) if cols is None else cols
        profile = self._exact if ranking else self._profile
        return pair_score(profile[rows] @ profile[cols].T, self.vectors[rows] @ self.vectors[cols].T,
                          self._department[rows][:, None] == self._department[cols][None, :], self.params,
                          ranking=ranking)

    def features(self, rows: slice | np.ndarray, cols: slice | np.ndarray | None = None) -> PairFeatures:
        """The pair model's features (engine/pairs.py FEATURES) of items[rows] against items[cols], each computed
        when first read: grouping reads only those the model weighs."""
        return PairFeatures(self, rows, self, slice(None) if cols is None else cols)

    def probability(self, rows: slice | np.ndarray, cols: slice | np.ndarray | None = None, *,
                    model: pairs.PairModel = pairs.SHIPPED) -> np.ndarray:
        """How likely items[rows] and items[cols] do the same job, by the pair model."""
        return self._probability(self.features(rows, cols), self._top[rows],
                                 self._top[slice(None) if cols is None else cols], model)

    def draft(self, item: Item, vector: np.ndarray, distribution: np.ndarray, *,
              exclude: int | None = None) -> Draft:
        """One text on this portfolio's terms (its wording weighed by the portfolio's IDF, its jobs by their rarity
        here, its neighbourhood among these items), to be scored against every item. `exclude` is the draft's own
        position when it is one of the items: then its features are exactly that item's row."""
        row = np.asarray(distribution, dtype=np.float32).reshape(1, -1)
        exact = unit_rows(row)
        profile = exact if self.kernel is None else unit_rows(row @ self.kernel)
        as_row = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        purpose = in_metric(as_row, self.metric)
        cosine = (self._purpose_vectors @ purpose[0]).astype(np.float32)
        if exclude is not None:
            cosine[exclude] = -np.inf
        others = len(cosine) - (exclude is not None)
        k = min(NEIGHBOURS, others)
        crowd = float(np.partition(cosine, len(cosine) - k)[len(cosine) - k:].mean()) if k >= 1 else 0.0
        wording = _tfidf([Counter(terms(f"{item.name} {item.description}"))], self.vocabulary, self.idf).tocsr()
        unknown = -1 - len(self.items)  # matches no item, not even another unknown
        return Draft(
            vectors=as_row, _purpose_vectors=purpose, _exact=exact,
            _rare=weighed(exact, self._rarity), _specific=weighed(exact, self.specificity),
            _profile=profile, _crowd=np.asarray([crowd], dtype=np.float32), _wording=wording,
            _department=np.asarray([self._department_code.get(item.department, unknown) if item.department
                                    else unknown]),
            _category=np.asarray([self._category_code.get(item.category, unknown) if item.category else unknown]),
            _owner=np.asarray([self._owner_code.get(item.owner, unknown) if item.owner else unknown]),
            _top=np.argmax(exact, axis=1) if exact.size else np.zeros(1, int), params=self.params,
        )

    def draft_features(self, draft: Draft) -> PairFeatures:
        """The pair model's features of a draft (`Scored.draft`) against every item, (1, n) each."""
        return PairFeatures(draft, slice(None), self, slice(None))

    def draft_probability(self, draft: Draft, *, model: pairs.PairModel = pairs.SHIPPED) -> np.ndarray:
        """(1, n) how likely the draft and each item do the same job, by the pair model."""
        return self._probability(self.draft_features(draft), draft._top, self._top, model)

    def _probability(self, features: PairFeatures, top_rows: np.ndarray, top_cols: np.ndarray,
                     model: pairs.PairModel) -> np.ndarray:
        logit = model.logit(features)
        if model.use_case_bias:
            position = {code: n for n, code in enumerate(self.codes)}
            bias = np.zeros(len(self.codes) + 1, dtype=np.float32)
            for code, value in model.use_case_bias:
                if code in position:
                    bias[position[code]] = value
            logit += np.where(top_rows[:, None] == top_cols[None, :], bias[top_rows][:, None], 0.0)
        return pairs.sigmoid(logit)

    def shared_first_use_case(self, i: int, j: int) -> str:
        """The catalogue job both items are placed on first, or "" (what a decision's job correction is for)."""
        return self.codes[int(self._top[i])] if self.codes and self._top[i] == self._top[j] else ""

    def pair_features(self, i: int, j: int) -> tuple[float, ...]:
        """One pair's features, in the order of pairs.FEATURES (what a decision refits on)."""
        values = self.features(np.asarray([i]), np.asarray([j]))
        return tuple(round(float(values[name][0, 0]), 6) for name in pairs.FEATURES)

    def shared_phrases(self, members: Sequence[int], limit: int = 5) -> list[str]:
        """The distinctive words and phrases at least two of `members` use, the most shared and rarest first
        (evidence a reviewer can check), without filler words (`says_something`). One pass over the members' rows,
        whatever the cluster's size."""
        if not hasattr(self, "_terms"):
            self._terms = [""] * len(self.vocabulary)
            for term, index in self.vocabulary.items():
                self._terms[index] = term
        rows = self._wording[np.asarray(members)]
        counts = np.asarray((rows > 0).sum(axis=0)).ravel()
        candidates = np.nonzero(counts >= 2)[0]
        # In more than half of the portfolio: not distinctive.
        candidates = candidates[self.idf[candidates] >= 1.0 + math.log(2)]
        # A phrase before its own words when they weigh the same ("action items", not "action" and "items").
        ranked = sorted(candidates.tolist(), key=lambda k: (-counts[k] * self.idf[k], "_" not in self._terms[k],
                                                            self._terms[k]))
        written = [written_forms(self.items[m].purpose) for m in members]  # each member's words, as written
        chosen: list[str] = []
        for k in ranked:
            term = self._terms[k]
            if not says_something(term):  # evidence only: the scores never read this
                continue
            writers = [forms[term] for forms in written if term in forms]
            if len(writers) < 2:  # a phrase nobody wrote as such (across a stop word or a sentence), or a vendor
                continue
            phrase = writers[0]
            if any(phrase in other or other in phrase for other in chosen):
                continue
            chosen.append(phrase)
            if len(chosen) == limit:
                break
        return chosen

    def shared_use_case(self, i: int, j: int) -> str | None:
        return shared_use_case(self.distribution[i], self.distribution[j], self.codes)

    def purpose_similarity(self, i: int, j: int) -> float:
        return float(self.vectors[i] @ self.vectors[j])


@dataclass
class Draft:
    """One text prepared on a scored portfolio's terms (`Scored.draft`): the same row-side arrays a Scored holds,
    for one row."""

    vectors: np.ndarray  # (1, d)
    _purpose_vectors: np.ndarray  # (1, d) in the pair model's metric
    _exact: np.ndarray
    _rare: np.ndarray
    _specific: np.ndarray
    _profile: np.ndarray
    _crowd: np.ndarray  # (1,)
    _wording: sparse.csr_matrix
    _department: np.ndarray  # (1,) code on the portfolio's departments
    _category: np.ndarray
    _owner: np.ndarray  # (1,) code on the portfolio's owners
    _top: np.ndarray
    params: Params


Side = Scored | Draft


class PairFeatures(Mapping[str, np.ndarray]):
    """The features of a block of pairs (left[rows] x right[cols]: items of a Scored, or a Draft against them) by
    name, each computed once, on first use."""

    def __init__(self, left: Side, rows: slice | np.ndarray, right: Side, cols: slice | np.ndarray) -> None:
        self.left, self.rows, self.right, self.cols = left, rows, right, cols
        self.cache: dict[str, np.ndarray] = {}
        self.cosine: np.ndarray | None = None  # of the purposes in the metric, shared by the two purpose features
        self.raw: np.ndarray | None = None  # of the encoder's own vectors, for the ranking blend

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.cache:
            if name not in pairs.FEATURES:
                raise KeyError(name)
            self.cache[name] = np.asarray(getattr(self, f"_{name}")(), dtype=np.float32)
        return self.cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter(pairs.FEATURES)

    def __len__(self) -> int:
        return len(pairs.FEATURES)

    def purpose_cosine(self) -> np.ndarray:
        """Cosine of the purposes in the pair model's metric, computed once for the features that read it."""
        if self.cosine is None:
            self.cosine = self.left._purpose_vectors[self.rows] @ self.right._purpose_vectors[self.cols].T
        return self.cosine

    def encoder_cosine(self) -> np.ndarray:
        """Cosine of the encoder's own vectors, for the ranking blend (it finds partners by recall, and the learnt
        metric did not rank them better: bench/sprawl_rank.py)."""
        if self.raw is None:
            self.raw = self.left.vectors[self.rows] @ self.right.vectors[self.cols].T
        return self.raw

    def _archetype(self) -> np.ndarray:
        return self.left._profile[self.rows] @ self.right._profile[self.cols].T

    def _archetype_exact(self) -> np.ndarray:
        return self.left._exact[self.rows] @ self.right._exact[self.cols].T

    def _archetype_rare(self) -> np.ndarray:
        return self.left._rare[self.rows] @ self.right._rare[self.cols].T

    def _archetype_specific(self) -> np.ndarray:
        return self.left._specific[self.rows] @ self.right._specific[self.cols].T

    def _purpose(self) -> np.ndarray:
        floor = self.left.params.purpose_floor
        return np.clip((self.purpose_cosine() - floor) / (1.0 - floor), 0.0, 1.0)

    def _purpose_local(self) -> np.ndarray:
        crowd = self.left._crowd[self.rows][:, None] + self.right._crowd[self.cols][None, :]
        return self.purpose_cosine() - 0.5 * crowd

    def _job_and_purpose(self) -> np.ndarray:
        return np.minimum(self["archetype"], self["purpose"])

    def _wording(self) -> np.ndarray:
        return (self.left._wording[self.rows] @ self.right._wording[self.cols].T).toarray()

    def _same_department(self) -> np.ndarray:
        return self.left._department[self.rows][:, None] == self.right._department[self.cols][None, :]

    def _same_category(self) -> np.ndarray:
        return self.left._category[self.rows][:, None] == self.right._category[self.cols][None, :]

    def _same_owner(self) -> np.ndarray:
        return self.left._owner[self.rows][:, None] == self.right._owner[self.cols][None, :]


def pair_score(agreement: np.ndarray, purpose_cosine: np.ndarray, same_department: np.ndarray, params: Params, *,
               ranking: bool = False) -> np.ndarray:
    """The pair score from its parts (any matching shapes): agreement of the archetype profiles, cosine of the
    purpose embeddings, and whether the two are in one department."""
    w_archetype = params.rank_w_archetype if ranking else params.w_archetype
    purpose = np.clip((purpose_cosine - params.purpose_floor) / (1.0 - params.purpose_floor), 0.0, 1.0)
    score = w_archetype * agreement + (1.0 - w_archetype) * purpose
    if params.w_department:
        score = score + params.w_department * same_department
    return np.asarray(score, dtype=np.float32)


def shared_use_case(a: np.ndarray, b: np.ndarray, codes: Sequence[str]) -> str | None:
    """The use case two archetype distributions most share, when they share one noticeably."""
    shared = a * b
    best = int(np.argmax(shared)) if shared.size else 0
    return codes[best] if shared.size and shared[best] >= 0.05 else None


NEIGHBOURS = 5  # the neighbourhood of `neighbourhood_similarity`


def neighbourhood_similarity(vectors: np.ndarray, k: int, block_size: int = 1024) -> np.ndarray:
    """(n,) each row's mean cosine to its k nearest other rows (0 when there are none), in blocks of rows."""
    n = len(vectors)
    k = min(k, n - 1)
    out = np.zeros(n, dtype=np.float32)
    if k < 1:
        return out
    for start in range(0, n, block_size):
        stop = min(start + block_size, n)
        block = vectors[start:stop] @ vectors.T
        block[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        nearest = np.partition(block, n - k, axis=1)[:, n - k:]
        out[start:stop] = nearest.mean(axis=1)
    return out


def weighed(profiles: np.ndarray, job_weights: np.ndarray | None) -> np.ndarray:
    """Profiles whose products weigh each job by `job_weights` (the square root on each side); unchanged when there
    are no weights."""
    if job_weights is None or not profiles.size:
        return profiles
    return (profiles * np.sqrt(np.asarray(job_weights, dtype=np.float32))[None, :]).astype(np.float32)


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (the exact archetype profile a ranking compares)."""
    return (matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)).astype(np.float32)



def _coded(values: list[str]) -> tuple[np.ndarray, dict[str, int]]:
    """Each value's code, and the codes by value; an empty value gets its own negative code (it matches nothing)."""
    known: dict[str, int] = {}
    return np.asarray([known.setdefault(v, len(known)) if v else -1 - n for n, v in enumerate(values)]), known


def score_items(items: Sequence[Item], vectors: np.ndarray, index: CatalogueIndex,
                params: Params | None = None) -> Scored:
    items = list(items)
    params = params or index.params
    affinity = archetype_affinity(items, vectors, index, params)
    return scored_from(items, vectors, archetype_distribution(affinity, items, index.codes, params), index, params)


def scored_from(items: Sequence[Item], vectors: np.ndarray, distribution: np.ndarray, index: CatalogueIndex,
                params: Params | None = None) -> Scored:
    """A Scored of items already placed on the catalogue (their `distribution`), as the possible duplicates' index
    keeps them."""
    params = params or index.params
    kernel = job_kernel(index, params.kernel_floor) if params.kernel_floor < 1.0 and len(index.archetypes) else None
    return Scored(items=list(items), vectors=vectors, distribution=distribution, codes=index.codes, params=params,
                  kernel=kernel, specificity=index.specificity, metric=index.purpose_metric)


def job_kernel(index: CatalogueIndex, floor: float) -> np.ndarray:
    """L with L L^T the catalogue jobs' similarity above `floor` (how far neighbouring jobs partly agree), kept on
    the index: it depends on nothing else. Read-only, as it is shared by every Scored of the index."""
    kernel = index.kernels.get(floor)
    if kernel is None:
        similarity = index.job_vectors @ index.job_vectors.T
        k = np.clip((similarity - floor) / (1.0 - floor), 0.0, 1.0)
        np.fill_diagonal(k, 1.0)
        values, vectors = np.linalg.eigh(k.astype(np.float64))
        kernel = (vectors * np.sqrt(np.clip(values, 0, None))).astype(np.float32)
        kernel.setflags(write=False)
        index.kernels[floor] = kernel
    return kernel


LIKELY = "likely"
POSSIBLE = "possible"


@dataclass(frozen=True)
class ClusterResult:
    members: list[int]  # positions in Scored.items
    score: float  # average pairwise score (the pair model's probability)
    confidence: str = LIKELY  # likely, or possible (shown apart)


Pair = tuple[int, int]


# Possible duplicates fuse three rankings of the same candidates (reciprocal rank fusion): the ranking blend (catalogue
# job and purpose), the pair model's probability, and the portfolio's distinctive wording. Each misses partners the
# others find (two teams naming the same rare product or form, a job the catalogue places apart), and a rank, unlike
# a score, means the same in every portfolio. Chosen on the tuning and selection sets (bench/sprawl_rank.py): the
# fused top 5 held a true partner more often than the blend's on five of the seven sets (by up to 5.3 points on the
# sets the catalogue was not written for), as often on one, and for one member fewer on one.
FUSION_K = 10  # the fusion's constant: a candidate ranked r-th in a list gets (FUSION_K + 1) / (FUSION_K + r)
FUSION_DEPTH = 50  # how far down each list counts; a candidate below it gets nothing from that list


def top_duplicates(scored: Scored, top: int = 5, block_size: int = 256, *, model: pairs.PairModel = pairs.SHIPPED,
                   progress: Callable[[float], None] | None = None) -> list[list[tuple[int, float]]]:
    """Each item's `top` likeliest duplicates, best first: positions, each with its fused score (1 when first in every
    list; what a reviewer sees as the score, so the order and the score agree). Blocks of 256 rows, as in grouping:
    the pair model reads seven (rows x n) feature matrices per block. `progress` hears the share of the items ranked
    after each block (on 10,000 initiatives the ranking takes seconds)."""
    n = len(scored.items)
    result: list[list[tuple[int, float]]] = []
    for start in range(0, n, block_size):
        stop = min(start + block_size, n)
        rows = np.arange(start, stop)
        lists = _ranking_lists(scored, scored.features(rows), scored._top[rows], model)
        result.extend(_fused_top(lists, (np.arange(stop - start), rows), top, n - 1))
        if progress is not None:
            progress(stop / n)
    return result


def rank_draft_fused(scored: Scored, draft: Draft, *, exclude: int | None = None, top: int = 5,
                     model: pairs.PairModel = pairs.SHIPPED) -> list[tuple[int, float]]:
    """A draft's (`Scored.draft`) `top` likeliest duplicates among the scored items, exactly as `top_duplicates`
    ranks an item: the initiative page and the recomputation list the same candidates. `exclude`: its own
    position."""
    own = np.asarray([] if exclude is None else [exclude], dtype=np.int64)
    lists = _ranking_lists(scored, scored.draft_features(draft), draft._top, model)
    return _fused_top(lists, (np.zeros(len(own), dtype=np.int64), own), top, len(scored.items) - len(own))[0]


def _ranking_lists(scored: Scored, features: PairFeatures, top_rows: np.ndarray,
                   model: pairs.PairModel) -> list[np.ndarray]:
    """The three lists the fusion ranks by, from one block of features (each feature, the cosine included, computed
    once): the ranking blend (`Scored.block(..., ranking=True)`), the pair model's probability, the wording."""
    blend = pair_score(features["archetype_exact"], features.encoder_cosine(), features["same_department"],
                       scored.params, ranking=True)
    # One person writes alike: the words two initiatives of one owner share are their author's, not their job's, so
    # the wording list counts none between them (bench/sprawl_rank.py).
    wording = np.where(features["same_owner"] > 0, np.float32(0.0), features["wording"])
    return [blend, scored._probability(features, top_rows, scored._top, model), wording]


def _fused_top(lists: list[np.ndarray], own: tuple[np.ndarray, np.ndarray], top: int,
               candidates: int) -> list[list[tuple[int, float]]]:
    """Per row, the `top` best columns by the fused ranking of `lists` (the blend first: it breaks ties); `own`
    marks each row's own column, never listed."""
    blend = lists[0]
    k, depth = min(top, max(candidates, 0)), min(FUSION_DEPTH, max(candidates, 0))
    if k == 0:
        return [[] for _ in range(len(blend))]
    fused = fuse_rankings(lists, own, depth)
    # The blend breaks ties (and orders what no list ranked): far smaller than any step of the fused score.
    key = fused + np.float32(1e-7) * blend
    key[own] = -np.inf
    best = np.argpartition(-key, k - 1, axis=1)[:, :k]
    result = []
    for row in range(len(blend)):
        order = best[row][np.argsort(-key[row, best[row]], kind="stable")]
        result.append([(int(j), float(fused[row, j])) for j in order])
    return result


def fuse_rankings(signals: Sequence[np.ndarray], diagonal: tuple[np.ndarray, np.ndarray], depth: int) -> np.ndarray:
    """(rows, n) reciprocal rank fusion of several (rows, n) score matrices over each row's top `depth`, scaled so a
    candidate first in every list scores 1. `diagonal` marks each row's own column, never ranked."""
    fused = np.zeros(np.shape(signals[0]), dtype=np.float32)
    if depth < 1:
        return fused
    gain = (FUSION_K + 1) / (FUSION_K + np.arange(1, depth + 1, dtype=np.float32)) / len(signals)
    for signal in signals:
        values = np.array(signal, dtype=np.float32)
        values[diagonal] = -np.inf
        best = np.argpartition(-values, depth - 1, axis=1)[:, :depth]
        order = np.argsort(-np.take_along_axis(values, best, axis=1), axis=1, kind="stable")
        ranked = np.take_along_axis(best, order, axis=1)
        # Nothing in common (no shared word, no similarity) is no evidence, whatever its place among the ties.
        earned = np.where(np.take_along_axis(values, ranked, axis=1) > 0, gain[None, :], 0.0)
        np.put_along_axis(fused, ranked, np.take_along_axis(fused, ranked, axis=1) + earned, axis=1)
    return fused


def clusters(scored: Scored, model: pairs.PairModel = pairs.SHIPPED, *, must_link: Iterable[Pair] = (),
             cannot_link: Iterable[Pair] = (), possible: bool = True, block_size: int = 256,
             progress: Callable[[float], None] | None = None) -> list[ClusterResult]:
    """Likely clusters (members' average probability of doing the same job at least `model.threshold`), then, among
    the items left, possible ones (at least `model.possible`). Reviewer decisions are constraints: a must-link pair
    (confirmed together, "duplicate of") always shares a likely cluster, a cannot-link pair (dismissed, removed, "not
    a duplicate") never shares one; where the two conflict, the cannot-link wins. Blocks of 256 rows: the pair model
    reads seven (rows x n) feature matrices per block. `progress` hears the share done: the likely pass is the first
    half, the possible pass (over about as many items) the second."""
    must, cannot = list(must_link), list(cannot_link)
    report = progress or (lambda share: None)

    def score(rows: np.ndarray | slice, cols: np.ndarray | slice | None = None) -> np.ndarray:
        return scored.probability(rows, cols, model=model)

    n = len(scored.items)
    likely = group(n, score, model.threshold, must_link=must, cannot_link=cannot, block_size=block_size,
                   progress=lambda share: report(share / 2))
    likely = join_confirmed(likely, n, score, model.join, must_link=must, cannot_link=cannot)
    report(0.5)
    if not possible or model.possible >= model.threshold:
        return likely
    taken = {m for cluster in likely for m in cluster.members}
    left = np.asarray([i for i in range(n) if i not in taken], dtype=np.int64)
    if len(left) < 2:
        return likely
    position = {int(item): k for k, item in enumerate(left)}

    def score_left(rows: np.ndarray | slice, cols: np.ndarray | slice | None = None) -> np.ndarray:
        return scored.probability(left[rows], left[cols if cols is not None else slice(None)], model=model)

    def inside(pairs_: list[Pair]) -> list[Pair]:
        return [(position[a], position[b]) for a, b in pairs_ if a in position and b in position]

    found = group(len(left), score_left, model.possible, must_link=inside(must), cannot_link=inside(cannot),
                  block_size=block_size, progress=lambda share: report(0.5 + share / 2))
    rest = [ClusterResult(members=sorted(int(left[m]) for m in c.members), score=c.score, confidence=POSSIBLE)
            for c in found]
    return likely + sorted(rest, key=lambda cluster: (-cluster.score, cluster.members))


def join_confirmed(found: list[ClusterResult], n: int, score, bar: float, *, must_link: Iterable[Pair] = (),
                   cannot_link: Iterable[Pair] = ()) -> list[ClusterResult]:
    """The likely clusters, each one a reviewer confirmed (members must-linked to each other) joined by the
    initiatives left out of every likely cluster whose probability with each confirmed member is at least `bar`.

    Why: a confirmed cluster is no longer a guess, so an initiative that the model finds alike to every member a
    person vouched for is better evidence of the same job than its average with unconfirmed members would be; the
    average linkage, blind to the decision, left such initiatives out. The reviewer sees who joined (the cluster's
    audit trail records it) and can remove them. An initiative goes to the confirmed cluster it is most alike to, never
    next to a member it is cannot-linked with. Chosen on the tuning and selection sets (bench/sprawl_feedback.py
    --choose-join); `bar` >= 1 turns it off.
    """
    if bar >= 1.0 or not found:
        return found
    must = {(min(a, b), max(a, b)) for a, b in must_link if a != b}
    cannot = {(min(a, b), max(a, b)) for a, b in cannot_link if a != b}
    must -= cannot
    taken = {m for cluster in found for m in cluster.members}
    free = np.asarray([i for i in range(n) if i not in taken], dtype=np.int64)
    if not must or not len(free):
        return found
    best = np.full(len(free), -1.0)
    home = np.full(len(free), -1, dtype=np.int64)
    for k, cluster in enumerate(found):
        inside = set(cluster.members)
        core = sorted({x for pair in must if pair[0] in inside and pair[1] in inside for x in pair})
        if len(core) < 2:
            continue
        weakest = np.asarray(score(np.asarray(core), free), dtype=np.float64).min(axis=0)
        for f in np.flatnonzero((weakest >= bar) & (weakest > best)):
            candidate = int(free[f])
            if any((min(candidate, m), max(candidate, m)) in cannot for m in cluster.members):
                continue
            best[f], home[f] = weakest[f], k
    if not (home >= 0).any():
        return found
    joined: list[ClusterResult] = []
    for k, cluster in enumerate(found):
        extra = [int(free[f]) for f in np.flatnonzero(home == k)]
        if not extra:
            joined.append(cluster)
            continue
        members = np.asarray(sorted([*cluster.members, *extra]))
        joined.append(ClusterResult(members=[int(m) for m in members], score=_mean_pair_score(score, members)))
    joined.sort(key=lambda cluster: (-cluster.score, cluster.members))
    return joined


# A cannot-link pair's distance in the linkage: so large that no average over any two groups holding it stays under
# the cut, however large the groups (up to a component of 30,000).
_APART = 1e9


# The share of `group`'s time spent scanning every pair for the graph, the rest clustering its components: 0.84 on
# 10,000 generated initiatives (bench/sprawl_scale.py), so a page's bar moves about evenly through the grouping.
GROUP_SCAN = 0.8


def group(n: int, score, threshold: float, *, must_link: Iterable[Pair] = (), cannot_link: Iterable[Pair] = (),
          block_size: int = 256, progress: Callable[[float], None] | None = None) -> list[ClusterResult]:
    """Average-linkage groups of n items whose members score at least `threshold` with each other on average;
    `score(rows, cols=None)` gives a block of pair scores.

    Average linkage only merges two groups when at least one pair between them scores above the threshold, so the
    groups live inside the connected components of the graph of such pairs (and of must-link pairs): only those
    components are clustered, which keeps 10,000 initiatives to seconds. `progress` hears the share done: scanning
    every pair is GROUP_SCAN of it, the components' linkage the rest (by their pairs).
    """
    report = progress or (lambda share: None)
    must = {(min(a, b), max(a, b)) for a, b in must_link if a != b}
    cannot = {(min(a, b), max(a, b)) for a, b in cannot_link if a != b}
    must -= cannot  # a later "not the same" decision wins over an earlier grouping
    rows, cols = [], []
    for start in range(0, n, block_size):
        stop = min(start + block_size, n)
        block = score(np.arange(start, stop))
        r, c = np.nonzero(block >= threshold)
        keep = c > r + start
        rows.append(r[keep] + start)
        cols.append(c[keep])
        report(GROUP_SCAN * stop / n)
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    if must:
        r = np.concatenate([r, [a for a, _ in must]]).astype(np.int64)
        c = np.concatenate([c, [b for _, b in must]]).astype(np.int64)
    if not len(r):
        return []
    graph = sparse.coo_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    results: list[ClusterResult] = []
    components = [component for component in _groups(labels) if len(component) >= 2]
    work, done = sum(len(component) ** 2 for component in components), 0
    for component in components:
        done += len(component) ** 2
        members = np.asarray(component)
        # The component's distances, filled a block of rows at a time and kept in float32: a component can hold
        # thousands of initiatives, and the pair model reads seven feature matrices per block.
        distance = np.empty((len(members), len(members)), dtype=np.float32)
        for start in range(0, len(members), block_size):
            distance[start:start + block_size] = score(members[start:start + block_size], members)
        np.subtract(1.0, distance, out=distance)
        np.clip(distance, 0.0, None, out=distance)
        where = {int(m): k for k, m in enumerate(members)}
        for a, b in must:
            if a in where and b in where:
                distance[where[a], where[b]] = distance[where[b], where[a]] = 0.0
        for a, b in cannot:
            if a in where and b in where:
                distance[where[a], where[b]] = distance[where[b], where[a]] = _APART
        np.fill_diagonal(distance, 0.0)
        if len(members) == 2:
            flat = np.asarray([1, 1] if max(distance[0, 1], distance[1, 0]) <= 1.0 - threshold else [1, 2])
        else:
            tree = linkage(squareform(distance, checks=False).astype(np.float64), method="average")
            flat = fcluster(tree, t=1.0 - threshold, criterion="distance")
        flat = _join_must_links(flat, where, must, cannot)
        groups = [g for g in _groups(flat) if len(g) >= 2]
        del distance
        for chosen in groups:
            inside = members[np.asarray(chosen)]
            results.append(ClusterResult(members=sorted(int(members[g]) for g in chosen),
                                         score=_mean_pair_score(score, inside)))
        report(GROUP_SCAN + (1 - GROUP_SCAN) * done / work)
    results.sort(key=lambda cluster: (-cluster.score, cluster.members))
    return results


def _mean_pair_score(score, members: np.ndarray) -> float:
    """A cluster's score: its members' average pair score with each other (rounded as stored)."""
    sub = np.asarray(score(members, members), dtype=np.float64)
    size = len(members)
    return round(float((sub.sum() - np.trace(sub)) / (size * (size - 1))), 4)


def _join_must_links(flat: np.ndarray, where: dict[int, int], must: set[Pair], cannot: set[Pair]) -> np.ndarray:
    """Flat groups joined along must-link pairs the linkage left apart (a member alike to one of a group but not to
    the rest), unless the joined group would hold a cannot-link pair."""
    flat = np.asarray(flat).copy()
    for a, b in sorted(must):
        if a not in where or b not in where or flat[where[a]] == flat[where[b]]:
            continue
        first, second = flat[where[a]], flat[where[b]]
        joined = {m for m, k in where.items() if flat[k] in (first, second)}
        if any(x in joined and y in joined for x, y in cannot):
            continue
        flat[flat == second] = first
    return flat


def _groups(labels: Iterable[int]) -> list[list[int]]:
    grouped: dict[int, list[int]] = {}
    for position, label in enumerate(labels):
        grouped.setdefault(int(label), []).append(position)
    return list(grouped.values())
