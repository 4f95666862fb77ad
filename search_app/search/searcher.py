"""Query → ranked articles (or passages) with attribution, from one index
generation.

`Searcher` only ranks: given a generation, its embedding model and a query,
it plans the query (search_app/search/query.py), fuses the retrievers' lists
(fusion.py), keeps what the filters allow and chooses what to show of each
result (hits.py). Every knob is in RankingSettings (settings.py). Which
generation is live is `LiveIndex`'s business (live_index.py); `LiveSearcher`
puts the two together for the app and the command line: each search takes
the live generation once and carries it in its result.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

from indexer.embedding import Embedder
from indexer.index import Generation
from search_app.search.fusion import rank, timed
from search_app.search.hits import Filters, Hit, Shown, show_articles, show_passages, to_hits
from search_app.search.intent import title_need
from search_app.search.live_index import LiveIndex, PerGeneration
from search_app.search.query import QueryOptions, QueryPlan, corpus_synonym_table, plan_query
from search_app.search.settings import RankingSettings
from search_app.search.spelling import SpellingCorrector, load_english_words


@dataclass
class SearchResult:
    query: str
    plan: QueryPlan
    mode: str
    hits: list[Hit]
    total: int                     # how many articles (or passages) matched at all (with filters: kept)
    generation: Generation         # the generation that answered: passage ids belong to it
    took_ms: float
    filters: Filters = field(default_factory=Filters)
    timings_ms: dict[str, float] = field(default_factory=dict)  # per stage


@functools.lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    return load_english_words()


class _GenerationHelpers:
    """Per-generation lookups for ranking (spelling, synonyms, topic families)."""

    def __init__(self, generation: Generation, glossary):
        protected = frozenset(glossary.lay_words) if glossary is not None and \
            hasattr(glossary, "lay_words") else frozenset()
        self.speller = SpellingCorrector(generation.vocabulary, protected, english_words())
        rows = generation.article_rows()
        self.synonyms = corpus_synonym_table([(title, tuple(synonyms)) for _, title, _, synonyms in rows
                                              if synonyms])
        # By article number (None where a number is not live).
        self.article_need: list[str | None] = [None] * len(generation.article_ids)
        self.article_family: list[str | None] = [None] * len(generation.article_ids)
        for num, title, url, _ in rows:
            self.article_need[num] = title_need(title)
            self.article_family[num] = url  # one source page = one topic family


class Searcher:
    """Ranks a query against one generation."""

    def __init__(self, settings: RankingSettings = RankingSettings(), glossary=None):
        self.settings, self.glossary = settings, glossary
        self._helpers = PerGeneration(lambda generation: _GenerationHelpers(generation, self.glossary))

    def plan(self, query: str, generation: Generation, options: QueryOptions | None = None) -> QueryPlan:
        helpers = self._helpers(generation)
        return plan_query(query, options or self.settings.query, helpers.speller, self.glossary,
                          helpers.synonyms)

    def search(self, generation: Generation, embedder: Embedder, query: str, k: int = 10, offset: int = 0, *,
               mode: str | None = None, group: bool = True, filters: Filters = Filters(),
               settings: RankingSettings | None = None) -> SearchResult:
        """`query` normalised and `mode` one of MODES, checked once where they
        come in (the API's schemas, the eval command's --modes)."""
        started = time.perf_counter()
        settings = settings or self.settings
        mode = mode or settings.mode
        timings: dict[str, float] = {}
        with timed(timings, "plan"):
            plan = self.plan(query, generation, settings.query)
        with timed(timings, "encode"):
            texts = [plan.corrected] + ([plan.dense_text] if plan.dense_text != plan.corrected else [])
            vectors = embedder.encode(texts) if mode != "lexical" else None
        helpers = self._helpers(generation)
        ranked, fused = rank(generation, plan, vectors, mode, settings, group, helpers.article_need,
                             helpers.article_family, timings)
        with timed(timings, "fetch"):
            if filters:  # kept among the top candidates only
                shown = [s for s in self._show(generation, plan, vectors, ranked[:settings.filter_candidates],
                                               group, settings) if filters.keeps(s.passage)]
                total, page = len(shown), shown[offset:offset + k]
            else:
                total, page = len(ranked), self._show(generation, plan, vectors, ranked[offset:offset + k],
                                                      group, settings)
        return SearchResult(query=query, plan=plan, mode=mode, hits=to_hits(page, fused, offset + 1), total=total,
                            generation=generation, took_ms=(time.perf_counter() - started) * 1000,
                            filters=filters, timings_ms=timings)

    @staticmethod
    def _show(generation: Generation, plan: QueryPlan, vectors, items: list[int], group: bool,
              settings: RankingSettings) -> list[Shown]:
        if group:
            return show_articles(generation, plan, vectors, items, settings.word_match_bonus)
        return show_passages(generation, plan, vectors, items)


class LiveSearcher:
    """A Searcher over a LiveIndex: each search takes the live generation
    (and its model) once, so nothing in one response mixes generations."""

    def __init__(self, index: LiveIndex, searcher: Searcher):
        self.index, self.searcher = index, searcher

    @classmethod
    def over(cls, store, embedder: Embedder, glossary=None, settings: RankingSettings = RankingSettings(),
             reload_interval: float = 2.0) -> "LiveSearcher":
        """Over an IndexStore with one model (the benchmarks' way)."""
        return cls(LiveIndex(store, embedder, reload_interval), Searcher(settings, glossary))

    # What callers outside a search read: the live generation and its model
    # (both follow a newly published generation), and the ranking settings.
    generation = property(lambda self: self.index.generation)
    embedder = property(lambda self: self.index.embedder)
    settings = property(lambda self: self.searcher.settings)

    def search(self, query: str, k: int = 10, offset: int = 0, mode: str | None = None, group: bool = True,
               settings: RankingSettings | None = None, filters: Filters = Filters()) -> SearchResult:
        generation = self.index.generation
        return self.searcher.search(generation, self.index.embedder_for(generation), query, k, offset, mode=mode,
                                    group=group, filters=filters, settings=settings)


def make_searcher(config, embedder: Embedder | None = None) -> LiveSearcher:
    """The live searcher over `config.index_dir` (see LiveIndex.for_config
    for which model serves it), with the project's glossary."""
    from search_app.search.glossary import Glossary
    return LiveSearcher(LiveIndex.for_config(config, embedder), Searcher(glossary=Glossary.load()))
