"""The evaluation harness on tiny, hand-checked examples."""
import json

import pytest

from search_app.evaluation.metrics import (EvalQuery, representatives, first_relevant_rank, load_queries, mean_metrics,
                                   score_runs, split_halves, write_per_query)

QUERIES = [
    EvalQuery("q1", "leaky valve", ("A",)),        # relevant at rank 1
    EvalQuery("q2", "chest pain", ("B", "C")),     # relevant at ranks 2 and 4
    EvalQuery("q3", "fainting", ("Z",)),           # never found
]
RUNS = {"q1": ["A", "X", "Y"], "q2": ["X", "B", "B", "Y", "C"], "q3": ["X", "Y"]}


def test_metrics_match_hand_computation():
    per_query = score_runs(QUERIES, RUNS)
    assert per_query["q1"]["MRR@10"] == pytest.approx(1.0)
    assert per_query["q1"]["nDCG@10"] == pytest.approx(1.0)
    # q2: the duplicate "B" is ignored, so C moves to rank 4: ranks 2 and 4.
    assert per_query["q2"]["MRR@10"] == pytest.approx(0.5)
    dcg = 1 / 1.5849625 + 1 / 2.3219281   # 1/log2(3) + 1/log2(5)
    idcg = 1 + 1 / 1.5849625
    assert per_query["q2"]["nDCG@10"] == pytest.approx(dcg / idcg, abs=1e-4)
    assert per_query["q2"]["R@10"] == pytest.approx(1.0)
    assert per_query["q3"] == {"MRR@10": 0.0, "nDCG@10": 0.0, "R@10": 0.0, "R@50": 0.0}
    means = mean_metrics(per_query, ["q1", "q2", "q3"])
    assert means["MRR@10"] == pytest.approx(0.5)
    assert means["R@10"] == pytest.approx(2 / 3)


def test_cutoffs_at_10_and_50():
    query = [EvalQuery("q", "x", ("T",))]
    ranked = [f"d{i}" for i in range(20)] + ["T"]  # relevant at rank 21
    m = score_runs(query, {"q": ranked})["q"]
    assert m["MRR@10"] == 0.0 and m["R@10"] == 0.0 and m["R@50"] == 1.0


def test_empty_run_scores_zero():
    m = score_runs([EvalQuery("q", "x", ("T",))], {"q": []})["q"]
    assert m["MRR@10"] == 0.0 and m["R@50"] == 0.0


def test_first_relevant_rank_and_halves():
    assert first_relevant_rank(["X", "X", "B"], ["B"]) == 2
    assert first_relevant_rank(["X"], ["B"]) is None
    queries = [EvalQuery(f"q{i}", "x", ("A",)) for i in range(5)]
    halves = split_halves(queries)
    assert [q.qid for q in halves["tune"]] == ["q0", "q2", "q4"]
    assert [q.qid for q in halves["held-out"]] == ["q1", "q3"]


def test_query_file_errors_name_the_line(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"query": "a", "relevant": ["x"]}\n{"query": "b"}\n')
    with pytest.raises(ValueError, match="q.jsonl:2"):
        load_queries(path)


def test_per_query_file(tmp_path):
    results = {"dense": {"runs": RUNS, "metrics": score_runs(QUERIES, RUNS)}}
    out = tmp_path / "ranks.jsonl"
    write_per_query(out, QUERIES, results)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows[1]["dense"]["first_relevant_rank"] == 2
    assert rows[2]["dense"]["first_relevant_rank"] is None
    assert rows[0]["part"] == "tune" and rows[1]["part"] == "held-out"
    assert "fold" not in rows[0]
    write_per_query(out, QUERIES, results, {"q1": 0, "q2": 1, "q3": 0})
    assert [json.loads(line)["fold"] for line in out.read_text().splitlines()] == [0, 1, 0]


def test_a_collapsed_relevant_article_counts_at_its_groups_rank():
    queries = [EvalQuery("q1", "heart attack", ("nhlbi-attack",))]
    # Rank 2 leads with senior-attack and holds nhlbi-attack in `also`: a hit at rank 2.
    groups = [["angina"], ["senior-attack", "nhlbi-attack"]]
    runs = {"q1": representatives(groups, queries[0].relevant)}
    assert runs["q1"] == ["angina", "nhlbi-attack"]
    assert score_runs(queries, runs)["q1"]["MRR@10"] == 0.5


def test_only_what_a_result_holds_counts_and_every_relevant_article_it_holds():
    relevant = ("a", "b")
    # A sibling with the relevant article's title that was not collapsed in is no hit.
    assert representatives([["x", "y"]], relevant) == ["x"]
    # Two relevant articles in one result both count, the second just after the first.
    assert representatives([["c", "b", "a"], ["d"]], relevant) == ["b", "a", "d"]
    queries = [EvalQuery("q", "x", relevant)]
    scores = score_runs(queries, {"q": representatives([["x"], ["c", "b", "a"]], relevant)})
    assert scores["q"]["MRR@10"] == 0.5 and scores["q"]["R@10"] == 1.0
