"""The honest protocol for one index: topic folds, the grid cross-validated,
the glossary and the need cues judged fold by fold, topic-level MRR.

Everything here ranks through one Bench (one searcher, one generation,
cached query vectors); the figures are MRR@10, entry level unless named
topic level. docs/quality.md, "Honest protocol: topic folds", says why each
piece is measured the way it is.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Sequence

from search_app.evaluation.components import (Family, ablation_scores, cue_family, glossary_family,
                                              pruned_fold_scores, switched_off)
from search_app.evaluation.crossval import CrossValidation, cross_validate, fold_means, mean_of
from search_app.evaluation.folds import (assign_folds, fold_members, query_topics, reciprocal_rank,
                                         topic_reciprocal_rank)
from search_app.evaluation.grid import grid_points, settings_at, shipped_point
from search_app.evaluation.metrics import EvalQuery
from search_app.evaluation.need_model import NeedReaders, need_readers

RULES = ("drop-hurting", "keep-helping")


@dataclass
class ComponentFolds:
    """One kind of piece in one mode: each fold's MRR@10 per variant."""
    family: Family
    variants: dict[str, list[float]]  # "on", "off", and the pruning rules


@dataclass
class ModeReport:
    mode: str
    ranked_as: str                    # "default" ranks as the settings' own mode
    points: int                       # grid size
    shipped: list[float]              # per fold, shipped settings
    cv: CrossValidation               # grid picked on train folds, scored held out
    topic_all: float                  # topic level, shipped, all queries
    topic_cv: float                   # topic level of the held-out picks (mean over folds)
    fast_path_agrees: int             # queries whose shipped score equals the full search's
    components: dict[str, ComponentFolds] = field(default_factory=dict)
    ablations: dict[str, list[float]] = field(default_factory=dict)  # component off -> per fold
    needs: NeedReaders | None = None  # the need read by the model; None without query vectors (lexical)


@dataclass
class Protocol:
    folds: list[list[str]]
    fold_of: dict[str, int]
    modes: dict[str, ModeReport]


def grid_scores(bench, queries: Sequence[EvalQuery], mode: str):
    """point -> qid -> MRR@10, and the same at topic level, over the mode's grid."""
    entry, topic = {}, {}
    for point in grid_points(mode, bench.settings):
        settings = settings_at(point, bench.settings)
        groups = {q.qid: bench.groups(q.query, mode, settings) for q in queries}
        entry[point] = {q.qid: reciprocal_rank(groups[q.qid], q.relevant) for q in queries}
        topic[point] = {q.qid: topic_reciprocal_rank(groups[q.qid], query_topics(q)) for q in queries}
    return entry, topic


def component_folds(family: Family, off: dict[str, float], queries, folds, fold_of) -> ComponentFolds:
    variants = {"on": fold_means(family.all_on, folds), "off": fold_means(off, folds)}
    for rule in RULES:
        variants[rule] = pruned_fold_scores(family, queries, folds, fold_of, rule)
    return ComponentFolds(family, variants)


def mode_report(bench, queries: Sequence[EvalQuery], mode: str, ranked_as: str, folds, fold_of,
                full_scores: dict[str, float], need_model: bool = True) -> ModeReport:
    """`full_scores`: qid -> MRR@10 of the full search with the shipped
    settings. `need_model`: also measure the need read by the model (it
    needs the bench's real index and model)."""
    entry, topic = grid_scores(bench, queries, ranked_as)
    shipped = shipped_point(ranked_as, bench.settings)
    cv = cross_validate(entry, folds, prefer=shipped)
    topic_cv = sum(mean_of(topic[p.picked], folds[p.fold]) for p in cv.picks) / len(folds)
    agrees = sum(abs(entry[shipped][q.qid] - full_scores[q.qid]) < 1e-9 for q in queries)
    report = ModeReport(mode, ranked_as, len(entry), fold_means(entry[shipped], folds), cv,
                        mean_of(topic[shipped], [q.qid for q in queries]), topic_cv, agrees)
    for build in (glossary_family, cue_family):
        family = build(bench, queries, ranked_as)
        off = switched_off(bench, queries, ranked_as, family.kind)
        report.components[family.kind] = component_folds(family, off, queries, folds, fold_of)
        if family.kind == "cue list" and ranked_as != "lexical" and need_model:
            report.needs = need_readers(bench, queries, ranked_as, folds, family.all_on, off)
    report.ablations = {name: fold_means(scores, folds)
                        for name, scores in ablation_scores(bench, queries, ranked_as).items()}
    return report


def run_protocol(bench, queries: Sequence[EvalQuery], modes: Sequence[str], full: dict[str, dict[str, float]],
                 folds: int = 5, need_model: bool = True) -> Protocol:
    """`full`: mode -> qid -> MRR@10 of the full search (the dev-all table's).
    A mode that ranks as one already measured ("default" as hybrid) reuses it."""
    fold_of = assign_folds(queries, folds)
    members = fold_members(fold_of)
    reports: dict[str, ModeReport] = {}
    measured: dict[str, ModeReport] = {}  # by the mode it ranks as
    for mode in modes:
        ranked_as = bench.settings.mode if mode == "default" else mode
        if ranked_as not in measured:
            measured[ranked_as] = mode_report(bench, queries, mode, ranked_as, members, fold_of, full[mode],
                                               need_model)
        reports[mode] = dataclasses.replace(measured[ranked_as], mode=mode)
    return Protocol(members, fold_of, reports)
