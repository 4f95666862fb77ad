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
    <root>/embeddings.sqlite       cache of vectors keyed by model + text hash
    <root>/.lock                   held by the one writer at a time

Why segments: a generation is a list of immutable segments plus the set of
articles deleted from them, the way Lucene does it. Publishing one edited
article writes one small segment and a new manifest that reuses every other
segment, so an edit costs the same at 100k passages as at 100; rewriting a
whole 100k-passage index (FAISS file, FTS, checksums) took seconds.
Segments are merged when there are too many or too much of one is deleted.

Readers only ever follow CURRENT to a finished generation whose segments
were all written and checked before the switch, so they never see a
half-written index. Passage ids and article numbers are unique within a
generation; each segment holds a contiguous range of each, in order, and an
article's passages are contiguous.
"""
from __future__ import annotations

import bisect
import contextlib
import errno
import fcntl
import functools
import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import threading
import time
import weakref
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import faiss
import numpy as np

from indexer.faults import checkpoint
from indexer.index.history import Entry, History
from indexer.index.lexical import LexicalIndex, inverse_document_frequencies, top_k, write_lexical_index
from indexer.models import Article, Page, Passage
from indexer.text import stem, stems as text_stems, words as text_words
from indexer.index.vectors import VectorIndexSettings, build_vector_index, live_selector, search_params

FORMAT_VERSION = 4
MANIFEST = "manifest.json"
SEGMENT_META = "segment.json"
VECTORS = "vectors.faiss"
ARTICLE_VECTORS = "articles.faiss"
METADATA = "passages.sqlite"
LEXICAL = "lexical.npz"
SEGMENT_FILES = (VECTORS, ARTICLE_VECTORS, METADATA, LEXICAL)
KEEP_GENERATIONS = 3  # live + two states to roll back to, along the publication history

# Merge policy. More segments cost a little per query (one more FAISS and
# FTS lookup each); deleted passages cost memory and lexical over-fetch.
MAX_SEGMENTS = 8
MAX_DELETED_SHARE = 0.25


SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY, num INTEGER NOT NULL UNIQUE, kind TEXT NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL,
    author TEXT, credentials TEXT, source TEXT, url TEXT, page_id TEXT,
    synonyms TEXT NOT NULL, content_hash TEXT NOT NULL, origin TEXT NOT NULL,
    passages INTEGER NOT NULL);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL REFERENCES articles(id),
    position INTEGER NOT NULL, text TEXT NOT NULL, embed_text TEXT NOT NULL,
    sentences TEXT NOT NULL, text_hash TEXT NOT NULL,
    text_stems TEXT NOT NULL);  -- distinct stems of text, for choosing which passage to show
CREATE INDEX passages_by_article ON passages(article_id, position);
CREATE TABLE vocabulary (word TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID;
"""


class IndexError_(Exception):
    """Base for index problems; messages say what to run to fix them."""


class IndexMissing(IndexError_):
    pass


class IndexCorrupt(IndexError_):
    pass


class IndexBusy(IndexError_):
    pass


class IndexWriteFailed(IndexError_):
    """Writing a new generation or the embedding cache failed (full disk,
    read-only folder, I/O error); the live generation is untouched."""


def _write_failure(what: str, where: Path, err: BaseException) -> IndexWriteFailed:
    """Name the cause plainly, and the fix that goes with it. SQLite says
    "attempt to write a readonly database" both on a read-only mount and in
    a folder the user may not write, "database or disk is full" or even
    "disk I/O error" where the OS said ENOSPC, and FAISS "fwrite failed"; so
    the folder itself is asked what is wrong."""
    reason = (err.strerror if isinstance(err, OSError) and err.strerror else str(err).splitlines()[0]
              if str(err) else type(err).__name__)
    folder = next((p for p in (where, *where.parents) if p.exists()), where)
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = None
    errno_ = getattr(err, "errno", None)
    if errno_ == errno.EROFS or _mounted_read_only(folder):
        cause, fix = (f"Read-only file system: {folder} is on a read-only mount ({reason})",
                      "remount it read-write or choose another --index-dir")
    elif errno_ in (errno.EACCES, errno.EPERM) or not os.access(folder, os.W_OK):
        cause, fix = (f"Permission denied: {folder} is not writable by this user, uid {os.getuid()} ({reason})",
                      "fix the folder's owner or permissions, or run as its owner")
    elif errno_ == errno.ENOSPC or "full" in reason.lower() or (free is not None and free < (1 << 20)):
        cause, fix = f"No space left on device: {free} bytes free ({reason})", "free some space"
    else:
        cause, fix = reason, "fix the cause"
    return IndexWriteFailed(f"could not write {what}: {cause}; the live index is unchanged. "
                            f"To continue, {fix} and run the command again")


def _mounted_read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


@contextlib.contextmanager
def _writing(what: str, where: Path, also: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    try:
        yield
    except IndexError_:
        raise
    except (OSError, sqlite3.Error, *also) as err:
        raise _write_failure(what, where, err) from err


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _generation_id(manifest: dict) -> str:
    """The manifest's random id; generations written before ids existed
    are told apart by when they were built."""
    return str(manifest.get("generation_id") or f"built-{manifest.get('built_at')}")


def _read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise IndexCorrupt(f"{what} has no {path.name}")
    except (ValueError, UnicodeDecodeError) as err:
        raise IndexCorrupt(f"{what}: {path.name} is not valid JSON ({err})")


# --------------------------------------------------------------------------- reading

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

    @functools.cached_property
    def sentences(self) -> list[str]:
        # Decoded on first use: a search reads every passage of ten articles
        # but shows only ten of them.
        return json.loads(self.sentences_json)


_PASSAGE_SELECT = """
SELECT p.id, p.article_id, p.position, p.text, p.sentences, a.title, a.kind, a.url,
       a.author, a.credentials, a.source, a.page_id, a.passages, a.num, p.text_stems
FROM passages p JOIN articles a ON a.id = p.article_id
"""
_ARTICLE_COLUMNS = ("num, id, kind, title, text, author, credentials, source, url, page_id, "
                    "synonyms, origin, content_hash, passages")
_ARTICLE_SELECT = f"SELECT {_ARTICLE_COLUMNS} FROM articles"


def _passage_from_row(row: tuple) -> PassageRecord:
    return PassageRecord(
        id=row[0], article_id=row[1], position=row[2], text=row[3],
        sentences_json=row[4], article_title=row[5], article_kind=row[6],
        article_url=row[7], author=row[8], credentials=row[9], source=row[10],
        page_id=row[11], passage_count=row[12], text_stems=frozenset(row[14].split()),
    )


def _article_from_row(row: tuple) -> Article:
    return Article(id=row[1], kind=row[2], title=row[3], text=row[4], author=row[5], credentials=row[6],
                   source=row[7], url=row[8], page=row[9], synonyms=tuple(json.loads(row[10])),
                   origin=row[11])


class Segment:
    """One immutable segment, opened once per process and shared by every
    generation that lists it (see `_open_segment`)."""

    def __init__(self, path: Path):
        self.path, self.name = path, path.name
        self.meta = _read_json(path / SEGMENT_META, f"segment {path}")
        self.first_passage = int(self.meta["first_passage"])
        self.passage_total = int(self.meta["passages"])
        self.first_article = int(self.meta["first_article"])
        self.article_total = int(self.meta["articles"])
        self.index = self._read_faiss(VECTORS)
        self.article_index = self._read_faiss(ARTICLE_VECTORS)
        uri = f"file:{path / METADATA}?mode=ro&immutable=1"
        try:
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            count = self._db.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
        except sqlite3.DatabaseError as err:
            raise IndexCorrupt(f"segment {path}: {METADATA} cannot be read ({err})")
        self._lock = threading.Lock()
        self._verified_stamp: tuple | None = None
        if not (self.index.ntotal == count == self.passage_total) \
                or self.article_index.ntotal != self.article_total:
            raise IndexCorrupt(
                f"segment {path} disagrees with itself: segment.json says {self.passage_total} passages "
                f"and {self.article_total} articles, FAISS has {self.index.ntotal} and "
                f"{self.article_index.ntotal}, SQLite has {count} passages")

    def _read_faiss(self, filename: str):
        # Memory-mapped, read-only: the vectors stay in the OS page cache, so
        # several server processes (replicas) on one machine share one copy.
        # Safe because a segment is never written again.
        try:
            return faiss.read_index(str(self.path / filename), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
        except RuntimeError as err:
            raise IndexCorrupt(f"segment {self.path}: {filename} cannot be read "
                               f"({str(err).splitlines()[0]})")

    def query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _stamp(self) -> tuple:
        """Size and modification time of every file: any write changes it."""
        stamp = []
        for name in (*SEGMENT_FILES, SEGMENT_META):
            try:
                st = os.stat(self.path / name)
                stamp.append((name, st.st_size, st.st_mtime_ns))
            except OSError:
                stamp.append((name, None, None))
        return tuple(stamp)

    def verify_once(self) -> list[str]:
        """Checksums, re-read only if a file changed since the last clean
        check in this process (a hot reload then costs nothing for the
        segments it shares with the previous generation)."""
        stamp = self._stamp()
        if stamp == self._verified_stamp:
            return []
        problems = self.verify_checksums()
        self._verified_stamp = None if problems else stamp
        return problems

    def verify_checksums(self) -> list[str]:
        problems = []
        for name, expected in self.meta.get("checksums", {}).items():
            path = self.path / name
            if not path.exists():
                problems.append(f"{path}: missing")
            elif _sha256_file(path) != expected:
                problems.append(f"{path}: checksum does not match segment.json (file damaged)")
        if set(self.meta.get("checksums", {})) != set(SEGMENT_FILES):
            problems.append(f"{self.path}: segment.json does not list a checksum for every file")
        return problems

    @functools.cached_property
    def passage_articles(self) -> np.ndarray:
        """Article number of each passage, by local passage id."""
        rows = self.query("SELECT a.num FROM passages p JOIN articles a ON a.id = p.article_id ORDER BY p.id")
        return np.array([r[0] for r in rows], dtype=np.int64)

    @functools.cached_property
    def token_total(self) -> int:
        return int(self.meta["lexical_tokens"])

    @functools.cached_property
    def lexical_index(self) -> LexicalIndex:
        try:
            return LexicalIndex(self.path / LEXICAL)
        except (OSError, ValueError, KeyError) as err:
            raise IndexCorrupt(f"segment {self.path}: {LEXICAL} cannot be read ({err})") from None



_SEGMENTS: "weakref.WeakValueDictionary[str, Segment]" = weakref.WeakValueDictionary()
_SEGMENTS_LOCK = threading.Lock()


def _segment_key(path: Path) -> str:
    """A segment's path and the hash of its segment.json: a folder rebuilt
    in place (`rm -rf IDX` and a new build) reuses names such as seg-000001
    for other content, which must not be served from the old open files."""
    try:
        meta = (path / SEGMENT_META).read_bytes()
    except OSError:
        meta = b""
    return f"{path.resolve()}#{hashlib.sha256(meta).hexdigest()[:16]}"


def _open_segment(path: Path) -> Segment:
    """Each segment is opened once per process while any generation uses
    it, so switching to a generation that shares a large segment costs
    nothing (no re-read, no re-verification)."""
    key = _segment_key(path)
    with _SEGMENTS_LOCK:
        segment = _SEGMENTS.get(key)
        if segment is None:
            if not path.is_dir():
                raise IndexCorrupt(f"segment {path} is missing")
            segment = Segment(path)
            _SEGMENTS[key] = segment
        return segment


class Generation:
    """One published, read-only index generation, safe to share across
    threads: its segments minus the articles deleted from them."""

    def __init__(self, path: Path, segments_dir: Path):
        self.path, self.name = path, path.name
        self.manifest = _read_json(path / MANIFEST, f"generation {path}")
        if self.manifest.get("format_version") != FORMAT_VERSION:
            raise IndexCorrupt(f"generation {path} has format {self.manifest.get('format_version')!r}, "
                               f"this code reads {FORMAT_VERSION}; rebuild with `python -m indexer build` (or `make index`)")
        try:
            entries = self.manifest["segments"]
            self.segments = [_open_segment(segments_dir / e["name"]) for e in entries]
        except (KeyError, TypeError) as err:
            raise IndexCorrupt(f"generation {path}: {MANIFEST} lists its segments wrongly ({err})")
        self.deleted = frozenset(int(n) for n in self.manifest.get("deleted_articles", []))
        self._check_agreement(entries)
        self._first_passages = [s.first_passage for s in self.segments]
        self._first_articles = [s.first_article for s in self.segments]

    def _check_agreement(self, entries: list[dict]) -> None:
        dimension = self.manifest.get("dimension")
        for entry, segment in zip(entries, self.segments):
            if segment.index.d != dimension or segment.passage_total != entry.get("passages") \
                    or segment.meta.get("model") != self.manifest.get("model"):
                raise IndexCorrupt(
                    f"generation {self.path} disagrees with segment {segment.name}: manifest says "
                    f"{entry.get('passages')} passages of dimension {dimension} by {self.manifest.get('model')}, "
                    f"the segment has {segment.passage_total} of dimension {segment.index.d} "
                    f"by {segment.meta.get('model')}")
        ranges = [(s.first_passage, s.first_passage + s.passage_total) for s in self.segments]
        if any(a[1] > b[0] for a, b in zip(ranges, ranges[1:])):
            raise IndexCorrupt(f"generation {self.path}: segments' passage ids overlap")
        live = sum(s.passage_total for s in self.segments) - self.deleted_passage_count
        if live != self.manifest.get("passages"):
            raise IndexCorrupt(f"generation {self.path}: manifest says {self.manifest.get('passages')} "
                               f"passages, its segments hold {live} live ones")

    # ---------------------------------------------------------------- summary
    @property
    def model(self) -> str:
        return self.manifest["model"]

    @property
    def identity(self) -> Entry:
        """Name and id: a server compares this, not the name, with CURRENT,
        because a rebuilt index folder starts again at gen-000001."""
        return Entry(self.name, _generation_id(self.manifest))

    @property
    def passage_count(self) -> int:
        return int(self.manifest["passages"])

    @functools.cached_property
    def deleted_passage_count(self) -> int:
        return sum(int(np.count_nonzero(~live)) for live in self._live_masks if live is not None)

    @functools.cached_property
    def _live_masks(self) -> list[np.ndarray | None]:
        """Per segment: which local passages are live (None: all of them)."""
        return [None if article_live is None else article_live[s.passage_articles - s.first_article]
                for s, article_live in zip(self.segments, self._live_article_masks)]

    @functools.cached_property
    def _selectors(self) -> dict[bool, list]:
        """Per segment, for passages (False) and articles (True): a FAISS
        selector skipping deleted entries with the bitmap it reads, or None."""
        return {articles: [None if live is None else live_selector(live) for live in masks]
                for articles, masks in ((False, self._live_masks), (True, self._live_article_masks))}

    @functools.cached_property
    def _live_article_masks(self) -> list[np.ndarray | None]:
        """Per segment: which local article numbers are live (None: all)."""
        deleted = np.fromiter(self.deleted, dtype=np.int64)
        masks = []
        for s in self.segments:
            mask = ~np.isin(np.arange(s.first_article, s.first_article + s.article_total), deleted)
            masks.append(None if mask.all() else mask)
        return masks

    def index_summary(self) -> list[dict]:
        """Per segment: passages, vector index type and its measured recall."""
        return [{"segment": s.name, "passages": s.passage_total, **s.meta["vector_index"]}
                for s in self.segments]

    # ---------------------------------------------------------------- search
    def _segment_number(self, pid: int) -> int | None:
        """Which segment holds passage id `pid` (segments hold ascending ranges)."""
        i = bisect.bisect_right(self._first_passages, pid) - 1
        return i if i >= 0 and pid < self._first_passages[i] + self.segments[i].passage_total else None

    def _segment_of_passage(self, pid: int) -> Segment | None:
        i = self._segment_number(pid)
        return None if i is None else self.segments[i]

    def _segment_of_article(self, num: int) -> Segment | None:
        i = bisect.bisect_right(self._first_articles, num) - 1
        return self.segments[i] if i >= 0 and num < self._first_articles[i] + self.segments[i].article_total \
            else None

    def _merged_search(self, vectors: np.ndarray, k: int, articles: bool):
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.manifest["dimension"])
        found_scores, found_ids = [], []
        masks = self._live_article_masks if articles else self._live_masks
        for segment, live, selector in zip(self.segments, masks, self._selectors[articles]):
            index = segment.article_index if articles else segment.index
            if index.ntotal == 0 or (live is not None and not live.any()):
                continue
            info = segment.meta["article_index" if articles else "vector_index"]
            params = search_params(index, info, selector[0] if selector else None)
            scores, ids = index.search(vectors, max(1, min(k, index.ntotal)), params=params)
            first = segment.first_article if articles else segment.first_passage
            found_scores.append(scores)
            found_ids.append(np.where(ids >= 0, ids + first, -1))
        if not found_scores:
            return np.full((len(vectors), 1), -np.inf, dtype=np.float32), np.full((len(vectors), 1), -1)
        scores, ids = np.hstack(found_scores), np.hstack(found_ids)
        scores = np.where(ids >= 0, scores, -np.inf)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :max(1, k)]
        return np.take_along_axis(scores, order, 1), np.take_along_axis(ids, order, 1)

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Passage (scores, ids), best first, per query row; id -1 = none."""
        return self._merged_search(vectors, k, articles=False)

    def search_articles(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Whole-article vectors; ids are article numbers (see `article_ids`)."""
        return self._merged_search(vectors, k, articles=True)

    def lexical(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """BM25 over stemmed words: (passage id, score), best first, scored
        with the statistics of the whole generation (indexer.index.lexical)."""
        terms = [t for t in dict.fromkeys(terms) if t]
        if not terms or k < 1:
            return []
        rows_total = sum(s.passage_total for s in self.segments)
        average_length = sum(s.token_total for s in self.segments) / max(1, rows_total)
        idf = inverse_document_frequencies(terms, [s.lexical_index for s in self.segments], rows_total)
        if not idf:
            return []
        found: list[tuple[int, float]] = []
        for segment, live in zip(self.segments, self._live_masks):
            scores = segment.lexical_index.scores(idf, average_length)
            if live is not None:
                scores[~live] = 0.0
            found += [(segment.first_passage + int(i), float(scores[i])) for i in top_k(scores, k)]
        return sorted(found, key=lambda item: (-item[1], item[0]))[:k]

    # ---------------------------------------------------------------- lookups
    @functools.cached_property
    def article_ids(self) -> list[str | None]:
        """Article id by article number (None: deleted or unused number)."""
        ids: list[str | None] = [None] * self.manifest.get("next_article", 0)
        for num, article_id in self._live_article_rows("num, id"):
            ids[num] = article_id
        return ids

    @functools.cached_property
    def passage_articles(self) -> np.ndarray:
        """Article number of each passage, by passage id (-1: no such passage)."""
        out = np.full(self.manifest.get("next_passage", 0), -1, dtype=np.int64)
        for segment in self.segments:
            out[segment.first_passage:segment.first_passage + segment.passage_total] = segment.passage_articles
        return out

    def passage_range(self, article_num: int) -> tuple[int, int]:
        """Passage ids [start, end) of one article."""
        segment = self._segment_of_article(article_num)
        if segment is None:
            return 0, 0
        local = segment.passage_articles
        start, end = np.searchsorted(local, [article_num, article_num + 1])
        return segment.first_passage + int(start), segment.first_passage + int(end)

    @functools.cached_property
    def vocabulary(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for segment in self.segments:
            counts.update(dict(segment.query("SELECT word, count FROM vocabulary")))
        return dict(counts)

    def passage_vectors(self, ids: Sequence[int]) -> np.ndarray:
        rows = []
        for pid in ids:
            segment = self._segment_of_passage(int(pid))
            if segment is None:
                raise KeyError(f"no passage {pid} in generation {self.name}")
            rows.append(segment.index.reconstruct(int(pid) - segment.first_passage))
        return np.stack(rows) if rows else np.zeros((0, self.manifest["dimension"]), dtype=np.float32)

    def passages(self, ids: Iterable[int]) -> dict[int, PassageRecord]:
        """Live passages by id (unknown or deleted ids are left out)."""
        by_segment: dict[int, list[int]] = {}
        for pid in ids:
            i = self._segment_number(int(pid))
            if i is not None:
                by_segment.setdefault(i, []).append(int(pid))
        found = {}
        for i, pids in by_segment.items():
            marks = ",".join("?" * len(pids))
            for row in self.segments[i].query(_PASSAGE_SELECT + f" WHERE p.id IN ({marks})", pids):
                if row[13] not in self.deleted:
                    found[row[0]] = _passage_from_row(row)
        return found

    def article_passages(self, article_id: str) -> list[PassageRecord]:
        for segment in reversed(self.segments):  # the newest version of an article is the live one
            rows = segment.query(_PASSAGE_SELECT + " WHERE p.article_id = ? ORDER BY p.position", (article_id,))
            if rows and rows[0][13] not in self.deleted:
                return [_passage_from_row(row) for row in rows]
        return []

    def _live_article_rows(self, columns: str) -> Iterator[tuple]:
        """(num, ...) rows of the live articles, in article-number order."""
        for segment in self.segments:
            for row in segment.query(f"SELECT {columns} FROM articles ORDER BY num"):
                if row[0] not in self.deleted:
                    yield row

    def article_rows(self) -> list[tuple[int, str, str | None, list[str]]]:
        """(num, title, url, synonyms) of every live article."""
        return [(num, title, url, json.loads(synonyms))
                for num, title, url, synonyms in self._live_article_rows("num, title, url, synonyms")]

    def articles(self) -> list[Article]:
        found = [_article_from_row(r) for r in self._live_article_rows(_ARTICLE_COLUMNS)]
        return sorted(found, key=lambda a: a.id)

    def article_hashes(self) -> dict[str, str]:
        return {article_id: h for _, article_id, h in self._live_article_rows("num, id, content_hash")}

    def article_numbers(self) -> dict[str, int]:
        return {article_id: num for num, article_id in self._live_article_rows("num, id")}

    def passage_counts(self) -> dict[str, int]:
        return {article_id: n for _, article_id, n in self._live_article_rows("num, id, passages")}

    def pages(self) -> list[Page]:
        return [Page(id=p["id"], title=p["title"], url=p.get("url"), disclaimer=p.get("disclaimer"),
                     origin=p.get("origin", "")) for p in self.manifest.get("pages", [])]

    def counts_by_source(self) -> dict[str, int]:
        counts = Counter(source or "" for _, source in self._live_article_rows("num, source"))
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    def live_passages(self) -> Iterator[tuple[Segment, np.ndarray]]:
        """(segment, live local ids) for each segment."""
        for segment, live in zip(self.segments, self._live_masks):
            yield segment, (np.arange(segment.passage_total) if live is None else np.flatnonzero(live))

    def vectors(self) -> np.ndarray:
        """All live passage vectors, in passage-id order (decoded if quantised)."""
        parts = [segment.index.reconstruct_batch(local) if len(local) else
                 np.zeros((0, segment.index.d), dtype=np.float32)
                 for segment, local in self.live_passages()]
        return np.vstack(parts) if parts else np.zeros((0, self.manifest["dimension"]), dtype=np.float32)

    def missing_files(self) -> list[Path]:
        """Files of this generation no longer on disk (its folder deleted or
        moved while it is served): readiness must then say not ready, since
        what is not yet read into memory can no longer be."""
        return [path for path in self.files().values() if not path.exists()]

    def files(self) -> dict[str, Path]:
        """Every file this generation reads, by a readable name."""
        out = {MANIFEST: self.path / MANIFEST}
        for segment in self.segments:
            out.update({f"{segment.name}/{name}": segment.path / name for name in (*SEGMENT_FILES, SEGMENT_META)})
        return out

    def verify_checksums(self, segments: Sequence[Segment] | None = None) -> list[str]:
        problems = []
        for segment in self.segments if segments is None else segments:
            problems += segment.verify_checksums()
        return problems

    def close(self) -> None:
        """Let go of the segments (each closes once no generation uses it)."""
        self.segments = []
        for name in ("_live_masks", "_live_article_masks", "_selectors"):
            self.__dict__.pop(name, None)


# --------------------------------------------------------------------------- writing

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
                  probe_vectors: Callable[[], np.ndarray] | None = None) -> dict:
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
        "segment_id": secrets.token_hex(8),  # content-independent: see _segment_key
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
        "checksums": {name: _sha256_file(folder / name) for name in SEGMENT_FILES},
    }
    _write_json_durably(folder / SEGMENT_META, meta)
    for name in SEGMENT_FILES:
        with open(folder / name, "rb") as fh:
            os.fsync(fh.fileno())
    _fsync_dir(folder)
    return meta


def _write_json_durably(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, indent=2, sort_keys=True))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _write_sqlite(path: Path, articles, passages, model: str, first_passage: int, first_article: int) -> None:
    """Write the segment's tables."""
    db = sqlite3.connect(path)
    try:
        db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
        per_article = Counter(p.article_id for p in passages)
        db.executemany(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(a.id, first_article + i, a.kind, a.title, a.text, a.author, a.credentials, a.source, a.url,
              a.page, json.dumps(list(a.synonyms), ensure_ascii=False), a.content_hash(), a.origin,
              per_article.get(a.id, 0))
             for i, a in enumerate(articles)])
        db.executemany(
            "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?)",
            [(first_passage + i, p.article_id, p.position, p.text, p.embed_text,
              json.dumps(list(p.sentences), ensure_ascii=False), p.text_hash(model),
              " ".join(sorted({stem(w) for w in text_words(p.text)})))
             for i, p in enumerate(passages)])
        counts: Counter[str] = Counter()
        for a in articles:
            counts.update(set(text_words(f"{a.title} {a.text} {' '.join(a.synonyms)}")))
        db.executemany("INSERT INTO vocabulary VALUES (?,?)", sorted(counts.items()))
        db.commit()
    finally:
        db.close()


class GenerationWriter:
    """Assembles one new generation: segments kept from the live one, new
    segments written beside them, articles deleted. `IndexStore.publish`
    makes it live. Nothing here touches the live generation."""

    def __init__(self, store: "IndexStore", staging: Path, name: str, model: str, dimension: int):
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

    def add_segment(self, content: SegmentContent, probe_vectors: Callable[[], np.ndarray] | None = None,
                    settings: VectorIndexSettings | None = None) -> dict:
        folder = self.store.new_segment_folder()
        self.new_segments.append(folder)
        with _writing(f"a new segment in {folder}", folder, also=(RuntimeError,)):
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
        with _writing(f"the new generation in {self.staging}", self.staging):
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
            _write_json_durably(self.staging / MANIFEST, manifest)
            _fsync_dir(self.staging)
            return manifest

    @staticmethod
    def _segment_meta(folder: Path) -> dict:
        return json.loads((folder / SEGMENT_META).read_text("utf-8"))

    def _live_counts(self) -> tuple[int, int, list[str]]:
        """Live articles, live passages and the live articles' content hashes."""
        articles = passages = 0
        hashes = []
        for folder in [s.path for s in self.kept] + self.new_segments:
            db = sqlite3.connect(f"file:{folder / METADATA}?mode=ro", uri=True)
            try:
                for num, n, content_hash in db.execute("SELECT num, passages, content_hash FROM articles"):
                    if num not in self.deleted:
                        articles, passages = articles + 1, passages + n
                        hashes.append(content_hash)
            finally:
                db.close()
        return articles, passages, hashes


class EmbeddingCache:
    """Vectors keyed by (model, text hash), shared by all generations, so an
    unchanged passage is never embedded twice."""

    def __init__(self, path: Path, dimension: int):
        self.path, self.dimension = path, dimension
        self._db = sqlite3.connect(path)
        try:
            with _writing(f"the embedding cache {path}", path):
                self._db.executescript(
                    "PRAGMA journal_mode=WAL;"
                    "CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL);")
        except IndexWriteFailed:
            self._db.close()
            raise

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for key, blob in self._db.execute(
                    f"SELECT key, vector FROM embeddings WHERE key IN ({marks})", chunk):
                if len(blob) == 4 * self.dimension:  # a damaged row is simply re-embedded
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with _writing(f"the embedding cache {self.path}", self.path), self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO embeddings VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()])

    def close(self) -> None:
        self._db.close()


@dataclass
class MergePlan:
    """Segments to merge into one, and whether that is all of them."""

    segments: list[Segment] = field(default_factory=list)


def plan_merge(writer: GenerationWriter, incoming: int = 1) -> MergePlan:
    """Tiered merging, simplified: when there are more than MAX_SEGMENTS
    segments, merge the small ones (under half the largest's live size);
    a segment with more than MAX_DELETED_SHARE deleted is always merged."""
    live = {}
    deleted = np.fromiter(writer.deleted, dtype=np.int64) if writer.deleted else np.zeros(0, np.int64)
    for s in writer.kept:
        live[s.name] = int(np.count_nonzero(~np.isin(s.passage_articles, deleted))) if len(deleted) \
            else s.passage_total
    chosen = [s for s in writer.kept if s.passage_total and
              1 - live[s.name] / s.passage_total > MAX_DELETED_SHARE]
    if len(writer.kept) + len(writer.new_segments) + incoming > MAX_SEGMENTS:
        largest = max(live.values(), default=0)
        chosen += [s for s in writer.kept if live[s.name] < largest / 2 and s not in chosen]
        if len(chosen) < 2:  # nothing small enough: merge everything
            chosen = list(writer.kept)
    if not chosen:
        return MergePlan()
    return MergePlan(chosen)


def segment_content(segments: Sequence[Segment], deleted: set[int]) -> SegmentContent:
    """The live articles, passages and vectors of `segments`, re-read from
    disk for merging (vectors as stored: exact unless the segment was
    quantised)."""
    articles, passages, vectors, article_vectors = [], [], [], []
    for segment in segments:
        rows = segment.query(_ARTICLE_SELECT + " ORDER BY num")
        for row in rows:
            if row[0] in deleted:
                continue
            articles.append(_article_from_row(row))
            article_vectors.append(segment.article_index.reconstruct(row[0] - segment.first_article))
            for pid, position, text, embed_text, sentences in segment.query(
                    "SELECT id, position, text, embed_text, sentences FROM passages "
                    "WHERE article_id = ? ORDER BY position", (row[1],)):
                passages.append(Passage(row[1], position, text, embed_text, tuple(json.loads(sentences))))
                vectors.append(segment.index.reconstruct(pid - segment.first_passage))
    dimension = segments[0].index.d if segments else 0
    return SegmentContent(articles, passages,
                          np.array(vectors, dtype=np.float32).reshape(-1, dimension),
                          np.array(article_vectors, dtype=np.float32).reshape(-1, dimension))


class IndexStore:
    """A folder of generations with one live one."""

    def __init__(self, root: Path | str, cache_path: Path | None = None):
        """`cache_path` puts the embedding cache elsewhere (e.g. shared by
        several test or benchmark indexes of the same corpus)."""
        self.root = Path(root)
        self.generations_dir = self.root / "generations"
        self.segments_dir = self.root / "segments"
        self.cache_path = Path(cache_path) if cache_path else self.root / "embeddings.sqlite"

    # -- reading
    def current_name(self) -> str | None:
        entry = self.current_entry()
        return entry.name if entry else None

    def current_entry(self) -> Entry | None:
        """What CURRENT names: the live generation's name and id. CURRENT
        written before ids existed holds only the name; the id is then the
        one its manifest implies."""
        try:
            fields = (self.root / "CURRENT").read_text("utf-8").split()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not fields:
            return None
        if len(fields) > 1:
            return Entry(fields[0], fields[1])
        try:
            manifest = json.loads((self.generations_dir / fields[0] / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError):
            manifest = {}
        return Entry(fields[0], _generation_id(manifest))

    def history(self) -> History:
        """The publication history, agreeing with CURRENT. An index made
        before histories existed gets one from its generations' numbers."""
        current = self.current_entry()
        history = History.load(self.root)
        if history is None:
            history = History()
            names = [n for n in self.generation_names() if current is None or n <= current.name]
            for name in names:
                entry = current if current and name == current.name else self._entry_of(name)
                if entry is not None:
                    history.record_publish(entry)
            history.events = []
        return history.reconcile(current if current and self._entry_of(current.name) == current else None)

    def _entry_of(self, name: str) -> Entry | None:
        try:
            manifest = json.loads((self.generations_dir / name / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return Entry(name, _generation_id(manifest))

    def earlier_generations(self) -> list[str]:
        """The states before the live one along the history, newest first:
        where a server goes when the live generation is damaged (never to a
        state the editor rolled back from). With CURRENT missing or naming
        nothing real, the history's live state comes first."""
        history = self.history()
        names = [e.name for e in history.earlier()]
        current = self.current_entry()
        if history.live_entry and (current is None or self._entry_of(current.name) != current):
            names.insert(0, history.live_entry.name)
        return names

    def open_generation(self, name: str, verify: bool = False) -> Generation:
        """Open one generation; with `verify`, also compare its files with
        their checksums (skipping files unchanged since checked)."""
        generation = Generation(self.generations_dir / name, self.segments_dir)
        if verify:
            problems = [p for segment in generation.segments for p in segment.verify_once()]
            if problems:
                generation.close()
                raise IndexCorrupt(f"generation {name} is damaged: {'; '.join(problems)}")
        return generation

    def open_current(self) -> Generation:
        name = self.current_name()
        if name is None and self.generation_names():
            # Not "no index": an `add` would otherwise start a new index of one article.
            last = self.history().live_entry
            raise IndexCorrupt(f"{self.root}/CURRENT is missing or empty, but the folder holds generations"
                               f"{f' (last live: {last.name})' if last else ''}; run `python -m indexer rollback "
                               f"--index-dir {self.root}` to make the last live one live again")
        if name is None:
            raise IndexMissing(f"no index at {self.root}; build one with "
                               f"`python -m indexer build corpus --index-dir {self.root}` (or `make index`)")
        path = self.generations_dir / name
        if not path.is_dir():
            raise IndexCorrupt(f"{self.root}/CURRENT names generation {name!r}, which does not exist; "
                               f"run `python -m indexer rollback` or rebuild with `python -m indexer build`")
        return Generation(path, self.segments_dir)

    def generation_names(self) -> list[str]:
        if not self.generations_dir.is_dir():
            return []
        return sorted(p.name for p in self.generations_dir.iterdir()
                      if p.is_dir() and not p.name.startswith("."))

    # -- writing (call these while holding `lock()`)
    @contextlib.contextmanager
    def lock(self, wait_seconds: float = 0.0, create: bool = True) -> Iterator[None]:
        """One writer at a time. A second one waits up to `wait_seconds`,
        then fails with a message naming the holder. Commands that need an
        existing index (remove, rollback) pass `create=False`, so a mistyped
        folder is reported rather than made."""
        if not create and not self.root.is_dir():
            raise IndexMissing(f"no index at {self.root} (no such folder); nothing changed")
        self.root.mkdir(parents=True, exist_ok=True)
        fh = open(self.root / ".lock", "a+")
        deadline = time.monotonic() + wait_seconds
        try:
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as err:
                    if err.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() >= deadline:
                        fh.seek(0)
                        holder = fh.read().strip() or "another process"
                        raise IndexBusy(f"another indexer is writing to {self.root} ({holder}); "
                                        f"try again when it finishes, or pass --wait SECONDS")
                    time.sleep(0.1)
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()} since {time.strftime('%H:%M:%S')}")
            fh.flush()
            yield
        finally:
            fh.close()  # closing releases the lock

    def _referenced_segments(self) -> set[str]:
        names = set()
        for name in self.generation_names():
            try:
                manifest = json.loads((self.generations_dir / name / MANIFEST).read_text("utf-8"))
                names.update(e["name"] for e in manifest.get("segments", []))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a damaged generation keeps nothing alive
        return names

    def clean_leftovers(self) -> list[str]:
        """Remove staging folders and segments of builds that died (no
        generation names them); only safe under the lock."""
        removed = []
        if self.generations_dir.is_dir():
            for path in self.generations_dir.iterdir():
                if path.name.startswith(".staging-"):
                    shutil.rmtree(path, ignore_errors=True)
                    removed.append(path.name)
        for path in self.root.glob(".*.tmp"):  # CURRENT or history.json half-written by a dead writer
            path.unlink(missing_ok=True)
            removed.append(path.name)
        removed += self._remove_unreferenced_segments()
        return removed

    def _remove_unreferenced_segments(self) -> list[str]:
        if not self.segments_dir.is_dir():
            return []
        referenced = self._referenced_segments()
        removed = []
        for path in self.segments_dir.iterdir():
            if path.name not in referenced:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        return removed

    def embedding_cache(self, dimension: int) -> EmbeddingCache:
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        return EmbeddingCache(self.cache_path, dimension)

    def new_generation(self, model: str, dimension: int) -> GenerationWriter:
        with _writing(f"a new generation in {self.generations_dir}", self.generations_dir):
            self.generations_dir.mkdir(parents=True, exist_ok=True)
            # Never reuse a number, even of a pruned generation: logs and
            # `status` name generations, and a name must mean one state.
            existing = [int(n.split("-")[1]) for n in self.generation_names()
                        if n.startswith("gen-") and n.split("-")[1].isdigit()]
            stored = History.load(self.root)
            number = max([stored.last_number if stored else 0, *existing])
            name = f"gen-{number + 1:06d}"
            staging = self.generations_dir / f".staging-{name}-{os.getpid()}"
            staging.mkdir()
        return GenerationWriter(self, staging, name, model, dimension)

    def new_segment_folder(self) -> Path:
        """A fresh segment name (the folder is created by `write_segment`)."""
        self.segments_dir.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.name.split("-")[1]) for p in self.segments_dir.iterdir()
                   if p.name.startswith("seg-") and p.name.split("-")[1].isdigit()]
        return self.segments_dir / f"seg-{(max(numbers) + 1) if numbers else 1:06d}"

    def publish(self, writer: GenerationWriter) -> Generation:
        """Check the new generation opens, its new segments match their
        checksums and it agrees with itself (`indexer.index.verify`), then make it
        live with one atomic rename of CURRENT. A bad generation is refused
        and the live one stays."""
        final = self.generations_dir / writer.name
        try:
            from indexer.index.verify import verify_generation
            staged = Generation(writer.staging, self.segments_dir)
            try:
                new = [s for s in staged.segments if s.path in writer.new_segments]
                problems = verify_generation(staged, new)
            finally:
                staged.close()
            if problems:
                raise IndexCorrupt(f"generation {writer.staging} is damaged: {'; '.join(problems)}")
        except IndexError_ as err:
            self.discard(writer)
            raise IndexCorrupt(f"new generation refused, live index unchanged: {err}")
        checkpoint("before-switch")
        history = self.history()
        os.rename(writer.staging, final)
        entry = Entry(writer.name, writer.id)
        self._point_current_to(entry)
        history.record_publish(entry, keep=KEEP_GENERATIONS)
        self._save_history(history)
        self._prune(history)
        return Generation(final, self.segments_dir)

    def discard(self, writer: GenerationWriter) -> None:
        shutil.rmtree(writer.staging, ignore_errors=True)
        for folder in writer.new_segments:
            with _SEGMENTS_LOCK:
                _SEGMENTS.pop(str(folder.resolve()), None)
            shutil.rmtree(folder, ignore_errors=True)

    def rollback(self) -> str:
        """Undo the last publish (or go one more step back after a
        rollback), along the publication history. The state rolled back to
        is checked first; a damaged one is refused and nothing changes."""
        current = self.current_entry()
        history = self.history()
        if current is None or self._entry_of(current.name) != current:
            return self._restore(history)
        earlier = history.earlier()
        if not earlier:
            raise IndexMissing(f"nothing to roll back to: {history.live_entry.name} is the oldest state kept "
                               f"in {self.root} (`python -m indexer status` shows the history)")
        target = earlier[0]
        if self._entry_of(target.name) != target:
            raise IndexCorrupt(f"cannot roll back to {target.name}: its folder is missing or was replaced")
        return self._make_live_again(target, history, history.record_rollback)

    def _restore(self, history: History) -> str:
        """CURRENT is missing, empty or names no real generation (a slip of
        an editor's hand): make the history's live state live again."""
        target = history.live_entry
        if target is None or self._entry_of(target.name) != target:
            raise IndexMissing(f"no index at {self.root}; nothing to roll back")
        return self._make_live_again(target, history, history.record_restore)

    def _make_live_again(self, target: Entry, history: History, record: Callable[[], Entry]) -> str:
        """Switch CURRENT to an earlier state once it is checked intact."""
        try:
            self.open_generation(target.name, verify=True).close()
        except IndexError_ as err:
            raise IndexCorrupt(f"cannot make {target.name} live again, it is damaged: {err}") from None
        self._point_current_to(target)
        record()
        self._save_history(history)
        return target.name

    def _point_current_to(self, entry: Entry) -> None:
        tmp = self.root / f".CURRENT.{os.getpid()}.tmp"
        tmp.write_text(f"{entry.name} {entry.id}\n", "utf-8")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / "CURRENT")
        _fsync_dir(self.root)

    def _save_history(self, history: History) -> None:
        with _writing(f"the publication history in {self.root}", self.root):
            history.save(self.root)

    def _prune(self, history: History) -> None:
        """Delete generations no rollback can reach: those not in the
        history's chain (which always holds the state before the live one)."""
        keep = {e.name for e in history.chain}
        for name in self.generation_names():
            if name not in keep:
                shutil.rmtree(self.generations_dir / name, ignore_errors=True)
        self._remove_unreferenced_segments()
