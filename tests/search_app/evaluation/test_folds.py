"""Topic folds and topic-level scoring, on hand-made queries (no model)."""
from pathlib import Path

import pytest

from search_app.evaluation.folds import (assign_folds, fold_members, query_topics, reciprocal_rank, topic_groups,
                                         topic_of, topic_reciprocal_rank)
from search_app.evaluation.metrics import EvalQuery, load_queries, representatives, score_runs

DEV_QUERIES = Path(__file__).resolve().parents[3].parent / "shared" / "eval" / "dev-queries.jsonl"


def q(qid, *relevant):
    return EvalQuery(qid, f"query {qid}", relevant)


# q1-q3 chained through shared topics (A-1 / A-2, then A and B), q4 alone, q5-q6 share C.
QUERIES = [q("q1", "A-1"), q("q2", "A-2", "B-7"), q("q3", "B-9"), q("q4", "D-1"), q("q5", "C-1"),
           q("q6", "C-3"), q("q7", "E-1"), q("q8", "F-1")]


def test_topic_is_the_id_before_its_last_dash():
    assert topic_of("NHLBI-0000066-1") == "NHLBI-0000066"
    assert topic_of("GHR-0000012-10") == "GHR-0000012"
    assert topic_of("plain") == "plain"
    assert query_topics(q("x", "NHLBI-0000066-1", "NHLBI-0000066-3", "MPlus-7-1")) == {"NHLBI-0000066", "MPlus-7"}


def test_queries_linked_through_shared_topics_form_one_group():
    assert topic_groups(QUERIES) == [["q1", "q2", "q3"], ["q4"], ["q5", "q6"], ["q7"], ["q8"]]


def assert_valid(queries, fold_of, folds):
    assert set(fold_of) == {x.qid for x in queries}                      # every query has a fold
    members = fold_members(fold_of)
    assert sorted(qid for m in members for qid in m) == sorted(fold_of)  # ... exactly one
    assert set(fold_of.values()) <= set(range(folds))
    fold_of_topic = {}
    for query in queries:
        for topic in query_topics(query):
            assert fold_of_topic.setdefault(topic, fold_of[query.qid]) == fold_of[query.qid], topic


def test_a_topic_never_spans_two_folds_and_every_query_is_in_exactly_one():
    fold_of = assign_folds(QUERIES, 3)
    assert_valid(QUERIES, fold_of, 3)
    assert fold_of["q1"] == fold_of["q2"] == fold_of["q3"] and fold_of["q5"] == fold_of["q6"]


def test_folds_are_deterministic_and_even():
    assert assign_folds(QUERIES, 3) == assign_folds(list(QUERIES), 3)
    sizes = sorted(len(m) for m in fold_members(assign_folds(QUERIES, 3)))
    assert sizes == [2, 3, 3]  # the group of three alone, the rest spread
    singles = [q(f"s{i}", f"T{i}-1") for i in range(10)]
    assert [len(m) for m in fold_members(assign_folds(singles, 5))] == [2, 2, 2, 2, 2]


def test_fewer_than_two_folds_is_refused():
    with pytest.raises(ValueError):
        assign_folds(QUERIES, 1)


def test_the_dev_queries_split_without_splitting_a_topic():
    if not DEV_QUERIES.exists():
        pytest.skip(f"no dev queries at {DEV_QUERIES}")
    queries = load_queries(DEV_QUERIES)
    fold_of = assign_folds(queries, 5)
    assert_valid(queries, fold_of, 5)
    assert fold_of == assign_folds(queries, 5)


def test_topic_level_counts_any_entry_of_the_right_topic_at_its_result_rank():
    groups = [["X-1"], ["A-3", "Y-2"], ["A-1"]]  # A-1 relevant at rank 3; its topic at rank 2 (collapsed)
    assert topic_reciprocal_rank(groups, frozenset({"A"})) == pytest.approx(0.5)
    assert topic_reciprocal_rank([["Y-2", "A-3"]], frozenset({"A"})) == 1.0  # held in `also` counts
    assert topic_reciprocal_rank(groups, frozenset({"Z"})) == 0.0
    assert topic_reciprocal_rank([[f"X-{i}"] for i in range(10)] + [["A-1"]], frozenset({"A"})) == 0.0  # rank 11


def test_entry_reciprocal_rank_is_what_representatives_and_pytrec_eval_give():
    cases = [([["X-1"], ["B-1", "A-1"], ["A-2"]], ("A-1", "A-2")), ([["X-1"], ["Y-1"]], ("A-1",)),
             ([[f"X-{i}"] for i in range(9)] + [["Z-1", "A-1"]], ("A-1",)),
             ([[f"X-{i}"] for i in range(10)] + [["A-1"]], ("A-1",))]
    for number, (groups, relevant) in enumerate(cases):
        query = EvalQuery(f"q{number}", "x", relevant)
        expected = score_runs([query], {query.qid: representatives(groups, relevant)})[query.qid]["MRR@10"]
        assert reciprocal_rank(groups, relevant) == pytest.approx(expected)
