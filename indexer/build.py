"""Turn a set of articles into a published generation, embedding only what
is new.

Every write path (a full build, `add`, `remove`, `sync`) comes down to
`publish_articles`: decide the complete article set of the next generation,
diff it against the live one by content hash, chunk, fetch cached vectors,
embed the rest, write a new generation and switch to it.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from indexer.chunking import ChunkingConfig, chunk_article
from indexer.embedding import DEFAULT_MODEL, Embedder
from indexer.faults import checkpoint
from indexer.models import Article, Page, article_embed_text, embedding_key
from indexer.store import IndexError_, IndexStore

ProgressFactory = Callable[[int, str], "object"]


@dataclass
class BuildReport:
    generation: str | None = None
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    passages: int = 0
    embedded: int = 0
    reused: int = 0
    seconds: float = 0.0
    published: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        verb = f"published {self.generation}" if self.published else "nothing to publish"
        return (f"{len(self.added)} added, {len(self.updated)} updated, {self.unchanged} unchanged, "
                f"{len(self.removed)} removed; {self.passages} passages "
                f"({self.embedded} embedded, {self.reused} reused); {verb} in {self.seconds:.1f}s")


def _progress_bar(total: int, label: str):
    """A tqdm bar on an interactive terminal, a quiet no-op elsewhere."""
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=label, unit="passage", disable=not sys.stderr.isatty() or total < 64)


def _encoded(embedder: Embedder, batches: list[list[str]], batch_size: int):
    """(batch number, vectors) for each batch. A local model runs one batch
    at a time, in order; an embedder with `encode_batches` (a cluster,
    indexer.distributed) gets them all at once and yields each as it
    finishes, in any order."""
    encode_batches = getattr(embedder, "encode_batches", None)
    if encode_batches is not None:
        yield from encode_batches(batches, batch_size=batch_size)
        return
    for number, texts in enumerate(batches):
        yield number, embedder.encode(texts, batch_size=batch_size)


def embed_texts(texts: Sequence[str], embedder: Embedder, store: IndexStore, label: str = "embedding",
                batch_size: int = 64, progress: ProgressFactory = _progress_bar) -> tuple[np.ndarray, int]:
    """Vectors for `texts` in order: from the cache where the same text was
    embedded before by the same model, otherwise from the model (and cached).
    Returns the matrix and how many texts the model had to embed."""
    cache = store.embedding_cache(embedder.dimension)
    try:
        keys = [embedding_key(embedder.name, t) for t in texts]
        found = cache.get_many(keys)
        text_of = dict(zip(keys, texts))
        # Longest first: batches of similar length waste less padding.
        missing = sorted((k for k in dict.fromkeys(keys) if k not in found),
                         key=lambda k: len(text_of[k]), reverse=True)
        batches = [missing[start:start + batch_size] for start in range(0, len(missing), batch_size)]
        bar = progress(len(missing), label)
        results = _encoded(embedder, [[text_of[k] for k in b] for b in batches], batch_size)
        try:
            for number, vectors in results:
                batch = batches[number]
                new = dict(zip(batch, vectors))
                cache.put_many(new)  # saved per batch: an interrupted build keeps its work
                found.update(new)
                bar.update(len(batch))
                checkpoint("embedding")
        finally:
            results.close()  # a cluster cancels what is still running
            bar.close()
        matrix = np.stack([found[k] for k in keys]) if keys else \
            np.zeros((0, embedder.dimension), dtype=np.float32)
        return matrix.astype(np.float32, copy=False), len(missing)
    finally:
        cache.close()


def publish_articles(store: IndexStore, articles: Sequence[Article], pages: Sequence[Page],
                     embedder: Embedder | Callable[[], Embedder],
                     chunking: ChunkingConfig = ChunkingConfig(),
                     force: bool = False, progress: ProgressFactory = _progress_bar) -> BuildReport:
    """Make `articles` (the complete set) the next live generation.

    Call while holding `store.lock()`. If nothing differs from the live
    generation, nothing is published unless `force`. `embedder` may be a
    loader, called only when there is something to embed (loading costs
    seconds).
    """
    started = time.perf_counter()
    report = BuildReport()
    try:
        live = store.open_current()
        old_hashes, live_model = live.article_hashes(), live.model
        live.close()
    except IndexError_:
        old_hashes, live_model = {}, None
    new_ids = set()
    for article in articles:
        new_ids.add(article.id)
        old = old_hashes.get(article.id)
        if old is None:
            report.added.append(article.id)
        elif old != article.content_hash():
            report.updated.append(article.id)
        else:
            report.unchanged += 1
    report.removed = sorted(set(old_hashes) - new_ids)
    wanted_model = embedder.name if hasattr(embedder, "encode") else DEFAULT_MODEL
    if not (report.changed or force or live_model != wanted_model):
        report.seconds = time.perf_counter() - started
        return report
    if callable(embedder) and not hasattr(embedder, "encode"):
        embedder = embedder()

    ordered = sorted(articles, key=lambda a: a.id)
    passages = [p for article in ordered for p in chunk_article(article, chunking)]
    vectors, embedded = embed_texts([p.embed_text for p in passages], embedder, store,
                                    "embedding passages", progress=progress)
    article_vectors, embedded_articles = embed_texts([article_embed_text(a) for a in ordered], embedder,
                                                     store, "embedding articles", progress=progress)
    writer = store.new_generation(embedder.name, embedder.dimension)
    try:
        writer.write(ordered, pages, passages, vectors, article_vectors,
                     extra={"chunking": {"max_words": chunking.max_words,
                                         "overlap_sentences": chunking.overlap_sentences}})
        store.publish(writer)
    except BaseException:  # includes Ctrl-C: drop the half-written generation now
        store.discard(writer)
        raise
    report.generation = writer.name
    report.passages, report.reused = len(passages), len(passages) - embedded
    report.embedded = embedded + embedded_articles
    report.published = True
    report.seconds = time.perf_counter() - started
    return report
