"""Picking on train folds, scoring on the held-out one (no model)."""
import random

import pytest

from search_app.evaluation.crossval import cross_validate, fold_means, pick_best

FOLDS = [["a1", "a2"], ["b1", "b2"], ["c1", "c2"]]
QIDS = [q for fold in FOLDS for q in fold]


def flat(value):
    return {q: value for q in QIDS}


def test_the_pick_for_a_fold_ignores_that_fold():
    # "peek" is perfect on fold a and poor elsewhere; "steady" is decent everywhere.
    scores = {"steady": flat(0.6), "peek": {**flat(0.2), "a1": 1.0, "a2": 1.0}}
    cv = cross_validate(scores, FOLDS)
    assert cv.picks[0].picked == "steady"          # a peek at fold a would choose "peek"
    assert cv.picks[0].held_out == pytest.approx(0.6)
    assert cv.picks[0].train == pytest.approx(0.6)
    assert [p.picked for p in cv.picks[1:]] == ["steady", "steady"]
    assert cv.mean == pytest.approx(0.6)


def test_changing_the_held_out_scores_never_changes_its_pick():
    rng = random.Random(7)
    scores = {c: {q: rng.random() for q in QIDS} for c in "abcdef"}
    picks = [p.picked for p in cross_validate(scores, FOLDS).picks]
    for fold, members in enumerate(FOLDS):
        shaken = {c: {q: (rng.random() if q in members else s) for q, s in per.items()} for c, per in scores.items()}
        assert cross_validate(shaken, FOLDS).picks[fold].picked == picks[fold]


def test_the_held_out_figure_is_the_pick_scored_on_its_fold_averaged_over_folds():
    scores = {"x": {"a1": 1, "a2": 0, "b1": 1, "b2": 1, "c1": 0, "c2": 0}}
    cv = cross_validate(scores, FOLDS)
    assert [p.held_out for p in cv.picks] == [0.5, 1.0, 0.0]
    assert cv.mean == pytest.approx(0.5)
    assert fold_means(scores["x"], FOLDS) == [0.5, 1.0, 0.0]


def test_ties_go_to_the_preferred_candidate_then_the_first():
    scores = {"first": flat(0.5), "shipped": flat(0.5), "worse": flat(0.4)}
    assert pick_best(scores, QIDS, prefer="shipped") == "shipped"
    assert pick_best(scores, QIDS) == "first"
    assert pick_best({"better": flat(0.6), **scores}, QIDS, prefer="shipped") == "better"
