"""Reading one immutable segment: its vectors, its database and its postings.

A segment is opened once per process while any generation uses it
(`open_segment`), so switching to a generation that shares a large segment
costs nothing: no re-read, no re-verification.
"""
from __future__ import annotations

import functools
import hashlib
import os
import sqlite3
import threading
import weakref
from pathlib import Path
from typing import Sequence

import faiss
import numpy as np

from indexer.index.errors import IndexCorrupt
from indexer.index.files import read_json, sha256_file
from indexer.index.layout import (ARTICLE_COLUMNS, ARTICLE_VECTORS, LEXICAL, METADATA, PASSAGE_RECORD_SELECT,
                                  PASSAGE_VECTORS, SEGMENT_FILES, SEGMENT_META, VECTORS, schema_problems,
                                  select_articles)
from indexer.index.lexical import LexicalIndex


class Segment:
    """One immutable segment, shared by every generation that lists it.
    Rows come back as sqlite3.Row: read them by column name."""

    def __init__(self, path: Path):
        self.path, self.name = path, path.name
        self.meta = read_json(path / SEGMENT_META, f"segment {path}")
        self.first_passage = int(self.meta["first_passage"])
        self.passage_total = int(self.meta["passages"])
        self.first_article = int(self.meta["first_article"])
        self.article_total = int(self.meta["articles"])
        self.index = self._read_faiss(VECTORS)
        self.article_index = self._read_faiss(ARTICLE_VECTORS)
        self._stored_vectors = self._read_array(PASSAGE_VECTORS)
        uri = f"file:{path / METADATA}?mode=ro&immutable=1"
        try:
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            count = self._db.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
            mismatch = schema_problems(self._db)
        except sqlite3.DatabaseError as err:
            raise IndexCorrupt(f"segment {path}: {METADATA} cannot be read ({err})")
        if mismatch:
            raise IndexCorrupt(f"segment {path}: {METADATA} is not laid out as this code reads it "
                               f"({'; '.join(mismatch)}); rebuild with `python -m indexer build`")
        self._lock = threading.Lock()
        self._verified_stamp: tuple | None = None
        if not (self.index.ntotal == count == self.passage_total == len(self._stored_vectors)) \
                or self.article_index.ntotal != self.article_total \
                or self._stored_vectors.shape[1:] != (self.index.d,):
            raise IndexCorrupt(
                f"segment {path} disagrees with itself: segment.json says {self.passage_total} passages "
                f"and {self.article_total} articles, FAISS has {self.index.ntotal} and "
                f"{self.article_index.ntotal}, SQLite has {count} passages, {PASSAGE_VECTORS} holds "
                f"{self._stored_vectors.shape}")

    def _read_faiss(self, filename: str):
        # Memory-mapped, read-only: the vectors stay in the OS page cache, so
        # several server processes (replicas) on one machine share one copy.
        # Safe because a segment is never written again.
        try:
            return faiss.read_index(str(self.path / filename), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
        except RuntimeError as err:
            raise IndexCorrupt(f"segment {self.path}: {filename} cannot be read "
                               f"({str(err).splitlines()[0]})")

    def _read_array(self, filename: str) -> np.ndarray:
        # Memory-mapped like the FAISS files: pages shared between processes.
        try:
            array = np.load(self.path / filename, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as err:
            raise IndexCorrupt(f"segment {self.path}: {filename} cannot be read ({err})")
        if array.ndim != 2:
            raise IndexCorrupt(f"segment {self.path}: {filename} is not a table of vectors")
        return array

    def stored_vectors(self, start: int, count: int) -> np.ndarray:
        """The vectors of local passages [start, start + count) as float32,
        as written (exact, or float16-rounded where the index is quantised)."""
        return np.asarray(self._stored_vectors[start:start + count], dtype=np.float32)

    def query(self, sql: str, params: Sequence = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def values(self, sql: str, params: Sequence = ()) -> list[tuple]:
        """Plain tuples, for bulk reads of a few named columns (a sqlite3.Row
        per row costs more than the read itself on a 100k-passage segment)."""
        with self._lock:
            cursor = self._db.cursor()
            cursor.row_factory = None
            return cursor.execute(sql, params).fetchall()

    def _reconnect(self) -> None:
        """A connection (and lock) of this process's own: see _after_fork_in_child.
        The inherited one is closed, not left to the garbage collector: it
        sits in a reference cycle, and the server freezes the master's
        objects (gc.freeze) before forking, so it would never be freed."""
        db = sqlite3.connect(f"file:{self.path / METADATA}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        db.row_factory = sqlite3.Row
        inherited, self._db, self._lock = self._db, db, threading.Lock()
        inherited.close()  # read-only and immutable: no lock or journal of the parent's to release

    # ---------------------------------------------------------------- rows
    def article_values(self, columns: tuple[str, ...]) -> list[tuple]:
        """Every article's `columns` (deleted ones too), in number order, as
        tuples in the order of `columns`."""
        return self.values(select_articles(columns))

    def article_rows(self, columns: tuple[str, ...] = ARTICLE_COLUMNS) -> list[sqlite3.Row]:
        """Every article (deleted ones too), in number order."""
        return self.query(select_articles(columns))

    def passage_records(self, ids: Sequence[int]) -> list[sqlite3.Row]:
        """Rows of PASSAGE_RECORD_SELECT for these passage ids (layout.passage_record)."""
        return self.query(PASSAGE_RECORD_SELECT + f" WHERE p.id IN ({','.join('?' * len(ids))})", list(ids))

    def passage_stems(self, ids: Sequence[int]) -> list[tuple[int, str]]:
        """(id, text stems) of these passage ids."""
        return self.values(f"SELECT id, text_stems FROM passages WHERE id IN ({','.join('?' * len(ids))})",
                           list(ids))

    def article_passage_records(self, article_id: str) -> list[sqlite3.Row]:
        """Rows of PASSAGE_RECORD_SELECT for one article, in order."""
        return self.query(PASSAGE_RECORD_SELECT + " WHERE p.article_id = ? ORDER BY p.position", (article_id,))

    def stored_passages(self, article_id: str) -> list[sqlite3.Row]:
        """What a merge re-reads of one article's passages, in order."""
        return self.query("SELECT id, position, text, embed_text, sentences, heading FROM passages "
                          "WHERE article_id = ? ORDER BY position", (article_id,))

    def vocabulary(self) -> dict[str, int]:
        return {found["word"]: found["count"] for found in self.query("SELECT word, count FROM vocabulary")}

    def passage_ids(self) -> list[int]:
        return [found["id"] for found in self.query("SELECT id FROM passages ORDER BY id")]

    def article_numbers(self) -> list[int]:
        return [found["num"] for found in self.query("SELECT num FROM articles ORDER BY num")]

    def articles_without_passages(self) -> list[str]:
        return [found["id"] for found in self.query(
            "SELECT a.id AS id FROM articles a LEFT JOIN passages p ON p.article_id = a.id WHERE p.id IS NULL")]

    def passages_without_article(self) -> list[int]:
        return [found["id"] for found in self.query(
            "SELECT p.id AS id FROM passages p LEFT JOIN articles a ON a.id = p.article_id WHERE a.id IS NULL")]

    @functools.cached_property
    def passage_articles(self) -> np.ndarray:
        """Article number of each passage, by local passage id."""
        rows = self.values("SELECT a.num FROM passages p JOIN articles a ON a.id = p.article_id ORDER BY p.id")
        return np.fromiter((num for (num,) in rows), dtype=np.int64, count=len(rows))

    @functools.cached_property
    def token_total(self) -> int:
        return int(self.meta["lexical_tokens"])

    @functools.cached_property
    def lexical_index(self) -> LexicalIndex:
        try:
            return LexicalIndex(self.path / LEXICAL)
        except (OSError, ValueError, KeyError) as err:
            raise IndexCorrupt(f"segment {self.path}: {LEXICAL} cannot be read ({err})") from None

    # ---------------------------------------------------------------- checks
    def files(self) -> list[Path]:
        """Every file of the segment."""
        return [self.path / name for name in (*SEGMENT_FILES, SEGMENT_META)]

    def _stamp(self) -> tuple:
        """Size and modification time of every file: any write changes it."""
        stamp = []
        for path in self.files():
            try:
                st = os.stat(path)
                stamp.append((path.name, st.st_size, st.st_mtime_ns))
            except OSError:
                stamp.append((path.name, None, None))
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
            elif sha256_file(path) != expected:
                problems.append(f"{path}: checksum does not match segment.json (file damaged)")
        if set(self.meta.get("checksums", {})) != set(SEGMENT_FILES):
            problems.append(f"{self.path}: segment.json does not list a checksum for every file")
        return problems


def article_summaries(folder: Path) -> list[tuple[int, int, str]]:
    """(num, passages, content_hash) of every article of the segment in
    `folder`, without opening its vectors: what a new manifest counts."""
    db = sqlite3.connect(f"file:{folder / METADATA}?mode=ro", uri=True)
    try:
        return db.execute("SELECT num, passages, content_hash FROM articles").fetchall()
    finally:
        db.close()


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


def open_segment(path: Path) -> Segment:
    """The process's one open Segment for `path`, opening it if no
    generation holds it (closed once none does)."""
    key = _segment_key(path)
    with _SEGMENTS_LOCK:
        segment = _SEGMENTS.get(key)
        if segment is None:
            if not path.is_dir():
                raise IndexCorrupt(f"segment {path} is missing")
            segment = Segment(path)
            _SEGMENTS[key] = segment
        return segment


def _after_fork_in_child() -> None:
    """The server forks its workers with the app's segments open
    (search_app/server.py), and SQLite forbids using a connection opened
    before fork() in the child: each open segment gets its own connection
    there. The memory-mapped vectors need nothing (read-only pages, shared)."""
    global _SEGMENTS_LOCK
    _SEGMENTS_LOCK = threading.Lock()
    for segment in list(_SEGMENTS.values()):
        try:
            segment._reconnect()
        except sqlite3.Error:  # its folder pruned since: the inherited connection still reads the open file
            pass


os.register_at_fork(after_in_child=_after_fork_in_child)
