"""Turn a change to the index into a published generation, embedding only
what is new.

Every write path (`build`, `sync`, `add`, `remove`) comes down to `publish`:
the command says what changes (indexer.next_set: articles to write, ids to
delete, the page set), and this module diffs the written articles against
the live generation by content hash, chunks and embeds only the new and
edited ones (cached vectors reused), keeps every other live article in its
segment by reference, decides whether segments are merged, and publishes.

Why a change and not the complete article set: handing back every live
article unchanged meant reading all their text for a one-article edit.
`publish_articles` (the complete set, for tests and benchmarks) is the same
path with the change worked out from the live ids.

The live generation is opened once per command (`editing`) and passed
along: the model choice, the next set and the diff all read that one.
"""
from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from indexer.chunking import ChunkingConfig, chunk_article
from indexer.embedding import BUILD_MODEL, MODELS, Embedder, model_from_env
from indexer.faults import checkpoint
from indexer.models import Article, Page, article_embed_text, embedding_key
from indexer.index import (Generation, GenerationWriter, IndexCorrupt, IndexError_, IndexMissing, IndexStore,
                           SegmentContent, plan_merge, segment_content)
from indexer.index.vectors import VectorIndexSettings, probe_texts
from indexer.next_set import Change

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


class _Probes:
    """Reader questions embedded by the model, for measuring an approximate
    index's recall (indexer.index.vectors). Embedded once per publish and
    only when a segment is large enough to get an approximate index, then
    handed to the store as data: the store never calls back into the
    embedding."""

    def __init__(self, embedder: Embedder, store: IndexStore, settings: VectorIndexSettings):
        self.embedder, self.store, self.settings = embedder, store, settings
        self._vectors: np.ndarray | None = None

    def for_segment(self, content: SegmentContent) -> np.ndarray | None:
        if max(len(content.passages), len(content.articles)) < self.settings.ann_min_vectors:
            return None  # an exact index: nothing to measure
        if self._vectors is None:
            self._vectors, _ = embed_texts(probe_texts(), self.embedder, self.store, "embedding probe queries",
                                           progress=lambda total, label: _progress_bar(0, label))
        return self._vectors


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


# ------------------------------------------------------------------ one command's live generation

def _open_live(store: IndexStore, tolerate_damage: bool) -> tuple[Generation | None, str | None]:
    """The live generation (None: no index yet) and, when it is damaged but
    the command replaces the whole set, why it is started over. An add or
    remove cannot start over: it would lose what it cannot read."""
    try:
        return store.open_current(), None
    except IndexMissing:
        return None, None
    except IndexCorrupt as err:
        if not tolerate_damage:
            raise IndexCorrupt(f"{err}; rebuild the whole index first "
                               f"(`python -m indexer build PATH...`)") from None
        return None, f"{err}; building a complete new generation"


@contextlib.contextmanager
def editing(store: IndexStore, wait_seconds: float = 0.0, tolerate_damage: bool = False):
    """One writing command: hold the writer's lock, clean what a dead writer
    left, and open the live generation once; yields (generation or None,
    damage note or None). Pass the generation to `model_for` and `publish`."""
    with store.lock(wait_seconds):
        store.clean_leftovers()
        live, damage = _open_live(store, tolerate_damage)
        try:
            yield live, damage
        finally:
            if live is not None:
                live.close()


def model_for(flag: str | None, live: Generation | None) -> str:
    """The model to publish with: --model, else $HEARTSEARCH_MODEL (a bad
    one raises ValueError), else the live index's (an edit never silently
    re-embeds the index with another model), else BUILD_MODEL (a new index)."""
    requested = flag or model_from_env()
    if requested:
        return requested
    return live.model if live is not None and live.model in MODELS else BUILD_MODEL


@contextlib.contextmanager
def embedder_for(model: str, dask: str | None = None):
    """A lazy embedder for `model`: loaded only if something is embedded;
    on a Dask cluster (indexer.distributed, the only place Dask is imported)
    when `dask` names one. Lazy, not a bare loader: `publish` compares its
    name with the live index's before deciding there is nothing to do."""
    from indexer.embedding import LazyEmbedder
    if not dask:
        yield LazyEmbedder(model)
        return
    from indexer.distributed import cluster_embedder
    with cluster_embedder(dask, model=model) as loader:
        yield LazyEmbedder(model, loader)


# ------------------------------------------------------------------ publishing

def publish_articles(store: IndexStore, articles: Sequence[Article], pages: Sequence[Page],
                     embedder: Embedder,
                     chunking: ChunkingConfig = ChunkingConfig(),
                     force: bool = False, progress: ProgressFactory = _progress_bar) -> BuildReport:
    """Make `articles` (the complete set) the next live generation: `publish`
    with every other live article deleted. Call while holding `store.lock()`."""
    try:
        live = store.open_current()
    except IndexError_:
        live = None
    try:
        others = set(live.article_hashes()) - {a.id for a in articles} if live is not None else set()
        return publish(store, live, Change(write=list(articles), delete=others, pages=list(pages)),
                       embedder, chunking, force, progress)
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


def _diff(live: Generation | None, change: Change, report: BuildReport) -> dict[str, Article]:
    """Fill in what is added, updated, unchanged and removed (articles by
    content hash, from the live ids and hashes only) and the pages; returns
    the written articles by id."""
    old_hashes = live.article_hashes() if live is not None else {}
    written = {a.id: a for a in change.write}
    for article in written.values():
        old = old_hashes.get(article.id)
        if old is None:
            report.added.append(article.id)
        elif old != article.content_hash():
            report.updated.append(article.id)
        else:
            report.unchanged += 1
    report.removed = sorted((change.delete & old_hashes.keys()) - written.keys())
    gone = set(report.removed)
    report.unchanged += sum(1 for i in old_hashes if i not in written and i not in gone)
    _diff_pages(live.pages() if live is not None else [], change.pages, report)
    return written


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


def _merge_segments(writer: GenerationWriter, settings: VectorIndexSettings, probes: _Probes) -> list[str]:
    """Merge the segments the store's policy picks (`plan_merge`: too many,
    or too much of one deleted) into one; returns their names."""
    merge = plan_merge(writer)
    if not merge.segments:
        return []
    merged = segment_content(merge.segments, writer.deleted)
    writer.drop_segments(merge.segments)
    if merged.articles:
        writer.add_segment(merged, probes.for_segment(merged), settings)
    return [s.name for s in merge.segments]


def publish(store: IndexStore, live: Generation | None, change: Change,
            embedder: Embedder, chunking: ChunkingConfig = ChunkingConfig(),
            force: bool = False, progress: ProgressFactory = _progress_bar) -> BuildReport:
    """Make `live` (None: no index yet) with `change` applied the next live
    generation. Call while holding `store.lock()` (`editing`).

    If nothing differs, nothing is published unless `force`. Otherwise only
    the added and edited articles are chunked and embedded, into one new
    segment; the live segments are kept by reference with the edited and
    deleted articles marked deleted (indexer.index), and merged when the
    store's policy says so. `force`, a different model or different
    chunking rebuilds everything into one segment: only then is the text of
    live articles the change did not name read back. A model that
    takes seconds to load comes as a LazyEmbedder: it loads only when
    there is something to embed."""
    started = time.perf_counter()
    report = BuildReport()
    written = _diff(live, change, report)
    live_model = live.model if live is not None else None
    wanted_model = embedder.name
    if not (report.changed or report.pages_changed or force or live_model != wanted_model):
        report.seconds = time.perf_counter() - started
        return report
    if not (report.changed or force or live_model != wanted_model):
        return _publish_pages_only(store, live, change.pages, report, started)
    chunk_settings = {"max_words": chunking.max_words, "overlap_sentences": chunking.overlap_sentences}
    incremental = (live is not None and not force and live.model == embedder.name
                   and live.manifest.get("chunking") == chunk_settings)
    if incremental:
        to_embed = [written[i] for i in report.added + report.updated]
    else:
        # Live articles the change did not name: re-embedded too, so read back.
        untouched = report.unchanged - (len(written) - len(report.added) - len(report.updated))
        gone = set(report.removed)
        to_embed = list(written.values()) + ([a for a in live.articles() if a.id not in written and a.id not in gone]
                                             if untouched else [])
    to_embed.sort(key=lambda a: a.id)
    settings = VectorIndexSettings.from_env()
    probes = _Probes(embedder, store, settings)
    content, embedded, embedded_articles = _embedded_segment(to_embed, embedder, store, chunking, progress)
    writer = store.new_generation(embedder.name, embedder.dimension)
    try:
        if incremental:
            numbers = live.article_numbers()
            writer.keep(live, [numbers[i] for i in report.updated + report.removed])
            report.merged = _merge_segments(writer, settings, probes)
        if content.articles:
            writer.add_segment(content, probes.for_segment(content), settings)
        manifest = writer.finish(change.pages, extra={"chunking": chunk_settings})
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
