"""What the private search log costs a search (issue 18: "search latency with
the log on and off: p50 differs by under 5%"). `make bench` runs it through
benchmarks/run_all.py.

In-process, the API's own path without Flask: the server's searcher
(`make_searcher`, one model thread, the query-vector cache) over the NIH
index, `search_response` (what the API answers), then `record_search` as the
API calls it: with the log on it queues the event, and the log's writer
thread masks and writes a batch every second while the searches go on, so
what the thread costs the searches (the GIL, a core) is measured too; off,
the hook returns at once. On and off alternate in blocks (so a change in the
machine's load falls on both), each block flushed before the next so one
block's writes do not land in an "off" block. Every measured query is
asked once (benchmarks.common.unique_queries): a repeat would be answered by
the query-vector cache.

The index: --index-dir, else the shared NIH corpus built into
benchmarks/results/work/insights-index with `python -m indexer build` (its
embedding cache seeded from the tests' or bench_http's, so little or nothing
is embedded; a second run changes nothing). The log is written into a
scratch folder, never into the index.
"""
from __future__ import annotations

import argparse
import gc
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.common import (MEDQUAD, copy_sqlite, REFERENCE_CACHE, RESULTS_DIR, WORK_DIR, load_average,  # noqa: E402
                               percentile, project_env, unique_queries, write_json)

WARM_UP = 30
TARGET_P50_DIFF_PERCENT = 5.0


def seed_cache(cache: Path) -> None:
    """Copy cached vectors of the NIH corpus (the tests' cache, else
    bench_http's index's) so the build embeds nothing it has embedded before."""
    for source in (REFERENCE_CACHE, WORK_DIR / "http-index" / "embeddings.sqlite"):
        if cache.exists() or not source.exists():
            continue
        copy_sqlite(source, cache)


def open_index(index_dir: Path | None) -> Path:
    """--index-dir as given; else the NIH corpus made current in
    WORK_DIR/insights-index by the indexer's own CLI (a no-op when it is)."""
    if index_dir is not None:
        return index_dir
    target = WORK_DIR / "insights-index"
    target.mkdir(parents=True, exist_ok=True)
    seed_cache(target / "embeddings.sqlite")
    done = subprocess.run([sys.executable, "-m", "indexer", "build", str(MEDQUAD), "--index-dir", str(target)],
                          cwd=ROOT, env=project_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"index build failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    print((done.stdout.strip().splitlines() or [""])[-1])
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_insights", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=2000, help="measured searches, half with the log on")
    parser.add_argument("--block", type=int, default=100, help="searches per on or off block")
    parser.add_argument("--quick", action="store_true", help="200 searches in blocks of 25 (rough)")
    parser.add_argument("--index-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="default: benchmarks/results/insights.json "
                        "(insights-quick.json with --quick)")
    args = parser.parse_args(argv)
    if args.quick:
        args.queries, args.block = 200, 25
    out = args.json or RESULTS_DIR / ("insights-quick.json" if args.quick else "insights.json")

    if not MEDQUAD.exists() and args.index_dir is None:
        print(f"skipped: {MEDQUAD} not found and no index given", file=sys.stderr)
        return 0
    from indexer.insights.log import SEARCH_LOG, SearchLog
    from search_app.api.responses import search_response
    from search_app.config import Config
    from search_app.search.search_log import record_search
    from search_app.search.searcher import make_searcher

    index_dir = open_index(args.index_dir)
    searcher = make_searcher(Config(index_dir=index_dir))
    queries = unique_queries(args.queries + WARM_UP)
    warm, measured = queries[:WARM_UP], queries[WARM_UP:]
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="insights-log-", dir=WORK_DIR))
    log = SearchLog(scratch / SEARCH_LOG)

    def search(query: str, search_log) -> float:
        started = time.perf_counter()
        result = searcher.search(query, 10)
        response = search_response(result, 10, 0, None)
        record_search(search_log, result, result.hits, response["no_good_match"],
                      (response["urgent"] or {}).get("conditions", ()), 0)
        return (time.perf_counter() - started) * 1000

    for i, q in enumerate(warm):
        search(q, log if i % 2 else None)
    log.flush(10)
    times: dict[str, list[float]] = {"off": [], "on": []}
    load_before = load_average()
    gc.collect()
    try:
        for b, start in enumerate(range(0, len(measured), args.block)):
            state = ("off", "on")[b % 2]
            for q in measured[start:start + args.block]:
                times[state].append(search(q, log if state == "on" else None))
            log.flush(30)  # this block's rows written before the next block starts
        log.close()
    finally:
        written, dropped = log.written, log.dropped
        shutil.rmtree(scratch, ignore_errors=True)

    p50_off, p50_on = percentile(times["off"], 50), percentile(times["on"], 50)
    p99_off, p99_on = percentile(times["off"], 99), percentile(times["on"], 99)
    diff = (p50_on - p50_off) / p50_off * 100
    result = {"p50_off_ms": round(p50_off, 3), "p50_on_ms": round(p50_on, 3), "p50_diff_percent": round(diff, 2),
              "p99_off_ms": round(p99_off, 3), "p99_on_ms": round(p99_on, 3), "queries": len(measured),
              "load_average": load_before, "load_average_after": load_average(),
              "block": args.block, "rows_written": written, "rows_dropped": dropped,
              "passages": searcher.generation.passage_count, "index_dir": str(index_dir),
              "target_p50_diff_percent": TARGET_P50_DIFF_PERCENT, "quick": args.quick}
    print(f"in-process hybrid search, {len(measured)} unique queries ({len(times['off'])} log off, "
          f"{len(times['on'])} log on, blocks of {args.block}), {result['passages']:,} passages, "
          f"load {load_before[0]}")
    print(f"  log off: p50 {p50_off:.2f} ms  p99 {p99_off:.2f} ms")
    print(f"  log on:  p50 {p50_on:.2f} ms  p99 {p99_on:.2f} ms  ({written} rows written, {dropped} dropped)")
    print(f"  p50 difference: {diff:+.2f}% (target: under {TARGET_P50_DIFF_PERCENT:g}%)")
    write_json(out, result)
    print(f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
