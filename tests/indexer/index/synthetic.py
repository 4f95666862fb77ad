"""Small indexes written without a model: made-up articles with random unit
vectors, through the same writer and store the indexer uses."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from indexer.index import Generation, IndexStore, SegmentContent
from indexer.index.vectors import VectorIndexSettings
from indexer.models import Article, Page, Passage

DIMENSION = 8
MODEL = "synthetic"
WORDS = "heart valve blood pressure artery atrial fibrillation stroke cholesterol murmur".split()
PAGES = [Page("page-1", "Page one", "https://example.org/p", "not advice", "pages.md")]
SETTINGS = VectorIndexSettings()  # defaults: small segments get exact search


def unit_vectors(n: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, DIMENSION)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def article(i: int) -> Article:
    text = " ".join(WORDS[(i * 3 + j) % len(WORDS)] for j in range(10))
    return Article(id=f"art-{i}", title=f"Title {i}", text=text, kind="answer",
                   author="Dr Example" if i % 2 else None, source="Source" if i % 3 else None,
                   url=f"https://example.org/{i}", page="page-1" if i % 2 else None,
                   synonyms=("cardiac", f"syn{i}"), origin=f"articles.jsonl:{i}")


def passages_of(a: Article, count: int = 2) -> list[Passage]:
    return [Passage(a.id, k, f"{a.text} part {k}", f"{a.title}. {a.text} {k}", (f"{a.title}.", f"Part {k}."))
            for k in range(count)]


def content(articles: list[Article], seed: int = 0, vectors: np.ndarray | None = None) -> SegmentContent:
    passages = [p for a in articles for p in passages_of(a)]
    return SegmentContent(articles, passages, unit_vectors(len(passages), seed) if vectors is None else vectors,
                          unit_vectors(len(articles), seed + 1))


def publish(store: IndexStore, segment: SegmentContent, delete: list[str] = ()) -> Generation:
    """Publish a generation that keeps the live one (minus `delete`) and adds `segment`."""
    with store.lock():
        writer = store.new_generation(MODEL, DIMENSION)
        try:
            live = store.open_current()
        except Exception:
            live = None
        if live is not None:
            numbers = live.article_numbers()
            writer.keep(live, delete_articles=[numbers[a] for a in delete])
        writer.add_segment(segment, settings=SETTINGS)
        writer.finish(PAGES)
        store.publish(writer)
        return store.open_current()


def synthetic_store(root: Path, articles: int = 4) -> IndexStore:
    store = IndexStore(root)
    publish(store, content([article(i) for i in range(articles)]))
    return store
