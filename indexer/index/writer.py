"""Writing segments and assembling a new generation from them.

Nothing here touches the live generation: new segments get fresh folders,
the manifest goes into a staging folder, and only `IndexStore.publish`
makes the result live.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Protocol, Sequence

import faiss
import numpy as np

from indexer.faults import checkpoint
from indexer.index.errors import writing
from indexer.index.files import fsync_dir, sha256_file, write_json_durably
from indexer.index.generation import Generation
from indexer.index.layout import (ARTICLE_VECTORS, FORMAT_VERSION, LEXICAL, MANIFEST, METADATA, PASSAGE_VECTORS, SCHEMA,
                                  SEGMENT_FILES, SEGMENT_META, VECTORS, article_row, insert_statement, row)
from indexer.index.lexical import write_lexical_index
from indexer.index.segment import Segment, article_summaries
from indexer.index.vectors import VectorIndexSettings, build_vector_index
from indexer.models import Article, Page, Passage
from indexer.text import stem, stems as text_stems, words as text_words


class SegmentFolders(Protocol):
    """Where new segments go (the IndexStore, which owns the folder)."""

    def new_segment_folder(self) -> Path: ...


@dataclass
class SegmentContent:
    """What goes into one segment: articles, their passages in article
    order, and a vector for each of both."""

    articles: Sequence[Article]
    passages: Sequence[Passage]
    vectors: np.ndarray
    article_vectors: np.ndarray


def write_segment(folder: Path, content: SegmentContent, *, model: str, dimension: int,
                  first_passage: int, first_article: int, vector_settings: VectorIndexSettings,
                  probe_vectors: np.ndarray | None = None) -> dict:
    """Write a complete segment into `folder` (which must not exist) and
    return its segment.json. Articles are numbered from `first_article`
    and passages from `first_passage`, both in the given order."""
    folder.mkdir()
    articles, passages = content.articles, content.passages
    if len(passages) != len(content.vectors) or len(articles) != len(content.article_vectors):
        raise ValueError("vectors do not match passages or articles")
    order = {a.id: i for i, a in enumerate(articles)}
    if [order[p.article_id] for p in passages] != sorted(order[p.article_id] for p in passages):
        raise ValueError("passages must come grouped by article, in article order")
    vectors = np.ascontiguousarray(content.vectors, dtype=np.float32).reshape(-1, dimension)
    article_vectors = np.ascontiguousarray(content.article_vectors, dtype=np.float32).reshape(-1, dimension)
    passage_index, passage_info = build_vector_index(vectors, vector_settings, probe_vectors)
    faiss.write_index(passage_index, str(folder / VECTORS))
    exact = passage_info["type"] == "flat" or passage_info.get("storage") == "flat"
    np.save(folder / PASSAGE_VECTORS, vectors.astype(np.float32 if exact else np.float16))
    article_index, article_info = build_vector_index(article_vectors, vector_settings, probe_vectors)
    faiss.write_index(article_index, str(folder / ARTICLE_VECTORS))
    checkpoint("faiss-written")
    _write_sqlite(folder / METADATA, articles, passages, model, first_passage, first_article)
    synonyms_of = {a.id: text_stems(" ; ".join(a.synonyms)) for a in articles}
    tokens = write_lexical_index(folder / LEXICAL, [(text_stems(p.embed_text), synonyms_of[p.article_id])
                                                    for p in passages])
    checkpoint("sqlite-written")
    meta = {
        "format_version": FORMAT_VERSION,
        "segment": folder.name,
        "segment_id": secrets.token_hex(8),  # content-independent: see segment._segment_key
        "model": model,
        "dimension": dimension,
        "first_passage": first_passage,
        "passages": len(passages),
        "first_article": first_article,
        "articles": len(articles),
        "lexical_tokens": tokens,
        "vector_index": passage_info,
        "article_index": article_info,
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "checksums": {name: sha256_file(folder / name) for name in SEGMENT_FILES},
    }
    write_json_durably(folder / SEGMENT_META, meta)
    for name in SEGMENT_FILES:
        with open(folder / name, "rb") as fh:
            os.fsync(fh.fileno())
    fsync_dir(folder)
    return meta


def _write_sqlite(path: Path, articles: Sequence[Article], passages: Sequence[Passage], model: str,
                  first_passage: int, first_article: int) -> None:
    """Write the segment's tables, each row by column name (indexer.index.layout)."""
    db = sqlite3.connect(path)
    try:
        db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
        per_article = Counter(p.article_id for p in passages)
        db.executemany(insert_statement("articles"),
                       [article_row(a, first_article + i, per_article.get(a.id, 0)) for i, a in enumerate(articles)])
        db.executemany(insert_statement("passages"), [
            row("passages", id=first_passage + i, article_id=p.article_id, position=p.position, text=p.text,
                embed_text=p.embed_text, sentences=json.dumps(list(p.sentences), ensure_ascii=False),
                text_hash=p.text_hash(model), text_stems=" ".join(sorted({stem(w) for w in text_words(p.text)})), heading=p.heading)
            for i, p in enumerate(passages)])
        counts: Counter[str] = Counter()
        for a in articles:
            counts.update(set(text_words(f"{a.title} {a.text} {' '.join(a.synonyms)}")))
        db.executemany(insert_statement("vocabulary"),
                       [row("vocabulary", word=word, count=n) for word, n in sorted(counts.items())])
        db.commit()
    finally:
        db.close()


class GenerationWriter:
    """Assembles one new generation: segments kept from the live one, new
    segments written beside them, articles deleted. `IndexStore.publish`
    makes it live. Nothing here touches the live generation."""

    def __init__(self, store: SegmentFolders, staging: Path, name: str, model: str, dimension: int):
        self.store, self.staging, self.name = store, staging, name
        self.id = secrets.token_hex(8)
        self.model, self.dimension = model, dimension
        self.kept: list[Segment] = []
        self.new_segments: list[Path] = []
        self.deleted: set[int] = set()
        self.next_passage = 0
        self.next_article = 0

    def keep(self, generation: Generation, delete_articles: Iterable[int] = ()) -> None:
        """Start from `generation`'s segments and deletions, plus more deletions."""
        self.kept = list(generation.segments)
        self.deleted = set(generation.deleted) | set(delete_articles)
        self.next_passage = int(generation.manifest["next_passage"])
        self.next_article = int(generation.manifest["next_article"])

    def drop_segments(self, segments: Sequence[Segment]) -> None:
        """Leave segments out (their live content was merged elsewhere)."""
        names = {s.name for s in segments}
        for segment in segments:
            self.deleted -= set(range(segment.first_article, segment.first_article + segment.article_total))
        self.kept = [s for s in self.kept if s.name not in names]
        if not self.kept:
            self.next_passage = self.next_article = 0

    def add_segment(self, content: SegmentContent, probe_vectors: np.ndarray | None = None,
                    settings: VectorIndexSettings | None = None) -> dict:
        folder = self.store.new_segment_folder()
        self.new_segments.append(folder)
        with writing(f"a new segment in {folder}", folder, also=(RuntimeError,)):
            meta = write_segment(folder, content, model=self.model, dimension=self.dimension,
                                 first_passage=self.next_passage, first_article=self.next_article,
                                 vector_settings=settings or VectorIndexSettings.from_env(),
                                 probe_vectors=probe_vectors)
        self.next_passage += meta["passages"]
        self.next_article += meta["articles"]
        return meta

    def write(self, articles: Sequence[Article], pages: Sequence[Page], passages: Sequence[Passage],
              vectors: np.ndarray, article_vectors: np.ndarray, extra: dict | None = None) -> dict:
        """A complete generation in one new segment; `article_vectors[i]`
        belongs to `articles[i]`, passages come grouped in article order."""
        self.add_segment(SegmentContent(articles, passages, vectors, article_vectors))
        return self.finish(pages, extra)

    def finish(self, pages: Sequence[Page], extra: dict | None = None) -> dict:
        """Write the manifest naming every segment of the new generation."""
        with writing(f"the new generation in {self.staging}", self.staging):
            segments = [*self.kept, *(self._segment_meta(p) for p in self.new_segments)]
            entries = [{"name": s.name, "passages": s.passage_total} if isinstance(s, Segment)
                       else {"name": s["segment"], "passages": s["passages"]} for s in segments]
            live_articles, live_passages, hashes = self._live_counts()
            manifest = {
                "format_version": FORMAT_VERSION,
                "generation": self.name,
                "generation_id": self.id,
                "model": self.model,
                "dimension": self.dimension,
                "metric": "inner_product",
                "normalized": True,
                "articles": live_articles,
                "passages": live_passages,
                "segments": entries,
                "deleted_articles": sorted(self.deleted),
                "next_passage": self.next_passage,
                "next_article": self.next_article,
                "pages": [{"id": p.id, "title": p.title, "url": p.url, "disclaimer": p.disclaimer,
                           "origin": p.origin} for p in sorted(pages, key=lambda p: p.id)],
                "corpus_hash": hashlib.sha256("".join(sorted(hashes)).encode()).hexdigest(),
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                **(extra or {}),
            }
            write_json_durably(self.staging / MANIFEST, manifest)
            fsync_dir(self.staging)
            return manifest

    @staticmethod
    def _segment_meta(folder: Path) -> dict:
        return json.loads((folder / SEGMENT_META).read_text("utf-8"))

    def _live_counts(self) -> tuple[int, int, list[str]]:
        """Live articles, live passages and the live articles' content hashes."""
        articles = passages = 0
        hashes = []
        for folder in [s.path for s in self.kept] + self.new_segments:
            for num, passage_count, content_hash in article_summaries(folder):
                if num not in self.deleted:
                    articles, passages = articles + 1, passages + passage_count
                    hashes.append(content_hash)
        return articles, passages, hashes
