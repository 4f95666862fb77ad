"""The ranking: three retrievers' lists fused into one.

Dense passages (the query vector against title-prefixed passages; an article
scored by its best passage plus a share of its second), dense whole
articles, and lexical BM25 over stemmed words. Reciprocal-rank fusion
merges their rankings; within a family of articles on one topic, the one
answering the asked need is then moved up (search_app/search/intent.py).
"""
from __future__ import annotations

import contextlib
import time
from typing import Sequence

from indexer.index import Generation
from search_app.search.intent import query_needs
from search_app.search.query import QueryPlan
from search_app.search.settings import RankingSettings

Ranking = tuple[list[int], float]  # ranked ids, weight


@contextlib.contextmanager
def timed(timings: dict[str, float], stage: str):
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + (time.perf_counter() - started) * 1000


def rrf(rankings: list[Ranking], k: float) -> dict[int, float]:
    """Reciprocal-rank fusion of (ranked ids, weight) lists."""
    fused: dict[int, float] = {}
    for ranked, weight in rankings:
        for rank, item in enumerate(ranked):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank + 1)
    return fused


def fused_order(fused: dict[int, float]) -> list[int]:
    """Best first; ties go to the smaller id."""
    return sorted(fused, key=lambda i: (-fused[i], i))


def dense_queries(vectors, settings: RankingSettings) -> list[tuple[object, float]]:
    """The reader's own words and, when the plan added clinical terms, the
    expanded query, each its own ranking: the first keeps precision, the
    second brings in articles only the clinical words reach."""
    if vectors is None:
        return []
    queries = [(vectors[:1], 1.0)]
    if len(vectors) > 1:
        queries.append((vectors[1:2], settings.weight_expanded))
    return queries


def dense_rankings(generation: Generation, vectors, settings: RankingSettings, group: bool) -> list[Ranking]:
    queries = dense_queries(vectors, settings)
    if not queries:
        return []
    depth, passage_article = settings.candidates, generation.passage_articles
    # every query row in one call per index (fewer FAISS calls per segment)
    all_scores, all_ids = generation.search(vectors[:len(queries)], depth)
    if group:
        _, all_article_ids = generation.search_articles(vectors[:len(queries)], depth)
    rankings: list[Ranking] = []
    for row, (_, weight) in enumerate(queries):
        dense = [(int(i), float(s)) for i, s in zip(all_ids[row], all_scores[row]) if i >= 0]
        if not group:
            rankings.append(([pid for pid, _ in dense], weight * settings.weight_dense_passages))
            continue
        article_score: dict[int, list[float]] = {}
        for pid, score in dense:
            article_score.setdefault(int(passage_article[pid]), []).append(score)
        share = settings.second_passage_share
        combined = {n: s[0] + share * (s[1] if len(s) > 1 else 0.0) for n, s in article_score.items()}
        rankings.append((sorted(combined, key=combined.get, reverse=True), weight * settings.weight_dense_passages))
        rankings.append(([int(i) for i in all_article_ids[row] if i >= 0], weight * settings.weight_dense_articles))
    return rankings


def lexical_ranking(generation: Generation, terms: Sequence[str], settings: RankingSettings, group: bool,
                    weight: float) -> Ranking:
    lexical = generation.lexical(terms, settings.candidates, k1=settings.bm25_k1, b=settings.bm25_b)
    if group:
        passage_article = generation.passage_articles
        return list(dict.fromkeys(int(passage_article[pid]) for pid, _ in lexical)), weight
    return [pid for pid, _ in lexical], weight


def prefer_asked_need(ranked: list[int], needs: set[str], fused: dict[int, float],
                      need: Sequence[str | None], family: Sequence[str | None]) -> list[int]:
    """Within a family of articles on one topic (`family`: same source page),
    move the member answering the asked need up to where the family first
    appears (raising its fused score to that place's). Other topics keep
    their places, so a need cue never pulls in an article about something else."""
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


def rank(generation: Generation, plan: QueryPlan, vectors, mode: str, settings: RankingSettings, group: bool,
         need: Sequence[str | None], family: Sequence[str | None],
         timings: dict[str, float], asked: set[str] | None = None) -> tuple[list[int], dict[int, float]]:
    """Fused ranking of article numbers (or passage ids when not grouping)
    and the fused scores. `need`/`family`: by article number, the need its
    title asks about and its topic family. `asked`: the needs the query asks
    for, if the caller read them another way (the evaluation's need
    readers); None reads them from the cue lists."""
    with timed(timings, "dense"):
        rankings = dense_rankings(generation, vectors, settings, group)
    if mode != "dense":
        with timed(timings, "lexical"):
            weight = settings.weight_lexical if mode == "hybrid" else 1.0
            rankings.append(lexical_ranking(generation, plan.lexical_terms, settings, group, weight))
    with timed(timings, "fusion"):
        fused = rrf(rankings, settings.rrf_k)
        ranked = fused_order(fused)
        needs = set()
        if group and settings.prefer_asked_need:
            needs = query_needs(plan.text) if asked is None else asked
        if needs:
            ranked = prefer_asked_need(ranked, needs, fused, need, family)
    return ranked, fused
