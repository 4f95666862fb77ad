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
from indexer.index import IndexError_, IndexStore, SegmentContent, plan_merge, segment_content
from indexer.index.vectors import probe_texts

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
    merged: list[str] = field(default_factory=list)  # segments merged into one
    pages_added: list[str] = field(default_factory=list)
    pages_updated: list[str] = field(default_factory=list)
    pages_removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    @property
    def pages_changed(self) -> bool:
        return bool(self.pages_added or self.pages_updated or self.pages_removed)

    def _pages_summary(self) -> str:
        """"; pages: 1 updated" when a page changed, else nothing (the
        usual line stays as it was)."""
        if not self.pages_changed:
            return ""
        parts = [f"{len(ids)} {what}" for ids, what in ((self.pages_added, "added"),
                 (self.pages_updated, "updated"), (self.pages_removed, "removed")) if ids]
        return f"; pages: {', '.join(parts)}"

    def summary(self) -> str:
        verb = f"published {self.generation}" if self.published else "nothing to publish"
        if self.merged:
            verb += f" (merged {len(self.merged)} segments)"
        return (f"{len(self.added)} added, {len(self.updated)} updated, {self.unchanged} unchanged, "
                f"{len(self.removed)} removed{self._pages_summary()}; {self.passages} passages "
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


def _probe_vectors(embedder: Embedder, store: IndexStore) -> Callable[[], np.ndarray]:
    """Reader questions embedded by the model, for measuring an approximate
    index's recall (indexer.index.vectors); computed only if one is built."""
    def probes() -> np.ndarray:
        vectors, _ = embed_texts(probe_texts(), embedder, store, "embedding probe queries",
                                 progress=lambda total, label: _progress_bar(0, label))
        return vectors
    return probes


def _embedded_segment(articles: Sequence[Article], embedder: Embedder, store: IndexStore,
                      chunking: ChunkingConfig, progress: ProgressFactory) -> tuple[SegmentContent, int, int]:
    """Chunk and embed `articles` (cached vectors reused); returns the
    segment content and how many passages and articles the model had to
    embed."""
    passages = [p for article in articles for p in chunk_article(article, chunking)]
    vectors, embedded = embed_texts([p.embed_text for p in passages], embedder, store,
                                    "embedding passages", progress=progress)
    article_vectors, embedded_articles = embed_texts([article_embed_text(a) for a in articles], embedder,
                                                     store, "embedding articles", progress=progress)
    return SegmentContent(articles, passages, vectors, article_vectors), embedded, embedded_articles


def publish_articles(store: IndexStore, articles: Sequence[Article], pages: Sequence[Page],
                     embedder: Embedder | Callable[[], Embedder],
                     chunking: ChunkingConfig = ChunkingConfig(),
                     force: bool = False, progress: ProgressFactory = _progress_bar) -> BuildReport:
    """Make `articles` (the complete set) the next live generation.

    Call while holding `store.lock()`. If nothing differs from the live
    generation, nothing is published unless `force`. Otherwise only the
    added and edited articles are chunked and embedded, into one new
    segment; the live generation's other segments are reused as they are
    (indexer.index). `force`, a different model or different chunking
    rebuilds everything into one segment. `embedder` may be a loader,
    called only when there is something to embed (loading costs seconds).
    """
    started = time.perf_counter()
    report = BuildReport()
    try:
        live = store.open_current()
    except IndexError_:
        live = None
    try:
        return _publish(store, live, articles, pages, embedder, chunking, force, progress, report, started)
    finally:
        if live is not None:
            live.close()


def _diff_pages(old: Sequence[Page], new: Sequence[Page], report: BuildReport) -> None:
    """Which pages (disclaimers, page titles) were added, edited or dropped:
    they are not embedded, but readers see them, so a change is a change."""
    before = {p.id: p.shown() for p in old}
    after = {p.id: p.shown() for p in new}
    report.pages_added = sorted(set(after) - set(before))
    report.pages_updated = sorted(i for i in after if i in before and after[i] != before[i])
    report.pages_removed = sorted(set(before) - set(after))


def _publish_pages_only(store: IndexStore, live, pages: Sequence[Page], report: BuildReport,
                        started: float) -> BuildReport:
    """Only pages changed. They live in the manifest, so the next generation
    keeps every segment of the live one as it is: nothing is chunked,
    embedded or merged, and the model is not even loaded."""
    writer = store.new_generation(live.model, int(live.manifest["dimension"]))
    try:
        writer.keep(live)
        chunking = live.manifest.get("chunking")
        manifest = writer.finish(pages, extra={"chunking": chunking} if chunking is not None else None)
        store.publish(writer)
    except BaseException:  # includes Ctrl-C: drop the half-written generation now
        store.discard(writer)
        raise
    report.generation, report.published = writer.name, True
    report.passages = report.reused = manifest["passages"]
    report.seconds = time.perf_counter() - started
    return report


def _publish(store, live, articles, pages, embedder, chunking, force, progress, report, started) -> BuildReport:
    old_hashes = live.article_hashes() if live is not None else {}
    by_id = {a.id: a for a in articles}
    for article in articles:
        old = old_hashes.get(article.id)
        if old is None:
            report.added.append(article.id)
        elif old != article.content_hash():
            report.updated.append(article.id)
        else:
            report.unchanged += 1
    report.removed = sorted(set(old_hashes) - set(by_id))
    _diff_pages(live.pages() if live is not None else [], pages, report)
    live_model = live.model if live is not None else None
    wanted_model = embedder.name if hasattr(embedder, "encode") else DEFAULT_MODEL
    if not (report.changed or report.pages_changed or force or live_model != wanted_model):
        report.seconds = time.perf_counter() - started
        return report
    if not (report.changed or force or live_model != wanted_model):
        return _publish_pages_only(store, live, pages, report, started)
    if callable(embedder) and not hasattr(embedder, "encode"):
        embedder = embedder()
    chunk_settings = {"max_words": chunking.max_words, "overlap_sentences": chunking.overlap_sentences}
    incremental = (live is not None and not force and live.model == embedder.name
                   and live.manifest.get("chunking") == chunk_settings)
    probes = _probe_vectors(embedder, store)
    if incremental:
        to_embed = sorted((by_id[i] for i in report.added + report.updated), key=lambda a: a.id)
    else:
        to_embed = sorted(articles, key=lambda a: a.id)
    content, embedded, embedded_articles = _embedded_segment(to_embed, embedder, store, chunking, progress)
    writer = store.new_generation(embedder.name, embedder.dimension)
    try:
        if incremental:
            numbers = live.article_numbers()
            writer.keep(live, [numbers[i] for i in report.updated + report.removed])
            merge = plan_merge(writer)
            if merge.segments:
                merged = segment_content(merge.segments, writer.deleted)
                writer.drop_segments(merge.segments)
                if merged.articles:
                    writer.add_segment(merged, probes)
                report.merged = [s.name for s in merge.segments]
        if content.articles:
            writer.add_segment(content, probes)
        manifest = writer.finish(pages, extra={"chunking": chunk_settings})
        store.publish(writer)
    except BaseException:  # includes Ctrl-C: drop the half-written generation now
        store.discard(writer)
        raise
    report.generation = writer.name
    report.passages = manifest["passages"]
    report.embedded = embedded + embedded_articles
    report.reused = report.passages - embedded
    report.published = True
    report.seconds = time.perf_counter() - started
    return report
