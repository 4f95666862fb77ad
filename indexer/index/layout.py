"""The on-disk index: the only module that knows its layout.

    <root>/CURRENT                 the live generation: its name and random id (replaced atomically)
    <root>/history.json            which generations were live, in order (indexer.index.history)
    <root>/generations/<name>/     one published generation:
        manifest.json              model, counts, pages, its segments, deleted articles
    <root>/segments/<name>/        one immutable segment, shared by generations:
        segment.json               counts, id ranges, vector index settings, checksums
        vectors.faiss              passage vectors (normalised, inner product); local ids
        articles.faiss             whole-article vectors; local ids
        passages.sqlite            articles, passages, vocabulary
        lexical.npz                BM25 postings of stemmed words (indexer.index.lexical)
    <root>/generations/.staging-*  a generation being published (removed if abandoned)
    <root>/embeddings.sqlite       cache of vectors keyed by model + text hash (indexer.embedding.cache)
    <root>/.lock                   held by the one writer at a time

Why segments: a generation is a list of immutable segments plus the set of
articles deleted from them, the way Lucene does it. Publishing one edited
article writes one small segment and a new manifest that reuses every other
segment, so an edit writes only what it changed, however large the index;
rewriting the whole index (vectors, lexical postings, checksums) on every
publish took time in proportion to its size (figures: docs/performance.md,
"Segmented generations").
Segments are merged when there are too many or too much of one is deleted
(indexer.index.merge).

Readers only ever follow CURRENT to a finished generation whose segments
were all written and checked before the switch, so they never see a
half-written index. Passage ids and article numbers are unique within a
generation; each segment holds a contiguous range of each, in order, and an
article's passages are contiguous.

Rows of passages.sqlite are written and read by column name, from the
column lists below, so a column added or moved in SCHEMA cannot silently
shift every field after it.
"""
from __future__ import annotations

import functools
import json
import sqlite3
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from indexer.models import Article, Repair

FORMAT_VERSION = 6  # 5: articles keep their repairs and source text, passages their heading; 6: passage_vectors.npy

CURRENT = "CURRENT"
LOCK = ".lock"
GENERATIONS = "generations"
SEGMENTS = "segments"
STAGING_PREFIX = ".staging-"
EMBEDDINGS = "embeddings.sqlite"

MANIFEST = "manifest.json"
SEGMENT_META = "segment.json"
VECTORS = "vectors.faiss"
ARTICLE_VECTORS = "articles.faiss"
METADATA = "passages.sqlite"
LEXICAL = "lexical.npz"
# The passage vectors again, as a plain array (float32, or float16 where the
# vector index is quantised anyway): a search reads back the vectors of every
# passage of the articles it shows, and an IVF index gives them back one at a
# time, slowly; a memory-mapped array gives them as a slice.
PASSAGE_VECTORS = "passage_vectors.npy"
SEGMENT_FILES = (VECTORS, ARTICLE_VECTORS, METADATA, LEXICAL, PASSAGE_VECTORS)  # each has a checksum in segment.json

SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY, num INTEGER NOT NULL UNIQUE, kind TEXT NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL,
    author TEXT, credentials TEXT, source TEXT, url TEXT, page_id TEXT,
    synonyms TEXT NOT NULL, content_hash TEXT NOT NULL, origin TEXT NOT NULL,
    passages INTEGER NOT NULL,
    original_text TEXT,              -- the source's text when the import repaired it (indexer.repair)
    repairs TEXT NOT NULL);          -- JSON list of {kind, before, after}
CREATE TABLE passages (
    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL REFERENCES articles(id),
    position INTEGER NOT NULL, text TEXT NOT NULL, embed_text TEXT NOT NULL,
    sentences TEXT NOT NULL, text_hash TEXT NOT NULL,
    text_stems TEXT NOT NULL,   -- distinct stems of text, for choosing which passage to show
    heading TEXT);              -- the section heading in force where the passage starts
CREATE INDEX passages_by_article ON passages(article_id, position);
CREATE TABLE vocabulary (word TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID;
"""

# The columns of each table, in SCHEMA's order (tests/indexer/index/test_layout.py
# keeps the two in step).
ARTICLE_COLUMNS = ("id", "num", "kind", "title", "text", "author", "credentials", "source", "url", "page_id",
                   "synonyms", "content_hash", "origin", "passages", "original_text", "repairs")
PASSAGE_COLUMNS = ("id", "article_id", "position", "text", "embed_text", "sentences", "text_hash", "text_stems",
                   "heading")
VOCABULARY_COLUMNS = ("word", "count")
TABLES = {"articles": ARTICLE_COLUMNS, "passages": PASSAGE_COLUMNS, "vocabulary": VOCABULARY_COLUMNS}


def insert_statement(table: str) -> str:
    """INSERT naming every column, with a named parameter for each (see `row`)."""
    columns = TABLES[table]
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"


def row(table: str, **values: Any) -> dict[str, Any]:
    """One row of `table` for `insert_statement`: exactly its columns, by name."""
    columns = TABLES[table]
    if values.keys() != set(columns):
        missing, extra = set(columns) - values.keys(), values.keys() - set(columns)
        raise ValueError(f"a row of {table} needs exactly its columns: "
                         f"missing {sorted(missing)}, unknown {sorted(extra)}")
    return values


def schema_problems(db: sqlite3.Connection) -> list[str]:
    """How the tables of `db` differ from the column lists (none: they match)."""
    problems = []
    for table, columns in TABLES.items():
        found = tuple(r[1] for r in db.execute(f"PRAGMA table_info({table})"))
        if found != columns:
            problems.append(f"table {table} has columns {list(found)}, this code reads {list(columns)}")
    return problems


def select_articles(columns: tuple[str, ...] = ARTICLE_COLUMNS) -> str:
    """Articles in number order; `columns` must be article columns."""
    unknown = set(columns) - set(ARTICLE_COLUMNS)
    if unknown:
        raise ValueError(f"articles have no columns {sorted(unknown)}")
    return f"SELECT {', '.join(columns)} FROM articles ORDER BY num"


# A passage joined with its article, each column named as PassageRecord's field
# (plus article_num, to leave out deleted articles).
PASSAGE_RECORD_SELECT = """
SELECT p.id AS id, p.article_id AS article_id, p.position AS position, p.text AS text,
       p.sentences AS sentences_json, a.title AS article_title, a.kind AS article_kind, a.url AS article_url,
       a.author AS author, a.credentials AS credentials, a.source AS source, a.page_id AS page_id,
       a.passages AS passage_count, a.num AS article_num, p.text_stems AS text_stems, p.heading AS heading
FROM passages p JOIN articles a ON a.id = p.article_id
"""


@dataclass
class PassageRecord:
    """A passage joined with its article's attribution, as readers get it."""

    id: int
    article_id: str
    position: int
    text: str
    sentences_json: str = field(repr=False)
    article_title: str
    article_kind: str
    article_url: str | None
    author: str | None
    credentials: str | None
    source: str | None
    page_id: str | None
    passage_count: int
    text_stems: frozenset[str] = frozenset()  # stems of every word of `text` (indexer.text.stem)
    heading: str | None = None  # the section heading in force where the passage starts (not in `text`)

    @functools.cached_property
    def sentences(self) -> list[str]:
        # Decoded on first use: a search reads every passage of ten articles
        # but shows only ten of them.
        return json.loads(self.sentences_json)


def passage_record(found: Mapping[str, Any]) -> PassageRecord:
    """A row of PASSAGE_RECORD_SELECT as a PassageRecord."""
    return PassageRecord(
        id=found["id"], article_id=found["article_id"], position=found["position"], text=found["text"],
        sentences_json=found["sentences_json"], article_title=found["article_title"],
        article_kind=found["article_kind"], article_url=found["article_url"], author=found["author"],
        credentials=found["credentials"], source=found["source"], page_id=found["page_id"],
        passage_count=found["passage_count"], text_stems=frozenset(found["text_stems"].split()),
        heading=found["heading"],
    )


def article_row(article: Article, num: int, passages: int) -> dict[str, Any]:
    """The articles row of `article`, numbered `num`, with `passages` passages."""
    return row("articles", id=article.id, num=num, kind=article.kind, title=article.title, text=article.text,
               author=article.author, credentials=article.credentials, source=article.source, url=article.url,
               page_id=article.page, synonyms=json.dumps(list(article.synonyms), ensure_ascii=False),
               content_hash=article.content_hash(), origin=article.origin, passages=passages,
               original_text=article.original_text,
               repairs=json.dumps([asdict(r) for r in article.repairs], ensure_ascii=False))


def article_from_row(found: Mapping[str, Any]) -> Article:
    """An articles row (all of ARTICLE_COLUMNS) back as the Article it was written from."""
    return Article(id=found["id"], kind=found["kind"], title=found["title"], text=found["text"],
                   author=found["author"], credentials=found["credentials"], source=found["source"],
                   url=found["url"], page=found["page_id"], synonyms=tuple(json.loads(found["synonyms"])),
                   origin=found["origin"], original_text=found["original_text"],
                   repairs=tuple(Repair(**r) for r in json.loads(found["repairs"])))


def generation_id(manifest: Mapping[str, Any]) -> str:
    """The manifest's random id; generations written before ids existed
    are told apart by when they were built."""
    return str(manifest.get("generation_id") or f"built-{manifest.get('built_at')}")
