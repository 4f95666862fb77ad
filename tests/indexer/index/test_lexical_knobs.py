"""BM25's k1 and b reach the scores through Generation.lexical."""
from __future__ import annotations

from indexer.index.lexical import BM25_B, BM25_K1
from indexer.text import stems
from tests.indexer.index.synthetic import synthetic_store


def test_k1_and_b_default_to_the_module_constants_and_change_the_scores(tmp_path):
    generation = synthetic_store(tmp_path / "index", articles=6).open_current()
    terms = stems("heart valve murmur cardiac syn3")
    default = generation.lexical(terms, 10)
    assert default and default == generation.lexical(terms, 10, k1=BM25_K1, b=BM25_B)
    flatter = generation.lexical(terms, 10, k1=0.5, b=0.0)
    assert {pid for pid, _ in flatter} == {pid for pid, _ in default}
    assert [score for _, score in flatter] != [score for _, score in default]
