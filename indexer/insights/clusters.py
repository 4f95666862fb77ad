"""Unanswered questions grouped by meaning, for the insights report.

The report is an editor's request (the command, the editors' page), never a
reader's search, so the vectors of the logged queries are computed here and
not on the request path. They are kept in the log's `query_vectors` table,
keyed by (model, text), so a second report embeds only what is new (the
log's retention deletes a text's vector with its last search, so the cache
never keeps a reader's words longer than the log does).

How the questions are grouped (measured in docs/privacy.md, "What the report
shows"):

1. every distinct no-good-match text is embedded with the live generation's
   model (L2-normalised, so inner product is cosine similarity);
2. FAISS (`IndexFlatIP`, exact) finds, for each text, the texts within
   cosine >= `THRESHOLD` (`range_search`): the neighbour graph;
3. average linkage over that graph: the two groups with the highest mean
   pairwise cosine are merged while that mean is >= `THRESHOLD`. The mean of
   two groups' pairwise cosines is the dot product of their vector sums over
   the product of their sizes, so no pair is ever recomputed, and two groups
   can only reach the threshold on average if some pair of theirs does, so
   the graph holds every candidate merge. Single linkage (connected
   components of the graph, `components`) chained different questions
   together on the dev queries and is kept only for that comparison.

Each group's best current article is the article whose vector has the
highest mean cosine with the group's searches (each search counted once):
by linearity that is a search of the count-weighted mean of their vectors,
and the score FAISS returns is that mean cosine.
"""
from __future__ import annotations

import heapq
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import faiss
import numpy as np

from indexer.insights.log import connect
from indexer.text import content_words
from indexer.titles import display_title

THRESHOLD = 0.66   # cosine; measured on the dev queries and paraphrases (docs/privacy.md)
MAX_WORDS = 4      # words shown when a group is worded by its common words

ASKED, ARTICLE, WORDS = "asked", "article", "words"


@dataclass
class Cluster:
    """One group of unanswered searches. `wording` obeys the k rule:
    `wording_from` says whether it is a text asked >= k times ("asked"), the
    nearest article's title ("article") or words found in >= k of the
    group's searches ("words"; empty when no word is that common)."""
    count: int
    wording: str
    wording_from: str
    best_article_id: str | None
    best_title: str | None
    best_similarity: float | None


# ------------------------------------------------------------------ grouping

def neighbour_pairs(vectors: np.ndarray, threshold: float = THRESHOLD) -> list[tuple[int, int, float]]:
    """(i, j, cosine) with i < j for every pair within `threshold`: exact,
    because an approximate index would lose exactly the borderline pairs
    the threshold is about, and a report's distinct texts are few."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(vectors) < 2:
        return []
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    lims, scores, ids = index.range_search(vectors, float(threshold))
    pairs = []
    for i in range(len(vectors)):
        for score, j in zip(scores[lims[i]:lims[i + 1]], ids[lims[i]:lims[i + 1]]):
            if i < j:
                pairs.append((i, int(j), float(score)))
    return pairs


def components(n: int, pairs: Sequence[tuple[int, int, float]]) -> list[list[int]]:
    """Single linkage: the connected components of the neighbour graph
    (union-find with path halving), each sorted, in order of first member."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, _ in pairs:
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def average_linkage(vectors: np.ndarray, pairs: Sequence[tuple[int, int, float]],
                    threshold: float = THRESHOLD) -> list[list[int]]:
    """Average linkage restricted to the neighbour graph (module docstring):
    groups each sorted, in order of first member."""
    vectors = np.asarray(vectors, dtype=np.float64)
    sums = {i: vectors[i].copy() for i in range(len(vectors))}
    members = {i: [i] for i in range(len(vectors))}
    adjacent: dict[int, set[int]] = {i: set() for i in range(len(vectors))}
    heap: list[tuple[float, int, int]] = []
    for i, j, score in pairs:
        adjacent[i].add(j)
        adjacent[j].add(i)
        heap.append((-score, i, j))
    heapq.heapify(heap)
    next_id = len(vectors)
    while heap:
        negative, a, b = heapq.heappop(heap)
        if a not in members or b not in members:  # one side was merged since: stale
            continue
        merged = next_id
        next_id += 1
        sums[merged] = sums.pop(a) + sums.pop(b)
        members[merged] = members.pop(a) + members.pop(b)
        adjacent[merged] = (adjacent.pop(a) | adjacent.pop(b)) - {a, b}
        for other in adjacent[merged]:
            adjacent[other] -= {a, b}
            adjacent[other].add(merged)
            mean = float(sums[merged] @ sums[other]) / (len(members[merged]) * len(members[other]))
            if mean >= threshold:
                heapq.heappush(heap, (-mean, min(merged, other), max(merged, other)))
    return sorted((sorted(group) for group in members.values()), key=lambda group: group[0])


# ------------------------------------------------------------------ vectors

def query_vectors(log_path: Path, texts: Sequence[str], embedder, dimension: int) -> np.ndarray:
    """Vectors of `texts` (rows in order): from the log's cache where
    present, the model for the rest, which are then cached. A log that
    cannot be written (read-only, locked, full disk) only costs the cache:
    the report still comes out."""
    found: dict[str, np.ndarray] = {}
    try:
        db = connect(log_path, readonly=True)
        try:
            for start in range(0, len(texts), 500):
                chunk = list(texts[start:start + 500])
                marks = ",".join("?" * len(chunk))
                for text, blob in db.execute(f"SELECT query, vector FROM query_vectors WHERE model = ? "
                                             f"AND query IN ({marks})", [embedder.name, *chunk]):
                    if len(blob) == 4 * dimension:  # a damaged row is simply embedded again
                        found[text] = np.frombuffer(blob, dtype=np.float32)
        finally:
            db.close()
    except sqlite3.Error:
        pass
    missing = [t for t in dict.fromkeys(texts) if t not in found]
    if missing:
        new = np.asarray(embedder.encode(missing, batch_size=32), dtype=np.float32)
        found.update(zip(missing, new))
        _store(log_path, embedder.name, dict(zip(missing, new)))
    return np.vstack([found[t] for t in texts]) if texts else np.zeros((0, dimension), np.float32)


def _store(log_path: Path, model: str, vectors: dict[str, np.ndarray]) -> None:
    """Cache new vectors; the log's retention deletes them with the last
    search of their text (indexer/insights/log.py)."""
    try:
        db = connect(log_path)
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR REPLACE INTO query_vectors VALUES (?, ?, ?)",
                           [(model, t, np.asarray(v, np.float32).tobytes()) for t, v in vectors.items()])
            db.execute("COMMIT")
        finally:
            db.close()
    except (sqlite3.Error, OSError):
        pass


# ------------------------------------------------------------------ clusters

def unanswered_clusters(unanswered: dict[str, int], asked: dict[str, int], vectors: np.ndarray,
                        generation, k: int, threshold: float = THRESHOLD) -> list[Cluster]:
    """`unanswered`: no-good-match searches per distinct text (rows of
    `vectors` in that order); `asked`: all searches per text, which decides
    the k rule. Largest groups first."""
    texts = list(unanswered)
    groups = average_linkage(vectors, neighbour_pairs(vectors, threshold), threshold)
    counts = np.array([unanswered[t] for t in texts], dtype=np.float64)
    if not groups:
        return []
    means = np.vstack([(counts[g, None] * vectors[g]).sum(0) / counts[g].sum() for g in groups])
    scores, nums = generation.search_articles(means.astype(np.float32), 1)
    ids, titles = generation.article_ids, {num: title for num, title, _, _ in generation.article_rows()}
    clusters = []
    for group, score, num in zip(groups, scores[:, 0], nums[:, 0]):
        members = [texts[i] for i in group]
        article = int(num) if 0 <= num < len(ids) and ids[num] is not None else None
        title = (display_title(titles.get(article, "")) or None) if article is not None else None
        wording, source = word_group(members, unanswered, asked, k, title)
        clusters.append(Cluster(count=int(sum(unanswered[t] for t in members)), wording=wording,
                                wording_from=source, best_article_id=ids[article] if article is not None else None,
                                best_title=title,
                                best_similarity=round(float(score), 4) if article is not None else None))
    return sorted(clusters, key=lambda c: (-c.count, -(c.best_similarity or 0.0), c.wording))


def word_group(members: Sequence[str], unanswered: dict[str, int], asked: dict[str, int], k: int,
               title: str | None) -> tuple[str, str]:
    """(wording, where it comes from) by the k rule: the group's most asked
    text if asked >= k times, else the content words found in >= k of the
    group's searches (what readers asked, as private under the k rule as a
    whole text), else the nearest article's title, which says what the
    corpus has near them but not what was asked."""
    often = [t for t in members if asked.get(t, 0) >= k]
    if often:
        return min(often, key=lambda t: (-asked[t], len(t), t)), ASKED
    uses = Counter()
    for text in members:
        for word in set(content_words(text)):
            uses[word] += unanswered[text]
    common = [w for w, n in sorted(uses.items(), key=lambda item: (-item[1], item[0])) if n >= k]
    if common:
        return " ".join(common[:MAX_WORDS]), WORDS
    return (title, ARTICLE) if title else ("", WORDS)
