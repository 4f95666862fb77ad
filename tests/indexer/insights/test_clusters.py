"""Unanswered questions grouped by meaning (indexer/insights/clusters.py):
the grouping itself on hand-made vectors (fast), then with the real model:
near-paraphrases together, unrelated questions apart, the best article a
real one of the index, and the vector cache."""
from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from indexer.insights.clusters import (ARTICLE, ASKED, THRESHOLD, WORDS, average_linkage, components,
                                       neighbour_pairs, word_group)
from indexer.insights.log import SEARCH_LOG
from indexer.insights.report import build_report, format_text
from indexer.index import IndexStore
from tests.indexer.insights.synthetic import rows, write_log

PARAPHRASES = ["fainting when pregnant", "passing out during pregnancy", "i keep fainting and i'm pregnant"]
UNRELATED = ["best football team", "my dog's heart murmur", "how to bake sourdough bread",
             "cheap flights to lisbon"]


# ------------------------------------------------------------------ fast: the grouping

def unit(*rows_) -> np.ndarray:
    v = np.array(rows_, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_union_find_gives_connected_components():
    assert components(6, [(0, 1, 0.9), (1, 2, 0.8), (4, 5, 0.7)]) == [[0, 1, 2], [3], [4, 5]]
    assert components(3, []) == [[0], [1], [2]]


def test_neighbours_are_the_pairs_within_the_threshold():
    v = unit([1, 0, 0], [0.9, 0.1, 0], [0, 1, 0])
    pairs = neighbour_pairs(v, 0.8)
    assert [(i, j) for i, j, _ in pairs] == [(0, 1)]
    assert pairs[0][2] == pytest.approx(float(v[0] @ v[1]), abs=1e-5)
    assert neighbour_pairs(v[:1], 0.8) == []


def test_average_linkage_refuses_the_chain_single_linkage_makes():
    # a ~ b and b ~ c within 0.7, but a and c (0.2 apart in meaning) are not:
    # single linkage puts all three together, average linkage does not.
    angle = np.arccos(0.75)
    v = unit([1, 0], [np.cos(angle), np.sin(angle)], [np.cos(2 * angle), np.sin(2 * angle)])
    pairs = neighbour_pairs(v, 0.7)
    assert components(3, pairs) == [[0, 1, 2]]
    assert len(average_linkage(v, pairs, 0.7)) == 2
    close = unit([1, 0, 0], [0.95, 0.05, 0], [0.9, 0.1, 0], [0, 0, 1])
    assert average_linkage(close, neighbour_pairs(close, 0.7), 0.7) == [[0, 1, 2], [3]]


def test_wording_follows_the_k_rule():
    unanswered = {"fainting when pregnant": 4, "passing out pregnant": 2, "pregnant and fainting a lot": 1}
    asked = {"fainting when pregnant": 5, "passing out pregnant": 2, "pregnant and fainting a lot": 1}
    assert word_group(list(unanswered), unanswered, asked, 3, "Title") == ("fainting when pregnant", ASKED)
    # no text asked k times: the words found in at least k of the group's searches, before a title
    assert word_group(list(unanswered), unanswered, asked, 6, "Title") == ("pregnant", WORDS)
    assert word_group(list(unanswered), unanswered, asked, 6, None) == ("pregnant", WORDS)
    # no word that often either: the nearest article's title
    assert word_group(list(unanswered), unanswered, asked, 8, "Title") == ("Title", ARTICLE)
    once = {text: 1 for text in unanswered}
    assert word_group(list(unanswered), unanswered, once, 5, None) == ("pregnant fainting", WORDS)
    assert word_group(["a lone reader's words"], {"a lone reader's words": 1}, {}, 3, None) == ("", WORDS)


# ------------------------------------------------------------------ the real model

def test_near_paraphrases_land_together_and_unrelated_questions_apart(embedder):
    texts = PARAPHRASES + UNRELATED
    groups = average_linkage(embedder.encode(texts), neighbour_pairs(embedder.encode(texts)))
    assert [0, 1, 2] in groups
    assert sorted(len(g) for g in groups) == [1, 1, 1, 1, 3]


class Counting:
    def __init__(self, embedder):
        self.inner, self.name, self.texts = embedder, embedder.name, []

    def encode(self, texts, batch_size=32, show_progress=False):
        self.texts += list(texts)
        return self.inner.encode(texts, batch_size=batch_size)


def test_clusters_in_the_report(writable_index, embedder):
    write_log(writable_index, [*rows(PARAPHRASES[0], 3, bad=True), *rows(PARAPHRASES[1], 2, bad=True),
                               *rows(PARAPHRASES[2], 1, bad=True),
                               *[r for text in UNRELATED for r in rows(text, 1, bad=True)],
                               *rows("leaky heart valve", 5)])
    counting = Counting(embedder)
    report = build_report(writable_index, None, 3, counting)
    assert sorted(counting.texts) == sorted(PARAPHRASES + UNRELATED)  # the answered ones are never embedded
    first = report.unanswered[0]
    assert (first.count, first.wording, first.wording_from) == (6, "fainting when pregnant", ASKED)
    assert [c.count for c in report.unanswered] == [6]     # groups under k are counted, not shown
    assert report.unanswered_in_small_groups == 4
    generation = IndexStore(writable_index).open_current()
    try:
        ids = set(generation.article_ids) - {None}
    finally:
        generation.close()
    for cluster in report.unanswered:
        assert cluster.best_article_id in ids and cluster.best_title
        assert -1.0 <= cluster.best_similarity < THRESHOLD  # these questions have no article here
    text = format_text(report)
    for lone in ("best football team", "heart murmur", "sourdough", "lisbon"):  # asked once each
        assert lone not in text.lower()
    assert "4 searches in groups of fewer than 3" in text

    again = Counting(embedder)
    assert build_report(writable_index, None, 3, again).unanswered == report.unanswered
    assert again.texts == []  # the second report reads the vectors the first one cached
    with sqlite3.connect(writable_index / SEARCH_LOG) as db:
        cached = {row[0] for row in db.execute("SELECT query FROM query_vectors WHERE model = ?", (embedder.name,))}
    assert cached == set(PARAPHRASES + UNRELATED)


def test_a_log_that_cannot_be_written_still_reports(writable_index, embedder, monkeypatch):
    """Read-only file, full disk, a writer holding the lock: only the cache is lost."""
    import indexer.insights.clusters as clusters
    write_log(writable_index, rows("fainting when pregnant", 3, bad=True))
    real = clusters.connect

    def refusing(path, *, readonly=False):
        if not readonly:
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return real(path, readonly=True)

    monkeypatch.setattr(clusters, "connect", refusing)
    report = build_report(writable_index, None, 3, embedder)
    assert report.unanswered[0].count == 3
    with sqlite3.connect(writable_index / SEARCH_LOG) as db:
        assert db.execute("SELECT count(*) FROM query_vectors").fetchone() == (0,)
