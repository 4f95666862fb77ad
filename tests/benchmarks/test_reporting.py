"""The benchmarks' pure logic (issue 17): the unique-question generator and
the summary's met / missed verdicts, on small files and fake JSON. Fast: no
model, no index, nothing timed."""
import json

import pytest

from benchmarks import run_all
from benchmarks.common import title_topic, unique_queries, word_key


@pytest.fixture
def sources(tmp_path):
    dev = tmp_path / "dev.jsonl"
    dev.write_text("\n".join(json.dumps({"query": q, "relevant": []})
                             for q in ("leaky heart valve", "Leaky  heart valve", "mini stroke")) + "\n")
    corpus = tmp_path / "corpus.jsonl"
    titles = ["What is (are) Angina ?", "What are the symptoms of Heart Failure ?", "How to prevent Stroke ?",
              "Is Marfan syndrome inherited ?", "Do you have information about Statins", "Not a question form"]
    corpus.write_text("\n".join(json.dumps({"id": str(i), "title": t, "text": "x"})
                                for i, t in enumerate(titles)) + "\n")
    return dev, corpus


# --- unique questions ----------------------------------------------------------------------

@pytest.mark.parametrize("title, topic", [
    ("What is (are) Angina ?", "angina"),
    ("What are the symptoms of Heart Failure ?", "heart failure"),
    ("Is Marfan syndrome inherited ?", "marfan syndrome"),
    ("what research (or clinical trials) is being done for Cerebral Aneurysms ?", "cerebral aneurysms"),
    ("Who is at risk for Heart Attack? ?", "heart attack"),
    ("Not a question form", None),
])
def test_title_topic(title, topic):
    assert title_topic(title) == topic


def test_unique_queries_are_distinct_and_deterministic(sources):
    dev, corpus = sources
    first = unique_queries(40, dev_queries=dev, corpus=corpus)
    assert len(first) == 40
    assert len({q.casefold() for q in first}) == 40          # no text twice, whatever its case
    assert first == unique_queries(40, dev_queries=dev, corpus=corpus)
    assert first != unique_queries(40, seed=1, dev_queries=dev, corpus=corpus)
    assert "leaky heart valve" in first and "mini stroke" in first   # the dev queries come first
    assert any("angina" in q for q in first) and any("marfan syndrome" in q for q in first)


def capacity(dev, corpus, avoid=()):
    """How many questions the sources make, read from the refusal to make more."""
    with pytest.raises(ValueError, match="distinct queries") as refused:
        unique_queries(1_000_000, dev_queries=dev, corpus=corpus, avoid=avoid)
    return int(str(refused.value).split()[1])


def test_unique_queries_refuse_to_repeat_when_the_sources_run_out(sources):
    dev, corpus = sources
    most = capacity(dev, corpus)
    every = unique_queries(most, dev_queries=dev, corpus=corpus)
    assert len({word_key(q) for q in every}) == most
    with pytest.raises(ValueError, match="distinct queries"):
        unique_queries(most + 1, dev_queries=dev, corpus=corpus)


def test_unique_queries_never_equal_a_question_to_avoid(sources):
    dev, corpus = sources
    avoid = ["leaky heart valve", "What is ANGINA?", "angina symptoms  in women"]
    got = unique_queries(200, dev_queries=dev, corpus=corpus, avoid=avoid)
    keys = {word_key(q) for q in got}
    assert len(keys) == 200                                  # distinct by their words, any case or spacing
    assert not keys & {word_key(q) for q in avoid}
    assert "mini stroke" in got                              # a dev query not avoided still comes first
    assert capacity(dev, corpus, avoid) == capacity(dev, corpus) - len(avoid)   # avoided, not made up elsewhere


def test_unique_queries_from_the_shared_data_reach_a_thousand():
    from benchmarks.common import DEV_QUERIES, MEDQUAD
    if not (DEV_QUERIES.exists() and MEDQUAD.exists()):
        pytest.skip("../shared is absent")
    queries = unique_queries(1500)
    assert len({q.casefold() for q in queries}) == 1500


def test_the_shared_data_make_enough_for_the_http_load():
    from benchmarks import bench_http
    from benchmarks.common import DEV_QUERIES, MEDQUAD
    if not (DEV_QUERIES.exists() and MEDQUAD.exists()):
        pytest.skip("../shared is absent")
    rotating, _ = bench_http.load_queries(DEV_QUERIES)
    wanted = len(bench_http.MODES) * 20 * bench_http.UNIQUE_CEILING_PER_S  # the default run: 3 modes x 20 s
    pool = unique_queries(wanted, avoid=rotating)
    assert len({word_key(q) for q in pool}) == wanted
    assert not {word_key(q) for q in pool} & {word_key(q) for q in rotating}


# --- the summary ---------------------------------------------------------------------------

def fake_records(http_rps=320.0, bare=150.0, p50=4.2, p99=16.0, build=95.0, raw=100.0, passages=100_001):
    model = {"build": {"build_model": "int8", "texts": 2000, "mean_tokens": 165.0, "cores": 2,
                       "models": {"int8": {"name": "int8", "raw_passages_per_s": raw, "build_passages_per_s": build,
                                           "build_over_raw": round(build / raw, 3)},
                                  "fp32": {"name": "fp32", "raw_passages_per_s": 30, "build_passages_per_s": 29,
                                           "build_over_raw": 0.967}}},
             "bare_encodes": {"models": {"all-MiniLM-L6-v2": {"one_core": {"encodes_per_s": 90},
                                                               "all_cores": {"encodes_per_s": 999}}}}}
    http = {"headline": {"requests_per_s": http_rps, "p50_ms": 40.0, "p99_ms": 90.0, "connections": 16,
                         "workers": 2, "threads": 4, "errors": 0, "bare_fp32_encodes_per_s": bare,
                         "ratio_to_bare": round(http_rps / bare, 2), "server_pss_total_mb": 500.0},
            "index": {"passages": 6345},
            "runs": [{"mode": "hybrid", "queries": "rotating", "workers": 2, "requests_per_s": 600.0,
                      "latency_ms": {"p50": 20, "p99": 50}}]}
    search = {"sizes": [{"passages": passages, "one_article_publish_s": {"edit": {"p50": 0.4}},
                         "query_ms": {"hybrid": {"total": {"p50": p50, "p99": p99}, "cpu_ms": {"mean": 4.0},
                                                 "stages_cpu_ms": {"encode": {"mean": 2.0}},
                                                 "queries": 1000, "distinct_queries": 1000},
                                      "hybrid_repeated": {"total": {"p50": 1.0, "p99": 2.0}, "cache_hit_rate": 1.0}},
                         "bare_encode": {"encode_ms": {"p50": 2.0}, "encodes_per_s_one_core": 450},
                         "bytes_per_passage": 600}]}
    distributed = {"serving": {"passages": 100_000, "rss_bytes_per_passage": 700, "private_bytes_per_passage": 100,
                               "process_rss_mb_before_index": 200}}
    peer = {"rows": [{"system": "HeartSearch hybrid (int8)", "build": {"seconds": 70.0}, "query_ms": {"p50": 10.0},
                      "quality": {"MRR@10": 0.80}},
                     {"system": "txtai hybrid", "build": {"seconds": 120.0}, "query_ms": {"p50": 36.0},
                      "quality": {"MRR@10": 0.68}}]}
    return {name: {"status": "ok", "result": data} for name, data in
            (("model", model), ("http", http), ("search", search), ("distributed", distributed), ("peer", peer))}


def verdicts(records):
    return [(r["target"].split(":")[0][:40], r["verdict"]) for r in run_all.target_rows(records)]


def test_one_row_per_issue_17_target_with_its_verdict():
    rows = run_all.target_rows(fake_records())
    assert len(rows) == 10
    got = [r["verdict"] for r in rows]
    # req/s met; 320/150 = 2.13x met; p50 met; p99 16 > 15 missed; build 95 met; 0.95 met;
    # memory projected; txtai: build, query, MRR all better.
    assert got[:6] == ["met", "met", "met", "MISSED", "met", "met"]
    assert got[6] == "met (projected)"
    assert got[7:] == ["met", "met", "met"]
    assert rows[1]["ratio"] == "2.13x bare"
    assert rows[2]["ratio"] == "2.1x bare encode p50"       # 4.2 ms over the bare call's 2.0


def test_the_bare_model_of_the_http_run_is_preferred_to_bench_model():
    records = fake_records()
    bare = run_all.bare_figures(records["model"]["result"], records["http"]["result"])
    assert bare["encodes_per_s"] == 150.0 and "bench_http" in bare["source"]
    del records["http"]["result"]["headline"]["bare_fp32_encodes_per_s"]
    records["http"]["result"]["headline"]["ratio_to_bare"] = None
    bare = run_all.bare_figures(records["model"]["result"], records["http"]["result"])
    assert bare["encodes_per_s"] == 999 and "bench_model" in bare["source"]
    assert run_all.target_rows(records)[1]["verdict"] == "MISSED"    # 320 / 999


def test_misses_are_called_misses():
    rows = run_all.target_rows(fake_records(http_rps=200.0, bare=150.0, p50=6.0, build=80.0, raw=100.0))
    assert [r["verdict"] for r in rows[:6]] == ["MISSED", "MISSED", "MISSED", "MISSED", "MISSED", "MISSED"]


def test_a_size_that_is_not_100k_gets_no_verdict():
    rows = run_all.target_rows(fake_records(passages=5_000))
    assert rows[2]["verdict"] == "n/a" and "not ~100k" in rows[2]["measured"]


def test_absent_benchmarks_are_n_a_not_failures():
    rows = run_all.target_rows({"http": {"status": "failed (exit 1)"}, "peer": {"status": "skipped"}})
    assert len(rows) == 10 and {r["verdict"] for r in rows} == {"n/a"}
    other = run_all.other_rows({})
    assert [r["figure"] for r in other] == ["lexical comparison", "peer comparison"]


def test_memory_projection_counts_shared_pages_once():
    records = fake_records()
    mb, how = run_all.memory_1m_figure(records["http"]["result"],
                                       run_all.distributed_figures(records["distributed"]["result"]))
    # 500 MB + (1M - 6,345) passages x (600 shared + 2 workers x 100 private) bytes
    assert mb == round(500 + (1_000_000 - 6345) * 800 / 2 ** 20)
    assert "PSS" in how


def test_repeated_questions_stay_on_their_own_rows():
    other = run_all.other_rows(fake_records())
    repeated = [r for r in other if "repeated questions" in r["figure"]]
    assert len(repeated) == 2 and all("not the target's figure" in r["figure"] for r in repeated)
    targets = run_all.target_rows(fake_records())
    assert not any("600" in r["measured"] for r in targets)   # the rotating run's req/s is not the target's


def test_the_peer_benchmark_runs_with_the_default_int8_model():
    peer = next(b for b in run_all.BENCHES if b.name == "peer")
    command, _ = run_all.command_for(peer, "python", quick=True)
    assert "--int8" in command and "--quick" in command


def test_verdict():
    assert run_all.verdict(None, 1, True) == "n/a"
    assert run_all.verdict(1.0, 1, True) == "met"
    assert run_all.verdict(0.99, 1, True) == "MISSED"
    assert run_all.verdict(3, 2, False, projected=True) == "MISSED (projected)"


def test_memory_falls_back_to_bench_search_only_at_100k():
    records = fake_records()
    http, search = records["http"]["result"], records["search"]["result"]
    mb, how = run_all.memory_1m_figure(http, run_all.distributed_figures(None), search)
    assert mb == round(500 + (1_000_000 - 6345) * 2 * 600 / 2 ** 20) and "bench_search" in how
    small = fake_records(passages=5_000)["search"]["result"]
    assert run_all.memory_1m_figure(http, run_all.distributed_figures(None), small)[0] is None


def test_the_search_log_row_says_whether_p50_stayed_within_five_percent():
    def row(result):
        other = run_all.other_rows({"insights": {"status": "ok", "result": result}})
        return next(r for r in other if "private log" in r["figure"])
    assert row({"p50_off_ms": 8.0, "p50_on_ms": 8.2, "p50_diff_percent": 2.5, "queries": 2000})["verdict"] == "met"
    assert row({"p50_off_ms": 8.0, "p50_on_ms": 8.8, "p50_diff_percent": 10.0, "queries": 2000})["verdict"] == \
        "MISSED"
    assert row(None)["verdict"] == "n/a"
