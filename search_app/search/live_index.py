"""The live index generation of a running server (or the command line).

`LiveIndex` owns what the app serves from: the store, the generation being
served, the switch to what CURRENT names (compared by name and id: a folder
rebuilt in place starts again at gen-000001), the fall-back along the
publication history to an intact earlier generation, the embedding model of
each generation, and what is derived from a generation once (its article
list and disclaimers). Like flaskr's db.py owns its connection. No Flask here.

Every request takes `live.generation` once at its start and uses only that,
so a generation published mid-request is picked up by the next request and
no response ever mixes two generations.
"""
from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Generic, Iterable, TypeVar

import faiss

from indexer.embedding import DEFAULT_MODEL, MODELS, Embedder, load_embedder
from indexer.index import Generation, IndexCorrupt, IndexError_, IndexStore
from indexer.models import Article

log = logging.getLogger(__name__)
T = TypeVar("T")


class IndexMismatch(IndexError_):
    """A generation built with a model the app does not have and cannot load."""


def first_intact(names: Iterable[str], open_one: Callable[[str], T], skip: tuple[type[BaseException], ...]) -> T | None:
    """`open_one(name)` for the first of `names` it opens without one of
    `skip`, or None: the one loop that looks for an intact generation."""
    for name in dict.fromkeys(names):
        try:
            return open_one(name)
        except skip:
            continue
    return None


def fallback_order(store: IndexStore) -> list[str]:
    """The live generation, then the states before it along the history,
    newest first (never one the editor rolled back from)."""
    current = store.current_name()
    return ([current] if current else []) + store.earlier_generations()


def index_model(store: IndexStore) -> str | None:
    """The known model (indexer.embedding.MODELS) the index was built with:
    the live generation's or, if that cannot be read, that of the generation
    the server would fall back to. None if there is no readable generation
    or its model is unknown here."""
    def model_of(name: str) -> str:
        generation = store.open_generation(name)
        try:
            return generation.model
        finally:
            generation.close()

    model = first_intact(fallback_order(store), model_of, (IndexError_, OSError, KeyError))
    return model if model in MODELS else None


class PerGeneration(Generic[T]):
    """A value derived from a generation, built on first use and rebuilt
    when asked about another generation (compared by identity)."""

    def __init__(self, build: Callable[[Generation], T]):
        self._build, self._lock = build, threading.Lock()
        self._cached: tuple[object, T] | None = None

    def __call__(self, generation: Generation) -> T:
        cached = self._cached
        if cached is None or cached[0] != generation.identity:
            with self._lock:
                cached = self._cached
                if cached is None or cached[0] != generation.identity:
                    cached = (generation.identity, self._build(generation))
                    self._cached = cached
        return cached[1]


@dataclass(frozen=True)
class Contents:
    """A generation's articles (ordered by id) with their passage counts, and
    its source pages' disclaimers."""

    articles: list[Article]
    by_id: dict[str, Article]
    passage_counts: dict[str, int]
    disclaimers: dict[str, str | None]

    @classmethod
    def of(cls, generation: Generation) -> "Contents":
        articles = generation.articles()
        return cls(articles, {a.id: a for a in articles}, generation.passage_counts(),
                   {p.id: p.disclaimer for p in generation.pages()})

    def disclaimer(self, page_id: str | None) -> str | None:
        return self.disclaimers.get(page_id) if page_id else None


class LiveIndex:
    def __init__(self, store: IndexStore, embedder: Embedder, reload_interval: float = 2.0,
                 load_embedder: Callable[[str], Embedder] | None = None):
        """`load_embedder(model name)`, when given, lets a running server
        follow an index rebuilt with another model (it loads that model
        before switching); without it such a generation is refused."""
        self.store, self.reload_interval = store, reload_interval
        self._embedders = {embedder.name: embedder}
        self._load_embedder = load_embedder
        # One query is a small scan: OpenMP's thread team costs more than it
        # saves (docs/performance.md, "FAISS: one OpenMP thread in the server"), and a server
        # runs several requests at once anyway.
        faiss.omp_set_num_threads(1)
        self._lock = threading.Lock()
        self._generation = self._open_at_start()
        self._refused = None  # a CURRENT that failed to open, not retried until it changes
        self._checked_at = time.monotonic()
        self.contents: PerGeneration[Contents] = PerGeneration(Contents.of)

    @classmethod
    def for_config(cls, config, embedder: Embedder | None = None) -> "LiveIndex":
        """The live index of `config.index_dir`. Without `embedder`, the model
        the index was built with is loaded (one thread per model call,
        `config.model_threads`), so an int8-built index is served by the int8
        model; an index of a model this code does not know gets the default
        one, which is refused with a message naming the fix."""
        store = IndexStore(config.index_dir)
        loader = None
        if embedder is None:  # the server's way: it may load another model when the index is rebuilt with one
            loader = functools.partial(load_embedder, threads=config.model_threads)
            embedder = loader(index_model(store) or DEFAULT_MODEL)
        return cls(store, embedder, config.reload_interval, load_embedder=loader)

    # ---------------------------------------------------------------- serving
    @property
    def generation(self) -> Generation:
        """The live generation, re-checked at most every `reload_interval` s.
        A broken new generation is ignored and the old one keeps serving."""
        now = time.monotonic()
        if now - self._checked_at >= self.reload_interval:
            with self._lock:
                if now - self._checked_at >= self.reload_interval:
                    self._checked_at = now
                    self._follow_current()
        return self._generation

    def embedder_for(self, generation: Generation) -> Embedder:
        """The model `generation` was built with (loaded when it was opened)."""
        return self._embedders[generation.model]

    @property
    def embedder(self) -> Embedder:
        """The model of the generation being served."""
        return self.embedder_for(self._generation)

    # ---------------------------------------------------------------- opening
    def _open_at_start(self) -> Generation:
        """The live generation, or, if it is damaged, the newest intact
        earlier state along the publication history (with a warning):
        readers keep getting answers while an editor repairs or rolls back.
        No intact generation: a clear error."""
        try:
            return self._open_checked()
        except IndexCorrupt as damage:
            generation = self._open_earlier(damage)
            if generation is None:
                raise IndexCorrupt(f"{damage}; no earlier generation is intact either. Rebuild with "
                                   f"`python -m indexer build --force` (or `make index`)") from None
            return generation

    def _open_earlier(self, damage: Exception) -> Generation | None:
        """The newest intact state before the live one in the history, or None."""
        generation = first_intact(self.store.earlier_generations(), self._open_checked, (IndexCorrupt,))
        if generation is not None:
            log.warning("%s; serving the earlier generation %s instead", damage, generation.name)
        return generation

    def _open_checked(self, name: str | None = None) -> Generation:
        name = name or self.store.current_name()
        if name is None:
            self.store.open_current()  # raises IndexMissing with the command to run
        if not self.store.has_generation(name):
            return self.store.open_current()  # raises IndexCorrupt naming the fix
        generation = self.store.open_generation(name, verify=True)
        embedder = self._embedder_of(generation)
        if embedder is None or generation.manifest["dimension"] != embedder.dimension:
            generation.close()
            serving = next(iter(self._embedders.values()))
            raise IndexMismatch(
                f"the index at {self.store.root} was built with model {generation.model!r} "
                f"({generation.manifest['dimension']} dimensions) but the app uses {serving.name!r} "
                f"({serving.dimension}) and cannot load that one; rebuild it with "
                f"`python -m indexer build --force --model {serving.name}`, or restart the app")
        return generation

    def _embedder_of(self, generation: Generation) -> Embedder | None:
        """The model `generation` was built with: loaded already, or loaded
        now (seconds, on the one thread doing the reload) if allowed."""
        embedder = self._embedders.get(generation.model)
        if embedder is None and self._load_embedder is not None:
            try:
                embedder = self._load_embedder(generation.model)
            except Exception as err:  # an unknown or broken model: refused by the caller with the fix named
                log.error("cannot load model %r for generation %s: %s", generation.model, generation.name, err)
                return None
            self._embedders = {embedder.name: embedder, **self._embedders}
        return embedder

    def _follow_current(self) -> None:
        """Switch to what CURRENT names. A damaged new state falls back along
        the history; with nothing intact there, the last good generation
        keeps serving."""
        current = self.store.current_entry()
        if current is None or current in (self._generation.identity, self._refused):
            return
        self._refused = current  # until it opens: a damaged state is checked once, not every interval
        try:
            self._generation = self._open_checked(current.name)
            self._refused = None
        except IndexMismatch as err:
            log.error("%s; still serving %s", err, self._generation.name)
        except IndexError_ as damage:
            earlier = self._open_earlier(damage)
            if earlier is not None and earlier.identity != self._generation.identity:
                self._generation = earlier
            elif earlier is None:
                log.error("%s; no earlier state is intact; still serving %s", damage, self._generation.name)
