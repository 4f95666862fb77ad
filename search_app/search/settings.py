"""Every ranking knob in one place: the retrievers' depths and weights, the
fusion constant, which query-bridging pieces run, the passage-choice bonus,
how many candidates a filtered search looks at, and BM25's k1 and b.

Tuned on the first half of the dev queries and reported on the other
(docs/quality.md); `make eval` must not move when this file does not.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from search_app.search.query import InputError, QueryOptions

MODES = ("hybrid", "dense", "lexical")


def check_mode(mode: str) -> str:
    """`mode` if it is one of MODES, else the input error the API shows."""
    if mode not in MODES:
        raise InputError("invalid_mode", f"mode must be one of {', '.join(MODES)}.", "mode")
    return mode


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
    word_match_bonus: float = 0.1  # per distinct query word in a passage, when choosing which passage to show
    filter_candidates: int = 200   # a filtered search (author, source, article) keeps matches among this many
    bm25_k1: float = 1.2           # lexical BM25 (indexer.index.lexical's defaults)
    bm25_b: float = 0.75
    query: QueryOptions = field(default_factory=QueryOptions)  # spelling, glossary, synonyms


DEFAULT_SETTINGS = RankingSettings()
