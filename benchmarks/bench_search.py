"""Build, publish, query and memory benchmarks at several index sizes (not
part of `make test`; `make bench` runs it through benchmarks/run_all.py).

Three parts, each printed as a table and written to one JSON file:

  build    end-to-end build throughput (chunk, embed, write, publish) on
           ~165-token passages, beside the raw model throughput on the very
           same texts in the same run: the gap is what the indexer adds.
  sizes    indexes of ~1k, 10k and 100k passages: one-article publish time
           (edit, add, remove), in-process query latency per stage and per
           mode (median and p99 over reader queries), resident memory per
           passage, and the vector index chosen with its measured recall.
  vectors  the vector index alone at 100k and 1M vectors: exact vs IVF
           (fp16) build time, latency, recall@10 against exact search on
           real query vectors, and resident memory of a server-like process
           that loads the index from disk.

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

from benchmarks.common import DEV_QUERIES, MEDQUAD, RESULTS_DIR, machine_facts, percentile, write_json  # noqa: E402
from indexer.build import publish_articles  # noqa: E402
from indexer.chunking import ChunkingConfig, chunk_article  # noqa: E402
from indexer.embedding import BUILD_MODEL, load_embedder  # noqa: E402
from indexer.models import article_embed_text, embedding_key  # noqa: E402
from indexer.sources import load_corpus  # noqa: E402
from indexer.index import IndexStore  # noqa: E402

FALLBACK_QUERIES = ["leaky heart valve", "why do my ankles swell", "chest pain when walking uphill",
                    "blood thinners and bruising", "what is a normal blood pressure", "mini stroke",
                    "heart murmur in a child", "how to prevent a heart attack", "afib treatment options",
                    "high cholesterol symptoms"]
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
    return {"p50": round(percentile(values, 50), 3), "p99": round(percentile(values, 99), 3),
            "runs": len(values)}


# --------------------------------------------------------------------------- build

def bench_build(embedder, articles, passages_target: int, repeats: int) -> dict:
    """Raw model vs end-to-end build on the same ~165-token passages."""
    chunking = ChunkingConfig(max_words=120)  # ~165 word pieces a passage
    chosen, count = [], 0
    for article in articles:
        chosen.append(article)
        count += len(chunk_article(article, chunking))
        if count >= passages_target:
            break
    texts = [p.embed_text for a in chosen for p in chunk_article(a, chunking)]
    texts += [article_embed_text(a) for a in chosen]
    count = getattr(embedder, "count_tokens", None)
    tokens = [count(t) for t in texts] if count else []
    # The model at its best: batches of similar length (as the build sorts them).
    ordered = sorted(texts, key=len, reverse=True)
    embedder.encode(texts[:64], batch_size=64)  # warm up
    raw, build = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        for start in range(0, len(ordered), 64):
            embedder.encode(ordered[start:start + 64], batch_size=64)
        raw.append(len(texts) / (time.perf_counter() - started))
        with tempfile.TemporaryDirectory() as folder:
            store = IndexStore(Path(folder) / "index")  # fresh cache: everything is embedded
            with store.lock():
                started = time.perf_counter()
                publish_articles(store, chosen, [], embedder, chunking=chunking, progress=_quiet)
                build.append(len(texts) / (time.perf_counter() - started))
    return {"model": embedder.name, "texts": len(texts), "articles": len(chosen),
            "mean_tokens": round(float(np.mean(tokens)), 1) if tokens else None,
            "raw_model_passages_per_s": round(statistics.median(raw), 1),
            "build_passages_per_s": round(statistics.median(build), 1),
            "build_over_raw": round(statistics.median(build) / statistics.median(raw), 3),
            "runs": repeats}


class _quiet:
    def __init__(self, total, label):
        pass

    def update(self, n):
        pass

    def close(self):
        pass


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
        report = publish_articles(store, articles, [], embedder, progress=_quiet)
        seconds = time.perf_counter() - started
    assert report.published, report.summary()
    return seconds


def bench_size(workdir: Path, embedder, base, passages_target: int, runs: int, queries: list[str],
               edits: int) -> dict:
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
    for q in queries[:20]:
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
    for mode in ("dense", "lexical", "hybrid"):
        totals, stages = [], {}
        for i in range(runs):
            r = searcher.search(queries[i % len(queries)], 10, mode=mode)
            totals.append(r.took_ms)
            for stage, ms in r.timings_ms.items():
                stages.setdefault(stage, []).append(ms)
        result["query_ms"][mode] = {"total": summary(totals),
                                    "stages": {s: summary(v) for s, v in stages.items()}}
    return result


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

def format_tables(results: dict) -> str:
    lines = []
    b = results.get("build")
    if b:
        lines += ["build (same texts, same run):",
                  f"  {b['texts']} texts of ~{b['mean_tokens']} tokens by {b['model']}: raw model "
                  f"{b['raw_model_passages_per_s']} passages/s, end-to-end build {b['build_passages_per_s']} "
                  f"passages/s ({b['build_over_raw']:.0%} of raw)", ""]
    if results.get("sizes"):
        lines += ["| passages | segments | vector index | publish edit/add/remove p50 (s) | full build (s) | "
                  "hybrid p50/p99 ms | dense p50/p99 | lexical p50/p99 | encode p50 | dense-search p50 | "
                  "lexical p50 | fusion p50 | fetch p50 | bytes/passage |",
                  "| " + " | ".join(["---:"] * 14) + " |"]
        for r in results["sizes"]:
            q, p = r["query_ms"], r["one_article_publish_s"]
            stages = q["hybrid"]["stages"]
            index = "; ".join(f"{v['type']} r@10={v.get('recall_at_10')}" for v in r["vector_index"])
            lines.append(
                f"| {r['passages']} | {r['segments']} | {index} | {p['edit']['p50']}/{p['add']['p50']}/"
                f"{p['remove']['p50']} | {r['full_publish_s']} | {q['hybrid']['total']['p50']}/"
                f"{q['hybrid']['total']['p99']} | {q['dense']['total']['p50']}/{q['dense']['total']['p99']} | "
                f"{q['lexical']['total']['p50']}/{q['lexical']['total']['p99']} | "
                + " | ".join(str(stages.get(s, {}).get("p50")) for s in ("encode", "dense", "lexical", "fusion",
                                                                      "fetch"))
                + f" | {r['bytes_per_passage']} |")
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Parts: build, sizes, vectors (see the module docstring).")
    parser.add_argument("--workdir", type=Path, default=ROOT / "data" / "bench")
    parser.add_argument("--parts", default="build,sizes,vectors", help="comma-separated parts to run")
    parser.add_argument("--sizes", default="1000,10000,100000", help="index sizes in passages")
    parser.add_argument("--vector-sizes", default="100000,1000000", help="vector-index-only sizes")
    parser.add_argument("--runs", type=int, default=300, help="queries per mode and size")
    parser.add_argument("--edits", type=int, default=5, help="edit/add/remove publishes per size")
    parser.add_argument("--build-passages", type=int, default=1500, help="passages in the build part")
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
        args.sizes, args.vector_sizes, args.runs, args.edits, args.build_passages = "1000,5000", "20000", 50, 2, 200
    parts = set(args.parts.split(","))
    args.workdir.mkdir(parents=True, exist_ok=True)
    base = load_corpus([MEDQUAD]).articles
    # The model new indexes are built with (and then served with), unless
    # --model says otherwise.
    embedder = load_embedder(args.model)
    queries = reader_queries()
    results: dict = {"machine": machine_facts(), "model": embedder.name, "noise_per_dimension": NOISE}
    if "build" in parts:
        print("build throughput ...", flush=True)
        results["build"] = bench_build(embedder, base, args.build_passages, repeats=3)
    if "sizes" in parts:
        results["sizes"] = []
        for size in (int(s) for s in args.sizes.split(",")):
            print(f"index of ~{size} passages ...", flush=True)
            results["sizes"].append(bench_size(args.workdir, embedder, base, size, args.runs, queries, args.edits))
    if "vectors" in parts:
        real = real_vectors(embedder, base)
        query_vectors = embedder.encode(queries, batch_size=64).astype(np.float32)
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
