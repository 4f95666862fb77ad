"""Needs read by the model, measured against the regex cue lists.

The search reads what a question asks for (symptoms, causes, treatment...)
from cue words (search_app/search/intent.py), lists written by reading
dev queries. Issue 16 asks for a reader that generalises instead. This one
learns from the corpus itself, never from queries: every article title is
a question whose need the title cues name ("What are the symptoms of X?"),
or none for an overview. A title's vector is mostly its topic, so each is
centred on its topic family's mean (the topic cancels, the need remains)
and a softmax regression learns need from the centred vectors. A query's
need is then read from its own vector, the one the search already has, so
it costs no model call.

It is scored like everything else in the protocol: the regression's
strength and the probability a need must reach are picked on the other
folds and scored on the held-out one, alone (replacing the cue lists) and
together with them (either may name a need).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from search_app.evaluation.crossval import CrossValidation, cross_validate, fold_means
from search_app.evaluation.folds import reciprocal_rank
from search_app.evaluation.metrics import EvalQuery
from search_app.search.intent import query_needs

NONE = "none"                         # the class of titles that ask for no particular need
STRENGTHS = (1.0, 3.0, 10.0)          # inverse L2 penalty, as in scikit-learn's C
THRESHOLDS = (0.5, 0.6, 0.7)          # probability a need must reach to be read


class SoftmaxRegression:
    """Multinomial logistic regression by full-batch gradient descent:
    minimises C * (summed log-loss) + ||W||^2 / 2 (the intercept free), a
    convex problem, so the result does not depend on a seed."""

    def __init__(self, strength: float = 1.0, steps: int = 1500, rate: float = 0.5):
        self.strength, self.steps, self.rate = strength, steps, rate

    def fit(self, x: np.ndarray, labels: Sequence[str]) -> "SoftmaxRegression":
        self.classes = sorted(set(labels))
        column = {c: i for i, c in enumerate(self.classes)}
        target = np.zeros((len(labels), len(self.classes)))
        target[np.arange(len(labels)), [column[c] for c in labels]] = 1.0
        x = np.asarray(x, dtype=np.float64)
        self.weights = np.zeros((x.shape[1], len(self.classes)))
        self.bias = np.zeros(len(self.classes))
        # the loss is summed, so the step is scaled by the data's size
        step = self.rate / (self.strength * len(x) + 1.0)
        for _ in range(self.steps):
            error = self._softmax(x @ self.weights + self.bias) - target
            self.weights -= step * (self.strength * x.T @ error + self.weights)
            self.bias -= step * self.strength * error.sum(axis=0)
        return self

    @staticmethod
    def _softmax(logits: np.ndarray) -> np.ndarray:
        logits = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        return self._softmax(np.atleast_2d(np.asarray(x, dtype=np.float64)) @ self.weights + self.bias)


def centred_by_family(vectors: np.ndarray, families: Sequence[str | None]) -> np.ndarray:
    """Each vector minus the mean of its family's (a family of one is zero:
    it says nothing about need)."""
    centred = np.array(vectors, dtype=np.float64)
    members: dict[str | None, list[int]] = {}
    for row, family in enumerate(families):
        members.setdefault(family, []).append(row)
    for family, rows in members.items():
        if family is None:
            continue
        centred[rows] -= centred[rows].mean(axis=0)
    return centred


@dataclass(frozen=True)
class TitleTraining:
    """The corpus's titles as training data: centred vectors and needs."""
    x: np.ndarray
    labels: tuple[str, ...]

    @classmethod
    def from_bench(cls, bench) -> "TitleTraining":
        helpers, rows = bench.helpers, bench.generation.article_rows()
        vectors = bench.embedder.encode([title for _, title, _, _ in rows])
        families = [helpers.article_family[num] for num, _, _, _ in rows]
        labels = tuple(helpers.article_need[num] or NONE for num, _, _, _ in rows)
        return cls(centred_by_family(vectors, families), labels)


class ModelNeeds:
    """Reads a query's needs from its vector: those whose probability
    reaches `threshold` (never "none")."""

    def __init__(self, model: SoftmaxRegression, threshold: float, with_cues: bool = False):
        self.model, self.threshold, self.with_cues = model, threshold, with_cues

    def __call__(self, query: str, vector: np.ndarray) -> set[str]:
        probabilities = self.model.probabilities(vector)[0]
        needs = {c for c, p in zip(self.model.classes, probabilities) if p >= self.threshold and c != NONE}
        return needs | query_needs(query) if self.with_cues else needs


@dataclass(frozen=True)
class NeedReaders:
    """One mode's need readers, per held-out fold (MRR@10)."""
    cues: list[float]                  # the shipped regex cue lists
    off: list[float]                   # no need read
    model: CrossValidation             # the title model alone, its knobs picked on the other folds
    model_and_cues: CrossValidation    # either names a need
    cue_fires: int                     # queries the cue lists read a need in
    model_fires: dict[tuple, int]      # (strength, threshold) -> queries the model reads a need in


class _Counting:
    """A reader that counts the queries it reads a need in."""

    def __init__(self, reader: ModelNeeds):
        self.reader, self.fired = reader, set()

    def __call__(self, query: str, vector: np.ndarray) -> set[str]:
        needs = self.reader(query, vector)
        if needs:
            self.fired.add(query)
        return needs


def need_readers(bench, queries: Sequence[EvalQuery], mode: str, folds: Sequence[Sequence[str]],
                 cues: dict[str, float], off: dict[str, float]) -> NeedReaders:
    """`cues`/`off`: qid -> MRR@10 with the cue lists and with no need
    preference (the protocol has them already)."""
    training = TitleTraining.from_bench(bench)
    alone: dict[tuple, dict[str, float]] = {}
    joined: dict[tuple, dict[str, float]] = {}
    fires: dict[tuple, int] = {}
    for strength in STRENGTHS:
        model = SoftmaxRegression(strength).fit(training.x, training.labels)
        for threshold in THRESHOLDS:
            counting = _Counting(ModelNeeds(model, threshold))
            alone[(strength, threshold)] = _scores(bench, queries, mode, counting)
            fires[(strength, threshold)] = len(counting.fired)
            joined[(strength, threshold)] = _scores(bench, queries, mode, ModelNeeds(model, threshold, True))
    return NeedReaders(fold_means(cues, folds), fold_means(off, folds), cross_validate(alone, folds),
                       cross_validate(joined, folds), sum(bool(query_needs(q.query)) for q in queries), fires)


def _scores(bench, queries: Sequence[EvalQuery], mode: str, reader) -> dict[str, float]:
    return {q.qid: reciprocal_rank(bench.groups(q.query, mode, needs=reader), q.relevant) for q in queries}
