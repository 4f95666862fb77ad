"""LiveIndex without the model: generations embedded by a tiny hash embedder."""
import hashlib

import numpy as np
import pytest

from indexer.build import publish_articles
from indexer.index import IndexStore
from indexer.models import Article
from search_app.search.live_index import IndexMismatch, LiveIndex, first_intact, index_model


class HashEmbedder:
    name, dimension, max_tokens = "test-hash-8", 8, 256

    def encode(self, texts, **kwargs):
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:8], dtype=np.uint8).astype(np.float32) + 1
                for t in texts]
        vectors = np.array(rows, dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


class Wider(HashEmbedder):
    name, dimension = "test-hash-16", 16

    def encode(self, texts, **kwargs):
        half = super().encode(texts, **kwargs)
        return np.hstack([half, half]) / np.sqrt(2)


def publish(store: IndexStore, *ids: str, embedder=HashEmbedder()) -> None:
    articles = [Article(id=i, title=f"About {i}", text=f"The heart valve {i} leaks a little.") for i in ids]
    with store.lock():
        publish_articles(store, articles, [], embedder)


def test_first_intact_takes_the_first_that_opens():
    def open_one(name):
        if name in ("a", "b"):
            raise ValueError(name)
        return name.upper()

    assert first_intact(["a", "b", "c", "d"], open_one, (ValueError,)) == "C"
    assert first_intact(["a", "b"], open_one, (ValueError,)) is None


def test_follows_current_and_keeps_each_generations_contents(tmp_path):
    store = IndexStore(tmp_path / "index")
    publish(store, "one")
    live = LiveIndex(store, HashEmbedder(), reload_interval=0)
    first = live.generation
    assert [a.id for a in live.contents(first).articles] == ["one"]
    assert live.embedder_for(first).name == HashEmbedder.name
    publish(store, "one", "two")
    second = live.generation
    assert second.identity != first.identity
    assert sorted(live.contents(second).by_id) == ["one", "two"]
    assert live.contents(second).passage_counts["two"] >= 1


def test_an_index_of_another_dimension_is_refused_naming_the_fix(tmp_path):
    store = IndexStore(tmp_path / "index")
    publish(store, "one", embedder=Wider())
    with pytest.raises(IndexMismatch, match="test-hash-16.*rebuild it with"):
        LiveIndex(store, HashEmbedder())


def test_index_model_is_none_for_a_model_this_code_does_not_know(tmp_path):
    store = IndexStore(tmp_path / "index")
    assert index_model(store) is None  # nothing published
    publish(store, "one")
    assert index_model(store) is None  # test-hash-8 is not in indexer.embedding.MODELS
