"""The map of query vectors kept for questions asked again: an LRU keyed
by model name and text, one model call for what it lacks (a counting fake
model here); and on the real model and index, a repeated search answers
from it with exactly the first answer."""
import numpy as np
import pytest

from search_app.search.query_vectors import QueryVectors
from search_app.search.searcher import Searcher


class CountingModel:
    def __init__(self, name="model-a"):
        self.name, self.calls = name, []

    def encode(self, texts):
        self.calls.append(list(texts))
        return np.array([[float(len(t)), float(sum(map(ord, t)))] for t in texts], dtype=np.float32)


def test_a_repeat_is_answered_without_the_model_and_rows_keep_their_order():
    model, kept = CountingModel(), QueryVectors(10)
    first = kept.encode(model, ["heart attack", "chest pain"])
    again = kept.encode(model, ["chest pain", "heart attack"])
    assert model.calls == [["heart attack", "chest pain"]]
    assert np.array_equal(again, first[::-1])
    assert (kept.hits, kept.misses) == (2, 2)


def test_only_the_missing_texts_go_to_the_model_in_one_call_once_each():
    model, kept = CountingModel(), QueryVectors(10)
    kept.encode(model, ["a valve"])
    kept.encode(model, ["a valve", "leaky valve", "leaky valve"])
    assert model.calls == [["a valve"], ["leaky valve"]]


def test_the_least_recently_used_goes_first_when_full():
    model, kept = CountingModel(), QueryVectors(2)
    kept.encode(model, ["one"])
    kept.encode(model, ["two"])
    kept.encode(model, ["one"])          # "one" is now the most recent
    kept.encode(model, ["three"])        # so "two" goes
    assert len(kept) == 2
    kept.encode(model, ["one"])
    kept.encode(model, ["two"])
    assert model.calls == [["one"], ["two"], ["three"], ["two"]]


def test_another_model_never_reads_these_vectors():
    first, second, kept = CountingModel("model-a"), CountingModel("model-b"), QueryVectors(10)
    kept.encode(first, ["murmur"])
    kept.encode(second, ["murmur"])
    assert second.calls == [["murmur"]]


def test_capacity_zero_keeps_nothing_and_kept_vectors_cannot_be_changed():
    model, off = CountingModel(), QueryVectors(0)
    off.encode(model, ["x"])
    off.encode(model, ["x"])
    assert len(model.calls) == 2 and len(off) == 0
    kept = QueryVectors(4)
    kept.encode(CountingModel(), ["x"])
    stored = next(iter(kept._vectors.values()))
    with pytest.raises(ValueError):
        stored[0] = 1.0


@pytest.mark.heavy
def test_a_repeated_search_answers_from_the_map_with_the_same_result(medquad_searcher):
    live = medquad_searcher
    searcher = Searcher(live.settings, live.searcher.glossary, QueryVectors(16))
    generation = live.generation
    embedder = live.index.embedder_for(generation)
    query = "water pills for a weak heart"     # the glossary expands it: two texts
    first = searcher.search(generation, embedder, query, k=10)
    assert first.plan.dense_text != first.plan.corrected
    misses = searcher.query_vectors.misses
    second = searcher.search(generation, embedder, query, k=10)
    assert searcher.query_vectors.misses == misses and searcher.query_vectors.hits >= 2
    assert [(h.passage.id, h.score, h.similarity) for h in second.hits] == \
        [(h.passage.id, h.score, h.similarity) for h in first.hits]
    unkept = Searcher(live.settings, live.searcher.glossary).search(generation, embedder, query, k=10)
    assert [h.passage.id for h in unkept.hits] == [h.passage.id for h in first.hits]
