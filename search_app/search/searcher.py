"""Query → ranked articles (or passages) with attribution, from the live
index generation.

Three retrievers feed one ranking: dense passages (the query vector against
title-prefixed passages, an article scored by its best passage plus a share
of its second), dense whole articles, and lexical BM25 over stemmed words.
Reciprocal-rank fusion merges their article rankings. `mode` picks dense,
lexical or hybrid (all three); settings were chosen with `make eval` on one
half of the dev queries and reported on the other (see docs/quality.md).

The searcher holds one `Generation` at a time. Every request takes a
reference to the current one at its start and uses only that, so a new
generation published mid-request is picked up by the next request and no
response ever mixes two generations.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import faiss

from indexer.embedding import Embedder
from indexer.index import Generation, IndexCorrupt, IndexError_, IndexStore, PassageRecord
from indexer.text import stem, words
from search_app.search.intent import query_needs, title_need
from search_app.search.query import QueryOptions, QueryPlan, corpus_synonym_table, plan_query
from search_app.search.spelling import SpellingCorrector, load_english_words

log = logging.getLogger(__name__)
MODES = ("hybrid", "dense", "lexical")
WORD_MATCH_BONUS = 0.1  # per distinct query word in a passage, when choosing which passage to show


class IndexMismatch(IndexError_):
    pass


class QueryError(ValueError):
    """A query the searcher refuses; `field` names the offending parameter."""

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


@dataclass(frozen=True)
class RankingSettings:
    """Tuned on the first half of the dev queries (docs/quality.md)."""

    mode: str = "hybrid"
    candidates: int = 100          # depth of each retriever's list
    rrf_k: float = 10.0            # reciprocal-rank fusion constant
    second_passage_share: float = 0.0  # article = best passage (+ this share of the second)
    weight_dense_passages: float = 1.0
    weight_dense_articles: float = 1.0
    weight_lexical: float = 1.0
    weight_expanded: float = 1.0   # the dense ranking of the glossary-expanded query
    prefer_asked_need: bool = True # within a topic, favour the article answering the asked need
    query: QueryOptions = field(default_factory=QueryOptions)


@dataclass
class Hit:
    rank: int
    score: float                   # fused score (comparable within one response only)
    similarity: float | None       # cosine of the best passage to the query, when known
    passage: PassageRecord
    matched_sentence: int | None   # index into passage.sentences
    other_passages: list[int] = field(default_factory=list)


@dataclass
class SearchResult:
    query: str
    plan: QueryPlan
    mode: str
    hits: list[Hit]
    total: int                     # how many articles (or passages) matched at all
    generation: str
    took_ms: float
    identity: object = None        # the generation's name and id (indexer.index.history.Entry)
    timings_ms: dict[str, float] = field(default_factory=dict)  # per stage


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


@contextlib.contextmanager
def _timed(timings: dict[str, float], stage: str):
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + (time.perf_counter() - started) * 1000


def rrf(rankings: list[tuple[list[int], float]], k: float) -> dict[int, float]:
    """Reciprocal-rank fusion of (ranked ids, weight) lists."""
    fused: dict[int, float] = {}
    for ranked, weight in rankings:
        for rank, item in enumerate(ranked):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank + 1)
    return fused


def matched_sentence(passage: PassageRecord, query_stems: set[str]) -> int | None:
    """The sentence sharing most query words (stemmed); None if none does."""
    best, best_overlap = None, 0
    for i, sentence in enumerate(passage.sentences):
        overlap = len({stem(w) for w in words(sentence)} & query_stems)
        if overlap > best_overlap:
            best, best_overlap = i, overlap
    return best


@functools.lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    return load_english_words()


class _GenerationHelpers:
    """Per-generation lookups built on first use (spelling, synonyms)."""

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
    def __init__(self, store: IndexStore, embedder: Embedder, reload_interval: float = 2.0,
                 settings: RankingSettings = RankingSettings(), glossary=None,
                 load_embedder: Callable[[str], Embedder] | None = None):
        """`load_embedder(model name)`, when given, lets a running server
        follow an index rebuilt with another model (it loads that model
        before switching); without it such a generation is refused."""
        self.store, self.reload_interval = store, reload_interval
        self._embedders = {embedder.name: embedder}
        self._load_embedder = load_embedder
        self.settings, self.glossary = settings, glossary
        # One query is a small scan: OpenMP's thread team costs more than it
        # saves (measured ~2x slower with 2 threads on 2 cores), and a server
        # runs several requests at once anyway.
        faiss.omp_set_num_threads(1)
        self._lock = threading.Lock()
        self._generation = self._open_at_start()
        self._refused = None  # a CURRENT that failed to open, not retried until it changes
        self._helpers: tuple[str, _GenerationHelpers] | None = None
        self._checked_at = time.monotonic()

    # ---------------------------------------------------------------- generations
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
        """The newest intact state before the live one in the history (never
        one the editor rolled back from), or None."""
        for name in self.store.earlier_generations():
            try:
                generation = self._open_checked(name)
            except IndexCorrupt:
                continue
            log.warning("%s; serving the earlier generation %s instead", damage, name)
            return generation
        return None

    def _open_checked(self, name: str | None = None) -> Generation:
        name = name or self.store.current_name()
        if name is None:
            self.store.open_current()  # raises IndexMissing with the command to run
        if not (self.store.generations_dir / name).is_dir():
            return self.store.open_current()  # raises IndexCorrupt naming the fix
        generation = self.store.open_generation(name, verify=True)
        embedder = self._embedder_for(generation)
        if embedder is None or generation.manifest["dimension"] != embedder.dimension:
            generation.close()
            serving = next(iter(self._embedders.values()))
            raise IndexMismatch(
                f"the index at {self.store.root} was built with model {generation.model!r} "
                f"({generation.manifest['dimension']} dimensions) but the app uses {serving.name!r} "
                f"({serving.dimension}) and cannot load that one; rebuild it with "
                f"`python -m indexer build --force --model {serving.name}`, or restart the app")
        return generation

    def _embedder_for(self, generation: Generation) -> Embedder | None:
        """The model `generation` was built with: loaded already, or loaded
        now (seconds, on the one thread doing the reload) if allowed."""
        embedder = self._embedders.get(generation.model)
        if embedder is None and self._load_embedder is not None:
            try:
                embedder = self._load_embedder(generation.model)
            except Exception as err:  # an unknown or broken model: refused below with the fix named
                log.error("cannot load model %r for generation %s: %s", generation.model, generation.name, err)
                return None
            self._embedders = {embedder.name: embedder, **self._embedders}
        return embedder

    @property
    def embedder(self) -> Embedder:
        """The model of the generation being served."""
        return self._embedders[self._generation.model]

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

    def _follow_current(self) -> None:
        """Switch to what CURRENT names, compared by name and id (a folder
        rebuilt in place starts again at gen-000001). A damaged new state
        falls back along the history; with nothing intact there, the last
        good generation keeps serving."""
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

    def _helpers_for(self, generation: Generation) -> _GenerationHelpers:
        cached = self._helpers
        if cached is None or cached[0] != generation.identity:
            cached = (generation.identity, _GenerationHelpers(generation, self.glossary))
            self._helpers = cached
        return cached[1]

    def plan(self, query: str, generation: Generation | None = None,
             options: QueryOptions | None = None) -> QueryPlan:
        generation = generation or self.generation
        helpers = self._helpers_for(generation)
        return plan_query(query, options or self.settings.query, helpers.speller, self.glossary,
                          helpers.synonyms)

    # ---------------------------------------------------------------- search
    def search(self, query: str, k: int = 10, offset: int = 0, mode: str | None = None,
               group: bool = True, settings: RankingSettings | None = None) -> SearchResult:
        started = time.perf_counter()
        settings = settings or self.settings
        mode = mode or settings.mode
        if mode not in MODES:
            raise QueryError("invalid_mode", f"mode must be one of {', '.join(MODES)}.", "mode")
        generation = self.generation  # one generation (and its model) for the whole request
        embedder = self._embedders[generation.model]
        timings: dict[str, float] = {}
        with _timed(timings, "plan"):
            plan = self.plan(query, generation, settings.query)
        with _timed(timings, "encode"):
            texts = [plan.corrected] + ([plan.dense_text] if plan.dense_text != plan.corrected else [])
            vector = embedder.encode(texts) if mode != "lexical" else None
        ranked, fused = self._rank(generation, plan, vector, mode, settings, group, timings)
        page = ranked[offset:offset + k]
        with _timed(timings, "fetch"):
            hits = self._hits(generation, plan, vector, page, offset, group)
        for hit, item in zip(hits, page):
            hit.score = fused[item]
        return SearchResult(query=query, plan=plan, mode=mode, hits=hits, total=len(ranked),
                            generation=generation.name, identity=generation.identity,
                            took_ms=(time.perf_counter() - started) * 1000, timings_ms=timings)

    def _rank(self, generation: Generation, plan: QueryPlan, vector, mode: str,
              settings: RankingSettings, group: bool, timings: dict[str, float]):
        """Fused ranking of article numbers (or passage ids when not grouping)
        and the fused scores."""
        depth = settings.candidates
        passage_article = generation.passage_articles
        rankings: list[tuple[list[int], float]] = []

        dense_started = time.perf_counter()
        queries = self._dense_queries(vector, settings)
        if queries:  # every query row in one call per index (fewer FAISS calls per segment)
            all_scores, all_ids = generation.search(vector[:len(queries)], depth)
            if group:
                _, all_article_ids = generation.search_articles(vector[:len(queries)], depth)
        for row, (_, weight) in enumerate(queries):
            scores, ids = all_scores[row:row + 1], all_ids[row:row + 1]
            dense = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
            article_score: dict[int, list[float]] = {}
            for pid, score in dense:
                num = int(passage_article[pid])
                article_score.setdefault(num, []).append(score)
            if group:
                share = settings.second_passage_share
                combined = {n: s[0] + share * (s[1] if len(s) > 1 else 0.0) for n, s in article_score.items()}
                rankings.append((sorted(combined, key=combined.get, reverse=True),
                                 weight * settings.weight_dense_passages))
                rankings.append(([int(i) for i in all_article_ids[row] if i >= 0],
                                 weight * settings.weight_dense_articles))
            else:
                rankings.append(([pid for pid, _ in dense], weight * settings.weight_dense_passages))

        timings["dense"] = (time.perf_counter() - dense_started) * 1000
        if mode != "dense":
            with _timed(timings, "lexical"):
                lexical = generation.lexical(plan.lexical_terms, depth)
            if group:
                order = list(dict.fromkeys(int(passage_article[pid]) for pid, _ in lexical))
            else:
                order = [pid for pid, _ in lexical]
            weight = settings.weight_lexical if mode == "hybrid" else 1.0
            rankings.append((order, weight))

        fusion_started = time.perf_counter()
        fused = rrf(rankings, settings.rrf_k)
        ranked = sorted(fused, key=lambda i: (-fused[i], i))
        needs = query_needs(plan.text) if group and settings.prefer_asked_need else set()
        if needs:
            ranked = self._prefer_asked_need(generation, ranked, needs, fused)
        timings["fusion"] = (time.perf_counter() - fusion_started) * 1000
        return ranked, fused

    def _prefer_asked_need(self, generation: Generation, ranked: list[int], needs: set[str],
                           fused: dict[int, float]) -> list[int]:
        """Within a family of articles on one topic (same source page), move
        the member answering the asked need up to where the family first
        appears. Other topics keep their places, so a need cue never pulls
        in an article about something else."""
        helpers = self._helpers_for(generation)
        family, need = helpers.article_family, helpers.article_need
        preferred: dict[str, int] = {}
        for item in ranked:
            if need[item] in needs and family[item] is not None:
                preferred.setdefault(family[item], item)
        reordered, placed = [], set()
        for item in ranked:
            if item in placed:
                continue
            favourite = preferred.get(family[item]) if family[item] is not None else None
            if favourite is not None and favourite not in placed and need[item] not in needs:
                fused[favourite] = max(fused[favourite], fused[item])
                reordered.append(favourite)
                placed.add(favourite)
            reordered.append(item)
            placed.add(item)
        return reordered

    @staticmethod
    def _dense_queries(vector, settings: RankingSettings):
        """The reader's own words and, when the plan added clinical terms, the
        expanded query, each its own ranking: the first keeps precision, the
        second brings in articles only the clinical words reach."""
        if vector is None:
            return []
        queries = [(vector[:1], 1.0)]
        if len(vector) > 1:
            queries.append((vector[1:2], settings.weight_expanded))
        return queries

    def _hits(self, generation: Generation, plan: QueryPlan, vector, page: list[int],
              offset: int, group: bool) -> list[Hit]:
        if group:
            ranges = [list(range(*generation.passage_range(num))) for num in page]
            all_ids = [pid for ids in ranges for pid in ids]
            records = generation.passages(all_ids)  # one query for the whole page
            sims = dict(zip(all_ids, generation.passage_vectors(all_ids) @ vector[0])) \
                if vector is not None and all_ids else {}
            return [self._article_hit(ids, records, sims, plan, offset + i + 1)
                    for i, ids in enumerate(ranges)]
        records = generation.passages(page)
        sims = generation.passage_vectors(page) @ vector[0] if vector is not None and page else None
        return [Hit(rank=offset + i + 1, score=0.0, passage=records[pid],
                    similarity=None if sims is None else float(sims[i]),
                    matched_sentence=matched_sentence(records[pid], plan.highlight_stems))
                for i, pid in enumerate(page)]

    @staticmethod
    def _article_hit(ids: list[int], records: dict, sims: dict, plan: QueryPlan, rank: int) -> Hit:
        """The article's passage to show: closest to the query, nudged towards
        passages that contain the query's words. Without the nudge a passage
        that is a bare list of terms can win on its (embedded) title alone."""
        query_stems = plan.highlight_stems

        def score(pid: int) -> float:
            overlap = len(records[pid].text_stems & query_stems)
            return float(sims.get(pid, 0.0)) + WORD_MATCH_BONUS * overlap

        best = max(ids, key=lambda pid: (score(pid), -pid))  # ties go to the earliest passage
        record = records[best]
        return Hit(rank=rank, score=0.0, similarity=float(sims[best]) if sims else None,
                   passage=record, matched_sentence=matched_sentence(record, query_stems),
                   other_passages=[pid for pid in ids if pid != best])

    def disclaimers(self) -> list[str]:
        return [p.disclaimer for p in self.generation.pages() if p.disclaimer]
