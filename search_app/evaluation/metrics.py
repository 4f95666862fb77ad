"""Measure ranking quality: a query set against an index, per retrieval mode.

Relevance is at article level: a run is the list of article ids the search
returns (one entry per article), scored with pytrec_eval (the TREC tools'
maintained Python binding). Queries are JSON Lines:
{"query": "...", "relevant": ["article-id", ...]}.

Tuning honestly: `split_halves` interleaves the set into a tuning half (odd
lines) and a held-out half (even lines), so both halves mix the overview and
the balanced queries; settings are chosen on "tune" and reported on both.

One result per question: the search collapses articles answering the same
question into one result (search_app/search/questions.py), so a search
returns groups of article ids (a result's own article, then its `also`).
A relevant article collapsed into a result counts at that result's rank
(`representatives`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import pytrec_eval

METRICS = ("MRR@10", "nDCG@10", "R@10", "R@50")


@dataclass(frozen=True)
class EvalQuery:
    qid: str
    query: str
    relevant: tuple[str, ...]


def load_queries(path: Path) -> list[EvalQuery]:
    queries = []
    for number, line in enumerate(Path(path).read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            queries.append(EvalQuery(f"q{number:03d}", record["query"], tuple(record["relevant"])))
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f"{path}:{number}: not a query record ({err})")
    return queries


def representatives(groups: Sequence[Sequence[str]], relevant: Sequence[str]) -> list[str]:
    """The run a grouped search is scored on: per result, in rank order, the
    relevant articles it holds (its own or collapsed into it), else its own
    article. The first relevant article so stands exactly at its result's
    rank (MRR is exact); further relevant ones of the same result follow it
    and push later results down a place each (recall and nDCG can only be
    stricter). Only what a result really holds counts: an entry that shares a
    sibling's title but was not collapsed into the result does not."""
    picked: list[str] = []
    for group in groups:
        held = [doc for doc in group if doc in relevant and doc not in picked]
        picked.extend(held or [group[0]])
    return picked


def split_halves(queries: Sequence[EvalQuery]) -> dict[str, list[EvalQuery]]:
    return {"tune": list(queries[0::2]), "held-out": list(queries[1::2])}


def score_runs(queries: Sequence[EvalQuery], runs: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    """Per-query metrics from ranked article ids (best first; ids after the
    first occurrence are ignored)."""
    qrels = {q.qid: {doc: 1 for doc in q.relevant} for q in queries}
    run_10, run_50 = {}, {}
    for q in queries:
        ranked = list(dict.fromkeys(runs.get(q.qid, [])))
        # pytrec_eval sorts by score: give strictly decreasing scores by rank.
        run_10[q.qid] = {doc: float(100 - i) for i, doc in enumerate(ranked[:10])} or {"__none__": 0.0}
        run_50[q.qid] = {doc: float(100 - i) for i, doc in enumerate(ranked[:50])} or {"__none__": 0.0}
    at10 = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank", "ndcg_cut.10", "recall.10"}).evaluate(run_10)
    at50 = pytrec_eval.RelevanceEvaluator(qrels, {"recall.50"}).evaluate(run_50)
    return {qid: {"MRR@10": at10[qid]["recip_rank"], "nDCG@10": at10[qid]["ndcg_cut_10"],
                  "R@10": at10[qid]["recall_10"], "R@50": at50[qid]["recall_50"]}
            for qid in qrels}


def mean_metrics(per_query: dict[str, dict[str, float]], qids: Sequence[str]) -> dict[str, float]:
    if not qids:
        return {m: 0.0 for m in METRICS}
    return {m: sum(per_query[q][m] for q in qids) / len(qids) for m in METRICS}


def first_relevant_rank(ranked: Sequence[str], relevant: Sequence[str]) -> int | None:
    for i, doc in enumerate(dict.fromkeys(ranked), start=1):
        if doc in relevant:
            return i
    return None


# (query, mode) -> ranked results, each the article ids it holds (its own first)
SearchFn = Callable[[str, str], list[list[str]]]


def evaluate(queries: Sequence[EvalQuery], search: SearchFn, modes: Sequence[str]) -> dict:
    """Run every query in every mode; return per-mode per-query metrics and runs."""
    results = {}
    for mode in modes:
        runs = {q.qid: representatives(search(q.query, mode), q.relevant) for q in queries}
        results[mode] = {"runs": runs, "metrics": score_runs(queries, runs)}
    return results


def format_table(title: str, queries: Sequence[EvalQuery], results: dict,
                 parts: dict[str, list[EvalQuery]]) -> str:
    lines = [title, ""]
    header = f"{'mode':<10} {'part':<10} {'n':>4} " + " ".join(f"{m:>8}" for m in METRICS)
    lines += [header, "-" * len(header)]
    for mode, result in results.items():
        for part, members in parts.items():
            means = mean_metrics(result["metrics"], [q.qid for q in members])
            lines.append(f"{mode:<10} {part:<10} {len(members):>4} "
                         + " ".join(f"{means[m]:>8.3f}" for m in METRICS))
    return "\n".join(lines)


def write_per_query(path: Path, queries: Sequence[EvalQuery], results: dict,
                    fold_of: dict[str, int] | None = None) -> None:
    """One JSON line per query: its half (and topic fold, when given), the
    first relevant rank in each mode and the top 3 of the run scored
    (`representatives`)."""
    halves = split_halves(queries)
    part_of = {q.qid: part for part, members in halves.items() for q in members}
    with open(path, "w", encoding="utf-8") as out:
        for q in queries:
            row = {"qid": q.qid, "part": part_of[q.qid], "query": q.query, "relevant": list(q.relevant)}
            if fold_of is not None:
                row["fold"] = fold_of[q.qid]
            for mode, result in results.items():
                ranked = result["runs"][q.qid]
                row[mode] = {"first_relevant_rank": first_relevant_rank(ranked, q.relevant),
                             "MRR@10": round(result["metrics"][q.qid]["MRR@10"], 4),
                             "top3": list(dict.fromkeys(ranked))[:3]}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
