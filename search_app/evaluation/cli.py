"""`python -m search_app.evaluation` / `make eval`: the quality table for an
index. Lives in search_app because it measures the searcher; the indexer
never imports search_app, so `python -m indexer eval` only names this command."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from search_app.evaluation.metrics import evaluate, format_table, load_queries, split_halves, write_per_query

DEFAULT_MODES = ("dense", "lexical", "hybrid", "default")


def run_eval(index_dir: Path, queries_path: Path, out_path: Path | None, modes=DEFAULT_MODES,
             k: int = 50, searcher=None) -> dict:
    from search_app.config import Config
    from search_app.search.settings import check_mode
    for mode in modes:  # checked once, here, where they come in
        if mode != "default":
            check_mode(mode)
    if searcher is None:
        from search_app.search.searcher import make_searcher
        searcher = make_searcher(Config(index_dir=index_dir))
    queries = load_queries(queries_path)

    def search(query: str, mode: str) -> list[list[str]]:
        """Each result's article ids: its own, then its collapsed answers (`also`)."""
        result = searcher.search(query, k=k, mode=None if mode == "default" else mode)
        return [[hit.passage.article_id] + [a.passage.article_id for a in hit.also] for hit in result.hits]

    started = time.perf_counter()
    results = evaluate(queries, search, modes)
    seconds = time.perf_counter() - started
    halves = split_halves(queries)
    parts = {"all": queries, **halves}
    if len(queries) > 40:
        parts.update({"first40": queries[:40], "rest": queries[40:]})
    generation = searcher.generation
    title = (f"query set: {queries_path} ({len(queries)} queries)\n"
             f"index:     {index_dir} ({generation.name}, {generation.manifest['articles']} articles, "
             f"{generation.passage_count} passages)\n"
             f"default:   mode={searcher.settings.mode}; {len(queries) * len(modes)} searches in {seconds:.1f}s")
    print(format_table(title, queries, results, parts))
    if out_path:
        write_per_query(out_path, queries, results)
        print(f"\nper-query ranks: {out_path}")
    return results


def main(args) -> int:
    queries = Path(args.queries)
    if not queries.exists():
        print(f"error: no query set at {queries}", file=sys.stderr)
        return 2
    run_eval(Path(args.index_dir_resolved), queries, Path(args.out) if args.out else None,
             tuple(args.modes.split(",")))
    return 0
