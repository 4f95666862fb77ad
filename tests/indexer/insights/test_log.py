"""indexer/insights/log.py on a synthetic log: only the allowed columns are
stored, masked; a search's record is queued, not written (flush writes it);
old rows are deleted; a full disk or a full queue drops rows and counts them
without raising; each process (a forked worker too) writes its own rows,
once, and flushes them when it exits."""
from __future__ import annotations

import logging
import multiprocessing
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from indexer.insights import log as search_log
from indexer.insights.log import (SEARCH_LOG, SearchEvent, SearchLog, delete_older_than, read_dropped,
                                  read_searches)
from indexer.settings import PROJECT_ROOT

DAY = 86400.0
T0 = datetime(2026, 3, 5, 14, 37, 12, tzinfo=timezone.utc).timestamp()
COLUMNS = ["id", "hour", "query", "mode", "results", "best_similarity", "no_good_match", "urgent", "generation"]


class Clock:
    def __init__(self, now: float = T0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def event(query: str = "leaky heart valve", **fields) -> SearchEvent:
    values = dict(query=query, mode="hybrid", results=7, best_similarity=0.61, no_good_match=False, urgent=(),
                  generation="gen-000003")
    values.update(fields)
    return SearchEvent(**values)


@pytest.fixture
def path(tmp_path):
    return tmp_path / SEARCH_LOG


@pytest.fixture
def make_log(path):
    logs = []

    def make(**kwargs) -> SearchLog:
        kwargs.setdefault("flush_interval", 60.0)  # nothing is written until a test flushes
        kwargs.setdefault("clock", Clock())
        logs.append(SearchLog(path, **kwargs))
        return logs[-1]
    yield make
    for made in logs:
        made.close(timeout=5)


def test_a_record_is_queued_and_written_by_flush(make_log, path):
    log = make_log()
    log.record(event("  Chest PAIN when  walking "))
    assert not path.exists() or read_searches(path) == []  # the search did not wait for the write
    assert log.flush(timeout=10)
    [row] = read_searches(path)
    assert row.query == "chest pain when walking"
    assert row.hour == datetime(2026, 3, 5, 14, 0, tzinfo=timezone.utc)
    assert (row.mode, row.results, row.best_similarity, row.no_good_match, row.urgent, row.generation) == \
        ("hybrid", 7, 0.61, False, (), "gen-000003")
    assert (log.written, log.dropped) == (1, 0)


def test_the_file_holds_only_the_allowed_columns_and_the_hour(make_log, path):
    log = make_log()
    log.record(event("crushing chest pain email me at ann@example.com", no_good_match=True,
                     urgent=("heart attack", "stroke"), best_similarity=None, results=0))
    log.flush(timeout=10)
    db = sqlite3.connect(path)
    assert [c[1] for c in db.execute("PRAGMA table_info(searches)")] == COLUMNS
    [raw] = db.execute("SELECT * FROM searches").fetchall()
    db.close()
    assert raw[1:] == ("2026-03-05T14:00Z", "crushing chest pain email me at [email]", "hybrid", 0, None, 1,
                       "heart attack,stroke", "gen-000003")
    [row] = read_searches(path)
    assert row.urgent == ("heart attack", "stroke") and row.no_good_match is True


def test_masking_happens_before_storage(make_log, path):
    log = make_log()
    log.record(event("born 12/03/1980 call +44 20 7946 0958 nhs 9434765919"))
    log.flush(timeout=10)
    assert read_searches(path)[0].query == "born [date] call [phone] nhs [number]"
    assert b"7946" not in path.read_bytes() and b"1980" not in path.read_bytes()


def test_rows_older_than_the_retention_are_deleted(path, make_log):
    clock = Clock(T0 - 40 * DAY)
    log = make_log(clock=clock, retention_days=30)
    log.record(event("forty days ago"))
    clock.now = T0 - 29 * DAY
    log.record(event("twenty-nine days ago"))
    log.flush(timeout=10)
    assert [r.query for r in read_searches(path)] == ["forty days ago", "twenty-nine days ago"]
    assert delete_older_than(path, 30, now=T0) == 1
    assert [r.query for r in read_searches(path)] == ["twenty-nine days ago"]


def test_the_writer_deletes_old_rows_on_its_own(path, make_log):
    clock = Clock(T0 - 40 * DAY)
    log = make_log(clock=clock, retention_days=30)
    log.record(event("old question"))
    log.flush(timeout=10)
    db = sqlite3.connect(path)
    db.execute("INSERT INTO query_vectors VALUES ('m', 'old question', x'00000000')")
    db.commit()
    db.close()
    clock.now = T0  # forty days on: the hourly deletion is due at the next write
    log.record(event("new question"))
    log.flush(timeout=10)
    assert [r.query for r in read_searches(path)] == ["new question"]
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM query_vectors").fetchone() == (0,)  # its vector went with it
    db.close()


def test_a_new_process_deletes_old_rows_when_its_writer_starts(path, make_log):
    old = make_log(clock=Clock(T0 - 31 * DAY))
    old.record(event("last month"))
    old.flush(timeout=10)
    fresh = make_log(clock=Clock(T0), retention_days=30)
    fresh.flush(timeout=10)  # nothing recorded: no row written
    fresh.record(event("today"))
    fresh.flush(timeout=10)
    assert [r.query for r in read_searches(path)] == ["today"]


def test_read_searches_since_an_hour(path, make_log):
    clock = Clock(T0 - 2 * DAY)
    log = make_log(clock=clock)
    log.record(event("two days ago"))
    clock.now = T0
    log.record(event("now"))
    log.flush(timeout=10)
    since = datetime.fromtimestamp(T0 - DAY, timezone.utc)
    assert [r.query for r in read_searches(path, since)] == ["now"]


def test_beyond_max_pending_a_record_is_dropped_and_counted(make_log, path):
    log = make_log(max_pending=3)
    for i in range(5):
        log.record(event(f"question {i}"))
    assert log.dropped == 2
    log.flush(timeout=10)
    assert [r.query for r in read_searches(path)] == ["question 0", "question 1", "question 2"]
    log.record(event("after the drop"))
    log.flush(timeout=10)
    assert read_dropped(path) == 2  # counted in the file with the next write


def _full_disk(monkeypatch, pages: int = 1):
    """SQLite's own SQLITE_FULL ("database or disk is full"): the file may not
    grow past its current pages (max_page_count never goes below them)."""
    real = search_log.connect

    def connect(path, *, readonly=False):
        db = real(path, readonly=readonly)
        if not readonly:
            db.execute(f"PRAGMA max_page_count = {pages}")
        return db
    monkeypatch.setattr(search_log, "connect", connect)


def test_a_full_disk_drops_the_batch_counts_it_and_warns_once(make_log, path, monkeypatch, caplog):
    before = make_log()
    before.record(event("written before the disk filled"))
    before.flush(timeout=10)
    _full_disk(monkeypatch)
    log = make_log()
    long_query = " ".join(["palpitations after climbing the stairs"] * 12)
    with caplog.at_level(logging.WARNING, logger="heartsearch.insights"):
        for _ in range(3):
            for i in range(40):
                log.record(event(f"{long_query} {i}"))  # never raises
            assert log.flush(timeout=10)
    assert log.dropped == 120 and log.written == 0
    warnings = [r for r in caplog.records if "dropping rows" in r.getMessage()]
    assert len(warnings) == 1 and "database or disk is full" in warnings[0].getMessage()
    monkeypatch.undo()  # space again: the next batch is written, the drops counted in the file
    log.record(event("written after"))
    log.flush(timeout=10)
    assert [r.query for r in read_searches(path)] == ["written before the disk filled", "written after"]
    assert read_dropped(path) == 120


def test_an_unwritable_place_drops_and_counts(tmp_path, make_log):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the index folder should be")
    log = SearchLog(blocker / SEARCH_LOG, flush_interval=60.0)
    try:
        log.record(event())
        assert log.flush(timeout=10)
        assert (log.dropped, log.written) == (1, 0)
    finally:
        log.close()


def _child_records(path: str) -> None:
    log = _CHILD_LOG
    log.record(event("from the worker"))  # not flushed: its exit must write it


_CHILD_LOG: SearchLog | None = None


def test_a_forked_worker_writes_its_own_rows_once_and_flushes_on_exit(path):
    global _CHILD_LOG
    log = _CHILD_LOG = SearchLog(path, flush_interval=60.0)
    try:
        log.record(event("from the parent"))  # queued in the parent when the worker is forked
        child = multiprocessing.get_context("fork").Process(target=_child_records, args=(str(path),))
        child.start()
        child.join(30)
        assert child.exitcode == 0
        assert [r.query for r in read_searches(path)] == ["from the worker"]
        log.flush(timeout=10)
        assert sorted(r.query for r in read_searches(path)) == ["from the parent", "from the worker"]
    finally:
        log.close()
        _CHILD_LOG = None


def test_a_process_flushes_what_is_queued_when_it_exits(path):
    code = ("from indexer.insights.log import SearchLog, SearchEvent\n"
            f"log = SearchLog({str(path)!r}, flush_interval=60.0)\n"
            "log.record(SearchEvent('asked just before exit', 'hybrid', 1, 0.5, False, (), 'gen-000001'))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=60, env={"PYTHONPATH": str(PROJECT_ROOT)})
    assert done.returncode == 0, done.stderr
    assert [r.query for r in read_searches(path)] == ["asked just before exit"]


def test_two_writers_share_the_file(path, make_log):
    first, second = make_log(), make_log()
    for i in range(50):
        first.record(event(f"first {i}"))
        second.record(event(f"second {i}"))
    assert first.flush(timeout=10) and second.flush(timeout=10)
    assert len(read_searches(path)) == 100 and first.dropped == second.dropped == 0
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_log_never_written_has_no_file(path, make_log):
    log = make_log()
    log.flush(timeout=10)
    log.close()
    assert not path.exists()
    assert read_searches(path) == [] and read_dropped(path) == 0


def test_the_log_file_is_readable_by_its_owner_only(tmp_path):
    import stat
    from indexer.insights.log import connect
    path = tmp_path / "search-log.sqlite"
    connect(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
