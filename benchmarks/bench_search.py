"""Index and query benchmarks at several sizes (not part of `make test`).

Sizes are made from the shared NIH corpus: the real 954 articles, then
copies whose titles carry a copy number, with vectors that are the real
embeddings plus small noise (renormalised), written straight into the
embedding cache. So the index, lexical tables and metadata are full-size and
realistic while the model is only run where the benchmark is about the model.

Measures, per size: publish time for a one-article change, in-process query
latency per stage and in total per mode (median and p99), and resident
memory per passage once the generation is loaded and warm.
"""
from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from indexer.build import publish_articles  # noqa: E402
from indexer.chunking import chunk_article  # noqa: E402
from indexer.embedding import load_embedder  # noqa: E402
from indexer.models import article_embed_text, embedding_key  # noqa: E402
from indexer.sources import load_corpus  # noqa: E402
from indexer.store import IndexStore  # noqa: E402

MEDQUAD = ROOT.parent / "shared" / "corpora" / "medquad-heart.jsonl"
QUERIES = ["leaky heart valve", "why do my ankles swell", "chest pain when walking uphill",
           "blood thinners and bruising", "what is a normal blood pressure", "mini stroke",
           "heart murmur in a child", "how to prevent a heart attack", "afib treatment options",
           "high cholesterol symptoms"]


def percentile(values, q):
    return float(np.percentile(np.asarray(values), q))


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scaled_articles(base, copies: int):
    out = list(base)
    for n in range(1, copies):
        out += [replace(a, id=f"{a.id}-copy{n}", title=f"{a.title} (copy {n})") for a in base]
    return out


def seed_cache(store: IndexStore, embedder, base, articles, rng) -> None:
    """Put vectors for every copy into the cache: the original's vector plus
    noise, so copies are near but not identical to the real embeddings."""
    base_by_id = {a.id: a for a in base}
    originals = {}
    for a in base:
        texts = [p.embed_text for p in chunk_article(a)] + [article_embed_text(a)]
        originals[a.id] = texts
    cache = store.embedding_cache(embedder.dimension)
    try:
        keys = [embedding_key(embedder.name, t) for ts in originals.values() for t in ts]
        found = cache.get_many(keys)
        missing = [t for ts in originals.values() for t in ts if embedding_key(embedder.name, t) not in found]
        if missing:  # the real corpus itself, embedded once
            vecs = embedder.encode(missing, batch_size=64)
            cache.put_many({embedding_key(embedder.name, t): v for t, v in zip(missing, vecs)})
            found.update(cache.get_many(keys))
        batch = {}
        for a in articles:
            if a.id in base_by_id:
                continue
            original = base_by_id[a.id.split("-copy")[0]]
            copy_texts = [p.embed_text for p in chunk_article(a)] + [article_embed_text(a)]
            for text, source_text in zip(copy_texts, originals[original.id]):
                v = found[embedding_key(embedder.name, source_text)] + rng.normal(0, 0.02, embedder.dimension)
                batch[embedding_key(embedder.name, text)] = (v / np.linalg.norm(v)).astype(np.float32)
            if len(batch) > 20000:
                cache.put_many(batch)
                batch = {}
        cache.put_many(batch)
    finally:
        cache.close()


def bench_size(workdir: Path, embedder, base, copies: int, runs: int) -> dict:
    from search_app.glossary import Glossary
    from search_app.searcher import Searcher
    rng = np.random.default_rng(copies)
    articles = scaled_articles(base, copies)
    store = IndexStore(workdir / f"size-{copies}", cache_path=workdir / "cache.sqlite")
    seed_cache(store, embedder, base, articles, rng)
    with store.lock():
        started = time.perf_counter()
        report = publish_articles(store, articles, [], embedder)
        full_build = time.perf_counter() - started
    passages = report.passages or store.open_current().passage_count

    publish_times = []
    for i in range(3):  # one edited article, re-embedded and published
        edited = replace(articles[0], text=articles[0].text + f" Edited sentence number {i} about aneurysms.")
        with store.lock():
            started = time.perf_counter()
            publish_articles(store, [edited] + articles[1:], [], embedder)
            publish_times.append(time.perf_counter() - started)
        articles = [edited] + articles[1:]

    before = rss_mb()
    searcher = Searcher(store, embedder, glossary=Glossary.load())
    searcher.search("warm up", 10)
    loaded = rss_mb()
    result = {"copies": copies, "articles": len(articles), "passages": passages,
              "full_publish_s": round(full_build, 2),
              "one_article_publish_s": {"median": round(statistics.median(publish_times), 3),
                                        "max": round(max(publish_times), 3)},
              "rss_mb_for_generation": round(loaded - before, 1),
              "bytes_per_passage": round((loaded - before) * 1024 * 1024 / passages),
              "query_ms": {}}
    for mode in ("dense", "lexical", "hybrid"):
        totals, stages = [], {}
        for i in range(runs):
            r = searcher.search(QUERIES[i % len(QUERIES)], 10, mode=mode)
            totals.append(r.took_ms)
            for stage, ms in r.timings_ms.items():
                stages.setdefault(stage, []).append(ms)
        result["query_ms"][mode] = {
            "total": {"p50": round(percentile(totals, 50), 2), "p99": round(percentile(totals, 99), 2)},
            "stages_p50": {s: round(percentile(v, 50), 2) for s, v in stages.items()}}
    return result


def run(workdir: Path, sizes=(1, 16), runs: int = 200) -> dict:
    if not MEDQUAD.exists():
        print(f"skipped: {MEDQUAD} not found")
        return {}
    corpus = load_corpus([MEDQUAD])
    embedder = load_embedder()
    return {"sizes": [bench_size(workdir, embedder, corpus.articles, c, runs) for c in sizes]}


def format_table(results: dict) -> str:
    lines = ["| passages | one-article publish (s, median) | full publish (s) | hybrid p50/p99 ms | "
             "dense p50 | lexical p50 | encode p50 | fetch p50 | bytes/passage |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results.get("sizes", []):
        q = r["query_ms"]
        lines.append(f"| {r['passages']} | {r['one_article_publish_s']['median']} | {r['full_publish_s']} | "
                     f"{q['hybrid']['total']['p50']}/{q['hybrid']['total']['p99']} | "
                     f"{q['dense']['total']['p50']} | {q['lexical']['total']['p50']} | "
                     f"{q['hybrid']['stages_p50'].get('encode')} | {q['hybrid']['stages_p50'].get('fetch')} | "
                     f"{r['bytes_per_passage']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / "data" / "bench")
    parser.add_argument("--sizes", default="1,16", help="corpus copies (954 articles, ~6.3k passages each)")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    results = run(args.workdir, tuple(int(s) for s in args.sizes.split(",")), args.runs)
    print(format_table(results))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "search.json").write_text(json.dumps(results, indent=2))
