"""One index, one searcher, many ways of ranking: the evaluation's test bench.

The protocol ranks every dev query hundreds of times (a grid of settings,
each glossary entry and cue list turned off in turn). Encoding the query
is most of a search's cost, and the same texts come back again and again,
so the model's vectors are cached by text. `groups` ranks through the
searcher's own pieces (plan, fusion, collapse by question) without choosing
which passage to show, which no article-level metric reads; `search_groups`
is the full search the dev-all table has always used. The CLI checks the
two agree on the shipped settings, so the short cut cannot drift unnoticed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from search_app.search.fusion import rank
from search_app.search.query import plan_query
from search_app.search.query_vectors import QueryVectors
from search_app.search.questions import collapse
from search_app.search.settings import RankingSettings

Groups = list[list[str]]  # per result, in rank order: its article id, then those collapsed into it


class CachedEmbedder:
    """The index's model with every vector kept, keyed by text."""

    def __init__(self, embedder):
        self.embedder, self.name, self.dimension = embedder, embedder.name, embedder.dimension
        self._kept = QueryVectors(capacity=None)

    def encode(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        return self._kept.encode(self.embedder, texts)


class Bench:
    """A searcher over one generation, with the cached model."""

    def __init__(self, searcher, generation, embedder):
        self.searcher, self.generation = searcher, generation
        self.embedder = CachedEmbedder(embedder)
        # the per-generation look-ups the search itself uses (need, family, question)
        self.helpers = searcher.lookups(generation)
        self.article_ids = generation.article_ids

    @classmethod
    def open(cls, index_dir: Path) -> "Bench":
        from search_app.config import Config
        from search_app.search.searcher import make_searcher
        live = make_searcher(Config(index_dir=index_dir))
        generation = live.generation
        return cls(live.searcher, generation, live.index.embedder_for(generation))

    @property
    def settings(self) -> RankingSettings:
        return self.searcher.settings

    @property
    def glossary(self):
        return self.searcher.glossary

    def search_groups(self, query: str, mode: str, k: int = 50, settings: RankingSettings | None = None) -> Groups:
        """The full search (`mode` "default": the settings' own mode)."""
        result = self.searcher.search(self.generation, self.embedder, query, k=k,
                                      mode=None if mode == "default" else mode, settings=settings)
        return [[hit.passage.article_id] + [a.passage.article_id for a in hit.also] for hit in result.hits]

    def plan(self, query: str, settings: RankingSettings, glossary):
        helpers = self.helpers
        return plan_query(query, settings.query, helpers.speller, glossary, helpers.synonyms)

    def groups(self, query: str, mode: str, settings: RankingSettings | None = None, glossary=None,
               k: int = 10, needs: Callable[[str, np.ndarray], set[str]] | None = None) -> Groups:
        """The top `k` results' article ids as the grouped search ranks them,
        with `settings` and `glossary` (None: the searcher's own) and the
        asked needs read by `needs` from the query and its vector (None: the
        search's own cue lists)."""
        settings = settings or self.settings
        mode = settings.mode if mode == "default" else mode
        plan = self.plan(query, settings, self.glossary if glossary is None else glossary)
        texts = [plan.corrected] + ([plan.dense_text] if plan.dense_text != plan.corrected else [])
        vectors = self.embedder.encode(texts) if mode != "lexical" else None
        helpers = self.helpers
        asked = needs(query, vectors[0]) if needs is not None and vectors is not None else None
        ranked, _ = rank(self.generation, plan, vectors, mode, settings, True, helpers.article_need,
                         helpers.article_family, {}, asked)
        ids = self.article_ids
        return [[ids[n] for n in group] for group in collapse(ranked, helpers.questions.key)[:k]]
