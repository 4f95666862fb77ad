"""HTTP requests/s and latency of /api/v1/search under the production server.

What a reader's browser or an API client actually gets: the real server
(`python -m search_app`, granian, rate limit off) on loopback, driven by wrk
with 16 connections (by default) for 20 s after a warm-up. The in-process
figures of bench_search.py leave out HTTP parsing, Flask, JSON encoding and
the processes competing for 2 cores; this benchmark includes all of them.

Two loads, through the wrk script benchmarks/wrk_queries.lua (which also
counts answers by HTTP status: a run with errors is flagged, since fast
4xx/5xx answers would flatter requests/s):

- unique: every request a question never asked before in that server's
  life (benchmarks.common.unique_queries: the NIH titles' conditions in lay
  phrasings and the dev queries in lay wraps, none equal to a rotating
  query; each run gets its own slice, sized for UNIQUE_CEILING_PER_S), so
  no cache can answer it: the figure the issue's target is about;
- rotating: the shared dev queries (else ~30 built-in ones) over and over,
  as popular questions repeat; a query-vector cache shows here, never in
  the unique figure.

Each retrieval mode (hybrid, the default; dense; lexical) and load is
measured per server: one server per worker count (1 and the usable cores by
default) and thread count (4, the shipped default). In the same run, the
bare fp32 model (all-MiniLM-L6-v2, one text per call, one process per
core, one intra-op thread each, as the server loads it) is timed on the
same cores with the server stopped: searches/s over its encodes/s is the
ratio the issue holds the server to (at least 2). After each run the
server's memory is read from /proc: PSS summed over the master and workers
(shared pages counted once) and each worker's RSS; and its CPU per request
(all its processes' CPU time over the run / requests answered).

The index served is --index-dir, or else one built from the shared NIH
corpus into benchmarks/results/work/http-index with `python -m indexer build`
(incremental: a second run reuses it). Its vectors are seeded from the
tests' embedding cache (data/cache/medquad-embeddings.sqlite) when that
exists, so the build is quick; --fresh-build starts from nothing instead,
which makes the build's passages/s a real figure (run_all.py reports it).

wrk runs on the same 2 cores as the server, so the figures are a lower
bound for a server with the machine to itself; the load average is recorded.
Skips with a message (exit 0) if no index is given and ../shared is absent.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import (copy_sqlite, DEV_QUERIES, MEDQUAD, REFERENCE_CACHE, RESULTS_DIR, WORK_DIR,  # noqa: E402
                               bare_encodes, fmt, format_machine, machine_facts, percentile, process_memory_mb,
                               project_env, table, unique_queries, utc_now, write_json)
from benchmarks.http_load import children_of, cpu_seconds, server_memory  # noqa: E402
from indexer.settings import usable_cores  # noqa: E402

LUA_SCRIPT = Path(__file__).resolve().parent / "wrk_queries.lua"
DEFAULT_JSON = RESULTS_DIR / "http.json"
DEFAULT_INDEX = WORK_DIR / "http-index"
MODES = ("hybrid", "dense", "lexical")
LOADS = ("unique", "rotating")
TARGET_REQUESTS_PER_S = 300  # issue #17: hybrid, unique queries, 16 connections, 2 cores
TARGET_RATIO_TO_BARE = 2.0   # issue #17: searches/s over bare fp32 single-query encodes/s, same cores, same run
BARE_MODEL = "all-MiniLM-L6-v2"
# Unique questions a run may need per second measured: well above any rate
# measured here (lexical at 2 workers ~300/s), so a run's slice outlasts it
# (repeated_queries_possible says when one did not).
UNIQUE_CEILING_PER_S = 1000

# Used when the shared dev queries are absent: how readers phrase things.
BUILTIN_QUERIES = [
    "leaky heart valve", "why do my ankles swell", "chest pain when walking uphill",
    "blood thinners and bruising", "what is a normal blood pressure", "mini stroke",
    "heart murmur in a child", "how to prevent a heart attack", "afib treatment options",
    "high cholesterol symptoms", "heart racing at night", "shortness of breath lying down",
    "is a heart attack different for women", "what does a stent do", "can stress cause heart problems",
    "swollen legs and tiredness", "skipped heartbeats after coffee", "enlarged heart",
    "hole in the heart baby", "bypass surgery recovery time", "dizzy when standing up",
    "pacemaker and microwaves", "hardening of the arteries", "high blood pressure in pregnancy",
    "heart failure diet salt", "chest tightness and sweating", "what is an echocardiogram",
    "blood clot in the leg", "slow heart rate", "exercise after a heart attack",
]


# ------------------------------------------------------------------ queries

def load_queries(path: Path | None) -> tuple[list[str], str]:
    """(queries, where they came from). A file holds JSON Lines with a
    "query" field (the dev-queries format) or one plain query a line."""
    if path is not None and path.exists():
        queries = []
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line:
                continue
            if line.startswith("{"):
                row = json.loads(line)
                line = (row.get("query") or row.get("q") or "").strip()
            if line:
                queries.append(line)
        if queries:
            return queries, str(path)
    return list(BUILTIN_QUERIES), "built-in list"


def request_paths(queries: list[str], mode: str, k: int) -> list[str]:
    """One URL path per query, URL-encoded; "default" sends no mode at all."""
    paths = []
    for q in queries:
        params = {"q": q, "k": k}
        if mode != "default":
            params["mode"] = mode
        paths.append("/api/v1/search?" + urllib.parse.urlencode(params))
    return paths


# ------------------------------------------------------------------ index

BUILD_SUMMARY = re.compile(r"(?P<passages>\d+) passages \((?P<embedded>\d+) embedded, (?P<reused>\d+) reused\); "
                           r"(?P<verb>.+?) in (?P<seconds>[\d.]+)s")


def build_index(index_dir: Path, fresh: bool, log=print) -> dict:
    """Make `index_dir` hold the NIH corpus with the indexer's own CLI, as a
    user would. The embedding cache lives in the index folder
    (embeddings.sqlite); seeding it from the tests' cache saves re-embedding
    ~7k passages. Returns the build's own summary plus wall time."""
    if fresh and index_dir.exists():
        if WORK_DIR not in index_dir.resolve().parents:  # never delete a folder we did not make
            raise SystemExit(f"--fresh-build only clears folders under {WORK_DIR}, not {index_dir}")
        shutil.rmtree(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    cache = index_dir / "embeddings.sqlite"
    seeded = False
    if not fresh and not cache.exists() and REFERENCE_CACHE.exists():
        log(f"seeding the embedding cache from {REFERENCE_CACHE.relative_to(ROOT)}")
        copy_sqlite(REFERENCE_CACHE, cache)
        seeded = True
    cmd = [sys.executable, "-m", "indexer", "build", str(MEDQUAD), "--index-dir", str(index_dir)]
    log("$ " + " ".join(_shown(c) for c in cmd) +
        ("" if seeded or (cache.exists() and not fresh) else "   (no cached vectors: a few minutes on 2 cores)"))
    started = time.perf_counter()
    lines = []
    with subprocess.Popen(cmd, cwd=ROOT, env=project_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace") as proc:
        for line in proc.stdout:  # streamed, and kept for the summary line
            log("  " + line.rstrip())
            lines.append(line)
    wall = time.perf_counter() - started
    output = "".join(lines).strip()
    if proc.returncode != 0:
        raise RuntimeError(f"index build failed (exit {proc.returncode}); its output is above")
    info: dict = {"command": cmd, "wall_s": round(wall, 2), "fresh": fresh, "cache_seeded": seeded,
                  "summary": output.splitlines()[-1] if output else None}
    match = BUILD_SUMMARY.search(output)
    if match:
        info.update(passages=int(match["passages"]), embedded=int(match["embedded"]),
                    reused=int(match["reused"]), build_s=float(match["seconds"]))
        if info["embedded"]:
            # Over the build's own clock (diff, embed, publish), and over the whole
            # command including interpreter start and model load.
            info["embedded_per_s"] = round(info["embedded"] / max(info["build_s"], 1e-9), 1)
            info["embedded_per_wall_s"] = round(info["embedded"] / wall, 1)
    return info


def _shown(arg: str) -> str:
    """Paths relative to the project, for readable command lines."""
    prefix = f"{ROOT}{os.sep}"
    return arg[len(prefix):] if arg.startswith(prefix) else arg


# ------------------------------------------------------------------ server

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    """Terminate, then kill if it does not go within 20 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def running_server(index_dir: Path, threads: int, port: int, log_path: Path, workers: int = 1,
                   start_timeout: float = 240) -> Iterator[tuple[str, subprocess.Popen, dict]]:
    """The production server, as `make loadtest` starts it; yields (base URL,
    process, /api/v1/ready answer plus start-up seconds). Always stopped on
    the way out, whatever happened. Its output (one access-log line a
    request) goes to a file: a pipe nobody reads would block it."""
    cmd = [sys.executable, "-m", "search_app", "--host", "127.0.0.1", "--port", str(port),
           "--index-dir", str(index_dir), "--threads", str(threads), "--workers", str(workers),
           "--rate-limit", "0"]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=project_env(), stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}:\n{_tail(log_path)}")
            try:
                with urllib.request.urlopen(base + "/api/v1/ready", timeout=5) as answer:
                    ready = json.loads(answer.read())
                break
            except (OSError, ValueError):
                if time.perf_counter() - started > start_timeout:
                    raise RuntimeError(f"server not ready after {start_timeout:.0f} s:\n{_tail(log_path)}")
                time.sleep(0.3)
        ready["start_s"] = round(time.perf_counter() - started, 2)
        while len(children_of(proc.pid)) < workers and time.perf_counter() - started < start_timeout:
            time.sleep(0.1)  # the first worker answered ready; the others are forked about as fast
        yield base, proc, ready
    finally:
        # A second Ctrl-C or SIGTERM must not cut this short and leave the server running.
        previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            stop(proc)
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)


def _tail(path: Path, chars: int = 2000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError:
        return ""


def check_mode(base: str, path: str) -> dict:
    """One request by hand before the load: a mode that answers with an
    error would otherwise be measured as a (fast) success."""
    try:
        with urllib.request.urlopen(base + path, timeout=60) as answer:
            body = json.loads(answer.read())
            return {"status": answer.status, "results": len(body.get("results", []))}
    except urllib.error.HTTPError as err:
        return {"status": err.code, "error": err.read()[:300].decode("utf-8", "replace")}


# ------------------------------------------------------------------ wrk

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_TIME = r"([\d.]+)(us|ms|s|m|h)"
_SIZE_UNITS = {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "TB": 1024 ** 4}


def _ms(number: str, unit: str) -> float:
    return round(float(number) * _UNITS[unit], 3)


def parse_wrk(text: str) -> dict:
    """The figures of `wrk --latency` output (and the status line of
    wrk_queries.lua), with latencies in milliseconds. Missing lines leave
    their keys out rather than guessing."""
    out: dict = {"latency_ms": {}, "errors": {}}
    m = re.search(rf"Latency\s+{_TIME}\s+{_TIME}\s+{_TIME}", text)
    if m:
        out["latency_ms"].update(mean=_ms(m[1], m[2]), stdev=_ms(m[3], m[4]), max=_ms(m[5], m[6]))
    for pct, number, unit in re.findall(rf"^\s+(\d+(?:\.\d+)?)%\s+{_TIME}\s*$", text, re.M):
        out["latency_ms"][f"p{pct.rstrip('0').rstrip('.') if '.' in pct else pct}"] = _ms(number, unit)
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h), ([\d.]+)(B|KB|MB|GB|TB) read", text)
    if m:
        out["requests"] = int(m[1])
        out["duration_s"] = round(_ms(m[2], m[3]) / 1000, 3)
        out["bytes_read"] = int(float(m[4]) * _SIZE_UNITS[m[5]])
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    out["errors"].update({k: int(v) for k, v in zip(("connect", "read", "write", "timeout"), m.groups())}
                         if m else {"connect": 0, "read": 0, "write": 0, "timeout": 0})
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    out["errors"]["wrk_non_2xx_3xx"] = int(m[1]) if m else 0
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        out["requests_per_s"] = float(m[1])
    m = re.search(r"^requests per thread: ([\d ]+) of (\d+) paths", text, re.M)
    if m:
        out["requests_per_thread"] = [int(n) for n in m[1].split()]
        out["paths"] = int(m[2])
    m = re.search(r"^status codes:(.*)$", text, re.M)
    if m:
        out["status_codes"] = {code: int(n) for code, n in re.findall(r"(\d+)=(\d+)", m[1])}
        out["errors"]["non_2xx"] = sum(n for code, n in out["status_codes"].items() if not code.startswith("2"))
    else:  # no status line: fall back on wrk's own count (which ignores 3xx)
        out["errors"]["non_2xx"] = out["errors"]["wrk_non_2xx_3xx"]
    out["errors"]["total"] = sum(out["errors"][k] for k in ("connect", "read", "write", "timeout", "non_2xx"))
    return out


def run_wrk(wrk: str, base: str, paths_file: Path, connections: int, wrk_threads: int, seconds: float,
            timeout_s: float, server_pids: list[int] = ()) -> tuple[dict, str]:
    """One wrk run; (parsed figures, raw output). With `server_pids`, also
    the CPU the server's processes and wrk itself used per answered request."""
    cmd = [wrk, f"-t{wrk_threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
           "--timeout", f"{timeout_s:g}s", "--latency", "-s", str(LUA_SCRIPT), base,
           "--", str(paths_file), str(wrk_threads)]
    server_cpu, wrk_cpu = cpu_seconds(list(server_pids)), _children_cpu()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + timeout_s + 60)
    server_cpu, wrk_cpu = cpu_seconds(list(server_pids)) - server_cpu, _children_cpu() - wrk_cpu
    text = done.stdout + done.stderr
    if done.returncode != 0 or "requests in" not in text:
        raise RuntimeError(f"wrk failed (exit {done.returncode}): {' '.join(cmd)}\n{text[-2000:]}")
    figures = parse_wrk(text)
    answered = figures.get("requests") or 0
    if server_pids and answered:
        figures["server_cpu_ms_per_request"] = round(1000 * server_cpu / answered, 2)
        figures["wrk_cpu_ms_per_request"] = round(1000 * wrk_cpu / answered, 2)
    return figures, text


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (wrk runs are waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# ------------------------------------------------------------------ the benchmark

def measure(index_dir: Path, servers: list[tuple[int, int]], modes: list[str], loads: list[str],
            queries: list[str], pool: list[str], args, report: dict, log=print) -> None:
    """Fill report["runs"] (one row per server, mode and load) as it goes,
    so an interrupted run still has what it measured. Each unique run of a
    server asks its own slice of `pool`; the warm-up before it rotates over
    `queries` (none of which is in the pool)."""
    work = WORK_DIR / "http"
    work.mkdir(parents=True, exist_ok=True)
    rotating = {}
    for mode in modes:
        rotating[mode] = work / f"paths-{mode}.txt"
        rotating[mode].write_text("\n".join(request_paths(queries, mode, args.k)) + "\n", encoding="utf-8")
    slice_size = len(pool) // max(1, len(modes) * loads.count("unique"))
    for workers, threads in servers:
        port = args.port or free_port()
        log_path = work / f"server-{workers}-workers-{threads}-threads.log"
        log(f"\nserver: {workers} worker(s) x {threads} thread(s) on 127.0.0.1:{port} "
            f"(log {log_path.relative_to(ROOT)})")
        with running_server(index_dir, threads, port, log_path, workers=workers) as (base, proc, ready):
            pids = [proc.pid, *children_of(proc.pid)]
            memory = server_memory(proc.pid)
            log(f"  ready in {ready['start_s']} s: generation {ready.get('generation')}, "
                f"{ready.get('passages')} passages, model {ready.get('model')}; {memory['workers']} worker(s); "
                f"PSS {memory['pss_total_mb']} MB, worker RSS {memory['worker_rss_mb']} MB")
            report["index"].update(generation=ready.get("generation"), passages=ready.get("passages"),
                                   model=ready.get("model"))
            unique_slices = iter(range(0, len(pool), max(1, slice_size)))
            for mode in modes:
                check = check_mode(base, request_paths(queries[:1], mode, args.k)[0])
                for load in loads:
                    row = {"workers": workers, "threads": threads, "mode": mode, "queries": load,
                           "connections": args.connections, "server_start_s": ready["start_s"], "check": check}
                    if check["status"] != 200:
                        log(f"  {mode}: first request answered {check['status']}; not measured")
                        row["error"] = f"HTTP {check['status']} on the first request"
                        report["runs"].append(row)
                        continue
                    paths = rotating[mode]
                    if load == "unique":
                        first = next(unique_slices)
                        paths = work / f"paths-unique-{mode}.txt"
                        paths.write_text("\n".join(request_paths(pool[first:first + slice_size], mode, args.k))
                                         + "\n", encoding="utf-8")
                    if args.warmup > 0:
                        run_wrk(args.wrk, base, rotating[mode], args.connections, args.wrk_threads,
                                args.warmup, args.timeout)
                    row["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
                    log_start = log_path.stat().st_size
                    figures, raw = run_wrk(args.wrk, base, paths, args.connections, args.wrk_threads,
                                           args.duration, args.timeout, server_pids=pids)
                    row.update(figures)
                    if load == "unique":
                        per_thread = figures.get("requests_per_thread") or [figures.get("requests", 0)]
                        # Thread i starts at i/threads of the list: a repeat needs a thread past its share.
                        row["repeated_queries_possible"] = max(per_thread) > figures.get("paths", 0) // len(per_thread)
                    row["app_ms"] = app_times(log_path, log_start)
                    row.update({f"server_{k}": v for k, v in process_memory_mb(proc.pid).items()})
                    memory = server_memory(proc.pid)
                    row.update(server_pss_total_mb=memory["pss_total_mb"], master_rss_mb=memory["master_rss_mb"],
                               worker_rss_mb=memory["worker_rss_mb"], worker_pss_mb=memory["worker_pss_mb"])
                    row["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
                    row["wrk_output"] = raw
                    report["runs"].append(row)
                    log("  " + summary_line(row))


def measure_bare(pool: list[str], processes: int, seconds: float, report: dict, log=print) -> None:
    """The bare model on the same cores, no server running: report["bare_model"]."""
    log(f"\nbare model: {BARE_MODEL} (fp32), {processes} process(es) x 1 thread, one text per call, "
        f"{seconds:g} s")
    before = [round(x, 2) for x in os.getloadavg()]
    bare = bare_encodes(pool, processes, seconds, BARE_MODEL, env=project_env())
    bare.update(load_average_before=before, load_average_after=[round(x, 2) for x in os.getloadavg()])
    report["bare_model"] = bare
    log(f"  {bare['encodes_per_s']} encodes/s ({bare['cpu_ms_per_encode']} CPU-ms each); load {before[0]}")


def headline(report: dict) -> dict:
    """The issue's figure: HTTP hybrid, unique queries, at the most workers
    measured, against the bare model of the same run."""
    rows = [r for r in report.get("runs", []) if r.get("mode") == "hybrid" and r.get("queries") == "unique"
            and r.get("requests_per_s") is not None]
    bare = report.get("bare_model", {}).get("encodes_per_s")
    out = {"mode": "hybrid", "queries": "unique", "target_requests_per_s": TARGET_REQUESTS_PER_S,
           "target_ratio_to_bare": TARGET_RATIO_TO_BARE, "bare_fp32_encodes_per_s": bare}
    if not rows:
        return out
    best = max(rows, key=lambda r: (r["workers"], r["requests_per_s"]))
    lat = best.get("latency_ms", {})
    ratio = round(best["requests_per_s"] / bare, 2) if bare else None
    out.update(workers=best["workers"], threads=best["threads"], connections=best["connections"],
               requests_per_s=best["requests_per_s"], p50_ms=lat.get("p50"), p99_ms=lat.get("p99"),
               errors=best.get("errors", {}).get("total"), ratio_to_bare=ratio,
               server_cpu_ms_per_request=best.get("server_cpu_ms_per_request"),
               wrk_cpu_ms_per_request=best.get("wrk_cpu_ms_per_request"),
               server_pss_total_mb=best.get("server_pss_total_mb"), worker_rss_mb=best.get("worker_rss_mb"),
               load_average=best.get("load_average_before"),
               met_requests_per_s=best["requests_per_s"] >= TARGET_REQUESTS_PER_S,
               met_ratio_to_bare=None if ratio is None else ratio >= TARGET_RATIO_TO_BARE)
    return out


ACCESS_LINE = re.compile(r"heartsearch\.access: GET /api/v1/search \d{3} ([\d.]+)ms")


def app_times(log_path: Path, start: int) -> dict:
    """Time inside the app per search (the access log's ms) over the
    measured run. wrk's latency minus this is time spent queued in the server
    (threads all busy) or in the network stack: it tells whether more
    threads or a faster search would help."""
    with open(log_path, "rb") as fh:
        fh.seek(start)
        text = fh.read().decode("utf-8", "replace")
    times = [float(ms) for ms in ACCESS_LINE.findall(text)]
    return {"requests": len(times), "p50": _round(percentile(times, 50)), "p99": _round(percentile(times, 99))}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def summary_line(row: dict) -> str:
    lat = row.get("latency_ms", {})
    errors = row.get("errors", {}).get("total")
    return (f"{row['mode']:8} {row.get('queries', 'rotating'):8} {fmt(row.get('requests_per_s'), '.1f')} req/s, "
            f"p50 {fmt(lat.get('p50'), '.1f')} ms, "
            f"p90 {fmt(lat.get('p90'), '.1f')} ms, p99 {fmt(lat.get('p99'), '.1f')} ms "
            f"(in the app p50 {fmt(row.get('app_ms', {}).get('p50'), '.1f')} ms), "
            f"{row.get('requests', 0)} requests, errors {fmt(errors)}, "
            f"server CPU {fmt(row.get('server_cpu_ms_per_request'), '.1f')} ms/request "
            f"(wrk {fmt(row.get('wrk_cpu_ms_per_request'), '.1f')}), PSS {fmt(row.get('server_pss_total_mb'))} MB, "
            f"worker RSS {row.get('worker_rss_mb')} MB; load {row.get('load_average_before', ['?'])[0]}"
            + ("; QUERIES MAY HAVE REPEATED" if row.get("repeated_queries_possible") else ""))


def format_table(report: dict) -> str:
    rows = []
    for r in report.get("runs", []):
        lat = r.get("latency_ms", {})
        head = [r.get("workers", 1), r["threads"], r["mode"], r.get("queries", "rotating"), r["connections"]]
        if r.get("error"):
            rows.append(head + ["failed: " + r["error"]] + [""] * 9)
            continue
        load = r.get("load_average_before") or r.get("load_average_after") or [None]
        rows.append(head + [fmt(r.get("requests_per_s"), ".1f"),
                            fmt(lat.get("p50"), ".1f"), fmt(lat.get("p99"), ".1f"),
                            fmt(r.get("app_ms", {}).get("p50"), ".1f"),
                            fmt(r.get("server_cpu_ms_per_request"), ".1f"), fmt(r.get("wrk_cpu_ms_per_request"), ".1f"),
                            fmt(r.get("errors", {}).get("total")), fmt(r.get("server_pss_total_mb"), ".0f"),
                            "/".join(fmt(x, ".0f") for x in r.get("worker_rss_mb") or []) or "n/a",
                            fmt(load[0], ".2f")])
    headers = ["workers", "threads", "mode", "queries", "conns", "req/s", "p50 ms", "p99 ms", "in-app p50 ms",
               "server CPU ms/req", "wrk CPU ms/req", "errors", "PSS MB", "worker RSS MB", "load"]
    return table(headers, rows, right=[True, True, False, False] + [True] * 11)


def parse_list(text: str, kind=str) -> list:
    return [kind(x.strip()) for x in text.split(",") if x.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_http", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__,
        epilog="examples:\n"
               "  python -m benchmarks.bench_http --quick                 # smoke run, ~30 s\n"
               "  python -m benchmarks.bench_http                         # 1 and all-core workers x 3 modes x 2 loads\n"
               "  python -m benchmarks.bench_http --workers 2 --modes hybrid,lexical --duration 10\n"
               "  python -m benchmarks.bench_http --index-dir data/index --threads 4 --modes hybrid\n"
               "\nwrites JSON (default benchmarks/results/http.json): settings, machine, index (and how it was\n"
               "built); per run: workers, threads, mode, queries (unique or rotating), requests_per_s,\n"
               "latency_ms {mean, stdev, max, p50, p75, p90, p99}, app_ms {p50, p99} (time inside the app,\n"
               "from the access log), errors {connect, read, write, timeout, non_2xx, total}, status_codes,\n"
               "server_cpu_ms_per_request and wrk_cpu_ms_per_request, server_pss_total_mb (PSS of master +\n"
               "workers), master_rss_mb, worker_rss_mb [..], worker_pss_mb [..], requests_per_thread,\n"
               "paths, repeated_queries_possible (unique only), load_average_before/after, wrk's raw output;\n"
               "bare_model {model, processes, encodes_per_s, cpu_ms_per_encode, ...}; and headline {workers,\n"
               "requests_per_s, p50_ms, p99_ms, errors, bare_fp32_encodes_per_s, ratio_to_bare,\n"
               "target_requests_per_s, target_ratio_to_bare, met_requests_per_s, met_ratio_to_bare,\n"
               "server_cpu_ms_per_request, server_pss_total_mb, worker_rss_mb, load_average}.\n"
               "\nexit status: 0 done (or skipped: no index and no shared corpus), 1 a run failed,\n"
               "2 bad usage or wrk missing, 130 interrupted (the server is stopped in every case)")
    parser.add_argument("--index-dir", type=Path, default=None,
                        help="serve this index (default: build the shared NIH corpus into "
                             f"{DEFAULT_INDEX.relative_to(ROOT)})")
    parser.add_argument("--fresh-build", action="store_true",
                        help="build the default index from nothing, no cached vectors, so the build's "
                             "passages/s is a real figure (~2 min on 2 cores)")
    parser.add_argument("--workers", type=lambda s: parse_list(s, int), default=None, metavar="N[,N...]",
                        help=f"server worker processes, one server per value (default 1,{usable_cores()}: one "
                             f"and the usable cores; --quick: {usable_cores()})")
    parser.add_argument("--threads", type=lambda s: parse_list(s, int), default=None, metavar="N[,N...]",
                        help="threads per worker, one server per value and worker count (default 4, the "
                             "shipped HEARTSEARCH_THREADS)")
    parser.add_argument("--loads", type=parse_list, default=None, metavar="LOAD[,LOAD...]",
                        help="unique (every request a new question) and/or rotating (the dev queries over "
                             "and over) (default unique,rotating)")
    parser.add_argument("--bare-seconds", type=float, default=None, metavar="SECONDS",
                        help="how long the bare model is timed (default --duration; 0 = not measured)")
    parser.add_argument("--modes", type=parse_list, default=None, metavar="MODE[,MODE...]",
                        help=f"retrieval modes, from {', '.join(MODES)} and default (no mode= parameter) "
                             f"(default {','.join(MODES)})")
    parser.add_argument("--connections", type=int, default=16, metavar="N",
                        help="open HTTP connections, each with one request in flight (default 16)")
    parser.add_argument("--duration", type=float, default=None, metavar="SECONDS",
                        help="measured seconds per run (default 20; --quick: 3)")
    parser.add_argument("--warmup", type=float, default=None, metavar="SECONDS",
                        help="unmeasured wrk run before each measured one (default 5; --quick: 1; 0 = none)")
    parser.add_argument("--wrk-threads", type=int, default=None, metavar="N",
                        help="wrk's threads (default 2, at most --connections)")
    parser.add_argument("--k", type=int, default=10, help="results per query (default 10)")
    parser.add_argument("--queries", type=Path, default=DEV_QUERIES, metavar="FILE",
                        help="JSON Lines with a \"query\" field, or one query a line (default: the shared dev "
                             "queries; the built-in list of 30 if absent)")
    parser.add_argument("--timeout", type=float, default=10, metavar="SECONDS",
                        help="wrk's per-request timeout; a slower answer counts as an error (default 10)")
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument("--wrk", default="wrk", metavar="PATH", help="the wrk program (default: wrk on PATH)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH",
                        help=f"where to write the results (default {DEFAULT_JSON.relative_to(ROOT)})")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: all-core workers only, 3 s runs, 1 s warm-up (explicit flags still win)")
    return parser


def _terminate(signum, frame):  # SIGTERM (e.g. from run_all.py) unwinds like Ctrl-C: the server is stopped
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cores = usable_cores()
    args.workers = args.workers or ([cores] if args.quick else sorted({1, cores}))
    args.threads = args.threads or [4]
    args.modes = args.modes or list(MODES)
    args.loads = args.loads or list(LOADS)
    args.duration = args.duration if args.duration is not None else (3 if args.quick else 20)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 5)
    args.bare_seconds = args.duration if args.bare_seconds is None else args.bare_seconds
    args.wrk_threads = max(1, min(args.wrk_threads or 2, args.connections))
    unknown = [m for m in args.modes if m not in MODES + ("default",)] + [x for x in args.loads if x not in LOADS]
    if unknown or min(args.threads) < 1 or min(args.workers) < 1 or args.connections < 1:
        print(f"error: bad --modes/--loads {unknown} or --workers/--threads/--connections below 1", file=sys.stderr)
        return 2
    wrk = shutil.which(args.wrk)
    if not wrk:
        print(f"error: {args.wrk} not found; install it with `apt-get install wrk`", file=sys.stderr)
        return 2
    args.wrk = wrk
    if args.index_dir is None and not MEDQUAD.exists():
        print(f"skipped: {MEDQUAD} not found (without --index-dir the benchmark indexes the shared NIH corpus)")
        return 0
    signal.signal(signal.SIGTERM, _terminate)

    queries, query_source = load_queries(args.queries)
    unique_runs = len(args.modes) * args.loads.count("unique")
    wanted = max(1, unique_runs) * int(args.duration * UNIQUE_CEILING_PER_S)
    try:
        pool = unique_queries(wanted, avoid=queries)
    except ValueError as err:
        print(f"error: {err}; use a shorter --duration or fewer --modes", file=sys.stderr)
        return 2
    machine = machine_facts()
    print(format_machine(machine))
    report = {"benchmark": "http", "started": utc_now(), "machine": machine,
              "settings": {"connections": args.connections, "duration_s": args.duration, "warmup_s": args.warmup,
                           "wrk_threads": args.wrk_threads, "server_workers": args.workers,
                           "server_threads": args.threads, "modes": args.modes, "loads": args.loads,
                           "k": args.k, "timeout_s": args.timeout, "quick": args.quick, "usable_cores": cores,
                           "queries": {"source": query_source, "count": len(queries)},
                           "unique_queries": {"source": "benchmarks.common.unique_queries", "count": len(pool),
                                              "per_run": len(pool) // max(1, unique_runs)},
                           "bare_seconds": args.bare_seconds,
                           "wrk": subprocess.run([wrk, "--version"], capture_output=True, text=True)
                           .stdout.splitlines()[0:1]},
              "target": {"requests_per_s": TARGET_REQUESTS_PER_S, "connections": 16, "mode": "hybrid",
                         "queries": "unique", "ratio_to_bare": TARGET_RATIO_TO_BARE},
              "index": {}, "runs": []}
    print(f"{len(queries)} rotating queries from {query_source}, {len(pool)} unique ones; {args.connections} "
          f"connections, wrk -t{args.wrk_threads}, {args.duration:g} s per run after {args.warmup:g} s warm-up; "
          f"workers {args.workers} x threads {args.threads}; modes {args.modes}; loads {args.loads}")
    status = 0
    try:
        if args.index_dir is None:
            report["index"]["build"] = build_index(DEFAULT_INDEX, args.fresh_build)
            index_dir = DEFAULT_INDEX
        else:
            index_dir = args.index_dir
            if not (index_dir / "CURRENT").exists():
                print(f"error: no index at {index_dir} (no CURRENT file)", file=sys.stderr)
                return 2
        report["index"]["dir"] = str(index_dir)
        servers = [(w, t) for w in args.workers for t in args.threads]
        measure(index_dir, servers, args.modes, args.loads, queries, pool, args, report)
        if args.bare_seconds > 0:  # after the servers are stopped: the cores are the model's alone
            measure_bare(pool, cores, args.bare_seconds, report)
    except KeyboardInterrupt:
        print("\ninterrupted: the server is stopped; writing what was measured", file=sys.stderr)
        report["interrupted"] = True
        status = 130
    except (RuntimeError, subprocess.SubprocessError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        report["error"] = str(err)
        status = 1
    report["headline"] = headline(report)
    report["finished"] = utc_now()
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print()
    print(format_table(report))
    failed = [r for r in report["runs"] if r.get("error") or r.get("errors", {}).get("total")]
    if any(r.get("repeated_queries_possible") for r in report["runs"]):
        print("WARNING: a unique-query run sent more requests than its slice holds; some questions repeated")
    h = report["headline"]
    print(f"\nissue #17 target: hybrid, unique queries, 16 connections: >= {TARGET_REQUESTS_PER_S} req/s, and >= "
          f"{TARGET_RATIO_TO_BARE:g}x the bare fp32 model's single-query encodes/s on the same cores.\n"
          f"measured: {fmt(h.get('requests_per_s'), '.1f')} req/s at {h.get('workers')} worker(s) "
          f"(p50 {fmt(h.get('p50_ms'), '.1f')} ms, p99 {fmt(h.get('p99_ms'), '.1f')} ms, errors {h.get('errors')}); "
          f"bare model {fmt(h.get('bare_fp32_encodes_per_s'), '.1f')} encodes/s; ratio "
          f"{fmt(h.get('ratio_to_bare'), '.2f')}; server PSS {fmt(h.get('server_pss_total_mb'))} MB. "
          f"Latencies include wrk's own CPU use on the same {machine['cores']} cores.")
    if failed:
        print(f"WARNING: {len(failed)} run(s) had errors or non-2xx answers; their req/s are not comparable")
    write_json(args.json, report)
    print(f"wrote {args.json}")
    return status or (1 if any(r.get("error") for r in report["runs"]) else 0)


if __name__ == "__main__":
    sys.exit(main())
