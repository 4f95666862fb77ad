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
   vectors plus small noise, as in bench_search.py) opened by a Searcher in a
   fresh process: private and file-backed memory growth per passage, file
   sizes per passage, query latency per mode, and the cost of one exact
   (flat) vector scan per million passages on one core.

Writes benchmarks/results/distributed.json. Skips (with a message) if the
shared corpus is absent.
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

MEDQUAD = ROOT.parent / "shared" / "corpora" / "medquad-heart.jsonl"
REFERENCE_CACHE = ROOT / "data" / "cache" / "medquad-embeddings.sqlite"
BATCH = 64


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


SERVING_CHILD = """
import json, sys, time, statistics
sys.path.insert(0, {root!r})
from benchmarks.bench_distributed import smaps
from benchmarks.bench_search import QUERIES
from indexer.embedding import load_embedder
from indexer.index import IndexStore
from search_app.search.glossary import Glossary
from search_app.search.searcher import LiveSearcher
embedder = load_embedder()
embedder.encode(["warm up the model"])
store = IndexStore({index!r})
before = smaps()
searcher = LiveSearcher.over(store, embedder, glossary=Glossary.load())
for q in QUERIES:
    for mode in ("dense", "lexical", "hybrid"):
        searcher.search(q, 10, mode=mode)
after = smaps()
latency, stages = {{}}, {{}}
for mode in ("dense", "lexical", "hybrid"):
    runs = [searcher.search(QUERIES[i % len(QUERIES)], 10, mode=mode) for i in range({runs})]
    latency[mode] = round(statistics.median(r.took_ms for r in runs), 2)
    stages[mode] = {{s: round(statistics.median(r.timings_ms.get(s, 0.0) for r in runs), 2)
                    for s in runs[0].timings_ms}}
print(json.dumps({{"before": before, "after": after, "query_ms_p50": latency, "stages_ms_p50": stages,
                  "passages": searcher.generation.passage_count}}))
"""


def serving_part(workdir: Path, copies: int, runs: int) -> dict:
    from benchmarks.bench_search import scaled_articles, seed_cache
    from indexer.build import publish_articles
    from indexer.embedding import load_embedder
    from indexer.sources import load_corpus
    from indexer.index import METADATA, VECTORS, IndexStore
    workdir.mkdir(parents=True, exist_ok=True)
    cache = workdir / "cache.sqlite"
    if not cache.exists() and REFERENCE_CACHE.exists():
        shutil.copy(REFERENCE_CACHE, cache)  # the real corpus' vectors, embedded before
    base = load_corpus([MEDQUAD]).articles
    articles = scaled_articles(base, copies)
    store = IndexStore(workdir / f"size-{copies}", cache_path=cache)
    embedder = load_embedder()
    seed_cache(store, embedder, base, articles, np.random.default_rng(copies))
    with store.lock():  # every vector is cached: this is the writer's own serial work
        started = time.perf_counter()
        report = publish_articles(store, articles, [], embedder, force=True)
        writer_s = time.perf_counter() - started
    child = subprocess.run([sys.executable, "-c", SERVING_CHILD.format(root=str(ROOT), index=str(store.root),
                                                                       runs=runs)],
                           cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if child.returncode:
        raise RuntimeError(child.stderr[-3000:])
    measured = json.loads(child.stdout.strip().splitlines()[-1])
    n = measured["passages"]
    before, after = measured["before"], measured["after"]
    generation = store.generations_dir / store.current_name()
    return {"copies": copies, "passages": n, "writer_publish_s": round(writer_s, 2),
            "writer_passages_per_s": round(report.passages / writer_s, 1),
            "private_bytes_per_passage": round((after["Anonymous"] - before["Anonymous"]) * 1024 / n),
            "file_backed_bytes_per_passage": round(
                ((after["Rss"] - after["Anonymous"]) - (before["Rss"] - before["Anonymous"])) * 1024 / n),
            "rss_bytes_per_passage": round((after["Rss"] - before["Rss"]) * 1024 / n),
            "vectors_file_bytes_per_passage": round((generation / VECTORS).stat().st_size / n),
            "sqlite_file_bytes_per_passage": round((generation / METADATA).stat().st_size / n),
            "process_rss_mb_before_index": round(before["Rss"] / 1024, 1),
            "query_ms_p50": measured["query_ms_p50"], "stages_ms_p50": measured["stages_ms_p50"]}


def flat_scan_ms_per_million(queries: int = 20, k: int = 100) -> float:
    """One exact inner-product scan of 1M x 384 vectors on one core."""
    import faiss
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(0)
    index = faiss.IndexFlatIP(384)
    for _ in range(10):
        block = rng.standard_normal((100_000, 384), dtype=np.float32)
        index.add(block / np.linalg.norm(block, axis=1, keepdims=True))
    q = rng.standard_normal((queries, 384), dtype=np.float32)
    index.search(q[:1], k)
    took = []
    for row in q:
        started = time.perf_counter()
        index.search(row[None, :], k)
        took.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(took), 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of every setup (best is kept)")
    parser.add_argument("--copies", type=int, default=8, help="corpus copies for the serving figures")
    parser.add_argument("--runs", type=int, default=60, help="queries per mode for latency")
    parser.add_argument("--workdir", type=Path, default=ROOT / "data" / "bench-distributed")
    parser.add_argument("--skip-serving", action="store_true")
    parser.add_argument("--skip-embedding", action="store_true")
    args = parser.parse_args()
    if not MEDQUAD.exists():
        print(f"skipped: {MEDQUAD} not found (the benchmark needs the shared NIH corpus)")
        return 0
    load = os.getloadavg()
    results = {"machine": {"cores": os.cpu_count(), "load_average_at_start": [round(x, 2) for x in load]}}
    out = ROOT / "benchmarks" / "results" / "distributed.json"
    if out.exists():  # a part skipped this time keeps its last figures
        results = {**json.loads(out.read_text()), **results}
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
        results["serving"]["flat_scan_ms_per_million_1_core"] = flat_scan_ms_per_million()
        s = results["serving"]
        print(f"serving {s['passages']} passages: {s['private_bytes_per_passage']} private + "
              f"{s['file_backed_bytes_per_passage']} file-backed bytes/passage resident; files: vectors "
              f"{s['vectors_file_bytes_per_passage']} + sqlite {s['sqlite_file_bytes_per_passage']} bytes/passage")
        print(f"  query p50 ms: {s['query_ms_p50']}; flat scan of 1M vectors on 1 core: "
              f"{s['flat_scan_ms_per_million_1_core']} ms; writer (all vectors cached) "
              f"{s['writer_passages_per_s']} passages/s")
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
