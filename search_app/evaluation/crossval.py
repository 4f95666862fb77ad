"""Cross-validation over topic folds: a choice made on some folds, scored on
the one it did not see.

Every candidate (a grid point, a glossary variant) comes with its score per
query. For each fold the candidate with the best mean over the *other*
folds' queries is picked and scored on the held-out fold; the
cross-validated figure is the mean over held-out folds. Only the train
folds' scores are read to pick, so a candidate that shines only on the fold
being scored is not favoured (tests/search_app/evaluation/test_crossval.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Mapping, Sequence

Scores = Mapping[Hashable, Mapping[str, float]]  # candidate -> qid -> score


@dataclass(frozen=True)
class FoldPick:
    fold: int
    picked: Hashable
    train: float      # the pick's mean on the other folds
    held_out: float   # its mean on this fold


@dataclass(frozen=True)
class CrossValidation:
    picks: tuple[FoldPick, ...]

    @property
    def mean(self) -> float:
        """Mean over held-out folds (each fold weighs the same)."""
        return sum(p.held_out for p in self.picks) / len(self.picks) if self.picks else 0.0


def mean_of(scores: Mapping[str, float], qids: Sequence[str]) -> float:
    return sum(scores[q] for q in qids) / len(qids) if qids else 0.0


def pick_best(scores: Scores, qids: Sequence[str], prefer: Hashable | None = None) -> Hashable:
    """The candidate with the best mean on `qids`; ties go to `prefer` (the
    shipped setting: a change must earn its place), then to the first."""
    best, best_mean = None, float("-inf")
    for candidate, per_query in scores.items():
        value = mean_of(per_query, qids)
        if value > best_mean + 1e-12 or (abs(value - best_mean) <= 1e-12 and candidate == prefer):
            best, best_mean = candidate, value
    return best


def cross_validate(scores: Scores, folds: Sequence[Sequence[str]], prefer: Hashable | None = None) -> CrossValidation:
    """Per fold: pick on the other folds' queries, score on this one."""
    picks = []
    for fold, held_out in enumerate(folds):
        train = [q for other, members in enumerate(folds) if other != fold for q in members]
        picked = pick_best(scores, train, prefer)
        picks.append(FoldPick(fold, picked, mean_of(scores[picked], train), mean_of(scores[picked], held_out)))
    return CrossValidation(tuple(picks))


def fold_means(scores: Mapping[str, float], folds: Sequence[Sequence[str]]) -> list[float]:
    return [mean_of(scores, members) for members in folds]
