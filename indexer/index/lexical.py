"""The lexical (BM25) index of one segment: postings in numpy arrays.

Why not SQLite FTS5 (what this used to be): FTS5 scores every passage that
holds any query word, in C but one row at a time, and reader queries with
common words ("heart") match nearly half the corpus, so it is slow exactly
on the usual queries; the same BM25 over numpy arrays (bm25s-style
`get_scores` + argpartition) scores all matches at once and is far faster
(figures: docs/performance.md, "Lexical index: numpy postings instead of
SQLite FTS5"). The quality is
identical: this computes FTS5's bm25() formula exactly, with FTS5's column
weights (body 1.0, synonyms 0.5), k1 = 1.2, b = 0.75 and its IDF floor.

Per segment, for each stemmed term: the local ids of the passages holding
it and its weighted frequency in each. Statistics that must span the whole
generation (document frequencies, passage count, average length) are
summed over segments at query time, so a generation of many segments
ranks exactly like one segment holding the same passages.
"""
from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Sequence

import numpy as np

BM25_K1, BM25_B = 1.2, 0.75  # defaults of every scoring function here and of Generation.lexical
BODY_WEIGHT, SYNONYM_WEIGHT = 1.0, 0.5


def write_lexical_index(path: Path, documents: Sequence[tuple[Sequence[str], Sequence[str]]]) -> int:
    """Write the postings of `documents` ((body stems, synonym stems) per
    passage, in local id order); returns the total number of tokens."""
    term_ids: dict[str, int] = {}
    triples: list[tuple[int, int, float]] = []
    lengths = np.zeros(len(documents), dtype=np.float32)
    for doc, (body, synonyms) in enumerate(documents):
        lengths[doc] = len(body) + len(synonyms)
        weighted: Counter[str] = Counter()
        for term, count in Counter(body).items():
            weighted[term] += BODY_WEIGHT * count
        for term, count in Counter(synonyms).items():
            weighted[term] += SYNONYM_WEIGHT * count
        for term, frequency in weighted.items():
            triples.append((term_ids.setdefault(term, len(term_ids)), doc, frequency))
    terms = sorted(term_ids, key=term_ids.get)
    order = sorted(range(len(triples)), key=lambda i: (triples[i][0], triples[i][1]))
    term_of = np.array([triples[i][0] for i in order], dtype=np.int64)
    offsets = np.searchsorted(term_of, np.arange(len(terms) + 1)).astype(np.int64)
    with open(path, "wb") as fh:
        np.savez(fh, terms=np.array(terms, dtype=str), offsets=offsets,
                 docs=np.array([triples[i][1] for i in order], dtype=np.int32),
                 frequencies=np.array([triples[i][2] for i in order], dtype=np.float32),
                 lengths=lengths)
    return int(lengths.sum())


class LexicalIndex:
    """A segment's postings, loaded once (about 8 bytes a posting)."""

    def __init__(self, path: Path):
        with np.load(path, allow_pickle=False) as data:
            self.offsets = data["offsets"]
            self.docs = data["docs"]
            self.frequencies = data["frequencies"]
            self.lengths = data["lengths"]
            self.term_index = {str(term): i for i, term in enumerate(data["terms"])}

    def document_frequency(self, term: str) -> int:
        i = self.term_index.get(term)
        return 0 if i is None else int(self.offsets[i + 1] - self.offsets[i])

    def scores(self, idf: dict[str, float], average_length: float, *,
               k1: float = BM25_K1, b: float = BM25_B) -> np.ndarray:
        """BM25 score of every local passage (0 where no term occurs); `k1`
        and `b` are the ranking knobs a searcher may set (defaults: FTS5's)."""
        scores = np.zeros(len(self.lengths), dtype=np.float64)
        for term, weight in idf.items():
            i = self.term_index.get(term)
            if i is None:
                continue
            start, end = self.offsets[i], self.offsets[i + 1]
            docs, frequency = self.docs[start:end], self.frequencies[start:end].astype(np.float64)
            norm = k1 * (1 - b + b * self.lengths[docs].astype(np.float64) / average_length)
            scores[docs] += weight * frequency * (k1 + 1) / (frequency + norm)
        return scores


def inverse_document_frequencies(terms: Sequence[str], indexes: Sequence[LexicalIndex],
                                 passages: int) -> dict[str, float]:
    """FTS5's IDF over all segments: log((N - n + 0.5) / (n + 0.5)), floored
    at 1e-6 for terms in more than half the passages."""
    idf = {}
    for term in terms:
        hits = sum(index.document_frequency(term) for index in indexes)
        if hits:
            value = math.log((passages - hits + 0.5) / (hits + 0.5))
            idf[term] = value if value > 0 else 1e-6
    return idf


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Local ids of the `k` best positive scores, best first (ties: lower id)."""
    candidates = np.flatnonzero(scores > 0)
    if len(candidates) > k:
        keep = np.argpartition(-scores[candidates], k - 1)[:k]
        candidates = candidates[keep]
    return candidates[np.lexsort((candidates, -scores[candidates]))]
