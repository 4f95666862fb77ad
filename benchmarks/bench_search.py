"""Publish, query and memory benchmarks at several index sizes (not part of
`make test`; `make bench` runs it through benchmarks/run_all.py).

Two parts, each printed as a table and written to one JSON file:

  sizes    indexes of ~1k, 10k and 100k passages: one-article publish time
           (edit, add, remove); in-process query latency per mode over
           *unique* reader questions (no text asked twice in a measured
           loop), with wall and CPU milliseconds per request by stage; a
           separate repeated-question run answered by the query-vector
           cache; the bare model call (one single-query encode of the same
           texts) measured in the same run as the yardstick; resident memory
           per passage, and the vector index chosen with its measured recall.
  vectors  the vector index alone at 100k and 1M vectors: exact vs IVF
           (fp16) build time, latency, recall@10 against exact search on
           real query vectors, and resident memory of a server-like process
           that loads the index from disk.

The build against the raw model loop is bench_model.py's (`--parts build`).

Unique questions come from benchmarks.common.unique_queries (the dev queries,
then lay phrasings of the NIH titles' conditions): the figures issue 17's
targets are about must not be flattered by the query-vector cache, which
answers a repeated question without the model. Repeats are measured, but on
their own line.

Sizes are made from the shared NIH corpus: the real 954 articles, then
copies whose titles carry a copy number, with vectors that are the real
embeddings plus small noise (renormalised), written straight into the
embedding cache. So the index, lexical tables and metadata are full-size and
realistic while the model runs only where the benchmark is about the model.
Near-copies are the hard case for an approximate index (each real passage
has dozens of near-identical neighbours), so recall here is a lower bound.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.common import (DEV_QUERIES, MEDQUAD, RESULTS_DIR, QuietProgress, load_average,  # noqa: E402
                               machine_facts, percentile, unique_queries, write_json)
from indexer.build import publish_articles  # noqa: E402
from indexer.chunking import chunk_article  # noqa: E402
from indexer.embedding import BUILD_MODEL, load_embedder  # noqa: E402
from indexer.models import article_embed_text, embedding_key  # noqa: E402
from indexer.sources import load_corpus  # noqa: E402
from indexer.index import IndexStore  # noqa: E402

FALLBACK_QUERIES = ["leaky heart valve", "why do my ankles swell", "chest pain when walking uphill",
                    "blood thinners and bruising", "what is a normal blood pressure", "mini stroke",
                    "heart murmur in a child", "how to prevent a heart attack", "afib treatment options",
                    "high cholesterol symptoms"]
WARM_UP = 20  # searches before measuring, with texts never measured
NOISE = 0.02  # per dimension: a copy's cosine to its original is ~0.93


def reader_queries() -> list[str]:
    if DEV_QUERIES.exists():
        return [json.loads(line)["query"] for line in DEV_QUERIES.read_text("utf-8").splitlines() if line.strip()]
    return FALLBACK_QUERIES


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def summary(values) -> dict:
    """p50 and p99 for latency; the mean too, since CPU per request sets
    throughput (requests/s on N cores = N x 1000 / mean CPU-ms)."""
    return {"p50": round(percentile(values, 50), 3), "p99": round(percentile(values, 99), 3),
            "mean": round(statistics.fmean(values), 3), "runs": len(values)}


STAGES = ("plan", "encode", "dense", "lexical", "fusion", "fetch")


class StageCPU:
    """CPU milliseconds per search stage, beside the wall time the searcher
    records itself: a stage's wall time includes waiting for a core on a
    shared machine, its thread CPU time does not, and CPU is what bounds
    requests/s. Installed by replacing the searcher's `timed` (benchmark
    only; the app's timings are unchanged)."""

    def __init__(self):
        self.cpu: dict[str, float] = {}

    @contextlib.contextmanager
    def timed(self, timings: dict[str, float], stage: str):
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            timings[stage] = timings.get(stage, 0.0) + (time.perf_counter() - wall) * 1000
            self.cpu[stage] = self.cpu.get(stage, 0.0) + (time.thread_time() - cpu) * 1000

    def take(self) -> dict[str, float]:
        taken, self.cpu = self.cpu, {}
        return taken

    @contextlib.contextmanager
    def installed(self):
        import search_app.search.fusion as fusion
        import search_app.search.searcher as searcher
        saved = fusion.timed, searcher.timed
        fusion.timed = searcher.timed = self.timed
        try:
            yield self
        finally:
            fusion.timed, searcher.timed = saved


def run_searches(searcher, texts: list[str], mode: str, stage_cpu: StageCPU, into: dict | None = None) -> dict:
    """One search per text, one at a time, adding to `into`'s raw values:
    wall ms (the searcher's took_ms), CPU ms of the whole process per
    request (model worker threads, if any, included), and wall and CPU ms by
    stage."""
    raw = into if into is not None else {"total": [], "cpu": [], "stages": {}, "stages_cpu": {}, "texts": []}
    for text in texts:
        stage_cpu.take()
        cpu = time.process_time()
        r = searcher.search(text, 10, mode=mode)
        raw["cpu"].append((time.process_time() - cpu) * 1000)
        raw["total"].append(r.took_ms)
        raw["texts"].append(text)
        for stage, ms in r.timings_ms.items():
            raw["stages"].setdefault(stage, []).append(ms)
        for stage, ms in stage_cpu.take().items():
            raw["stages_cpu"].setdefault(stage, []).append(ms)
    return raw


def search_figures(raw: dict) -> dict:
    return {"total": summary(raw["total"]), "cpu_ms": summary(raw["cpu"]),
            "stages": {s: summary(v) for s, v in raw["stages"].items()},
            "stages_cpu_ms": {s: summary(v) for s, v in raw["stages_cpu"].items()},
            "queries": len(raw["texts"]), "distinct_queries": len({t.casefold() for t in raw["texts"]})}


def run_bare_encodes(embedder, texts: list[str], into: dict | None = None) -> dict:
    """The bare model call a search is compared with: one single-query
    encode of each text, in this thread (a call of under 8 texts runs on one
    intra-op thread, as a server's does)."""
    raw = into if into is not None else {"times": [], "cpu": [], "wall_s": 0.0}
    started = time.perf_counter()
    for text in texts:
        cpu, wall = time.process_time(), time.perf_counter()
        embedder.encode([text])
        raw["times"].append((time.perf_counter() - wall) * 1000)
        raw["cpu"].append((time.process_time() - cpu) * 1000)
    raw["wall_s"] += time.perf_counter() - started
    return raw


def bare_figures(raw: dict) -> dict:
    """encodes/s on one core: calls over the loop's wall time, one at a time."""
    return {"encode_ms": summary(raw["times"]), "cpu_ms": summary(raw["cpu"]),
            "encodes_per_s_one_core": round(len(raw["times"]) / raw["wall_s"], 1) if raw["wall_s"] else None}


# --------------------------------------------------------------------------- sizes

def scaled_articles(base, passages_target: int):
    """Whole real articles until the target is reached, then copies."""
    out, count, copy = [], 0, 0
    per_article = {a.id: len(chunk_article(a)) for a in base}
    while count < passages_target:
        for a in base:
            out.append(a if copy == 0 else replace(a, id=f"{a.id}-copy{copy}", title=f"{a.title} (copy {copy})"))
            count += per_article[a.id]
            if count >= passages_target:
                break
        copy += 1
    return out


def seed_cache(store: IndexStore, embedder, base, articles, rng) -> None:
    """Put vectors for every copy into the cache: the original's vector plus
    noise, so copies are near but not identical to the real embeddings."""
    originals = {a.id: [p.embed_text for p in chunk_article(a)] + [article_embed_text(a)] for a in base}
    cache = store.embedding_cache(embedder.dimension)
    try:
        keys = [embedding_key(embedder.name, t) for ts in originals.values() for t in ts]
        found = cache.get_many(keys)
        missing = [t for ts in originals.values() for t in ts if embedding_key(embedder.name, t) not in found]
        if missing:  # the tests' cache of the same corpus, if it is there
            cache.put_many(reference_vectors(embedder, [embedding_key(embedder.name, t) for t in missing]))
            found.update(cache.get_many(keys))
            missing = [t for t in missing if embedding_key(embedder.name, t) not in found]
        if missing:  # the real corpus itself, embedded once
            print(f"  embedding the {len(missing)} real texts once", flush=True)
            vecs = embedder.encode(missing, batch_size=64)
            cache.put_many({embedding_key(embedder.name, t): v for t, v in zip(missing, vecs)})
            found.update(cache.get_many(keys))
        batch = {}
        for a in articles:
            if "-copy" not in a.id:
                continue
            copy_texts = [p.embed_text for p in chunk_article(a)] + [article_embed_text(a)]
            for text, source_text in zip(copy_texts, originals[a.id.split("-copy")[0]]):
                v = found[embedding_key(embedder.name, source_text)] + rng.normal(0, NOISE, embedder.dimension)
                batch[embedding_key(embedder.name, text)] = (v / np.linalg.norm(v)).astype(np.float32)
            if len(batch) > 20000:
                cache.put_many(batch)
                batch = {}
        cache.put_many(batch)
    finally:
        cache.close()


def reference_caches(embedder) -> list[Path]:
    """Embedding caches of the same corpus left by the tests and `make eval`."""
    from benchmarks.common import REFERENCE_CACHE
    candidates = [REFERENCE_CACHE, ROOT / "data" / f"medquad-index-{embedder.name}" / "embeddings.sqlite"]
    return [path for path in candidates if path.exists()]


def reference_vectors(embedder, keys: list[str]) -> dict:
    from indexer.embedding.cache import EmbeddingCache
    found: dict = {}
    for path in reference_caches(embedder):
        cache = EmbeddingCache(path, embedder.dimension)
        try:
            found.update(cache.get_many([k for k in keys if k not in found]))
        finally:
            cache.close()
    return found


def timed_publish(store, articles, embedder) -> float:
    with store.lock():
        started = time.perf_counter()
        report = publish_articles(store, articles, [], embedder, progress=QuietProgress)
        seconds = time.perf_counter() - started
    assert report.published, report.summary()
    return seconds


def bench_size(workdir: Path, embedder, base, passages_target: int, runs: int, queries: list[str],
               edits: int, unique: int) -> dict:
    """`queries`: distinct texts, at least unique + runs + 20 of them (the
    last 20 warm the searcher and are never measured)."""
    from search_app.search.glossary import Glossary
    from search_app.search.searcher import LiveSearcher
    rng = np.random.default_rng(passages_target)
    articles = scaled_articles(base, passages_target)
    store = IndexStore(workdir / f"size-{passages_target}", cache_path=workdir / "cache.sqlite")
    seed_cache(store, embedder, base, articles, rng)
    full_build = timed_publish(store, articles, embedder)
    passages = store.open_current().passage_count

    publish = {"edit": [], "add": [], "remove": []}
    for i in range(edits):  # each re-embeds one article and publishes a generation
        edited = replace(articles[i], text=articles[i].text + f" Edited sentence number {i} about aneurysms.")
        articles[i] = edited
        publish["edit"].append(timed_publish(store, articles, embedder))
        articles.append(replace(base[i], id=f"new-{i}", title=f"New article {i}",
                                text=base[i].text + f" New article {i}."))
        publish["add"].append(timed_publish(store, articles, embedder))
        articles.pop()
        publish["remove"].append(timed_publish(store, articles, embedder))

    gc.collect()
    before = rss_mb()
    searcher = LiveSearcher.over(store, embedder, glossary=Glossary.load())
    for q in queries[-WARM_UP:]:
        searcher.search(q, 10)  # warm: caches, page cache, lazy lookups
    loaded = rss_mb()
    generation = searcher.generation
    result = {"target_passages": passages_target, "articles": len(articles), "passages": passages,
              "segments": len(generation.segments), "vector_index": generation.index_summary(),
              "full_publish_s": round(full_build, 2),
              "one_article_publish_s": {kind: summary(times) for kind, times in publish.items()},
              "rss_mb_for_generation": round(loaded - before, 1),
              "bytes_per_passage": round((loaded - before) * 1024 * 1024 / passages),
              "query_ms": {}}
    result.update(measure_queries(searcher, embedder, queries, runs, unique))
    return result


def measure_queries(searcher, embedder, queries: list[str], runs: int, unique: int) -> dict:
    """Unique questions per mode (hybrid: `unique` of them, interleaved in
    blocks with the bare model call on the same texts), then the repeated
    questions through a query-vector cache, reported apart."""
    from search_app.search.query_vectors import QueryVectors
    from search_app.search.searcher import LiveSearcher, Searcher
    from indexer import settings as index_settings
    stage_cpu = StageCPU()
    out: dict = {"query_ms": {}, "load_average_before": load_average()}
    hybrid_texts = queries[:unique]
    rest = queries[unique:len(queries) - WARM_UP]  # dense and lexical: other texts than hybrid's
    with stage_cpu.installed():
        for mode in ("dense", "lexical"):
            out["query_ms"][mode] = search_figures(run_searches(searcher, rest[:runs], mode, stage_cpu))
        embedder.encode(["warm-up question about the heart"])
        # Blocks interleaved (search a block, encode the same block bare) so a
        # burst of load from other work on the machine hits both alike.
        searches, bares = None, None
        for start in range(0, len(hybrid_texts), 100):
            block = hybrid_texts[start:start + 100]
            searches = run_searches(searcher, block, "hybrid", stage_cpu, searches)
            bares = run_bare_encodes(embedder, block, bares)
        out["query_ms"]["hybrid"] = search_figures(searches)
        out["bare_encode"] = bare_figures(bares)
        out["bare_encode"]["texts"] = "the hybrid run's unique questions, one text per call"

        capacity = index_settings.QUERY_CACHE.default
        cached = LiveSearcher(searcher.index, Searcher(searcher.settings, searcher.searcher.glossary,
                                                       query_vectors=QueryVectors(capacity)))
        popular = hybrid_texts[:50]
        for text in popular:  # first asks: the misses, not measured
            cached.search(text, 10)
        vectors = cached.searcher.query_vectors
        hits, misses = vectors.hits, vectors.misses
        repeated = [popular[i % len(popular)] for i in range(runs)]
        out["query_ms"]["hybrid_repeated"] = search_figures(run_searches(cached, repeated, "hybrid", stage_cpu))
        out["query_ms"]["hybrid_repeated"].update(
            cache_capacity=capacity, popular_questions=len(popular),
            cache_hit_rate=round((vectors.hits - hits) / max(1, vectors.hits - hits + vectors.misses - misses), 3))
    p50 = out["query_ms"]["hybrid"]["total"]["p50"]
    bare = out["bare_encode"]["encode_ms"]["p50"]
    out["hybrid_p50_over_bare_encode_p50"] = round(p50 / bare, 2) if bare else None
    out["load_average_after"] = load_average()
    return out


# --------------------------------------------------------------------------- vectors

def perturbed_vectors(real: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((count, real.shape[1]), dtype=np.float32)
    out[:min(count, len(real))] = real[:count]
    for start in range(len(real), count, len(real)):
        end = min(count, start + len(real))
        block = real[:end - start] + rng.normal(0, NOISE, (end - start, real.shape[1])).astype(np.float32)
        out[start:end] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def bench_vectors(workdir: Path, real: np.ndarray, queries: np.ndarray, count: int, runs: int) -> dict:
    """Exact vs approximate index over `count` vectors; each is written to
    disk and searched by a separate process that maps it like a server."""
    from indexer.index.vectors import VectorIndexSettings, build_vector_index, exact_top, recall_at
    import faiss
    vectors = perturbed_vectors(real, count)
    truth = exact_top(vectors, queries, 10)
    out = {"vectors": count, "indexes": {}}
    for kind, settings in (("flat", VectorIndexSettings(ann_min_vectors=count + 1)),
                           ("ivf_fp16", VectorIndexSettings(ann_min_vectors=0))):
        started = time.perf_counter()
        index, info = build_vector_index(vectors, settings, queries[::2])  # tuned on half the queries
        build_s = time.perf_counter() - started
        path = workdir / f"vectors-{count}-{kind}.faiss"
        faiss.write_index(index, str(path))
        del index
        gc.collect()
        probe = _probe_index(path, queries[1::2], info, runs)  # measured on the other half
        found = np.array(probe.pop("ids"))
        out["indexes"][kind] = {"build_s": round(build_s, 1), "info": info, **probe,
                                "recall_at_10_held_out": round(recall_at(found, truth[1::2]), 4),
                                "file_mb": round(path.stat().st_size / 2**20, 1)}
        path.unlink()
    return out


def _probe_index(path: Path, queries: np.ndarray, info: dict, runs: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".npy", delete=False) as fh:
        np.save(fh, queries)
    try:
        proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_search", "--probe-index", str(path),
                               fh.name, json.dumps(info), str(runs)],
                              cwd=ROOT, capture_output=True, text=True, timeout=3600, check=True)
        return json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        os.unlink(fh.name)


def probe_index_main(path: str, queries_path: str, info_json: str, runs: int) -> None:
    """In a fresh process: map the index as a server does, search one query
    at a time on one thread, report latency and resident memory."""
    import faiss
    from indexer.index.vectors import search_params
    faiss.omp_set_num_threads(1)
    queries = np.load(queries_path)
    base = rss_mb()
    index = faiss.read_index(path, faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
    params = search_params(index, json.loads(info_json))
    ids = [index.search(q[None], 10, params=params)[1][0].tolist() for q in queries]
    times = []
    for i in range(runs):
        q = queries[i % len(queries)][None]
        started = time.perf_counter()
        index.search(q, 10, params=params)
        times.append((time.perf_counter() - started) * 1000)
    print(json.dumps({"search_ms": summary(times), "rss_mb_index": round(rss_mb() - base, 1),
                      "rss_mb_process": round(rss_mb(), 1), "ids": ids}))


def real_vectors(embedder, base) -> np.ndarray:
    from benchmarks.common import REFERENCE_CACHE
    store = IndexStore(tempfile.mkdtemp(), cache_path=(reference_caches(embedder) or [REFERENCE_CACHE])[-1])
    texts = [p.embed_text for a in base for p in chunk_article(a)]
    cache = store.embedding_cache(embedder.dimension)
    try:
        keys = [embedding_key(embedder.name, t) for t in texts]
        found = reference_vectors(embedder, keys)
        missing = [t for t, k in zip(texts, keys) if k not in found]
        if missing:
            print(f"  embedding {len(missing)} real passages once", flush=True)
            cache.put_many({embedding_key(embedder.name, t): v
                            for t, v in zip(missing, embedder.encode(missing, batch_size=64))})
            found = cache.get_many(keys)
        return np.stack([found[k] for k in keys]).astype(np.float32)
    finally:
        cache.close()


# --------------------------------------------------------------------------- report

def _pq(figures: dict | None) -> str:
    """"p50/p99" of a summary, or "-"."""
    return f"{figures['p50']}/{figures['p99']}" if figures else "-"


def format_tables(results: dict) -> str:
    lines = []
    if results.get("sizes"):
        lines += ["| passages | segments | vector index | publish edit/add/remove p50 (s) | full build (s) | "
                  "hybrid p50/p99 ms | CPU ms/request mean | dense p50/p99 | lexical p50/p99 | "
                  "repeated hybrid p50/p99 (cache) | bare encode p50 ms | hybrid / bare p50 | bytes/passage |",
                  "| " + " | ".join(["---:"] * 13) + " |"]
        for r in results["sizes"]:
            q, p = r["query_ms"], r["one_article_publish_s"]
            index = "; ".join(f"{v['type']} r@10={v.get('recall_at_10')}" for v in r["vector_index"])
            bare = r.get("bare_encode", {}).get("encode_ms", {})
            lines.append(
                f"| {r['passages']} | {r['segments']} | {index} | {p['edit']['p50']}/{p['add']['p50']}/"
                f"{p['remove']['p50']} | {r['full_publish_s']} | {_pq(q['hybrid']['total'])} | "
                f"{q['hybrid']['cpu_ms']['mean']} | {_pq(q['dense']['total'])} | {_pq(q['lexical']['total'])} | "
                f"{_pq(q.get('hybrid_repeated', {}).get('total'))} | {bare.get('p50', '-')} | "
                f"{r.get('hybrid_p50_over_bare_encode_p50', '-')} | {r['bytes_per_passage']} |")
        lines += ["", "hybrid, unique questions, by stage: wall p50 / CPU mean ms "
                  "(in-process, one query at a time)",
                  "| passages | queries (distinct) | " + " | ".join(STAGES) + " | total CPU mean | load before/after |",
                  "| " + " | ".join(["---:"] * (len(STAGES) + 4)) + " |"]
        for r in results["sizes"]:
            h = r["query_ms"]["hybrid"]
            cells = [f"{dig_p(h['stages'], s, 'p50')} / {dig_p(h['stages_cpu_ms'], s, 'mean')}" for s in STAGES]
            lines.append(f"| {r['passages']} | {h['queries']} ({h['distinct_queries']}) | " + " | ".join(cells)
                         + f" | {h['cpu_ms']['mean']} | {r.get('load_average_before', ['-'])[0]}/"
                           f"{r.get('load_average_after', ['-'])[0]} |")
        lines.append("")
    if results.get("vectors"):
        lines += ["| vectors | index | build (s) | search p50/p99 ms | recall@10 held-out | nprobe | "
                  "index RSS (MB) | process RSS (MB) |", "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for v in results["vectors"]:
            for kind, r in v["indexes"].items():
                lines.append(f"| {v['vectors']} | {kind} | {r['build_s']} | {r['search_ms']['p50']}/"
                             f"{r['search_ms']['p99']} | {r['recall_at_10_held_out']} | "
                             f"{r['info'].get('nprobe', '-')} | {r['rss_mb_index']} | {r['rss_mb_process']} |")
    return "\n".join(lines)


def dig_p(stages: dict, stage: str, key: str):
    return stages.get(stage, {}).get(key, "-")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Parts: sizes, vectors (see the module docstring).")
    parser.add_argument("--workdir", type=Path, default=ROOT / "data" / "bench")
    parser.add_argument("--parts", default="sizes,vectors", help="comma-separated parts to run")
    parser.add_argument("--sizes", default="1000,10000,100000", help="index sizes in passages")
    parser.add_argument("--vector-sizes", default="100000,1000000", help="vector-index-only sizes")
    parser.add_argument("--runs", type=int, default=300,
                        help="dense and lexical queries, and repeated-question searches, per size")
    parser.add_argument("--unique", type=int, default=1000,
                        help="distinct hybrid questions per size (and as many bare model calls)")
    parser.add_argument("--edits", type=int, default=5, help="edit/add/remove publishes per size")
    parser.add_argument("--model", default=BUILD_MODEL, help=f"embedding model (default {BUILD_MODEL})")
    parser.add_argument("--quick", action="store_true", help="small sizes and few runs (a smoke run)")
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "search.json", help="where to write results")
    parser.add_argument("--probe-index", nargs=4, metavar=("INDEX", "QUERIES", "INFO", "RUNS"),
                        help=argparse.SUPPRESS)  # internal: the memory/latency probe process
    args = parser.parse_args(argv)
    if args.probe_index:
        path, queries, info, runs = args.probe_index
        probe_index_main(path, queries, info, int(runs))
        return 0
    if not MEDQUAD.exists():
        print(f"skipped: {MEDQUAD} not found (the shared corpus is needed for realistic sizes)")
        return 0
    if args.quick:
        args.sizes, args.vector_sizes, args.runs, args.edits, args.unique = "1000,5000", "20000", 50, 2, 200
    parts = set(args.parts.split(","))
    args.workdir.mkdir(parents=True, exist_ok=True)
    base = load_corpus([MEDQUAD]).articles
    # The model new indexes are built with (and then served with), unless
    # --model says otherwise.
    embedder = load_embedder(args.model)
    queries = unique_queries(args.unique + args.runs + WARM_UP)
    results: dict = {"machine": machine_facts(), "model": embedder.name, "noise_per_dimension": NOISE,
                     "queries": {"distinct": len(queries), "source": "benchmarks.common.unique_queries"}}
    if "build" in parts:
        print("the build part moved to bench_model.py (--parts build)", flush=True)
    if "sizes" in parts:
        results["sizes"] = []
        for size in (int(s) for s in args.sizes.split(",")):
            print(f"index of ~{size} passages ...", flush=True)
            results["sizes"].append(bench_size(args.workdir, embedder, base, size, args.runs, queries, args.edits,
                                               args.unique))
    if "vectors" in parts:
        real = real_vectors(embedder, base)
        query_vectors = embedder.encode(reader_queries(), batch_size=64).astype(np.float32)
        results["vectors"] = []
        for size in (int(s) for s in args.vector_sizes.split(",")):
            print(f"vector index of {size} vectors ...", flush=True)
            results["vectors"].append(bench_vectors(args.workdir, real, query_vectors, size, args.runs))
    print(format_tables(results))
    write_json(args.json, results)
    print(f"\nwritten: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
