"""`python -m search_app.evaluation` / `make eval`: the quality tables for one
index or several (one per model). Lives in search_app because it measures
the searcher; the indexer never imports search_app, so `python -m indexer
eval` only names this command.

Per index: the dev-all table with its parity halves (as before issue 16),
then the honest protocol (topic folds: search_app/evaluation/protocol.py);
with several indexes, a last table puts the models side by side."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from search_app.evaluation.bench import Bench
from search_app.evaluation.folds import assign_folds
from search_app.evaluation.metrics import evaluate, format_table, load_queries, split_halves, write_per_query
from search_app.evaluation.protocol import run_protocol
from search_app.evaluation.report import (ablations_table, components_table, folds_line, needs_table, picks_table,
                                          pieces_table, summary_table)

DEFAULT_MODES = ("dense", "lexical", "hybrid", "default")


def dev_table(bench: Bench, index_dir: Path, queries_path: Path, queries, modes, k: int = 50) -> dict:
    """The full search per mode, scored and printed as the table has always been."""
    started = time.perf_counter()
    results = evaluate(queries, lambda query, mode: bench.search_groups(query, mode, k), modes)
    seconds = time.perf_counter() - started
    parts = {"all": queries, **split_halves(queries)}
    if len(queries) > 40:
        parts.update({"first40": queries[:40], "rest": queries[40:]})
    generation = bench.generation
    title = (f"query set: {queries_path} ({len(queries)} queries)\n"
             f"index:     {index_dir} ({generation.name}, model {generation.model}, "
             f"{generation.manifest['articles']} articles, {generation.passage_count} passages)\n"
             f"default:   mode={bench.settings.mode}; {len(queries) * len(modes)} searches in {seconds:.1f}s")
    print(format_table(title, queries, results, parts))
    return results


def protocol_tables(bench: Bench, queries, modes, results: dict, folds: int):
    """The topic-fold protocol for one index, printed; returns it."""
    started = time.perf_counter()
    full = {mode: {qid: m["MRR@10"] for qid, m in results[mode]["metrics"].items()} for mode in modes}
    protocol = run_protocol(bench, queries, modes, full, folds)
    dev_all = {mode: sum(full[mode].values()) / len(queries) for mode in modes}
    print(f"\n{folds_line(protocol)}; protocol in {time.perf_counter() - started:.1f}s\n")
    print(summary_table(protocol, dev_all))
    drifted = [m for m, r in protocol.modes.items() if r.fast_path_agrees != len(queries)]
    if drifted:
        print(f"WARNING: the bench's short cut and the full search disagree in {', '.join(drifted)}: "
              "the cross-validated figures of those modes are not comparable with dev-all")
    print("\n" + picks_table(protocol))
    print("\n" + components_table(protocol))
    print("\n" + ablations_table(protocol))
    print("\n" + needs_table(protocol))
    own = bench.settings.mode
    if own in protocol.modes:
        print("\n" + pieces_table(protocol, own, "glossary entry", len(bench.glossary)))
        print("\n" + pieces_table(protocol, own, "cue list"))
    return protocol, dev_all


def out_path_for(out: Path | None, model: str, several: bool) -> Path | None:
    """With several indexes, one per-query file per model (name-MODEL.jsonl)."""
    if out is None or not several:
        return out
    return out.with_name(f"{out.stem}-{model}{out.suffix}")


def run_eval(index_dirs: list[Path], queries_path: Path, out_path: Path | None, modes=DEFAULT_MODES,
             folds: int = 5) -> list:
    from search_app.search.settings import check_mode
    for mode in modes:  # checked once, here, where they come in
        if mode != "default":
            check_mode(mode)
    queries = load_queries(queries_path)
    summary = []  # (index and model, protocol, dev-all per mode)
    for index_dir in index_dirs:
        bench = Bench.open(index_dir)
        results = dev_table(bench, index_dir, queries_path, queries, modes)
        out = out_path_for(out_path, bench.generation.model, len(index_dirs) > 1)
        if out:
            write_per_query(out, queries, results, assign_folds(queries, folds) if folds else None)
            print(f"\nper-query ranks: {out}")
        if folds:
            protocol, dev_all = protocol_tables(bench, queries, modes, results, folds)
            summary.append((f"{index_dir} ({bench.generation.model})", protocol, dev_all))
        print()
    if len(summary) > 1:
        print(models_table(summary))
    return summary


def models_table(summary: list) -> str:
    lines = ["models side by side (MRR@10): dev-all / cross-validated / topic level", ""]
    for name, protocol, dev_all in summary:
        for mode, r in protocol.modes.items():
            lines.append(f"{name:<60} {mode:<8} {dev_all[mode]:.3f} / {r.cv.mean:.3f} / {r.topic_all:.3f}")
    return "\n".join(lines)


def main(args) -> int:
    queries = Path(args.queries)
    if not queries.exists():
        print(f"error: no query set at {queries}", file=sys.stderr)
        return 2
    run_eval([Path(d) for d in args.index_dir_resolved], queries, Path(args.out) if args.out else None,
             tuple(args.modes.split(",")), args.folds)
    return 0
