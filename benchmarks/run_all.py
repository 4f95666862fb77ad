"""Run every HeartSearch benchmark and print one summary against issue #7's targets.

`make bench` runs this. It prints what the machine is (cores, CPU, RAM,
Python and library versions, SQLite/FTS5), then runs each benchmark as its
own process (so one's memory, threads and model never colour another's),
streaming its output, and collects the JSON file each writes:

  model        benchmarks.bench_model        raw embedding throughput and latency per runtime
  search       benchmarks.bench_search       publish time, in-process latency, memory at each size
  http         benchmarks.bench_http         requests/s and latency through the real server and wrk
  distributed  benchmarks.bench_distributed  Dask embedding speed-up; serving memory per passage
  lexical      benchmarks.bench_lexical      (optional) the FTS5 lexical index against bm25s
  peer         benchmarks.bench_peer         (optional) HeartSearch beside an established library
                                             (both run by benchmarks/.venv-peer/bin/python)

A benchmark whose file is absent is skipped; so are lexical and peer when
benchmarks/.venv-peer is missing (bm25s and txtai are installed only there;
the message says how to make it).

Then it prints one table of the key figures beside issue #7's targets
(n/a where a benchmark did not run or its JSON lacks the figure) and writes
everything -- machine, commands, each benchmark's JSON, the summary -- to
benchmarks/results/bench-<UTC time>.json and bench-latest.json.

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

# Issue #7's targets, in one place.
TARGET_BUILD_PASSAGES_PER_S = 90
TARGET_BUILD_VS_MODEL = 0.90       # build within 10% of the raw model's throughput
TARGET_PUBLISH_S = 1.0             # one-article publish into ~100k passages
TARGET_HYBRID_P50_MS = 5.0         # in-process, ~100k passages
TARGET_HYBRID_P99_MS = 15.0
TARGET_HTTP_REQUESTS_PER_S = 300   # at 16 connections
TARGET_RSS_1M_MB = 2048            # 1M passages in at most 2 GB resident
TARGET_RECALL_AT_10 = 0.98
SIZE_100K = (80_000, 150_000)      # which measured size counts as "100k passages"
SIZE_1M = 900_000


# ------------------------------------------------------------------ the benchmarks

@dataclass
class Bench:
    name: str
    module: str
    default_json: str                       # the file it writes under results/ when not told where
    quick_flags: list[tuple[str, str | None]] = field(default_factory=list)  # if it has no --quick
    full_flags: list[tuple[str, str | None]] = field(default_factory=list)
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
    Bench("search", "benchmarks.bench_search", "search.json",
          quick_flags=[("--sizes", "1"), ("--runs", "50")]),
    Bench("http", "benchmarks.bench_http", "http.json"),
    Bench("distributed", "benchmarks.bench_distributed", "distributed.json",
          quick_flags=[("--passages", "128"), ("--repeat", "1"), ("--copies", "1"), ("--runs", "20")]),
    Bench("lexical", "benchmarks.bench_lexical", "lexical.json", optional=True, python=peer_python),
    Bench("peer", "benchmarks.bench_peer", "peer.json", optional=True, python=peer_python),
]
NAMES = [b.name for b in BENCHES]


def accepts(source: str, flag: str) -> bool:
    """Whether a benchmark's source defines a command-line flag."""
    return re.search(rf"""["']{re.escape(flag)}["']""", source) is not None


def command_for(bench: Bench, python: str, quick: bool) -> tuple[list[str], Path]:
    """(the command line, the JSON file it will write)."""
    source = bench.path.read_text(encoding="utf-8")
    args: list[str] = []
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


def model_figures(data: dict | None) -> dict:
    """Raw model throughput as a build uses it: the runtime load_embedder
    picks ($HEARTSEARCH_RUNTIME, onnx fp32 by default) with one worker per
    core, on 60-word passages (the indexer's shape), in batches of 64."""
    runtime = "torch" if os.environ.get("HEARTSEARCH_RUNTIME", "onnx").strip().lower() == "torch" else "onnx-fp32"
    rows = [r for r in dig(data, "results", default=[]) if r.get("runtime") == runtime]
    cores = str(os.cpu_count())
    row = next((r for r in rows if r.get("threads") == cores), None) or \
        max((r for r in rows if str(r.get("threads", "")).isdigit()), key=lambda r: int(r["threads"]), default=None)
    return {"raw_passages_per_s": dig(row, "passages_per_s_60w", "median"),
            "config": f"{runtime}, {row['threads']} thread(s), 60-word passages" if row else runtime}


def build_figures(search: dict | None, model: dict | None, http: dict | None) -> dict:
    """Build vs raw model passages/s. Best: bench_search's "build" part (the
    same texts through the model alone and through a whole build, in the
    same run). Else bench_model's raw figure beside bench_http's own index
    build when it embedded most passages (--fresh-build): different runs, so
    the ratio is rougher."""
    b = dig(search, "build", default={})
    if b.get("build_passages_per_s") is not None:
        return {"raw": b.get("raw_model_passages_per_s"), "build": b["build_passages_per_s"],
                "ratio": b.get("build_over_raw"),
                "source": f"bench_search, {b.get('texts')} texts of ~{b.get('mean_tokens')} tokens, same run"}
    raw = model_figures(model)["raw_passages_per_s"]
    cli = cli_build_figures(http)
    built = cli["passages_per_s"]
    source = (f"bench_http's index build, {cli['embedded']} passages; raw from bench_model" if built is not None
              else "no cold build in this run: bench_search's build part, or bench_http --fresh-build")
    return {"raw": raw, "build": built, "ratio": built / raw if built is not None and raw else None,
            "source": source}


def cli_build_figures(http: dict | None) -> dict:
    """The indexer CLI's own build of the whole NIH corpus, as bench_http
    ran it; a real figure only when it embedded most passages (--fresh-build)."""
    h = dig(http, "index", "build", default={})
    cold = h.get("embedded", 0) >= 1000
    return {"embedded": h.get("embedded"), "passages_per_s": h.get("embedded_per_s") if cold else None}


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
    """Per index size: passages, one-article publish (edit, median s),
    in-process hybrid p50/p99 (ms), memory per passage, and the recall@10 of
    its vector index if recorded."""
    sizes = []
    for r in dig(data, "sizes", default=[]):
        publish = dig(r, "one_article_publish_s", default={})
        sizes.append({"passages": r.get("passages"),
                      "publish_s": publish.get("median") if "median" in publish else dig(publish, "edit", "p50"),
                      "hybrid_p50_ms": dig(r, "query_ms", "hybrid", "total", "p50"),
                      "hybrid_p99_ms": dig(r, "query_ms", "hybrid", "total", "p99"),
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


def http_figures(data: dict | None) -> list[dict]:
    """Requests/s and latency per server thread count, hybrid mode."""
    out = []
    for r in dig(data, "runs", default=[]):
        if r.get("mode") not in ("hybrid", "default"):
            continue
        out.append({"threads": r.get("threads"), "connections": r.get("connections"),
                    "requests_per_s": None if r.get("error") else r.get("requests_per_s"),
                    "p50_ms": dig(r, "latency_ms", "p50"), "p99_ms": dig(r, "latency_ms", "p99"),
                    "app_p50_ms": dig(r, "app_ms", "p50"), "errors": dig(r, "errors", "total"),
                    "rss_mb": r.get("server_rss_mb")})
    return out


def distributed_figures(data: dict | None) -> dict:
    """Memory per passage of a fresh serving process, and a projection of
    its RSS at 1M passages (its RSS before the index + per-passage x 1M)."""
    s = dig(data, "serving", default={})
    per = s.get("rss_bytes_per_passage")
    base = s.get("process_rss_mb_before_index")
    return {"passages": s.get("passages"), "rss_bytes_per_passage": per,
            "private_bytes_per_passage": s.get("private_bytes_per_passage"),
            "projected_rss_1m_mb": round(base + per * 1e6 / 2 ** 20) if per is not None and base is not None
            else None,
            "dask_local_2_speedup": dig(data, "embedding", "dask_local_2", "speedup_vs_local")}


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


def peer_figures(data: dict | None) -> list[tuple[str, Any]]:
    """HeartSearch beside txtai: per system, build seconds, query p50 and
    MRR@10 (same model, passages and queries, same run)."""
    out = []
    for r in dig(data, "rows", default=[]):
        out.append((f"{r.get('system')}: build s / query p50 ms / MRR@10",
                    f"{fmt(dig(r, 'build', 'seconds'), '.1f')} / {fmt(dig(r, 'query_ms', 'p50'), '.2f')} / "
                    f"{fmt(dig(r, 'quality', 'MRR@10'), '.3f')}"))
    return out


# ------------------------------------------------------------------ the summary

def verdict(value: float | None, target: float, at_least: bool, projected: bool = False) -> str:
    if value is None:
        return ""
    ok = value >= target if at_least else value <= target
    return ("ok" if ok else "MISS") + (" (projected)" if projected else "")


def summary_rows(records: dict[str, dict]) -> list[dict]:
    """[{figure, value, target, verdict}] from every benchmark that ran."""
    result = {name: rec.get("result") for name, rec in records.items()}
    rows: list[dict] = []

    def add(figure: str, value: str, target: str = "", check: str = "") -> None:
        rows.append({"figure": figure, "value": value, "target": target, "verdict": check})

    model = model_figures(result.get("model"))
    add(f"raw model passages/s, bench_model ({model['config']})", fmt(model["raw_passages_per_s"], ".1f"))
    build = build_figures(result.get("search"), result.get("model"), result.get("http"))
    add(f"build vs raw model passages/s ({build['source']})",
        f"{fmt(build['build'], '.1f')} vs {fmt(build['raw'], '.1f')}", f">= {TARGET_BUILD_PASSAGES_PER_S}",
        verdict(build["build"], TARGET_BUILD_PASSAGES_PER_S, True))
    add("build / raw model", fmt(build["ratio"], ".2f"), f">= {TARGET_BUILD_VS_MODEL:.2f}",
        verdict(build["ratio"], TARGET_BUILD_VS_MODEL, True))
    cli = cli_build_figures(result.get("http"))
    if cli["passages_per_s"] is not None and "bench_http" not in build["source"]:
        add(f"`python -m indexer build` of the NIH corpus, {cli['embedded']} passages embedded (passages/s)",
            fmt(cli["passages_per_s"], ".1f"), f">= {TARGET_BUILD_PASSAGES_PER_S}",
            verdict(cli["passages_per_s"], TARGET_BUILD_PASSAGES_PER_S, True))

    sizes = search_figures(result.get("search"))
    if not sizes:
        add("in-process search: publish, hybrid p50/p99, memory", "n/a")
    for s in sizes:
        n = s["passages"] or 0
        near_100k = SIZE_100K[0] <= n <= SIZE_100K[1]
        label = f"{n:,} passages"
        add(f"one-article publish, {label} (s)", fmt(s["publish_s"], ".3f"),
            f"<= {TARGET_PUBLISH_S:g}" if near_100k else "",
            verdict(s["publish_s"], TARGET_PUBLISH_S, False) if near_100k else "")
        add(f"in-process hybrid p50 / p99, {label} (ms)",
            f"{fmt(s['hybrid_p50_ms'], '.2f')} / {fmt(s['hybrid_p99_ms'], '.2f')}",
            f"<= {TARGET_HYBRID_P50_MS:g} / {TARGET_HYBRID_P99_MS:g}" if near_100k else "",
            (verdict(s["hybrid_p50_ms"], TARGET_HYBRID_P50_MS, False) + " / " +
             verdict(s["hybrid_p99_ms"], TARGET_HYBRID_P99_MS, False)) if near_100k else "")
        add(f"memory per passage, {label} (bytes)", fmt(s["bytes_per_passage"]))
        for where, recall in s["recall_at_10"]:
            add(f"vector index recall@10, {label} ({where})", fmt(recall, ".3f"))

    vectors = vector_figures(result.get("search"))
    for v in vectors:
        n = v["vectors"] or 0
        at_1m = n >= SIZE_1M
        add(f"ANN recall@10, {v['kind']}, {n:,} vectors", fmt(v["recall_at_10"], ".3f"),
            f">= {TARGET_RECALL_AT_10}" if at_1m else "",
            verdict(v["recall_at_10"], TARGET_RECALL_AT_10, True) if at_1m else "")
        add(f"RSS of a process mapping it, {v['kind']}, {n:,} vectors (MB; search p50 "
            f"{fmt(v['search_p50_ms'], '.2f')} ms)", fmt(v["rss_mb_process"], ".0f"),
            f"<= {TARGET_RSS_1M_MB}" if at_1m else "",
            verdict(v["rss_mb_process"], TARGET_RSS_1M_MB, False) if at_1m else "")
    if not vectors and not any(s["recall_at_10"] for s in sizes):
        add("ANN recall@10 and RSS at 1M vectors", "n/a", f">= {TARGET_RECALL_AT_10}, <= {TARGET_RSS_1M_MB} MB")

    runs = http_figures(result.get("http"))
    if not runs:
        add("HTTP hybrid req/s, p50 / p99", "n/a", f">= {TARGET_HTTP_REQUESTS_PER_S} req/s")
    for r in runs:
        errors = f", {r['errors']} errors" if r["errors"] else ""
        add(f"HTTP hybrid, {r['threads']} server threads, {r['connections']} conns: req/s (p50 / p99 ms)",
            f"{fmt(r['requests_per_s'], '.0f')} ({fmt(r['p50_ms'], '.1f')} / {fmt(r['p99_ms'], '.1f')}){errors}",
            f">= {TARGET_HTTP_REQUESTS_PER_S}" if r["connections"] == 16 else "",
            verdict(r["requests_per_s"], TARGET_HTTP_REQUESTS_PER_S, True) + (" (errors)" if r["errors"] else "")
            if r["connections"] == 16 else "")
        add(f"HTTP, {r['threads']} threads: time in the app p50 (ms); server RSS after (MB)",
            f"{fmt(r['app_p50_ms'], '.1f')}; {fmt(r['rss_mb'], '.0f')}")

    dist = distributed_figures(result.get("distributed"))
    if dist["passages"]:
        add(f"serving memory per passage, fresh process, {dist['passages']:,} passages (bytes)",
            f"{fmt(dist['rss_bytes_per_passage'])} ({fmt(dist['private_bytes_per_passage'])} private)")
        add("serving RSS at 1M passages, projected from that (MB)", fmt(dist["projected_rss_1m_mb"]),
            f"<= {TARGET_RSS_1M_MB}", verdict(dist["projected_rss_1m_mb"], TARGET_RSS_1M_MB, False, True))
    if dist["dask_local_2_speedup"] is not None:
        add("Dask local:2 embedding speed-up over local", fmt(dist["dask_local_2_speedup"], ".2f", "x"))

    for name, figures_of in (("lexical", lexical_figures), ("peer", peer_figures)):
        rec = records.get(name, {})
        figures = figures_of(result.get(name))
        for key, value in figures:
            add(f"{name}: {key}", fmt(value, ".3g") if isinstance(value, float) else str(value))
        if not figures:
            add(f"{name} comparison", "n/a" if rec.get("status") != "ok" else f"see {rec.get('json_path')}")
    return rows


def format_summary(rows: list[dict]) -> str:
    return table(["figure", "value", "issue #7 target", "verdict"],
                 [[r["figure"], r["value"], r["target"], r["verdict"]] for r in rows],
                 right=[False, True, False, False])


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
