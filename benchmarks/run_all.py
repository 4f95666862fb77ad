"""Run every HeartSearch benchmark and print one summary against issue #17's targets.

`make bench` runs this. It prints what the machine is (cores, CPU, RAM,
Python and library versions, SQLite/FTS5), then runs each benchmark as its
own process (so one's memory, threads and model never colour another's),
streaming its output, and collects the JSON file each writes:

  model        benchmarks.bench_model        build vs the raw model loop; bare single-query encodes/s
                                             on one and every core; each runtime's throughput and latency
  search       benchmarks.bench_search       publish time, in-process latency over unique questions (CPU
                                             by stage, beside the bare model call), memory at each size
  http         benchmarks.bench_http         requests/s and latency through the real server and wrk
  distributed  benchmarks.bench_distributed  Dask embedding speed-up; serving memory per passage
  insights     benchmarks.bench_insights     in-process hybrid search with the private search log on vs off
  lexical      benchmarks.bench_lexical      (optional) the FTS5 lexical index against bm25s
  peer         benchmarks.bench_peer         (optional) HeartSearch beside an established library
                                             (both run by benchmarks/.venv-peer/bin/python)

A benchmark whose file is absent is skipped; so are lexical and peer when
benchmarks/.venv-peer is missing (bm25s and txtai are installed only there;
the message says how to make it).

Then it prints one row per issue-17 target: the target, the figure
measured, its ratio to the bare model measured in the same run (or the
figure that bounds it), met / MISSED, and which benchmark it came from (n/a
where a benchmark did not run or its JSON lacks the figure); below it, the
figures that explain the targets and issue #7's that still hold. Every
figure for unique queries comes from runs where no question is asked twice;
repeated questions (answered by the query-vector cache) are on rows of their
own. Everything -- machine, commands, each benchmark's JSON, the summary --
is written to benchmarks/results/bench-<UTC time>.json and bench-latest.json.

Flags are passed to a benchmark only if its source defines them (the
benchmarks are still changing): --quick if it has one, else a few size flags
that make it short; --json or --out to choose its JSON file if it has one,
else its own default file is read (and ignored if this run did not write it).
"""
from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import (MEDQUAD, RESULTS_DIR, dig, fmt, format_machine, machine_facts,  # noqa: E402
                               project_env, read_json, table, utc_now, utc_stamp, write_json)

BENCH_DIR = ROOT / "benchmarks"
PEER_VENV = BENCH_DIR / ".venv-peer"
PEER_PYTHON = PEER_VENV / "bin" / "python"
PEER_SETUP = BENCH_DIR / "peer_env.sh"

# Issue #17's targets (fast profile: all-MiniLM-L6-v2 int8), in one place.
TARGET_HTTP_REQUESTS_PER_S = 300   # hybrid, unique queries, 16 connections, 2 cores
TARGET_HTTP_VS_BARE = 2.0          # searches/s over bare fp32 single-query encodes/s, same cores, same run
TARGET_HYBRID_P50_MS = 5.0         # in-process, unique queries, ~100k passages
TARGET_HYBRID_P99_MS = 15.0
TARGET_BUILD_PASSAGES_PER_S = 90   # ~165-token passages, two cores
TARGET_BUILD_VS_MODEL = 0.90       # build within 10% of the raw model loop
TARGET_MEMORY_1M_MB = 2048         # 1M passages, per worker set (shared pages counted once)
# Issue #7's, still held.
TARGET_PUBLISH_S = 1.0             # one-article publish into ~100k passages
TARGET_RECALL_AT_10 = 0.98         # the approximate vector index at 1M vectors
# Issue #18's.
TARGET_LOG_P50_DIFF_PERCENT = 5.0  # search p50 with the private search log on vs off
SIZE_100K = (80_000, 150_000)      # which measured size counts as "100k passages"
SIZE_1M = 900_000
HTTP_CONNECTIONS = 16


# ------------------------------------------------------------------ the benchmarks

@dataclass
class Bench:
    name: str
    module: str
    default_json: str                       # the file it writes under results/ when not told where
    quick_flags: list[tuple[str, str | None]] = field(default_factory=list)  # if it has no --quick
    full_flags: list[tuple[str, str | None]] = field(default_factory=list)
    flags: list[tuple[str, str | None]] = field(default_factory=list)  # passed quick or not
    optional: bool = False                  # absent file: skipped, not failed
    python: Callable[[], tuple[str | None, str | None]] | None = None  # (interpreter, or why skipped)

    @property
    def path(self) -> Path:
        return ROOT / (self.module.replace(".", "/") + ".py")


def peer_python() -> tuple[str | None, str | None]:
    """benchmarks/.venv-peer's interpreter, or why it cannot be used."""
    if PEER_PYTHON.exists() and os.access(PEER_PYTHON, os.X_OK):
        return str(PEER_PYTHON), None
    how = f"bash {PEER_SETUP.relative_to(ROOT)}" if PEER_SETUP.exists() else \
        f"python3 -m venv {PEER_VENV.relative_to(ROOT)} && {PEER_VENV.relative_to(ROOT)}/bin/pip install " \
        f"-r requirements.txt -r benchmarks/requirements-bench.txt"
    return None, f"{PEER_VENV.relative_to(ROOT)} not found; create it with: {how}"


BENCHES = [
    Bench("model", "benchmarks.bench_model", "model.json"),
    Bench("search", "benchmarks.bench_search", "search.json"),
    Bench("http", "benchmarks.bench_http", "http.json"),
    Bench("distributed", "benchmarks.bench_distributed", "distributed.json",
          quick_flags=[("--passages", "128"), ("--repeat", "1"), ("--copies", "2"), ("--runs", "20"),
                       ("--scan-vectors", "200000")]),
    Bench("insights", "benchmarks.bench_insights", "insights.json"),
    Bench("lexical", "benchmarks.bench_lexical", "lexical.json", optional=True, python=peer_python),
    Bench("peer", "benchmarks.bench_peer", "peer.json", optional=True, python=peer_python,
          flags=[("--int8", None)]),
]
NAMES = [b.name for b in BENCHES]


def accepts(source: str, flag: str) -> bool:
    """Whether a benchmark's source defines a command-line flag."""
    return re.search(rf"""["']{re.escape(flag)}["']""", source) is not None


def command_for(bench: Bench, python: str, quick: bool) -> tuple[list[str], Path]:
    """(the command line, the JSON file it will write)."""
    source = bench.path.read_text(encoding="utf-8")
    args: list[str] = []
    for flag, value in bench.flags:
        if accepts(source, flag):
            args += [flag] if value is None else [flag, value]
    if quick and accepts(source, "--quick"):
        args.append("--quick")
    else:
        for flag, value in (bench.quick_flags if quick else bench.full_flags):
            if accepts(source, flag):
                args += [flag] if value is None else [flag, value]
    out = RESULTS_DIR / (f"{bench.name}-quick.json" if quick else bench.default_json)
    for flag in ("--json", "--out"):
        if accepts(source, flag):
            args += [flag, str(out.relative_to(ROOT))]
            break
    else:  # it writes where it always does; quick or not
        out = RESULTS_DIR / bench.default_json
    return [python, "-m", bench.module] + args, out


_terminated = False  # set when this process got SIGTERM rather than Ctrl-C


def stop_child(proc: subprocess.Popen, grace: float = 30) -> None:
    """After Ctrl-C the child got SIGINT too (same process group) and is
    cleaning up (bench_http stops its server): give it `grace` seconds, then
    SIGTERM, then SIGKILL. After our own SIGTERM, it gets SIGTERM at once."""
    first = (proc.terminate, 30) if _terminated else (None, grace)
    for action, wait in (first, (proc.terminate, 15), (proc.kill, None)):
        if proc.poll() is not None:
            return
        if action:
            action()
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue


def run_bench(bench: Bench, quick: bool, dry_run: bool, record: dict) -> None:
    """Run one benchmark, streaming its output, and fill in its `record`
    (status, command, seconds, its JSON). Ctrl-C stops the benchmark, keeps
    what it wrote, and is raised again to end the whole run."""
    record["module"] = bench.module
    if not bench.path.exists():
        record.update(status="skipped", reason=f"{bench.path.relative_to(ROOT)} not present")
        return
    python, why = bench.python() if bench.python else (sys.executable, None)
    if python is None:
        record.update(status="skipped", reason=why)
        return
    cmd, out = command_for(bench, python, quick)
    shown = " ".join("python" if c == sys.executable else
                     str(Path(c).relative_to(ROOT)) if c.startswith(f"{ROOT}{os.sep}") else c for c in cmd)
    record.update(command=shown, json_path=str(out.relative_to(ROOT)))
    print(f"\n=== {bench.name}: {shown}", flush=True)
    if dry_run:
        record["status"] = "dry run"
        return
    started = time.time()
    tail: collections.deque[str] = collections.deque(maxlen=40)
    interrupted = False
    proc = subprocess.Popen(cmd, cwd=ROOT, env=project_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, bufsize=1, errors="replace")

    def relay() -> None:
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            tail.append(line.rstrip("\n"))
    try:
        relay()
        proc.wait()
    except KeyboardInterrupt:
        interrupted = True
        stop_child(proc)
        relay()  # what it printed while stopping (it is gone: this ends at once)
    finally:
        proc.stdout.close()
    code = proc.returncode
    record.update(seconds=round(time.time() - started, 1), exit_code=code)
    fresh = out.exists() and out.stat().st_mtime >= started - 1
    result = read_json(out) if fresh else None
    if interrupted:
        record["status"] = "interrupted"
    elif code != 0:
        record.update(status=f"failed (exit {code})", output_tail=list(tail))
    elif result is None:
        record.update(status="ok, no fresh JSON", output_tail=list(tail))
    else:
        record["status"] = "ok"
    if result is not None:
        record["result"] = result
    if interrupted:
        raise KeyboardInterrupt


# ------------------------------------------------------------------ key figures, one function per benchmark
# Each reads one benchmark's JSON and returns plain numbers (None when
# absent), so a changed JSON layout only means editing the function here.

def find_all(data: Any, match: Callable[[str], bool], path: str = "") -> list[tuple[str, Any]]:
    """Every (dotted path, number) whose key satisfies `match`, anywhere in data."""
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{path}.{key}" if path else str(key)
            if match(str(key)) and isinstance(value, (int, float)) and not isinstance(value, bool):
                found.append((here, value))
            else:
                found += find_all(value, match, here)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += find_all(value, match, f"{path}[{i}]")
    return found


def is_recall_at_10(key: str) -> bool:
    return key.startswith(("recall_at_10", "recall@10"))


def build_figures(model: dict | None) -> dict:
    """The build model's end-to-end build against its raw model loop (the
    same texts, same run: bench_model's build part), and the other models
    measured beside it."""
    b = dig(model, "build", default={})
    name = b.get("build_model")
    rows = dig(b, "models", default={})
    row = rows.get(name) or next(iter(rows.values()), {})
    return {"model": name if name in rows else row.get("name"), "raw": row.get("raw_passages_per_s"),
            "build": row.get("build_passages_per_s"), "ratio": row.get("build_over_raw"),
            "texts": b.get("texts"), "mean_tokens": b.get("mean_tokens"), "cores": b.get("cores"),
            "others": {n: r for n, r in rows.items() if r is not row}}


def bare_figures(model: dict | None, http: dict | None) -> dict:
    """Bare fp32 single-query encodes/s on every core: bench_http's own
    (measured around its server runs) when present, else bench_model's
    (same `make bench` run, a few minutes apart)."""
    from_http = dig(http, "headline", "bare_fp32_encodes_per_s") or dig(http, "bare_model", "encodes_per_s")
    if from_http is not None:
        return {"encodes_per_s": from_http, "source": "bench_http, same run as the HTTP figure",
                "processes": dig(http, "bare_model", "processes")}
    rows = dig(model, "bare_encodes", "models", default={})
    fp32 = next((r for n, r in rows.items() if "int8" not in n and "mpnet" not in n), None)
    return {"encodes_per_s": dig(fp32, "all_cores", "encodes_per_s"),
            "source": "bench_model, same make bench run" if fp32 else "not measured",
            "processes": dig(fp32, "all_cores", "processes")}


def http_figures(data: dict | None) -> dict:
    """bench_http's headline: hybrid, unique queries, at the most workers it
    measured (its JSON's "headline"). Empty when bench_http did not run or
    wrote no headline."""
    h = dig(data, "headline", default={})
    return {"requests_per_s": h.get("requests_per_s"), "p50_ms": h.get("p50_ms"), "p99_ms": h.get("p99_ms"),
            "ratio_to_bare": h.get("ratio_to_bare"), "connections": h.get("connections"),
            "workers": h.get("workers"), "threads": h.get("threads"), "errors": h.get("errors"),
            "server_cpu_ms": h.get("server_cpu_ms_per_request"), "wrk_cpu_ms": h.get("wrk_cpu_ms_per_request"),
            "pss_total_mb": h.get("server_pss_total_mb"), "passages": dig(data, "index", "passages"),
            "load": (h.get("load_average") or [None])[0]}


def http_rotating(data: dict | None) -> dict | None:
    """The repeated-question (rotating) hybrid run at the same server as the
    headline: the query-vector cache's figure, reported apart."""
    h = dig(data, "headline", default={})
    rows = [r for r in dig(data, "runs", default=[]) if r.get("mode") == "hybrid"
            and r.get("queries") == "rotating" and r.get("workers") == h.get("workers")
            and r.get("requests_per_s") is not None]
    return rows[-1] if rows else None


def vector_index_recalls(entries: Any) -> list[tuple[str, Any]]:
    """(label, recall@10) per segment of a generation's vector index."""
    if not isinstance(entries, list):
        return find_all(entries, is_recall_at_10)
    out = []
    for e in entries:
        for key, value in find_all(e, is_recall_at_10):
            out.append((f"{e.get('type', '?')} segment {e.get('segment', '?')}", value))
    return out


def search_figures(data: dict | None) -> list[dict]:
    """Per index size: one-article publish, in-process hybrid over unique
    questions (p50/p99, CPU-ms per request, by stage), the repeated-question
    run, the bare model call of the same texts, memory per passage."""
    sizes = []
    for r in dig(data, "sizes", default=[]):
        publish = dig(r, "one_article_publish_s", default={})
        hybrid = dig(r, "query_ms", "hybrid", default={})
        sizes.append({"passages": r.get("passages"),
                      "publish_s": publish.get("median") if "median" in publish else dig(publish, "edit", "p50"),
                      "hybrid_p50_ms": dig(hybrid, "total", "p50"), "hybrid_p99_ms": dig(hybrid, "total", "p99"),
                      "cpu_ms_mean": dig(hybrid, "cpu_ms", "mean"),
                      "stages_cpu_ms": {s: dig(v, "mean") for s, v in dig(hybrid, "stages_cpu_ms", default={}).items()},
                      "queries": hybrid.get("queries"), "distinct": hybrid.get("distinct_queries"),
                      "repeated_p50_ms": dig(r, "query_ms", "hybrid_repeated", "total", "p50"),
                      "repeated_p99_ms": dig(r, "query_ms", "hybrid_repeated", "total", "p99"),
                      "repeated_hit_rate": dig(r, "query_ms", "hybrid_repeated", "cache_hit_rate"),
                      "bare_p50_ms": dig(r, "bare_encode", "encode_ms", "p50"),
                      "bare_per_s": dig(r, "bare_encode", "encodes_per_s_one_core"),
                      "over_bare": r.get("hybrid_p50_over_bare_encode_p50"),
                      "load": (r.get("load_average_before") or [None])[0],
                      "bytes_per_passage": r.get("bytes_per_passage"),
                      "recall_at_10": vector_index_recalls(r.get("vector_index"))})
    return sizes


def vector_figures(data: dict | None) -> list[dict]:
    """bench_search's vector-index part: per size and index kind, recall@10
    against exact search, search p50, and the RSS of the process that maps it."""
    out = []
    for v in dig(data, "vectors", default=[]):
        for kind, r in dig(v, "indexes", default={}).items():
            recall = find_all(r, is_recall_at_10)
            out.append({"vectors": v.get("vectors"), "kind": kind, "recall_at_10": recall[0][1] if recall else None,
                        "search_p50_ms": dig(r, "search_ms", "p50"), "rss_mb_process": r.get("rss_mb_process"),
                        "rss_mb_index": r.get("rss_mb_index")})
    return out


def distributed_figures(data: dict | None) -> dict:
    """Memory per passage of a fresh serving process (all, and private to
    it), and a projection of one process's RSS at 1M passages."""
    s = dig(data, "serving", default={})
    per = s.get("rss_bytes_per_passage")
    base = s.get("process_rss_mb_before_index")
    fixed = s.get("index_fixed_mb") or 0  # what opening any generation costs, whatever its size
    return {"passages": s.get("passages"), "rss_bytes_per_passage": per,
            "private_bytes_per_passage": s.get("private_bytes_per_passage"),
            "projected_rss_1m_mb": round(base + fixed + per * 1e6 / 2 ** 20) if per is not None and base is not None
            else None,
            "dask_local_2_speedup": dig(data, "embedding", "dask_local_2", "speedup_vs_local")}


def memory_1m_figure(http: dict | None, dist: dict, search: dict | None = None) -> tuple[float | None, str]:
    """(MB, how) for a worker set at 1M passages. Measured worker sets exist
    only at bench_http's index size, so this projects: the worker set's PSS
    there, plus for each further passage its shared bytes once and its
    private bytes once per worker (bench_distributed's per-passage figures).
    Else, with bench_search's ~100k size, its resident bytes per passage
    counted once per worker (an upper bound: mapped pages are shared).
    Without bench_http's PSS: one serving process's projected RSS."""
    h = http_figures(http)
    per, private = dist.get("rss_bytes_per_passage"), dist.get("private_bytes_per_passage")
    if h["pss_total_mb"] is not None and h["passages"] and per is not None and private is not None:
        workers = h["workers"] or 1
        more = max(0, 1_000_000 - h["passages"])
        mb = h["pss_total_mb"] + more * ((per - private) + workers * private) / 2 ** 20
        return round(mb), (f"projected from bench_http's {workers}-worker PSS at {h['passages']:,} passages "
                           f"and bench_distributed's bytes per passage")
    largest = max(search_figures(search), key=lambda r: r["passages"] or 0, default=None)
    if h["pss_total_mb"] is not None and h["passages"] and largest and largest["bytes_per_passage"] \
            and (largest["passages"] or 0) >= SIZE_100K[0]:
        workers = h["workers"] or 1
        more = max(0, 1_000_000 - h["passages"])
        mb = h["pss_total_mb"] + more * workers * largest["bytes_per_passage"] / 2 ** 20
        return round(mb), (f"projected from bench_http's {workers}-worker PSS at {h['passages']:,} passages and "
                           f"bench_search's resident bytes per passage at {largest['passages']:,}, once per worker")
    if dist.get("projected_rss_1m_mb") is not None:
        return dist["projected_rss_1m_mb"], "projected: one serving process (bench_distributed); no worker-set PSS"
    return None, "needs bench_http's PSS and bench_distributed's serving part or bench_search's ~100k size"


def peer_figures(data: dict | None) -> list[tuple[str, Any]]:
    """HeartSearch beside txtai: per system, build seconds, query p50 and
    MRR@10 (same model, passages and queries, same run)."""
    out = []
    for r in dig(data, "rows", default=[]):
        out.append((f"{r.get('system')}: build s / query p50 ms / MRR@10",
                    f"{fmt(dig(r, 'build', 'seconds'), '.1f')} / {fmt(dig(r, 'query_ms', 'p50'), '.2f')} / "
                    f"{fmt(dig(r, 'quality', 'MRR@10'), '.3f')}"))
    return out


def peer_pair(data: dict | None) -> tuple[dict | None, dict | None]:
    """(HeartSearch hybrid with the default model, txtai hybrid as it comes):
    the pair issue 17's peer target compares. HeartSearch's default model is
    int8 (bench_peer --int8); fp32 ONNX when int8 was not run."""
    by = {r.get("system"): r for r in dig(data, "rows", default=[])}
    ours = by.get("HeartSearch hybrid (int8)") or by.get("HeartSearch hybrid (onnx)")
    return ours, by.get("txtai hybrid")


def lexical_figures(data: dict | None) -> list[tuple[str, Any]]:
    """FTS5 against bm25s at the largest size: median query ms of each, and
    the benchmark's own recommendation."""
    largest = dig(data, "sizes", -1, default={})
    if not largest:
        return []
    n = largest.get("passages") or 0
    return [(f"FTS5 query p50 ms, {n:,} passages", dig(largest, "query_ms", "fts5", "p50")),
            (f"bm25s (get_scores) query p50 ms, {n:,} passages", dig(largest, "query_ms", "bm25s_get_scores", "p50")),
            ("recommendation", (data.get("recommendation") or "n/a").split(":")[0])]


# ------------------------------------------------------------------ the summary

def verdict(value: float | None, target: float, at_least: bool, projected: bool = False) -> str:
    """"met" / "MISSED" (with " (projected)"), or "n/a" when not measured."""
    if value is None:
        return "n/a"
    ok = value >= target if at_least else value <= target
    return ("met" if ok else "MISSED") + (" (projected)" if projected else "")


def target_rows(records: dict[str, dict]) -> list[dict]:
    """One row per issue-17 target: {target, measured, ratio, verdict, source}.
    `ratio` is the figure against the bare model of the same run where the
    target is about one (else a ratio that says what bounds the figure)."""
    result = {name: rec.get("result") for name, rec in records.items()}
    rows: list[dict] = []

    def add(target: str, measured: str, ratio: str = "", check: str = "n/a", source: str = "") -> None:
        rows.append({"target": target, "measured": measured, "ratio": ratio, "verdict": check, "source": source})

    http, bare = http_figures(result.get("http")), bare_figures(result.get("model"), result.get("http"))
    conns = http["connections"] or HTTP_CONNECTIONS
    where = (f"bench_http, {http['workers']} worker(s) x {http['threads']} threads, load {http['load']}"
             if http["requests_per_s"] is not None else "bench_http did not report a unique-query hybrid run")
    errors = f", {http['errors']} errors" if http["errors"] else ""
    add(f"HTTP hybrid, unique queries, {conns} conns, 2 cores: >= {TARGET_HTTP_REQUESTS_PER_S} req/s",
        f"{fmt(http['requests_per_s'], '.0f')} req/s (p50 {fmt(http['p50_ms'], '.1f')} / p99 "
        f"{fmt(http['p99_ms'], '.1f')} ms){errors}",
        f"server CPU {fmt(http['server_cpu_ms'], '.1f')} ms/req",
        verdict(http["requests_per_s"], TARGET_HTTP_REQUESTS_PER_S, True) + (" (errors)" if errors else ""), where)
    ratio = http["ratio_to_bare"]
    if ratio is None and http["requests_per_s"] is not None and bare["encodes_per_s"]:
        ratio = round(http["requests_per_s"] / bare["encodes_per_s"], 2)
    add(f"HTTP searches/s >= {TARGET_HTTP_VS_BARE:g}x bare fp32 single-query encodes/s, same cores",
        f"{fmt(http['requests_per_s'], '.0f')} vs {fmt(bare['encodes_per_s'], '.0f')} encodes/s",
        fmt(ratio, ".2f", "x bare"), verdict(ratio, TARGET_HTTP_VS_BARE, True), f"bare: {bare['source']}")

    sizes = search_figures(result.get("search"))
    counted = next((s for s in sizes if SIZE_100K[0] <= (s["passages"] or 0) <= SIZE_100K[1]), None)
    shown = counted or (sizes[-1] if sizes else None)
    label = f"{shown['passages']:,} passages" if shown else "no size measured"
    note = "" if counted or not shown else " (not ~100k: verdict n/a)"
    for key, target, name in (("hybrid_p50_ms", TARGET_HYBRID_P50_MS, "p50"),
                              ("hybrid_p99_ms", TARGET_HYBRID_P99_MS, "p99")):
        value = shown[key] if shown else None
        over = value / shown["bare_p50_ms"] if value is not None and shown["bare_p50_ms"] else None
        add(f"in-process hybrid {name} <= {target:g} ms at 100k passages, unique queries",
            f"{fmt(value, '.2f')} ms, {label}{note}", fmt(over, ".1f", "x bare encode p50"),
            verdict(value, target, False) if counted else "n/a",
            f"bench_search, {shown['queries']} queries ({shown['distinct']} distinct), bare encode p50 "
            f"{fmt(shown['bare_p50_ms'], '.2f')} ms, load {shown['load']}" if shown else "bench_search did not run")

    build = build_figures(result.get("model"))
    src = (f"bench_model, {build['model']}, {build['texts']} texts of ~{build['mean_tokens']} word pieces, "
           f"{build['cores']} cores" if build["build"] is not None else "bench_model's build part did not run")
    add(f"build >= {TARGET_BUILD_PASSAGES_PER_S} passages/s (~165-token passages), 2 cores",
        f"{fmt(build['build'], '.1f')} passages/s", f"raw model loop {fmt(build['raw'], '.1f')}/s",
        verdict(build["build"], TARGET_BUILD_PASSAGES_PER_S, True), src)
    add(f"build within 10% of the raw model loop (build / raw >= {TARGET_BUILD_VS_MODEL:.2f})",
        f"{fmt(build['build'], '.1f')} vs {fmt(build['raw'], '.1f')} passages/s", fmt(build["ratio"], ".3f", "x raw"),
        verdict(build["ratio"], TARGET_BUILD_VS_MODEL, True), src)

    dist = distributed_figures(result.get("distributed"))
    mb, how = memory_1m_figure(result.get("http"), dist, result.get("search"))
    add(f"memory at 1M passages <= {TARGET_MEMORY_1M_MB} MB per worker set (shared pages once)",
        f"{fmt(mb)} MB", "", verdict(mb, TARGET_MEMORY_1M_MB, False, projected=True), how)

    ours, theirs = peer_pair(result.get("peer"))
    name = ours.get("system") if ours else "HeartSearch hybrid"
    for what, path, faster in (("build", ("build", "seconds"), True), ("query p50", ("query_ms", "p50"), True),
                               ("MRR@10", ("quality", "MRR@10"), False)):
        a, b = dig(ours, *path), dig(theirs, *path)
        if faster:
            r = b / a if a and b else None
            add(f"vs txtai hybrid, same corpus and model: faster on {what}",
                f"{fmt(a, '.2f')} vs {fmt(b, '.2f')} {'s' if what == 'build' else 'ms'}",
                fmt(r, ".2f", "x txtai's speed"), verdict(r, 1.0, True) if r is not None and r != 1.0 else
                ("MISSED" if r == 1.0 else "n/a"), f"bench_peer, {name}" if ours else "bench_peer did not run")
        else:
            d = a - b if a is not None and b is not None else None
            add("vs txtai hybrid: ranking at least as good (MRR@10)", f"{fmt(a, '.3f')} vs {fmt(b, '.3f')}",
                fmt(d, "+.3f"), verdict(d, 0.0, True), f"bench_peer, {name}" if ours else "bench_peer did not run")
    return rows


def other_rows(records: dict[str, dict]) -> list[dict]:
    """Figures that say what bounds the targets, and issue #7's that still
    hold: {figure, value, target, verdict}."""
    result = {name: rec.get("result") for name, rec in records.items()}
    rows: list[dict] = []

    def add(figure: str, value: str, target: str = "", check: str = "") -> None:
        rows.append({"figure": figure, "value": value, "target": target, "verdict": check})

    bare_rows = dig(result.get("model"), "bare_encodes", "models", default={})
    for name, r in bare_rows.items():
        add(f"bare single-query encodes/s, {name}: one core / all cores (CPU ms each)",
            f"{fmt(dig(r, 'one_core', 'encodes_per_s'), '.0f')} / {fmt(dig(r, 'all_cores', 'encodes_per_s'), '.0f')} "
            f"({fmt(dig(r, 'all_cores', 'cpu_ms_per_encode'), '.2f')})")
    build = build_figures(result.get("model"))
    for name, r in build["others"].items():
        add(f"build vs raw model loop, {name} (passages/s)",
            f"{fmt(r.get('build_passages_per_s'), '.1f')} vs {fmt(r.get('raw_passages_per_s'), '.1f')} "
            f"({fmt(r.get('build_over_raw'), '.2f')}x)")

    rotating = http_rotating(result.get("http"))
    if rotating:
        add("HTTP hybrid, repeated questions (query-vector cache; not the target's figure): req/s (p50 / p99 ms)",
            f"{fmt(rotating.get('requests_per_s'), '.0f')} ({fmt(dig(rotating, 'latency_ms', 'p50'), '.1f')} / "
            f"{fmt(dig(rotating, 'latency_ms', 'p99'), '.1f')})")
    http = http_figures(result.get("http"))
    if http["pss_total_mb"] is not None:
        add(f"HTTP server PSS, {http['workers']} worker(s), {fmt(http['passages'], ',')} passages (MB)",
            fmt(http["pss_total_mb"], ".0f"))

    for s in search_figures(result.get("search")):
        n = s["passages"] or 0
        near_100k = SIZE_100K[0] <= n <= SIZE_100K[1]
        label = f"{n:,} passages"
        stages = ", ".join(f"{k} {fmt(v, '.2f')}" for k, v in s["stages_cpu_ms"].items())
        add(f"in-process hybrid CPU ms/request by stage, {label} (unique queries)",
            f"{fmt(s['cpu_ms_mean'], '.2f')} total: {stages}" if stages else fmt(s["cpu_ms_mean"], ".2f"))
        add(f"in-process hybrid p50 / p99, {label}, repeated questions (cache hit rate "
            f"{fmt(s['repeated_hit_rate'], '.2f')}; not the target's figure) (ms)",
            f"{fmt(s['repeated_p50_ms'], '.2f')} / {fmt(s['repeated_p99_ms'], '.2f')}")
        add(f"bare model call, {label}: single-query encode p50 ms (encodes/s, one core)",
            f"{fmt(s['bare_p50_ms'], '.2f')} ({fmt(s['bare_per_s'], '.0f')})")
        add(f"one-article publish, {label} (s)", fmt(s["publish_s"], ".3f"),
            f"<= {TARGET_PUBLISH_S:g} (issue 7)" if near_100k else "",
            verdict(s["publish_s"], TARGET_PUBLISH_S, False) if near_100k else "")
        add(f"memory per passage, {label} (bytes)", fmt(s["bytes_per_passage"]))

    for v in vector_figures(result.get("search")):
        n = v["vectors"] or 0
        at_1m = n >= SIZE_1M
        add(f"ANN recall@10, {v['kind']}, {n:,} vectors", fmt(v["recall_at_10"], ".3f"),
            f">= {TARGET_RECALL_AT_10} (issue 7)" if at_1m else "",
            verdict(v["recall_at_10"], TARGET_RECALL_AT_10, True) if at_1m else "")
        add(f"RSS of a process mapping it, {v['kind']}, {n:,} vectors (MB; search p50 "
            f"{fmt(v['search_p50_ms'], '.2f')} ms)", fmt(v["rss_mb_process"], ".0f"))

    insights = result.get("insights") or {}
    diff = insights.get("p50_diff_percent")
    if "insights" in records:  # selected for this run (a failed run shows n/a)
        add("search p50 with the private log on vs off (in-process hybrid, unique queries; ms off / on)",
            f"{fmt(diff, '+.2f', '%')} ({fmt(insights.get('p50_off_ms'), '.2f')} / "
            f"{fmt(insights.get('p50_on_ms'), '.2f')}, {fmt(insights.get('queries'))} queries)",
            f"< {TARGET_LOG_P50_DIFF_PERCENT:g}% (issue 18)",
            "n/a" if diff is None else ("met" if abs(diff) < TARGET_LOG_P50_DIFF_PERCENT else "MISSED"))

    dist = distributed_figures(result.get("distributed"))
    if dist["passages"]:
        add(f"serving memory per passage, fresh process, {dist['passages']:,} passages (bytes)",
            f"{fmt(dist['rss_bytes_per_passage'])} ({fmt(dist['private_bytes_per_passage'])} private)")
    if dist["dask_local_2_speedup"] is not None:
        add("Dask local:2 embedding speed-up over local", fmt(dist["dask_local_2_speedup"], ".2f", "x"))

    for name, figures_of in (("lexical", lexical_figures), ("peer", peer_figures)):
        rec = records.get(name, {})
        figures = figures_of(result.get(name))
        for key, value in figures:
            add(f"{name}: {key}", fmt(value, ".3g") if isinstance(value, float) else str(value))
        if not figures:
            add(f"{name} comparison", "n/a" if rec.get("status") != "ok" else f"see {rec.get('json_path')}",
                "", rec.get("reason", "")[:60] if rec.get("status") == "skipped" else "")
    return rows


def summary_rows(records: dict[str, dict]) -> dict:
    return {"targets": target_rows(records), "other": other_rows(records)}


def format_summary(summary: dict) -> str:
    targets = table(["issue #17 target", "measured", "vs the bare model / bound", "verdict", "from"],
                    [[r["target"], r["measured"], r["ratio"], r["verdict"], r["source"]] for r in summary["targets"]],
                    right=[False, True, True, False, False])
    other = table(["figure", "value", "target", "verdict"],
                  [[r["figure"], r["value"], r["target"], r["verdict"]] for r in summary["other"]],
                  right=[False, True, False, False])
    return targets + "\n\nother figures, same run:\n" + other


# ------------------------------------------------------------------ main

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run_all", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  make bench                                        # everything (tens of minutes)\n"
               "  python -m benchmarks.run_all --quick              # every benchmark, short\n"
               "  python -m benchmarks.run_all --only http,model --quick\n"
               "  python -m benchmarks.run_all --dry-run            # the commands, run nothing\n"
               "\nexit status: 0 every benchmark ran or was skipped, 1 one failed, 2 bad usage, 130 interrupted")
    parser.add_argument("--only", metavar="NAME[,NAME]", default=None,
                        help=f"run only these, from: {', '.join(NAMES)}")
    parser.add_argument("--quick", action="store_true",
                        help="short smoke runs (each benchmark's --quick, or small sizes); figures are rough "
                             "and are written to <name>-quick.json where the benchmark lets us choose")
    parser.add_argument("--dry-run", action="store_true", help="print the header and commands; run nothing")
    return parser


def _terminate(signum, frame):  # SIGTERM ends the run like Ctrl-C: the running benchmark is stopped
    global _terminated
    _terminated = True
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    selected = NAMES if not args.only else [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in selected if n not in NAMES]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    signal.signal(signal.SIGTERM, _terminate)

    machine = machine_facts()
    print("HeartSearch benchmarks" + (" (quick: rough figures)" if args.quick else ""))
    print(format_machine(machine))
    if shutil.which("wrk") is None:
        print("note: wrk is not installed (apt-get install wrk); the http benchmark will fail")
    report: dict[str, Any] = {"started": utc_now(), "quick": args.quick, "selected": selected,
                              "machine": machine, "benchmarks": {}}
    status = 0
    try:
        for bench in BENCHES:
            if bench.name not in selected:
                continue
            if not MEDQUAD.exists():
                report["benchmarks"][bench.name] = {"status": "skipped",
                                                    "reason": f"{MEDQUAD} not found (shared data absent)"}
                continue
            record = report["benchmarks"][bench.name] = {"status": "started"}
            run_bench(bench, args.quick, args.dry_run, record)
            if record["status"].startswith("failed"):
                status = 1
    except KeyboardInterrupt:
        print("\ninterrupted; summarising what finished", file=sys.stderr)
        status = 130
    report["finished"] = utc_now()
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print("\n=== runs")
    print(table(["benchmark", "status", "seconds", "JSON"],
                [[name, rec["status"] + (f": {rec['reason']}" if rec.get("reason") else ""),
                  fmt(rec.get("seconds")), rec.get("json_path", "")]
                 for name, rec in report["benchmarks"].items()], right=[False, False, True, False]))
    if args.dry_run:
        return 0
    report["summary"] = summary_rows(report["benchmarks"])
    print("\n=== summary" + (" (quick run: rough figures, small sizes)" if args.quick else ""))
    print(format_summary(report["summary"]))
    print(f"machine: {machine['cores']} cores, load average at start {machine['load_average'][0]}, "
          f"at end {report['load_average_at_end'][0]} (a busy machine makes every figure worse)")
    out = write_json(RESULTS_DIR / f"bench-{utc_stamp()}.json", report)
    write_json(RESULTS_DIR / "bench-latest.json", report)
    print(f"wrote {out.relative_to(ROOT)} and bench-latest.json")
    return status


if __name__ == "__main__":
    sys.exit(main())
