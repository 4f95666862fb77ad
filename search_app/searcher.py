"""Query → ranked passages with attribution, from the live index generation.

The searcher holds one `Generation` at a time. Every request takes a
reference to the current one at its start and uses only that, so a new
generation published mid-request is picked up by the next request and no
response ever mixes two generations.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from indexer.embedding import Embedder
from indexer.store import Generation, IndexError_, IndexStore, PassageRecord


class IndexMismatch(IndexError_):
    pass


class QueryError(ValueError):
    """A query the searcher refuses; `field` names the offending parameter."""

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


@dataclass
class Hit:
    rank: int
    score: float
    passage: PassageRecord


@dataclass
class SearchResult:
    query: str
    hits: list[Hit]
    generation: str
    took_ms: float
    total_passages: int


def normalise_query(raw: object, max_chars: int) -> str:
    """Collapse whitespace and control characters; refuse empty or huge."""
    if not isinstance(raw, str):
        raise QueryError("invalid_query", "The query must be text.", "q")
    if len(raw) > max_chars * 4:  # don't even clean something absurdly long
        raise QueryError("query_too_long", f"The query is longer than {max_chars} characters.", "q")
    cleaned = "".join(ch if ch.isprintable() else " " for ch in raw)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise QueryError("empty_query", "Type a question or a few words to search for.", "q")
    if len(cleaned) > max_chars:
        raise QueryError("query_too_long", f"The query is longer than {max_chars} characters.", "q")
    return cleaned


class Searcher:
    def __init__(self, store: IndexStore, embedder: Embedder, reload_interval: float = 2.0):
        self.store, self.embedder, self.reload_interval = store, embedder, reload_interval
        self._lock = threading.Lock()
        self._generation = self._open_checked()
        self._checked_at = time.monotonic()

    def _open_checked(self) -> Generation:
        generation = self.store.open_current()
        if generation.model != self.embedder.name or generation.manifest["dimension"] != self.embedder.dimension:
            raise IndexMismatch(
                f"the index at {self.store.root} was built with model {generation.model!r} "
                f"({generation.manifest['dimension']} dimensions) but the app uses {self.embedder.name!r} "
                f"({self.embedder.dimension}); rebuild it with `python -m indexer build --force` (or `make index`)")
        return generation

    @property
    def generation(self) -> Generation:
        """The live generation, re-checked at most every `reload_interval` s.
        A broken new generation is ignored and the old one keeps serving."""
        now = time.monotonic()
        if now - self._checked_at >= self.reload_interval:
            with self._lock:
                if now - self._checked_at >= self.reload_interval:
                    self._checked_at = now
                    name = self.store.current_name()
                    if name and name != self._generation.name:
                        try:
                            self._generation = self._open_checked()
                        except IndexError_:
                            pass  # keep serving the last good generation
        return self._generation

    def search(self, query: str, k: int = 10) -> SearchResult:
        started = time.perf_counter()
        generation = self.generation  # one generation for the whole request
        vector = self.embedder.encode([query])
        scores, ids = generation.search(vector, k)
        records = generation.passages(ids[0])
        hits = [Hit(rank=i + 1, score=float(score), passage=records[int(pid)])
                for i, (score, pid) in enumerate(zip(scores[0], ids[0])) if int(pid) in records]
        return SearchResult(query=query, hits=hits, generation=generation.name,
                            took_ms=(time.perf_counter() - started) * 1000,
                            total_passages=generation.passage_count)

    def disclaimers(self) -> list[str]:
        return [p.disclaimer for p in self.generation.pages() if p.disclaimer]
