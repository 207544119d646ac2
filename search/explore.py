"""Explore a whole index: a 2-D map of the corpus, themes (k-means clusters with distinctive terms),
near-duplicate hits and hits grouped by the question they answer.

Maps and theme labels are computed once per index version and cached inside the version folder
(`derived/`): a published version never changes, so the cache can never go stale, and a rebuild
publishes a new folder that gets its own.
"""

from __future__ import annotations

import importlib.util
import math
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ingest import CounselSearchError, Passage
from search import derived
from search.engine import Searcher
from search.hits import Hit
from search.terms import distinctive_terms, tokens

# Cosine at or above which two passages count as near-duplicates. With MiniLM, a CounselChat
# answer with one word replaced scores 0.98 against the original (median), while different
# answers to one question peak at 0.94 (99% below 0.90) on the bundled sample.
NEAR_DUPLICATE_COSINE: float = 0.95
METHODS = ("auto", "pca", "umap")
# UMAP's neighbour graph says little about very small corpora, and PCA is instant there.
UMAP_MIN_PASSAGES = 50
DEFAULT_K_RULE = "k = round(sqrt(n / 2)), clamped to 2..30"
USER_K_RULE = "k chosen by the user"
MAX_TERMS = 8
_SEED = 0


class MapUnavailable(CounselSearchError):
    """The requested projection method cannot run here (e.g. umap-learn is not installed)."""


class UnknownMapMethod(CounselSearchError):
    """A map method other than auto, pca or umap."""


# -- the corpus as a table and as vectors ---------------------------------------------------


def passage_table(searcher: Searcher) -> list[dict[str, Any]]:
    """One dict per passage in index row order: id, doc_id, source, question, answer, position,
    topic, title and metadata ("topic" and "title" are "" when the metadata lacks them)."""
    return [
        {
            "id": p.id,
            "doc_id": p.doc_id,
            "source": p.source,
            "question": p.question,
            "answer": p.answer,
            "position": p.position,
            "topic": str(p.metadata.get("topic") or ""),
            "title": str(p.metadata.get("title") or ""),
            "metadata": dict(p.metadata),
        }
        for _, p in searcher.version.passages.all_passages()
    ]


def _mean_vectors(
    searcher: Searcher, chunks: Sequence[tuple[int, int]], rows: Sequence[int]
) -> np.ndarray:
    """L2-normalized mean of the window vectors of each row, row-aligned with `rows`."""
    out = np.zeros((len(rows), searcher.version.vectors.dim), dtype=np.float32)
    if not chunks:
        return out
    where = {r: i for i, r in enumerate(rows)}
    vectors = searcher.version.vectors.get(np.array([c for c, _ in chunks], dtype=np.int64))
    np.add.at(out, np.array([where[r] for _, r in chunks]), vectors)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return (out / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def embeddings(searcher: Searcher) -> tuple[list[str], np.ndarray]:
    """(passage ids, float32 matrix n x dim), row-aligned with passage_table.

    A passage's vector is the L2-normalized mean of its window vectors, so a long answer is
    placed by all of its text, not only by its opening window.
    """
    store = searcher.version.passages
    passages = store.all_passages()
    rows = [r for r, _ in passages]
    return [p.id for _, p in passages], _mean_vectors(searcher, store.all_chunks(), rows)


def _hit_vectors(searcher: Searcher, hits: Sequence[Hit]) -> tuple[np.ndarray, list[bool]]:
    """Mean-window vectors of the hits' passages, and whether each was found in this index."""
    store = searcher.version.passages
    rows_of = store.rows_of_ids([h.passage.id for h in hits])
    rows = list(dict.fromkeys(rows_of.values()))
    chunks = [(c, r) for c, r, _, _ in store.chunks_of(rows)]
    by_row = dict(zip(rows, _mean_vectors(searcher, chunks, rows), strict=True))
    dim = searcher.version.vectors.dim
    found = [h.passage.id in rows_of for h in hits]
    out = [
        by_row[rows_of[h.passage.id]] if ok else np.zeros(dim)
        for h, ok in zip(hits, found, strict=True)
    ]
    return np.array(out, dtype=np.float32).reshape(len(hits), dim), found


# -- the corpus map -------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CorpusMap:
    """2-D coordinates of every passage, row-aligned with `ids` (and passage_table)."""

    method: str
    version: str
    ids: tuple[str, ...]
    xy: np.ndarray
    from_cache: bool = False  # loaded from <version>/derived/ rather than computed now

    def points(self) -> list[dict[str, Any]]:
        """[{"id", "x", "y"}] for each passage."""
        return [
            {"id": i, "x": float(x), "y": float(y)}
            for i, (x, y) in zip(self.ids, self.xy.tolist(), strict=True)
        ]


def umap_available() -> bool:
    """Whether umap-learn is installed (checked without importing it: numba is slow to load)."""
    return importlib.util.find_spec("umap") is not None


def _project_pca(x: np.ndarray) -> np.ndarray:
    """The first two principal components (zeros where the data has fewer dimensions)."""
    from sklearn.decomposition import PCA

    out = np.zeros((len(x), 2), dtype=np.float32)
    n_comp = min(2, len(x), x.shape[1]) if len(x) > 1 else 0
    if n_comp:
        # The full SVD is exact, so the map does not depend on a random state.
        out[:, :n_comp] = PCA(n_components=n_comp, svd_solver="full").fit_transform(x)
    return out


def _project_umap(x: np.ndarray) -> np.ndarray:
    """UMAP on cosine distance; a fixed random_state makes it deterministic (single-threaded)."""
    import umap

    # A fixed seed makes the map reproducible; it also means one thread (said explicitly, so
    # umap-learn does not warn about overriding n_jobs).
    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=min(15, len(x) - 1),
        metric="cosine",
        random_state=_SEED,
        n_jobs=1,
    )
    return np.asarray(reducer.fit_transform(x), dtype=np.float32)


def _map_method(method: str, n: int) -> str:
    if method not in METHODS:
        raise UnknownMapMethod(f"unknown map method {method!r}", f"use one of {', '.join(METHODS)}")
    if method == "auto":
        return "umap" if umap_available() and n >= UMAP_MIN_PASSAGES else "pca"
    if method == "umap" and not umap_available():
        raise MapUnavailable(
            "the UMAP map needs umap-learn, which is not installed",
            'install it with: pip install -e ".[umap]", or use the PCA map',
        )
    if method == "umap" and n < 4:
        raise MapUnavailable(f"UMAP needs at least 4 passages, this index has {n}", "use PCA")
    return method


def corpus_map(searcher: Searcher, method: str = "auto") -> CorpusMap:
    """2-D coordinates of every passage: "pca", "umap", or "auto" (UMAP when umap-learn is
    installed and the corpus has at least 50 passages, else PCA).

    Computed once per index version and cached in <version folder>/derived/map-<method>.npz;
    later calls, from any process, load it. Raises MapUnavailable for "umap" without umap-learn.
    """
    ids, x = embeddings(searcher)
    method = _map_method(method, len(ids))
    version = searcher.version.version
    path = derived.cache_path(searcher.version.folder, f"map-{method}.npz")
    cached = derived.load(path, ids)
    if cached is not None and cached.get("xy", np.empty(0)).shape == (len(ids), 2):
        return CorpusMap(method, version, tuple(ids), cached["xy"].astype(np.float32), True)
    xy = (_project_umap if method == "umap" else _project_pca)(x)
    derived.save(path, ids, xy=xy)
    return CorpusMap(method, version, tuple(ids), xy)


# -- themes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Theme:
    """One cluster of passages: its size, distinctive terms and most central passage."""

    cluster: int
    size: int
    terms: tuple[str, ...]
    central_id: str
    central_question: str
    central_answer: str
    by_topic: tuple[tuple[str, int], ...]
    by_source: tuple[tuple[str, int], ...]

    @property
    def label(self) -> str:
        """The first three terms, e.g. "anxiety · panic · breathing"."""
        return " · ".join(self.terms[:3])


@dataclass(frozen=True, eq=False)
class Themes:
    """A clustering of the whole index; themes ordered by size, cluster numbers in that order."""

    k: int
    rule: str
    version: str
    themes: tuple[Theme, ...]
    ids: tuple[str, ...]
    labels: np.ndarray
    from_cache: bool = False
    _where: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_where", {pid: i for i, pid in enumerate(self.ids)})

    def cluster_of(self, passage_id: str) -> int:
        """The cluster number of a passage; KeyError for an id not in the index."""
        return int(self.labels[self._where[passage_id]])


def _counts(values: Sequence[str]) -> tuple[tuple[str, int], ...]:
    counted = Counter(v or "(none)" for v in values)
    return tuple(sorted(counted.items(), key=lambda t: (-t[1], t[0])))


def default_k(n: int) -> int:
    """The number of themes for n passages: round(sqrt(n / 2)), clamped to 2..30."""
    return min(30, max(2, round(math.sqrt(max(n, 0) / 2))))


def _kmeans(x: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Cluster labels renumbered by size (largest first; ties by first passage), no gaps."""
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # Identical passages can leave fewer distinct points than k; the empty clusters are
        # dropped below instead of shown as themes of size 0.
        warnings.simplefilter("ignore", ConvergenceWarning)
        raw = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(x)
    sizes = np.bincount(raw, minlength=k)
    first = {int(c): i for i, c in reversed(list(enumerate(raw.tolist())))}
    order = sorted(first, key=lambda c: (-sizes[c], first[c]))
    renumber = {old: new for new, old in enumerate(order)}
    return np.array([renumber[int(c)] for c in raw], dtype=np.int32)


def themes(searcher: Searcher, k: int | None = None, seed: int = 0) -> Themes:
    """Cluster the whole index into k themes (k-means on passage vectors, n_init=4,
    random_state=seed); k defaults to default_k(n) and is clamped to 1..n.

    The labels are cached per version and k in <version folder>/derived/themes-k<k>.npz
    (themes-k<k>-s<seed>.npz for a seed other than 0).
    """
    ids, x = embeddings(searcher)
    n = len(ids)
    rule = USER_K_RULE if k is not None else DEFAULT_K_RULE
    want = k if k is not None else default_k(n)
    k = max(1, min(want, n)) if n else 0
    if n and k != want:
        rule += f" (clamped to {k}: the index has {n} passages)"
    version = searcher.version.version
    if not n:
        return Themes(0, rule, version, (), (), np.zeros(0, dtype=np.int32))
    name = f"themes-k{k}.npz" if seed == 0 else f"themes-k{k}-s{seed}.npz"
    path = derived.cache_path(searcher.version.folder, name)
    cached = derived.load(path, ids)
    from_cache = cached is not None and cached.get("labels", np.empty(0)).shape == (n,)
    if from_cache:
        labels = cached["labels"].astype(np.int32)
    else:
        labels = _kmeans(x, k, seed)
        derived.save(path, ids, labels=labels)
    table = passage_table(searcher)
    n_themes = int(labels.max()) + 1
    docs = [tokens(f"{p['question']}\n{p['answer']}") for p in table]
    terms = distinctive_terms(docs, labels, n_themes, MAX_TERMS)
    out = []
    for c in range(n_themes):
        members = np.flatnonzero(labels == c)
        centroid = x[members].mean(axis=0)
        # Vectors are normalized, so the largest dot product is also the smallest distance.
        central = table[int(members[int(np.argmax(x[members] @ centroid))])]
        out.append(
            Theme(
                cluster=c,
                size=len(members),
                terms=tuple(terms[c]),
                central_id=central["id"],
                central_question=central["question"],
                central_answer=central["answer"],
                by_topic=_counts([table[i]["topic"] for i in members]),
                by_source=_counts([table[i]["source"] for i in members]),
            )
        )
    return Themes(n_themes, rule, version, tuple(out), tuple(ids), labels, from_cache)


# -- grouping hits --------------------------------------------------------------------------


@dataclass(frozen=True)
class HitGroup:
    """A hit and the later hits that are near-duplicates of it."""

    lead: Hit
    duplicates: tuple[Hit, ...] = ()


def group_near_duplicates(
    searcher: Searcher, hits: Sequence[Hit], threshold: float | None = None
) -> list[HitGroup]:
    """Fold each hit into the first earlier lead whose passage vector has cosine >= threshold
    (default NEAR_DUPLICATE_COSINE) with its own; order is kept, leads are first occurrences."""
    threshold = NEAR_DUPLICATE_COSINE if threshold is None else threshold
    if not hits:
        return []
    vectors, found = _hit_vectors(searcher, hits)
    leads: list[int] = []
    members: dict[int, list[Hit]] = {}
    for i, hit in enumerate(hits):
        if found[i] and leads:
            # A passage missing from this index has no vector: it only ever leads its own group.
            cos = vectors[leads] @ vectors[i]
            close = [
                j for j, c in zip(leads, cos.tolist(), strict=True) if found[j] and c >= threshold
            ]
            if close:
                members[close[0]].append(hit)
                continue
        leads.append(i)
        members[i] = []
    return [HitGroup(hits[i], tuple(members[i])) for i in leads]


@dataclass(frozen=True)
class QuestionCard:
    """One question, the hits that answer it, and every answer to it in the index."""

    question: str
    hits: tuple[Hit, ...]
    answers: tuple[Passage, ...]


def question_cards(searcher: Searcher, hits: Sequence[Hit]) -> list[QuestionCard]:
    """Hits answering the same question (one store group) as one card, placed at the rank of
    its best hit, carrying all the question's answers in position order; a hit whose question
    has one answer is a card of one."""
    store = searcher.version.passages
    ordered = sorted(hits, key=lambda h: h.rank)  # stable: equal ranks keep the given order
    rows_of = store.rows_of_ids([h.passage.id for h in ordered])
    groups = store.siblings(list(rows_of.values()))
    cards: dict[object, list[Hit]] = {}
    for hit in ordered:
        row = rows_of.get(hit.passage.id)
        # Siblings list members in row order and the group id is its first row.
        key: object = groups[row][0] if row in groups else ("alone", hit.passage.id)
        cards.setdefault(key, []).append(hit)
    passages = store.by_rows(sorted({r for ms in groups.values() for r in ms}))
    out = []
    for key, card_hits in cards.items():
        lead = card_hits[0]
        if isinstance(key, int):
            members = sorted(groups[key], key=lambda r: (passages[r].position, r))
            answers = tuple(passages[r] for r in members)
        else:
            answers = (lead.passage,)
        out.append(QuestionCard(lead.passage.question, tuple(card_hits), answers))
    return out
