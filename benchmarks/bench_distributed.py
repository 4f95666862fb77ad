"""Distributed embedding and serving figures for docs/scaling.md (not part of `make test`).

1. Embedding: the same ~1000 real passages (the shared NIH corpus cut by
   indexer.chunking into ~60-word pieces, longest first and in batches of 64
   as a build makes them) embedded
     - locally with torch's default threads (all cores) and with 1 thread,
     - on a local Dask cluster of 1 and of 2 single-threaded workers
       (`DaskEmbedder.encode_batches`, what `--dask local:N` runs),
   reporting passages/s, the speed-up of local:2 over local, the cluster's
   start-up and model-loading overhead, and the largest difference from the
   local vectors.
2. Serving: a generation of COPIES x the NIH corpus (copies carry the real
   vectors plus small noise, as in bench_search.py) opened through
   IndexStore by a Searcher in a fresh process: private and file-backed
   memory growth per passage, the segments' file sizes per passage, query
   latency per mode over questions never asked twice, and the cost of one
   exact (flat) vector scan per million passages on one core. Building 1M
   passages is more than a benchmark run can afford here, so the 1M-passage
   memory (issue 17: <= 2 GB per worker set, shared pages counted once) is a
   projection from the per-passage growth, labelled as one; run_all.py adds
   it to bench_http's measured worker-set PSS.

Writes benchmarks/results/distributed.json (or --json). Skips (with a
message) if the shared corpus is absent.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.common import MEDQUAD, REFERENCE_CACHE, RESULTS_DIR, read_json, write_json  # noqa: E402
from indexer.index.layout import SEGMENT_FILES  # noqa: E402

BATCH = 64
# The environment this run was started in: starting a Dask cluster sets
# OMP_NUM_THREADS=1, MALLOC_TRIM_THRESHOLD_ and more in this process's
# environment for its workers, and a serving process started after it must
# not inherit them (a server never has them).
STARTING_ENV = dict(os.environ)


def bench_batches(count: int) -> list[list[str]]:
    from indexer.chunking import chunk_article
    from indexer.sources import load_corpus
    texts: list[str] = []
    for article in load_corpus([MEDQUAD]).articles:
        texts += [p.embed_text for p in chunk_article(article)]
        if len(texts) >= count:
            break
    texts = sorted(texts[:count], key=len, reverse=True)
    return [texts[i:i + BATCH] for i in range(0, len(texts), BATCH)]


def one_thread_embedder(embedder):
    """The same model and runtime on one core. The ONNX runtime takes its
    thread count when made; torch's is set per run (`run_local`)."""
    if type(embedder).__name__ == "OnnxEmbedder":
        return type(embedder)(getattr(embedder, "variant", "fp32"), threads=1)
    return embedder


def run_local(embedder, batches, torch_threads: int | None = None) -> tuple[float, np.ndarray]:
    if torch_threads and "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(torch_threads)
    started = time.perf_counter()
    vectors = np.concatenate([embedder.encode(b, batch_size=BATCH) for b in batches])
    return time.perf_counter() - started, vectors


def start_cluster(workers: int, batches) -> dict:
    from distributed import Client

    from indexer.distributed import DaskEmbedder, encode_task, local_cluster
    started = time.perf_counter()
    cluster = local_cluster(workers)
    client = Client(cluster)
    client.wait_for_workers(workers, timeout=180)
    up = time.perf_counter() - started
    started = time.perf_counter()
    remote = DaskEmbedder(client)
    warm = [client.submit(encode_task, batches[-1][:4], remote.name, 1, workers=[w], pure=False)
            for w in client.nthreads()]
    client.gather(warm)  # every worker has loaded the model
    return {"workers": workers, "cluster": cluster, "client": client, "remote": remote,
            "start_s": round(up, 2), "model_load_s": round(time.perf_counter() - started, 2)}


def run_cluster(setup: dict, batches) -> tuple[float, float, int, np.ndarray]:
    """Wall time, and the time the workers spent inside tasks (from Dask's task stream)."""
    from distributed import get_task_stream
    tasks_before = setup["remote"].tasks
    with get_task_stream(setup["client"]) as stream:
        started = time.perf_counter()
        done = dict(setup["remote"].encode_batches(batches))
        wall = time.perf_counter() - started
    compute = sum(part["stop"] - part["start"] for task in stream.data
                  for part in task.get("startstops", ()) if part.get("action") == "compute")
    return wall, compute, setup["remote"].tasks - tasks_before, \
        np.concatenate([done[i] for i in range(len(batches))])


def embedding_part(count: int, repeat: int) -> dict:
    """Each round runs every setup once, so a change in the machine's other
    load hits all setups alike; the best round of each is kept."""
    from indexer.embedding import load_embedder, model_threads
    batches = bench_batches(count)
    n = sum(map(len, batches))
    started = time.perf_counter()
    embedder = load_embedder()
    local_load = time.perf_counter() - started
    torch = sys.modules.get("torch")
    default_threads = getattr(embedder, "threads", None) or \
        (torch.get_num_threads() if torch else model_threads())
    one = one_thread_embedder(embedder)
    for model in (embedder, one):
        model.encode(batches[-1], batch_size=BATCH)  # warm-up
    clusters = [start_cluster(w, batches) for w in (1, 2)]
    times: dict[str, list] = {"local": [], "local_1_thread": [], "dask_local_1": [], "dask_local_2": []}
    loads = []
    try:
        for _ in range(repeat):
            loads.append(round(os.getloadavg()[0], 2))
            wall, reference = run_local(embedder, batches, default_threads)
            times["local"].append((wall, None))
            times["local_1_thread"].append((run_local(one, batches, 1)[0], None))
            if torch:  # back to all threads for the next round
                torch.set_num_threads(default_threads)
            for setup in clusters:
                wall, compute, tasks, vectors = run_cluster(setup, batches)
                diff = float(np.abs(vectors - reference).max())
                times[f"dask_local_{setup['workers']}"].append((wall, (compute, diff, tasks)))
    finally:
        for setup in clusters:
            setup["client"].close()
            setup["cluster"].close()
    best = {name: min(runs, key=lambda r: r[0]) for name, runs in times.items()}
    local_s = best["local"][0]
    result = {"passages": n, "batch": BATCH, "rounds": repeat, "cores": os.cpu_count(),
              "load_average_per_round": loads,
              "runtime": type(embedder).__name__,
              "local": {"threads": default_threads, "model_load_s": round(local_load, 2),
                        "embed_s": round(local_s, 2), "passages_per_s": round(n / local_s, 1),
                        "all_s": [round(w, 2) for w, _ in times["local"]]},
              "local_1_thread": {"embed_s": round(best["local_1_thread"][0], 2),
                                 "passages_per_s": round(n / best["local_1_thread"][0], 1),
                                 "all_s": [round(w, 2) for w, _ in times["local_1_thread"]]}}
    for setup in clusters:
        name = f"dask_local_{setup['workers']}"
        wall, (compute, diff, tasks) = best[name]
        workers = setup["workers"]
        result[name] = {
            "start_s": setup["start_s"], "model_load_s": setup["model_load_s"],
            "tasks_per_run": tasks, "embed_s": round(wall, 2),
            "passages_per_s": round(n / wall, 1), "passages_per_s_per_worker": round(n / wall / workers, 1),
            "worker_compute_s": round(compute, 2),
            "passages_per_compute_s": round(n / compute, 1),
            "idle_or_overhead_share": round(1 - compute / (wall * workers), 3),
            "speedup_vs_local": round(local_s / wall, 2),
            "max_abs_diff_vs_local": diff,
            "all_s": [round(w, 2) for w, _ in times[name]]}
    return result


# ------------------------------------------------------------------ serving

def smaps() -> dict[str, int]:
    """kB figures of this process from /proc/self/smaps_rollup."""
    out = {}
    with open("/proc/self/smaps_rollup") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                out[parts[0].rstrip(":")] = int(parts[1])
    return out


def mapped_files(under: str) -> dict[str, dict[str, int]]:
    """kB mapped (Size) and resident (Rss) of this process's mappings of
    files below `under`, by file name summed over segments: which index
    files a server maps (shares with every other process) is read here,
    not assumed."""
    out: dict[str, dict[str, int]] = {}
    current = None
    with open("/proc/self/smaps") as fh:
        for line in fh:
            head = line.split()
            if "-" in head[0] and len(head) >= 5 and ":" in head[3]:  # a mapping's first line
                path = head[5] if len(head) > 5 else ""
                current = out.setdefault(Path(path).name, {"Size": 0, "Rss": 0}) \
                    if path.startswith(under) else None
            elif current is not None and head[0] in ("Size:", "Rss:"):
                current[head[0][:-1]] += int(head[1])
    return out


# A fresh process, as a server worker starts: the model first, then the
# generation through IndexStore (its segments' vectors memory-mapped), so the
# growth between the two is what the index costs. Every search asks a
# question not asked before (no cache answers it).
SERVING_CHILD = """
import gc, json, sys, statistics
sys.path.insert(0, {root!r})
from benchmarks.bench_distributed import mapped_files, smaps
from indexer.embedding import load_embedder
from indexer.index import IndexStore
from search_app.search.glossary import Glossary
from search_app.search.searcher import LiveSearcher
queries = json.loads(sys.stdin.read())
warm, timed = queries[:{warm}], queries[{warm}:]
embedder = load_embedder({model!r})
for q in warm:  # the model's own buffers grow with the texts it sees: before the baseline, not in the index
    embedder.encode([q])
    embedder.encode([q, q + " heart"])
gc.collect()  # garbage not yet collected is no one's memory
before = smaps()
searcher = LiveSearcher.over(IndexStore({index!r}), embedder, glossary=Glossary.load())
modes = ("dense", "lexical", "hybrid")
for i, q in enumerate(warm):
    searcher.search(q, 10, mode=modes[i % len(modes)])
gc.collect()
after = smaps()
latency, stages = {{}}, {{}}
for m, mode in enumerate(modes):
    runs = [searcher.search(q, 10, mode=mode) for q in timed[m::len(modes)]]
    latency[mode] = round(statistics.median(r.took_ms for r in runs), 2)
    stages[mode] = {{s: round(statistics.median(r.timings_ms.get(s, 0.0) for r in runs), 2)
                    for s in runs[0].timings_ms}}
generation = searcher.generation
print(json.dumps({{"before": before, "after": after, "mapped_kb": mapped_files({index!r}),
                  "query_ms_p50": latency, "stages_ms_p50": stages,
                  "passages": generation.passage_count, "segments": len(generation.segments),
                  "vector_index": generation.index_summary(),
                  "segment_paths": [str(s.path) for s in generation.segments]}}, default=str))
"""
WARM_SEARCHES = 30
SERVING_TRIES = 3


def segment_file_bytes(paths: list[str]) -> dict[str, int]:
    """Bytes on disk of each kind of segment file, summed over the generation's segments."""
    return {name: sum((Path(p) / name).stat().st_size for p in paths) for name in SEGMENT_FILES}


def publish_copies(workdir: Path, copies: int) -> tuple[Path, dict]:
    """(index folder, writer figures) of `copies` x the NIH corpus, published
    with every vector already in the embedding cache (the writer's own work)."""
    from benchmarks.bench_search import scaled_articles, seed_cache
    from benchmarks.common import QuietProgress
    from indexer.build import publish_articles
    from indexer.chunking import chunk_article
    from indexer.embedding import load_embedder
    from indexer.index import IndexStore
    from indexer.sources import load_corpus
    workdir.mkdir(parents=True, exist_ok=True)
    cache = workdir / "cache.sqlite"
    if not cache.exists() and REFERENCE_CACHE.exists():
        shutil.copy(REFERENCE_CACHE, cache)  # the real corpus' vectors, embedded before
    base = load_corpus([MEDQUAD]).articles
    articles = scaled_articles(base, copies * sum(len(chunk_article(a)) for a in base))
    store = IndexStore(workdir / f"copies-{copies}", cache_path=cache)
    embedder = load_embedder()
    seed_cache(store, embedder, base, articles, np.random.default_rng(copies))
    with store.lock():
        started = time.perf_counter()
        report = publish_articles(store, articles, [], embedder, force=True, progress=QuietProgress)
        seconds = time.perf_counter() - started
    return store.root, {"model": embedder.name, "writer_publish_s": round(seconds, 2),
                        "writer_passages_per_s": round(report.passages / seconds, 1)}


def serve_and_measure(index: Path, model: str, runs: int) -> dict:
    """SERVING_CHILD over `index`: its memory before and after opening the
    generation, latency per mode, and the segments' file sizes."""
    from benchmarks.common import unique_queries
    queries = unique_queries(WARM_SEARCHES + 3 * runs)
    code = SERVING_CHILD.format(root=str(ROOT), index=str(index), model=model, warm=WARM_SEARCHES)
    child = subprocess.run([sys.executable, "-c", code], input=json.dumps(queries), cwd=ROOT, env=STARTING_ENV,
                           capture_output=True, text=True, timeout=1800)
    if child.returncode:
        raise RuntimeError(child.stderr[-3000:])
    measured = json.loads(child.stdout.strip().splitlines()[-1])
    measured["files"] = segment_file_bytes(measured.pop("segment_paths"))
    measured["distinct_queries"] = len(queries)
    before, after = measured["before"], measured["after"]
    measured["growth_kb"] = {"rss": after["Rss"] - before["Rss"], "private": after["Anonymous"] - before["Anonymous"]}
    return measured


def serving_part(workdir: Path, copies: int, runs: int) -> dict:
    """Memory and latency of serving `copies` x the NIH corpus, and what
    that says about 1M passages. Memory per passage is the slope between
    one copy and `copies` copies, each served by a fresh process: what
    opening any generation costs (libraries loaded on first use, the
    glossary, SQLite's bounded page cache) cancels out, and what is left
    grows with the passages: file-backed pages (the mapped vectors, shared
    by every worker on the machine) and private ones (each worker's own).
    With one copy only, growth over passages (fixed costs included: an
    upper bound)."""
    sizes = {}
    for n in sorted({1, max(1, copies)}):
        index, writer = publish_copies(workdir, n)
        # Now and then one fresh process grows megabytes more private memory
        # than the others with the same index: the median of a few.
        tries = sorted((serve_and_measure(index, writer["model"], runs) for _ in range(SERVING_TRIES)),
                       key=lambda m: m["growth_kb"]["private"])
        sizes[n] = {**writer, **tries[len(tries) // 2],
                    "private_growth_kb_tries": [m["growth_kb"]["private"] for m in tries]}
        print(f"  served {sizes[n]['passages']:,} passages ({n} copies): index growth "
              f"{sizes[n]['growth_kb']['rss'] / 1024:.1f} MB resident, "
              f"{sizes[n]['growth_kb']['private'] / 1024:.1f} MB private", flush=True)
    small, large = sizes[min(sizes)], sizes[max(sizes)]
    n = large["passages"]
    if len(sizes) > 1:
        span = n - small["passages"]
        measured = (large["growth_kb"]["rss"] - small["growth_kb"]["rss"]) * 1024 / span
        private = (large["growth_kb"]["private"] - small["growth_kb"]["private"]) * 1024 / span
        fixed_mb = (small["growth_kb"]["rss"] * 1024 - measured * small["passages"]) / 2 ** 20
        basis = f"slope between {small['passages']:,} and {n:,} passages"
    else:
        measured, private = large["growth_kb"]["rss"] * 1024 / n, large["growth_kb"]["private"] * 1024 / n
        fixed_mb, basis = 0.0, f"growth over passages at {n:,} (fixed costs included: an upper bound)"
    # The searches touched only the mapped pages they read (an IVF query reads
    # a few cells); a server that has run a while has all of them resident,
    # so the mapped files count in full.
    mapped = sum(m["Size"] for m in large["mapped_kb"].values()) * 1024 / n
    shared = max(measured - private, mapped)
    before_mb = large["before"]["Rss"] / 1024
    kinds = ", ".join(f"{v.get('type', '?')}" for v in large["vector_index"])
    return {"copies": max(sizes), "passages": n, "segments": large["segments"], "vector_index": large["vector_index"],
            "model": large["model"], "writer_publish_s": large["writer_publish_s"],
            "writer_passages_per_s": large["writer_passages_per_s"], "per_passage_basis": basis,
            "private_bytes_per_passage": round(private), "file_backed_bytes_per_passage": round(shared),
            "measured_file_backed_bytes_per_passage": round(measured - private),
            "mapped_file_bytes_per_passage": round(mapped), "mapped_files": sorted(large["mapped_kb"]),
            "rss_bytes_per_passage": round(private + shared),
            "file_bytes_per_passage": {name: round(size / n) for name, size in large["files"].items()},
            "process_rss_mb_before_index": round(before_mb, 1), "index_fixed_mb": round(fixed_mb, 1),
            "process_rss_mb_serving": round(large["after"]["Rss"] / 1024, 1),
            "sizes": [{"passages": r["passages"], "vector_index": [v.get("type") for v in r["vector_index"]],
                       "index_rss_growth_mb": round(r["growth_kb"]["rss"] / 1024, 1),
                       "index_private_growth_mb": round(r["growth_kb"]["private"] / 1024, 1),
                       "index_private_growth_mb_tries": [round(kb / 1024, 1) for kb in r["private_growth_kb_tries"]]}
                      for r in sizes.values()],
            "projected_1m": {
                "passages": 1_000_000, "projected": True,
                "one_process_rss_mb": round(before_mb + fixed_mb + (private + shared) * 1e6 / 2 ** 20),
                "index_shared_mb": round(shared * 1e6 / 2 ** 20),
                "index_private_mb_per_worker": round(private * 1e6 / 2 ** 20),
                "how": f"private bytes per passage ({basis}) and the files a server maps in full "
                       f"({', '.join(sorted(large['mapped_kb']))}; {kinds} vector index at {n:,} passages), times "
                       f"1M; plus the process before the index and what opening a generation costs"},
            "query_ms_p50": large["query_ms_p50"], "stages_ms_p50": large["stages_ms_p50"],
            "queries": {"distinct": large["distinct_queries"], "source": "benchmarks.common.unique_queries"}}


def flat_scan_ms_per_million(queries: int = 20, k: int = 100, vectors: int = 1_000_000) -> float:
    """One exact inner-product scan of 384-dimensional vectors on one core,
    per million vectors (scanned at `vectors`: a scan is linear in them)."""
    import faiss
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(0)
    index = faiss.IndexFlatIP(384)
    for start in range(0, vectors, 100_000):
        block = rng.standard_normal((min(100_000, vectors - start), 384), dtype=np.float32)
        index.add(block / np.linalg.norm(block, axis=1, keepdims=True))
    q = rng.standard_normal((queries, 384), dtype=np.float32)
    index.search(q[:1], k)
    took = []
    for row in q:
        started = time.perf_counter()
        index.search(row[None, :], k)
        took.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(took) * 1_000_000 / vectors, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1000, help="passages of the embedding part")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of every setup (best is kept)")
    parser.add_argument("--copies", type=int, default=8,
                        help="copies of the NIH corpus (~6.5k passages each) served for the serving figures")
    parser.add_argument("--runs", type=int, default=60, help="queries per mode for latency (each asked once)")
    parser.add_argument("--scan-vectors", type=int, default=1_000_000,
                        help="vectors of the flat-scan figure (reported per million)")
    parser.add_argument("--workdir", type=Path, default=ROOT / "data" / "bench-distributed")
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "distributed.json", help="where to write results")
    parser.add_argument("--skip-serving", action="store_true")
    parser.add_argument("--skip-embedding", action="store_true")
    args = parser.parse_args(argv)
    if not MEDQUAD.exists():
        print(f"skipped: {MEDQUAD} not found (the benchmark needs the shared NIH corpus)")
        return 0
    load = os.getloadavg()
    # A part skipped this time keeps its last figures.
    results = {**(read_json(args.json) or {}),
               "machine": {"cores": os.cpu_count(), "load_average_at_start": [round(x, 2) for x in load]}}
    if not args.skip_embedding:
        results["embedding"] = embedding_part(args.passages, args.repeat)
    if "embedding" in results:
        e = results["embedding"]
        print(f"{e['passages']} passages, batches of {e['batch']}, best of {e['rounds']} rounds, "
              f"{e['cores']} cores, load average per round {e['load_average_per_round']}")
        print(f"  runtime {e.get('runtime')}")
        print(f"  local ({e['local']['threads']} threads):  {e['local']['passages_per_s']:7.1f} passages/s")
        print(f"  local (1 thread):   {e['local_1_thread']['passages_per_s']:7.1f} passages/s")
        for w in (1, 2):
            r = e[f"dask_local_{w}"]
            print(f"  dask local:{w}:       {r['passages_per_s']:7.1f} passages/s  speed-up vs local "
                  f"{r['speedup_vs_local']:.2f}x  (start {r['start_s']} s, model load {r['model_load_s']} s, "
                  f"{r['tasks_per_run']} tasks, in-task rate {r['passages_per_compute_s']}/s, "
                  f"idle+overhead {r['idle_or_overhead_share']:.0%}, max |diff| {r['max_abs_diff_vs_local']:.1e})")
    if not args.skip_serving:
        results["serving"] = serving_part(args.workdir, args.copies, args.runs)
        results["serving"]["flat_scan_ms_per_million_1_core"] = flat_scan_ms_per_million(vectors=args.scan_vectors)
        s = results["serving"]
        files = " + ".join(f"{name} {size}" for name, size in s["file_bytes_per_passage"].items())
        print(f"serving {s['passages']:,} passages ({s['segments']} segment(s)), {s['per_passage_basis']}: "
              f"{s['private_bytes_per_passage']} private + {s['file_backed_bytes_per_passage']} file-backed "
              f"bytes/passage (file-backed resident after the searches {s['measured_file_backed_bytes_per_passage']}, "
              f"mapped files {s['mapped_file_bytes_per_passage']}); files: {files} bytes/passage")
        p = s["projected_1m"]
        print(f"  projected to 1M passages: one process {p['one_process_rss_mb']} MB ({p['index_shared_mb']} MB "
              f"shared by every worker + {p['index_private_mb_per_worker']} MB private to each, over "
              f"{s['process_rss_mb_before_index']} MB before the index)")
        print(f"  query p50 ms: {s['query_ms_p50']}; flat scan of 1M vectors on 1 core: "
              f"{s['flat_scan_ms_per_million_1_core']} ms; writer (all vectors cached) "
              f"{s['writer_passages_per_s']} passages/s")
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    write_json(args.json, results)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
