"""Topic folds: the dev queries split so that no topic is on both sides.

A topic is a source document: the part of an entry id before its last dash
("NHLBI-0000066" for "NHLBI-0000066-1"); a query's topics are those of its
relevant entries. Queries about one topic look alike (the same words, the
same family of entries), so a setting chosen on some of them and scored on
another would be judged on a question it has, in effect, already seen.
Queries sharing a topic, directly or through a chain of shared topics, are
therefore kept in one fold; the assignment depends only on the queries, so
every run of `make eval` splits the set the same way.
"""
from __future__ import annotations

from typing import Sequence

from search_app.evaluation.metrics import EvalQuery

DEFAULT_FOLDS = 5
CUTOFF = 10


def topic_of(entry_id: str) -> str:
    """The source document of an entry (an id without a dash is its own topic)."""
    return entry_id.rsplit("-", 1)[0] if "-" in entry_id else entry_id


def query_topics(query: EvalQuery) -> frozenset[str]:
    return frozenset(topic_of(doc) for doc in query.relevant)


def topic_groups(queries: Sequence[EvalQuery]) -> list[list[str]]:
    """Query ids linked by shared topics (connected components), each in
    query order, the groups in the order of their first query."""
    parent = {q.qid: q.qid for q in queries}

    def root(qid: str) -> str:
        while parent[qid] != qid:
            parent[qid] = parent[parent[qid]]
            qid = parent[qid]
        return qid

    first_with: dict[str, str] = {}
    for q in queries:
        for topic in sorted(query_topics(q)):
            if topic in first_with:
                parent[root(q.qid)] = root(first_with[topic])
            else:
                first_with[topic] = q.qid
    groups: dict[str, list[str]] = {}
    for q in queries:
        groups.setdefault(root(q.qid), []).append(q.qid)
    return list(groups.values())


def assign_folds(queries: Sequence[EvalQuery], folds: int = DEFAULT_FOLDS) -> dict[str, int]:
    """qid -> fold (0..folds-1). Largest topic groups first, each into the
    fold with the fewest queries so far (ties: the lowest fold), so folds
    come out even in size without a random seed."""
    if folds < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    sizes = [0] * folds
    fold_of: dict[str, int] = {}
    order = sorted(enumerate(topic_groups(queries)), key=lambda g: (-len(g[1]), g[0]))
    for _, group in order:
        target = min(range(folds), key=lambda f: (sizes[f], f))
        sizes[target] += len(group)
        fold_of.update({qid: target for qid in group})
    return fold_of


def fold_members(fold_of: dict[str, int]) -> list[list[str]]:
    """The query ids of each fold, in query-id order."""
    count = max(fold_of.values(), default=-1) + 1
    return [sorted(q for q, f in fold_of.items() if f == fold) for fold in range(count)]


def topic_reciprocal_rank(groups: Sequence[Sequence[str]], topics: frozenset[str], cutoff: int = CUTOFF) -> float:
    """Topic-level MRR of one query: 1/rank of the first result holding any
    entry of a right topic (its own article or one collapsed into it), else 0.
    Ranks are results as a reader sees them, so a second entry of the topic
    pushes nothing down."""
    for rank, group in enumerate(groups[:cutoff], start=1):
        if any(topic_of(doc) in topics for doc in group):
            return 1.0 / rank
    return 0.0


def reciprocal_rank(groups: Sequence[Sequence[str]], relevant: Sequence[str], cutoff: int = CUTOFF) -> float:
    """MRR@10 of one query at entry level: 1/rank of the first result holding
    a relevant entry. The same figure `representatives` and pytrec_eval give
    (the first relevant entry stands at its result's rank), without the
    evaluator's cost, for the thousands of runs of the grid."""
    for rank, group in enumerate(groups[:cutoff], start=1):
        if any(doc in relevant for doc in group):
            return 1.0 / rank
    return 0.0
