"""Vectors already computed, keyed by (model, text hash), shared by every
generation of an index, so an unchanged passage is never embedded twice.

The cache knows nothing of the index: the index store, which decides where
the file lives, also passes how a failed write is reported (as its
IndexWriteFailed naming the cause), so this module imports nothing from
indexer.index and the two packages depend one way only.
"""
from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Callable, ContextManager, Sequence

import numpy as np

WriteGuard = Callable[[str, Path], ContextManager[None]]


def _unguarded(what: str, where: Path) -> ContextManager[None]:
    return contextlib.nullcontext()


class EmbeddingCache:
    """Vectors keyed by (model, text hash) in one SQLite file. `writing(what,
    where)` wraps every write and may turn its errors into friendlier ones;
    by default they propagate as raised."""

    def __init__(self, path: Path, dimension: int, writing: WriteGuard = _unguarded):
        self.path, self.dimension = path, dimension
        self._writing = writing
        self._db = sqlite3.connect(path)
        try:
            with writing(f"the embedding cache {path}", path):
                self._db.executescript(
                    "PRAGMA journal_mode=WAL;"
                    "CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL);")
        except BaseException:
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
        with self._writing(f"the embedding cache {self.path}", self.path), self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO embeddings VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()])

    def close(self) -> None:
        self._db.close()
