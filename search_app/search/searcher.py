"""Query → ranked articles (or passages) with attribution, from one index
generation.

`Searcher` only ranks: given a generation, its embedding model and a query,
it plans the query (search_app/search/query.py), fuses the retrievers' lists
(fusion.py), keeps what the filters allow and chooses what to show of each
result (hits.py). A grouped search is one result per question
(questions.py): `k`, `offset` and `total` count questions, and the other
answers ride along in each hit's `also`. Every knob is in RankingSettings
(settings.py). Which
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
from search_app.search.query_vectors import QueryVectors
from search_app.search.questions import Questions, collapse
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
    """Per-generation lookups for ranking (spelling, synonyms, topic families,
    the question each article answers)."""

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
        self.questions = Questions(generation.article_ids, [(num, title) for num, title, _, _ in rows])


class Searcher:
    """Ranks a query against one generation."""

    def __init__(self, settings: RankingSettings = RankingSettings(), glossary=None,
                 query_vectors: QueryVectors | None = None):
        """`query_vectors`: where vectors of questions asked again are kept
        (None: every search calls the model)."""
        self.settings, self.glossary = settings, glossary
        self.query_vectors = query_vectors
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
            vectors = self._encode(embedder, plan) if mode != "lexical" else None
        helpers = self._helpers(generation)
        ranked, fused = rank(generation, plan, vectors, mode, settings, group, helpers.article_need,
                             helpers.article_family, timings)
        with timed(timings, "fetch"):
            total, page = self._fetch(generation, plan, vectors, ranked, k, offset, group, filters, settings)
        answers = [helpers.questions.size(g[0].passage.article_id) for g in page] if group else []
        return SearchResult(query=query, plan=plan, mode=mode, hits=to_hits(page, fused, offset + 1, answers),
                            total=total, generation=generation, took_ms=(time.perf_counter() - started) * 1000,
                            filters=filters, timings_ms=timings)

    def _encode(self, embedder: Embedder, plan: QueryPlan):
        """The reader's words and, only when the glossary added terms, the
        expanded query: one model call (or none, when both are kept)."""
        texts = [plan.corrected] + ([plan.dense_text] if plan.dense_text != plan.corrected else [])
        if self.query_vectors is None:
            return embedder.encode(texts)
        return self.query_vectors.encode(embedder, texts)

    def _fetch(self, generation: Generation, plan: QueryPlan, vectors, ranked: list[int], k: int, offset: int,
               group: bool, filters: Filters, settings: RankingSettings) -> tuple[int, list[list[Shown]]]:
        """(how many results in all, the requested page as groups). Grouped:
        the whole ranked list is collapsed first, so paging counts questions,
        and a page's leaders and their collapsed answers are read in one go."""
        def show(items: list[int]) -> list[Shown]:
            return self._show(generation, plan, vectors, items, group, settings)

        key = self._helpers(generation).questions.key if group else None
        if filters:  # kept among the top candidates only, then grouped
            kept = [s for s in show(ranked[:settings.filter_candidates]) if filters.keeps(s.passage)]
            by_item = {s.item: s for s in kept}
            groups = [[by_item[n] for n in g] for g in collapse([s.item for s in kept], key)] if group \
                else [[s] for s in kept]
            return len(groups), groups[offset:offset + k]
        if not group:
            return len(ranked), [[s] for s in show(ranked[offset:offset + k])]
        groups = collapse(ranked, key)
        wanted = groups[offset:offset + k]
        leaders = {g[0] for g in wanted}
        by_item = {s.item: s for s in self._show(generation, plan, vectors, [n for g in wanted for n in g], group,
                                                 settings, leaders)}
        return len(groups), [[by_item[n] for n in g] for g in wanted]

    @staticmethod
    def _show(generation: Generation, plan: QueryPlan, vectors, items: list[int], group: bool,
              settings: RankingSettings, highlighted: set[int] | None = None) -> list[Shown]:
        if group:
            return show_articles(generation, plan, vectors, items, settings.word_match_bonus, highlighted)
        return show_passages(generation, plan, vectors, items)

    def questions(self, generation: Generation) -> Questions:
        """Which articles of `generation` answer the same question (the
        question page and the evaluation read it)."""
        return self._helpers(generation).questions

    def lookups(self, generation: Generation) -> _GenerationHelpers:
        """The per-generation look-ups a search ranks with (needs, topic
        families, questions), for the evaluation's grid, which ranks through
        them without choosing passages to show."""
        return self._helpers(generation)


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

    def questions(self, generation: Generation | None = None) -> Questions:
        return self.searcher.questions(generation or self.index.generation)

    def search(self, query: str, k: int = 10, offset: int = 0, mode: str | None = None, group: bool = True,
               settings: RankingSettings | None = None, filters: Filters = Filters()) -> SearchResult:
        generation = self.index.generation
        return self.searcher.search(generation, self.index.embedder_for(generation), query, k, offset, mode=mode,
                                    group=group, filters=filters, settings=settings)


def make_searcher(config, embedder: Embedder | None = None) -> LiveSearcher:
    """The live searcher over `config.index_dir` (see LiveIndex.for_config
    for which model serves it), with the project's glossary and a map of
    `config.query_cache` query vectors."""
    from search_app.search.glossary import Glossary
    return LiveSearcher(LiveIndex.for_config(config, embedder),
                        Searcher(glossary=Glossary.load(), query_vectors=QueryVectors(config.query_cache)))
