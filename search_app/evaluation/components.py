"""Glossary entries and need-cue lists judged on queries they were not
written from.

Neither the lay glossary nor the cue lists are tuned per fold: they were
written once. What the protocol can do is look at each piece's effect fold
by fold. A piece fires on a query when it changes what the search is asked
(a glossary entry matches the query's words; a cue list reads a need in
it). Its effect on a query is the query's MRR@10 with everything on minus
with that one piece off. A piece that helps on one fold alone, where it
fires, helps only a cluster of queries about one topic and may have been
written from them; a piece that helps on several folds carries over.
The pruned variants are cross-validated: for each fold, the pieces kept
are decided on the other folds' queries only, and the held-out fold is
scored with what was kept.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, Sequence

from search_app.evaluation.crossval import mean_of
from search_app.evaluation.folds import reciprocal_rank
from search_app.evaluation.metrics import EvalQuery
from search_app.search.glossary import Glossary
from search_app.search.intent import QUERY_CUES, only_cue_lists, query_needs

# (queries, pieces to leave out) -> qid -> MRR@10 with those pieces off
Runner = Callable[[Sequence[EvalQuery], frozenset[str]], dict[str, float]]


@dataclass(frozen=True)
class Piece:
    name: str
    fires: tuple[str, ...]        # qids it acts on
    effect: dict[str, float]      # qid -> MRR@10 on minus off, for the qids it fires on


@dataclass(frozen=True)
class Family:
    """A kind of piece (glossary entries, cue lists) in one mode."""
    kind: str
    pieces: tuple[Piece, ...]
    run: Runner
    all_on: dict[str, float]      # qid -> MRR@10, shipped


def verdict(per_fold: dict[int, float]) -> str:
    """How a piece fares across the folds it fires on."""
    helps = [f for f, d in per_fold.items() if d > 1e-9]
    hurts = [f for f, d in per_fold.items() if d < -1e-9]
    if helps and hurts:
        return "mixed"
    if hurts:
        return "hurts"
    if len(helps) >= 2:
        return "helps on 2+ folds"
    if helps:
        return "helps on 1 fold only"
    return "no effect"


def piece_per_fold(piece: Piece, fold_of: dict[str, int], fold_sizes: Sequence[int]) -> dict[int, float]:
    """Change in each fold's MRR@10 when the piece is turned on (folds it fires in)."""
    total: dict[int, float] = {}
    for qid in piece.fires:
        fold = fold_of[qid]
        total[fold] = total.get(fold, 0.0) + piece.effect[qid] / fold_sizes[fold]
    return total


def kept_for_fold(family: Family, fold_of: dict[str, int], fold: int, rule: str) -> frozenset[str]:
    """The pieces left out when scoring `fold`, read from the other folds only:
    "drop-hurting" leaves out a piece whose summed effect there is negative,
    "keep-helping" also one with no positive evidence there."""
    dropped = set()
    for piece in family.pieces:
        train = sum(d for q, d in piece.effect.items() if fold_of[q] != fold)
        if train < -1e-9 or (rule == "keep-helping" and train <= 1e-9):
            dropped.add(piece.name)
    return frozenset(dropped)


def pruned_fold_scores(family: Family, queries: Sequence[EvalQuery], folds: Sequence[Sequence[str]],
                       fold_of: dict[str, int], rule: str) -> list[float]:
    """Per fold, its MRR@10 with the pieces the other folds kept."""
    by_qid = {q.qid: q for q in queries}
    means = []
    for fold, members in enumerate(folds):
        scores = family.run([by_qid[q] for q in members], kept_for_fold(family, fold_of, fold, rule))
        means.append(mean_of(scores, members))
    return means


def build_family(kind: str, queries: Sequence[EvalQuery], fires_on: Callable[[EvalQuery], list[str]],
                 run: Runner) -> Family:
    """Which pieces fire where, and each piece's effect on those queries."""
    all_on = run(queries, frozenset())
    firing: dict[str, list[EvalQuery]] = {}
    for q in queries:
        for name in dict.fromkeys(fires_on(q)):
            firing.setdefault(name, []).append(q)
    pieces = []
    for name in sorted(firing):
        off = run(firing[name], frozenset({name}))
        pieces.append(Piece(name, tuple(q.qid for q in firing[name]),
                            {q.qid: all_on[q.qid] - off[q.qid] for q in firing[name]}))
    return Family(kind, tuple(pieces), run, all_on)


def glossary_family(bench, queries: Sequence[EvalQuery], mode: str) -> Family:
    """Glossary entries, by lay phrase."""
    glossary, settings = bench.glossary, bench.settings

    def fires_on(q: EvalQuery) -> list[str]:
        plan = bench.plan(q.query, settings, glossary)
        return [lay for lay, _ in glossary.expansions(plan.corrected)]

    def run(subset: Sequence[EvalQuery], off: frozenset[str]) -> dict[str, float]:
        variant = Glossary([e for e in glossary.entries if e.lay not in off]) if off else glossary
        return {q.qid: reciprocal_rank(bench.groups(q.query, mode, settings, variant), q.relevant) for q in subset}

    return build_family("glossary entry", queries, fires_on, run)


def cue_family(bench, queries: Sequence[EvalQuery], mode: str) -> Family:
    """The query cue lists of the asked-need preference, by need."""
    settings = bench.settings

    def run(subset: Sequence[EvalQuery], off: frozenset[str]) -> dict[str, float]:
        with only_cue_lists(set(QUERY_CUES) - off):
            return {q.qid: reciprocal_rank(bench.groups(q.query, mode, settings), q.relevant) for q in subset}

    return build_family("cue list", queries, lambda q: sorted(query_needs(q.query)), run)


def switched_off(bench, queries: Sequence[EvalQuery], mode: str, kind: str) -> dict[str, float]:
    """qid -> MRR@10 with the whole glossary, or the whole need preference, off."""
    settings = bench.settings
    if kind == "glossary entry":
        settings = dataclasses.replace(settings, query=dataclasses.replace(settings.query, glossary=False))
    else:
        settings = dataclasses.replace(settings, prefer_asked_need=False)
    return {q.qid: reciprocal_rank(bench.groups(q.query, mode, settings), q.relevant) for q in queries}


def _with(settings, **changes):
    query = {k: changes.pop(k) for k in ("spelling", "glossary") if k in changes}
    if query:
        changes["query"] = dataclasses.replace(settings.query, **query)
    return dataclasses.replace(settings, **changes)


# name -> the shipped settings with one component off (the modes it exists in)
ABLATIONS: dict[str, tuple[dict, tuple[str, ...]]] = {
    "spelling correction": ({"spelling": False}, ("dense", "lexical", "hybrid")),
    "lay glossary": ({"glossary": False}, ("dense", "lexical", "hybrid")),
    "need cues": ({"prefer_asked_need": False}, ("dense", "lexical", "hybrid")),
    "BM25 ranking": ({"weight_lexical": 0.0}, ("hybrid",)),
    "passage vectors": ({"weight_dense_passages": 0.0}, ("dense", "hybrid")),
    "whole-article vectors": ({"weight_dense_articles": 0.0}, ("dense", "hybrid")),
    "expanded-query ranking": ({"weight_expanded": 0.0}, ("dense", "hybrid")),
}


def ablation_scores(bench, queries: Sequence[EvalQuery], mode: str) -> dict[str, dict[str, float]]:
    """component -> qid -> MRR@10 with that one component off, the rest shipped."""
    scores = {}
    for name, (changes, modes) in ABLATIONS.items():
        if mode in modes:
            settings = _with(bench.settings, **changes)
            scores[name] = {q.qid: reciprocal_rank(bench.groups(q.query, mode, settings), q.relevant)
                            for q in queries}
    return scores
