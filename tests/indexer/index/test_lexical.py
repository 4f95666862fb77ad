"""indexer/index/lexical.py: BM25 postings of one segment, scored with the
whole generation's statistics. Synthetic stems, no model."""
from __future__ import annotations

import math

import numpy as np
import pytest

from indexer.index.lexical import (BM25_B, BM25_K1, LexicalIndex, inverse_document_frequencies, top_k,
                                   write_lexical_index)

DOCUMENTS = [
    (["heart", "valv", "leak"], []),                      # 0
    (["heart", "attack", "chest", "pain", "heart"], []),  # 1
    (["ankl", "swell"], ["edema"]),                       # 2
    (["valv", "replac", "surgeri", "valv"], ["heart"]),   # 3
]


@pytest.fixture
def index(tmp_path):
    path = tmp_path / "lexical.npz"
    tokens = write_lexical_index(path, DOCUMENTS)
    assert tokens == sum(len(body) + len(syn) for body, syn in DOCUMENTS)
    return LexicalIndex(path)


def bm25(frequency: float, length: float, average: float, idf: float, k1=BM25_K1, b=BM25_B) -> float:
    return idf * frequency * (k1 + 1) / (frequency + k1 * (1 - b + b * length / average))


def test_postings_round_trip(index):
    assert index.document_frequency("heart") == 3        # body of 0 and 1, synonyms of 3
    assert index.document_frequency("valv") == 2
    assert index.document_frequency("nowhere") == 0
    assert list(index.lengths) == [3, 5, 3, 5]


def test_scores_are_bm25_with_synonyms_at_half_weight(index):
    average = float(np.mean(index.lengths))
    idf = inverse_document_frequencies(["valv"], [index], passages=4)
    assert idf["valv"] == pytest.approx(math.log((4 - 2 + 0.5) / (2 + 0.5)) or 1e-6)
    scores = index.scores(idf, average)
    assert scores[0] == pytest.approx(bm25(1, 3, average, idf["valv"]))
    assert scores[3] == pytest.approx(bm25(2, 5, average, idf["valv"]))
    assert scores[1] == scores[2] == 0
    # "heart" is a synonym of passage 3 only: half a body occurrence
    heart = {"heart": 1.0}
    assert index.scores(heart, average)[3] == pytest.approx(bm25(0.5, 5, average, 1.0))


def test_a_word_in_more_than_half_the_passages_keeps_a_tiny_positive_weight(index):
    idf = inverse_document_frequencies(["heart", "ankl", "nowhere"], [index], passages=4)
    assert idf["heart"] == 1e-6          # 3 of 4 passages: log(1.5/3.5) < 0, floored
    assert idf["ankl"] > 0
    assert "nowhere" not in idf


def test_k1_and_b_are_the_searchers_to_set(index):
    idf = {"heart": 1.0}
    average = float(np.mean(index.lengths))
    no_length = index.scores(idf, average, b=0.0)
    assert no_length[1] == pytest.approx(bm25(2, 5, average, 1.0, b=0.0))
    saturated = index.scores(idf, average, k1=0.0)
    assert saturated[0] == pytest.approx(saturated[1]) == pytest.approx(1.0)  # k1 = 0: presence only


def test_statistics_summed_over_segments_rank_like_one_segment(tmp_path):
    whole_path, first_path, second_path = (tmp_path / f"{n}.npz" for n in ("whole", "first", "second"))
    write_lexical_index(whole_path, DOCUMENTS)
    write_lexical_index(first_path, DOCUMENTS[:2])
    write_lexical_index(second_path, DOCUMENTS[2:])
    whole, parts = LexicalIndex(whole_path), [LexicalIndex(first_path), LexicalIndex(second_path)]
    terms = ["valv", "heart", "swell"]
    average = float(np.mean(whole.lengths))
    together = whole.scores(inverse_document_frequencies(terms, [whole], 4), average)
    idf = inverse_document_frequencies(terms, parts, 4)
    split = np.concatenate([part.scores(idf, average) for part in parts])
    assert np.allclose(together, split)


def test_top_k_best_first_positive_only_ties_by_lower_id():
    scores = np.array([0.0, 2.0, 5.0, 2.0, -1.0, 5.0])
    assert list(top_k(scores, 10)) == [2, 5, 1, 3]
    assert list(top_k(scores, 3)) == [2, 5, 1]
    assert list(top_k(np.zeros(4), 3)) == []
