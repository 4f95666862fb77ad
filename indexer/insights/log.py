"""The private search log: one row per reader search, in a SQLite file
beside the index (`index_dir / SEARCH_LOG`, never inside a generation, so
publishing, pruning and rollback never touch it), holding only what the
editors' report needs (docs/privacy.md): the hour, the query normalised and
masked (indexer/insights/masking.py), mode, result count, best similarity,
whether "no good match" and the urgent notice fired, and the generation.

A search must never wait for the log or fail because of it. So `record` only
appends the event to an in-memory queue (bounded: beyond `max_pending` rows
the event is dropped and counted); a writer thread of the recording process
masks and writes what has queued every `flush_interval` seconds, in one
transaction. The server forks its workers after the app is built, and a
thread does not survive a fork, so each process starts its own writer on its
first record (the pid tells). Several workers write the one file: WAL and a
busy timeout let them take turns. A write that fails (disk full, read-only
folder, a lock held too long) drops that batch and counts it in `dropped`
(and in the file's meta table once a write succeeds again), with one warning
per kind of failure, not one per row.

Retention: rows older than `retention_days` are deleted by the writer when it
starts and then at most once an hour, with the cached query vectors of
queries no longer in the log.

On a normal exit (atexit; a forked worker's multiprocessing exit) what is
queued is flushed for up to EXIT_FLUSH_SECONDS; a killed process loses the
rows of its last flush interval.
"""
from __future__ import annotations

import atexit
import collections
import logging
import os
import sqlite3
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from indexer.insights.masking import masked_query

SEARCH_LOG = "search-log.sqlite"
SCHEMA_VERSION = "1"
HOUR_FORMAT = "%Y-%m-%dT%H:00Z"
RETENTION_EVERY_SECONDS = 3600.0
BUSY_TIMEOUT_MS = 2000
EXIT_FLUSH_SECONDS = 2.0
MAX_BATCH = 2000            # rows in one transaction; more wait for the next

log = logging.getLogger("heartsearch.insights")

SCHEMA = """
CREATE TABLE IF NOT EXISTS searches (
    id INTEGER PRIMARY KEY,
    hour TEXT NOT NULL,
    query TEXT NOT NULL,
    mode TEXT NOT NULL,
    results INTEGER NOT NULL,
    best_similarity REAL,
    no_good_match INTEGER NOT NULL,
    urgent TEXT NOT NULL,
    generation TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS searches_hour ON searches(hour);
CREATE TABLE IF NOT EXISTS query_vectors (
    model TEXT NOT NULL,
    query TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model, query)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""


@dataclass(frozen=True)
class SearchEvent:
    """One search as the app hands it over. `query` may be as the reader typed
    it: the writer normalises and masks it before anything is stored."""
    query: str
    mode: str
    results: int
    best_similarity: float | None
    no_good_match: bool
    urgent: tuple[str, ...]   # the urgent notice's trigger signs (keys of search/urgent.py SIGNS); () = none
    generation: str


@dataclass(frozen=True)
class SearchRow:
    id: int
    hour: datetime            # UTC, on the hour
    query: str                # normalised and masked
    mode: str
    results: int
    best_similarity: float | None
    no_good_match: bool
    urgent: tuple[str, ...]
    generation: str


def hour_of(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime(HOUR_FORMAT)


def parse_hour(text: str) -> datetime:
    return datetime.strptime(text, HOUR_FORMAT).replace(tzinfo=timezone.utc)


def connect(path: Path | str, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection that waits for the other workers' writes instead of
    failing at once. Read-only opens never create the file."""
    if readonly:
        db = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    else:
        # Readable by the server's user only (SQLite gives its -wal and -shm files the same mode).
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        db = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # WAL: a power cut may lose the last rows, never corrupt
        db.executescript(SCHEMA)
        db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
    db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return db


def _cutoff(days: int, now: float) -> str:
    return hour_of(now - days * 86400)


def delete_older_than(path: Path | str, days: int, now: float | None = None) -> int:
    """Delete rows older than `days` days (by their hour) and the cached
    vectors of queries no longer logged; how many rows went."""
    db = connect(path)
    try:
        return _delete_older_than(db, days, time.time() if now is None else now)
    finally:
        db.close()


def _delete_older_than(db: sqlite3.Connection, days: int, now: float) -> int:
    db.execute("BEGIN IMMEDIATE")
    try:
        gone = db.execute("DELETE FROM searches WHERE hour < ?", (_cutoff(days, now),)).rowcount
        if gone:
            db.execute("DELETE FROM query_vectors WHERE query NOT IN (SELECT query FROM searches)")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return gone


def read_searches(path: Path | str, since: datetime | None = None) -> list[SearchRow]:
    """Every row (from the hour `since` falls in, when given), oldest first;
    [] when there is no log yet."""
    if not Path(path).exists():
        return []
    db = connect(path, readonly=True)
    try:
        sql = "SELECT id, hour, query, mode, results, best_similarity, no_good_match, urgent, generation " \
              "FROM searches"
        args: tuple = ()
        if since is not None:
            sql += " WHERE hour >= ?"
            args = (since.astimezone(timezone.utc).strftime(HOUR_FORMAT),)
        rows = db.execute(sql + " ORDER BY hour, id", args).fetchall()
    finally:
        db.close()
    return [SearchRow(id=r[0], hour=parse_hour(r[1]), query=r[2], mode=r[3], results=r[4], best_similarity=r[5],
                      no_good_match=bool(r[6]), urgent=tuple(s for s in r[7].split(",") if s), generation=r[8])
            for r in rows]


def read_dropped(path: Path | str) -> int:
    """Rows the writers dropped (queue full, failed writes) and could later
    count in the file; rows dropped while the file was never writable again
    are only in each process's `SearchLog.dropped`."""
    if not Path(path).exists():
        return 0
    db = connect(path, readonly=True)
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'dropped'").fetchone()
    except sqlite3.Error:
        return 0
    finally:
        db.close()
    return int(row[0]) if row else 0


class SearchLog:
    """The log of one index folder, for every thread of a process (and, after
    a fork, of the child: see the module docstring)."""

    def __init__(self, path: Path | str, retention_days: int = 30, max_pending: int = 10_000,
                 flush_interval: float = 1.0, clock=time.time):
        self.path = Path(path)
        self.retention_days = retention_days
        self.max_pending = max_pending
        self.flush_interval = flush_interval
        self.clock = clock
        self.written = 0
        self._dropped = 0
        self._unsaved_drops = 0      # dropped rows not yet added to the file's meta count
        self._warned: set[str] = set()
        self._reset()
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: (lambda me: me and me._reset())(ref()))

    def _reset(self) -> None:
        """Fresh state for a new process: the parent's queue and writer are not ours."""
        self._pid: int | None = None
        self._pending: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._done = threading.Condition(threading.Lock())
        self._requested = self._completed = 0
        self._thread: threading.Thread | None = None
        self._closing = False
        self._db: sqlite3.Connection | None = None
        self._next_retention = 0.0

    # ------------------------------------------------------------------ the request thread

    @property
    def dropped(self) -> int:
        return self._dropped

    def record(self, event: SearchEvent) -> None:
        """Queue one search; never blocks, never raises."""
        try:
            if self._pid != os.getpid():
                self._start()
            if len(self._pending) >= self.max_pending or self._closing:
                self._drop(1, "queue")
                return
            self._pending.append((self.clock(), event))
        except Exception:  # the log must never fail a search
            self._drop(1, "record")

    # ------------------------------------------------------------------ control

    def flush(self, timeout: float = 5.0) -> bool:
        """Write what is queued now; True when it was written (or dropped) in time."""
        if self._thread is None or self._pid != os.getpid():
            if not self._pending:
                return True
            self._start()
        with self._done:
            self._requested += 1
            target = self._requested
            self._wake.set()
            return self._done.wait_for(lambda: self._completed >= target or not self._alive(), timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Flush and stop the writer of this process."""
        if self._pid != os.getpid() or self._thread is None:
            return
        self.flush(timeout)
        self._closing = True
        self._wake.set()
        self._thread.join(timeout)

    def _alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _start(self) -> None:
        with self._lock:
            pid = os.getpid()
            if self._pid == pid:
                return
            self._pid = pid
            self._thread = threading.Thread(target=self._run, name="search-log-writer", daemon=True)
            self._thread.start()
        ref = weakref.ref(self)
        atexit.register(_flush_at_exit, ref)
        try:  # a forked multiprocessing worker (the server's) exits without atexit handlers
            from multiprocessing import util
            util.Finalize(None, _flush_at_exit, args=(ref,), exitpriority=10)
        except Exception:  # pragma: no cover
            pass

    def _drop(self, count: int, kind: str, error: BaseException | None = None) -> None:
        with self._lock:
            self._dropped += count
            self._unsaved_drops += count
            first = kind not in self._warned
            self._warned.add(kind)
        if first:
            why = f": {error}" if error is not None else ""
            log.warning("search log %s: dropping rows (%s%s); searches are unaffected, further drops of this "
                        "kind are only counted", self.path, kind, why)

    # ------------------------------------------------------------------ the writer thread

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            with self._done:
                requested = self._requested
            closing = self._closing
            try:
                while self._pending:
                    self._write(self._take(MAX_BATCH))
                self._retention()
            except Exception as err:  # pragma: no cover - a bug here must not stop the writer
                self._drop(0, "writer", err)
            with self._done:
                self._completed = requested
                self._done.notify_all()
            if closing:
                self._close_db()
                return

    def _take(self, most: int) -> list:
        batch = []
        pending = self._pending
        while pending and len(batch) < most:
            batch.append(pending.popleft())
        return batch

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = connect(self.path)
        return self._db

    def _close_db(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None

    def _write(self, batch: list) -> None:
        try:
            rows = [(hour_of(stamp), masked_query(e.query), e.mode, int(e.results),
                     None if e.best_similarity is None else float(e.best_similarity), int(bool(e.no_good_match)),
                     ",".join(e.urgent), e.generation) for stamp, e in batch]
        except Exception as err:
            self._drop(len(batch), "malformed event", err)
            return
        try:
            db = self._connection()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT INTO searches(hour, query, mode, results, best_similarity, no_good_match, "
                               "urgent, generation) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
                unsaved = self._unsaved_drops
                if unsaved:
                    db.execute("INSERT INTO meta(key, value) VALUES ('dropped', ?) ON CONFLICT(key) DO UPDATE "
                               "SET value = CAST(value AS INTEGER) + excluded.value", (unsaved,))
                db.execute("COMMIT")
            except BaseException:
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                raise
        except (sqlite3.Error, OSError) as err:
            self._close_db()  # a fresh connection next time (the folder may have come back)
            self._drop(len(batch), _kind(err), err)
            return
        with self._lock:
            self._unsaved_drops -= unsaved
        self.written += len(rows)

    def _retention(self) -> None:
        now = self.clock()
        if now < self._next_retention or not self.path.exists():  # no file yet: none to create for this
            return
        self._next_retention = now + RETENTION_EVERY_SECONDS
        try:
            _delete_older_than(self._connection(), self.retention_days, now)
        except (sqlite3.Error, OSError) as err:
            self._close_db()
            with self._lock:
                first = "retention" not in self._warned
                self._warned.add("retention")
            if first:
                log.warning("search log %s: could not delete old rows (%s); will retry in an hour", self.path, err)


def _kind(err: BaseException) -> str:
    """A failure's kind, for one warning each: "database or disk is full",
    "attempt to write a readonly database", "database is locked", ..."""
    return str(err).split(":")[0][:60] or type(err).__name__


def _flush_at_exit(ref) -> None:
    me = ref()
    if me is not None and me._pid == os.getpid() and me._alive():
        try:
            me.close(EXIT_FLUSH_SECONDS)
        except Exception:
            pass
