"""A synthetic search log written straight into the schema
(indexer/insights/log.py), at chosen hours, for the report's tests."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from indexer.insights.log import HOUR_FORMAT, SEARCH_LOG, connect

NOW = datetime(2025, 6, 10, 15, 40, tzinfo=timezone.utc)


def hour(hours_ago: float, now: datetime = NOW) -> str:
    return (now - timedelta(hours=hours_ago)).strftime(HOUR_FORMAT)


def write_log(index_dir: Path, rows, now: datetime = NOW) -> Path:
    """rows: (hours_ago, query, no_good_match, urgent signs) tuples, `hours_ago` before `now`."""
    path = Path(index_dir) / SEARCH_LOG
    db = connect(path)
    try:
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO searches (hour, query, mode, results, best_similarity, no_good_match, urgent, generation) "
            "VALUES (?, ?, 'hybrid', 5, ?, ?, ?, 'gen-000001')",
            [(hour(ago, now), query, 0.2 if bad else 0.6, int(bad), ",".join(urgent)) for ago, query, bad, urgent in rows])
        db.execute("COMMIT")
    finally:
        db.close()
    return path


def rows(query: str, times: int, *, bad: bool = False, urgent=(), hours_ago: float = 1.0):
    return [(hours_ago, query, bad, tuple(urgent))] * times
