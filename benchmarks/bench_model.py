"""How fast, and how faithful, is each runtime of the embedding model?

Runtimes: torch fp32 (sentence-transformers), onnx fp32 and onnx int8
(`indexer.embedding.OnnxEmbedder`). For each, at 1 and 2 threads (torch:
torch's thread count, though calls of under 8 texts always run on one;
onnx: N workers of one thread each, and "1x2i" = one worker whose model
calls use 2 intra-op threads, onnxruntime's own parallelism):

  passages/s  embedding real passages in batches of 64, as a build does:
              the first 500 entries of medquad-heart.jsonl cut into
              60-word pieces with the title in front (what the indexer
              embeds), and into ~165-token pieces (title + text);
  query ms    latency of one short query ("leaky heart valve"), p50 and p90
              of 200 calls, and of the two-text call a search makes;
  conc q/s    queries per second with 4 threads asking at once (a server).

Throughput runs are repeated and the median reported: other processes may
share the machine.

Two parts say what bounds a build and a search (issue 17):

  build       the raw model loop (the build's model, as a build loads it,
              on ~165-token NIH passages in batches of 64, longest first,
              as indexer/build.py batches them) against the end-to-end
              build (publish_articles, what `python -m indexer build` runs)
              of the very same texts, alternating, in the same run: for
              dynamic int8, any other MiniLM int8 the registry has (the
              batchable static one) and fp32;
  bare        single-query encodes/s with nothing around them: one process
              on one core, and one one-thread process a core at once (the
              yardstick of the HTTP target: searches/s against bare fp32
              encodes/s on the same cores). Agreement: cosine between the torch vectors and each
ONNX variant's over 500 passages of each kind (vectors are unit length).

    PYTHONPATH=. .venv/bin/python -m benchmarks.bench_model [--quick] [--parts build,bare,runtimes]
    PYTHONPATH=. .venv/bin/python -m benchmarks.bench_model --quant-options

prints a table and writes benchmarks/results/model.json (git-ignored).
`measure_runtimes()` returns the same dict for a bigger benchmark suite.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.common import QuietProgress  # noqa: E402

MEDQUAD = ROOT.parent / "shared" / "corpora" / "medquad-heart.jsonl"
RESULTS = ROOT / "benchmarks" / "results" / "model.json"
RUNTIMES = ("torch", "onnx-fp32", "onnx-int8")
QUERY = "leaky heart valve"
EXPANDED_QUERY = "leaky heart valve valvular regurgitation"


# ------------------------------------------------------------------ texts
def load_entries(path: Path = MEDQUAD, entries: int = 500) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rows.append(json.loads(line))
            if len(rows) >= entries:
                break
    return rows


def passages_by_words(rows: list[dict], words: int = 60) -> list[str]:
    """Each entry's text in `words`-word pieces, the title in front
    (the shape of the indexer's passages)."""
    out = []
    for row in rows:
        tokens = row["text"].split()
        for start in range(0, len(tokens), words):
            out.append(f"{row['title']}\n{' '.join(tokens[start:start + words])}")
    return out


def passages_by_tokens(rows: list[dict], count_tokens, tokens: int = 165) -> list[str]:
    """Title + as many whole words as fit in `tokens` word pieces (special
    tokens included). An entry's short tail (under 90% of that) is dropped,
    so every piece is ~`tokens` long."""
    out = []
    for row in rows:
        words = row["text"].split()
        start = 0
        while start < len(words):
            def piece(end: int) -> str:
                return f"{row['title']}\n{' '.join(words[start:end])}"
            end = min(len(words), start + tokens)  # a word is at least one piece
            while end > start + 1 and count_tokens(piece(end)) > tokens:
                end -= max(1, (count_tokens(piece(end)) - tokens) // 2)
            if count_tokens(piece(end)) >= 0.9 * tokens:
                out.append(piece(end))
            start = end
    return out


# ------------------------------------------------------------------ runtimes
def make_embedder(runtime: str, threads: int, cache_dir: Path | None = None, folder: Path | None = None,
                  intra_op: int = 1):
    """A fresh embedder (not the shared one from load_embedder). For onnx,
    `threads` is the number of workers for many-text calls and `intra_op`
    the threads of one model call; for torch, torch's thread count."""
    from indexer.embedding import OnnxEmbedder, SentenceTransformerEmbedder
    if runtime == "torch":
        return SentenceTransformerEmbedder(threads=threads)
    if runtime.startswith("onnx-"):
        return OnnxEmbedder(runtime[len("onnx-"):], threads=threads, cache_dir=cache_dir, folder=folder,
                            intra_op_threads=intra_op)
    raise ValueError(f"unknown runtime {runtime!r}")


def set_threads(embedder, runtime: str, threads: int) -> None:
    if runtime == "torch":
        import torch
        torch.set_num_threads(threads)


def _rate(embedder, texts: list[str], batch_size: int = 64) -> tuple[float, float]:
    """(passages per wall second, passages per CPU second of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    embedder.encode(texts, batch_size=batch_size)
    return len(texts) / (time.perf_counter() - wall), len(texts) / max(time.process_time() - cpu, 1e-9)


def throughput(embedder, texts: list[str], repeats: int = 3, batch_size: int = 64) -> dict:
    embedder.encode(texts[:batch_size], batch_size=batch_size)  # warm up
    runs = [_rate(embedder, texts, batch_size) for _ in range(repeats)]
    return _summary(runs)


def _summary(runs: list[tuple[float, float]]) -> dict:
    return {"median": statistics.median(r[0] for r in runs), "per_cpu_s": statistics.median(r[1] for r in runs),
            "runs": [round(r[0], 1) for r in runs]}


def _timed_calls(embedder, texts: list[str], calls: int) -> list[float]:
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        embedder.encode(texts)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _latency_summary(times: list[float]) -> dict:
    times = sorted(times)
    return {"p50": statistics.median(times), "p90": times[int(0.9 * (len(times) - 1))], "calls": len(times)}


def latency(embedder, texts: list[str], calls: int = 200) -> dict:
    _timed_calls(embedder, texts, 10)  # warm up
    return _latency_summary(_timed_calls(embedder, texts, calls))


def concurrent_qps(embedder, workers: int = 4, per_worker: int = 50) -> float:
    start_gate = threading.Barrier(workers + 1)

    def work():
        start_gate.wait()
        for _ in range(per_worker):
            embedder.encode([QUERY])

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    start_gate.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return workers * per_worker / (time.perf_counter() - started)


def agreement(reference: np.ndarray, vectors: np.ndarray) -> dict:
    cosines = (reference * vectors).sum(axis=1)
    return {"cos_mean": float(cosines.mean()), "cos_min": float(cosines.min()),
            "max_abs": float(np.abs(reference - vectors).max()), "texts": int(len(cosines))}


# ------------------------------------------------------------------ suite
def measure_runtimes(runtimes=RUNTIMES, threads=(1, 2), entries: int = 500, passages: int = 256,
                     repeats: int = 5, query_calls: int = 200, quality_texts: int = 500,
                     intra_op: bool = True, cache_dir: Path | None = None, log=print) -> dict:
    """Speed of each runtime at each thread count and its agreement with
    torch. Returns a JSON-ready dict (see the module docstring).

    Configurations: torch at each of `threads`; each onnx variant with each
    of `threads` workers (one core per model call, the embedder's design)
    and, if `intra_op`, one worker whose calls use max(threads) intra-op
    threads (onnxruntime's own parallelism, for comparison).

    The machine may be shared, so every measurement is taken in rounds that
    visit every configuration in turn (a burst of load hits all alike) and
    the median over rounds is reported; passages per CPU-second of this
    process is reported too, as it moves less with other processes' load."""
    from indexer.embedding import OnnxEmbedder
    rows = load_entries(MEDQUAD, entries)
    counter = OnnxEmbedder("fp32", threads=1, cache_dir=cache_dir)
    sets = {"60w": passages_by_words(rows), "165tok": passages_by_tokens(rows, counter.count_tokens)}
    lengths = {name: statistics.mean(counter.count_tokens(t) for t in texts) for name, texts in sets.items()}
    log(f"texts: {', '.join(f'{n}: {len(t)} pieces, mean {lengths[n]:.0f} tokens' for n, t in sets.items())}; "
        f"speed measured on the first {passages} of each ({repeats} rounds), quality on the first "
        f"{quality_texts}; load average {os.getloadavg()[0]:.1f}")

    configs, vectors, torch_embedder = [], {}, None  # (runtime, label, threads, embedder)
    for runtime in runtimes:
        if runtime == "torch":
            torch_embedder = make_embedder("torch", max(threads))
            configs += [(runtime, f"{n}", n, torch_embedder) for n in threads]
        else:
            configs += [(runtime, f"{n}", n, make_embedder(runtime, n, cache_dir)) for n in threads]
            if intra_op and max(threads) > 1:
                configs.append((runtime, f"1x{max(threads)}i", max(threads),
                                make_embedder(runtime, 1, cache_dir, intra_op=max(threads))))
        last = configs[-1]
        set_threads(last[3], runtime, max(threads))
        vectors[runtime] = {name: last[3].encode(t[:quality_texts], batch_size=64) for name, t in sets.items()}

    def each_config(action):
        for runtime, label, n, embedder in configs:
            set_threads(embedder, runtime, n)
            action((runtime, label), embedder)

    rates = {(c[0], c[1]): {name: [] for name in sets} for c in configs}
    for name, texts in sets.items():
        each_config(lambda key, e: e.encode(texts[:64], batch_size=64))  # warm up
    for round_ in range(repeats):
        for name, texts in sets.items():
            each_config(lambda key, e: rates[key][name].append(_rate(e, texts[:passages])))
        log(f"  round {round_ + 1}/{repeats} done (load average {os.getloadavg()[0]:.1f})")
    times = {(c[0], c[1]): {"1": [], "2": []} for c in configs}
    each_config(lambda key, e: _timed_calls(e, [QUERY], 10))  # warm up
    rounds = 10
    for _ in range(rounds):
        each_config(lambda key, e: times[key]["1"].extend(_timed_calls(e, [QUERY], query_calls // rounds)))
        each_config(lambda key, e: times[key]["2"].extend(
            _timed_calls(e, [QUERY, EXPANDED_QUERY], max(1, query_calls // rounds // 2))))
    qps = {(c[0], c[1]): [] for c in configs}
    for _ in range(3):
        each_config(lambda key, e: qps[key].append(concurrent_qps(e)))

    results = []
    for runtime, label, n, embedder in configs:
        key = (runtime, label)
        row = {"runtime": runtime, "name": embedder.name, "threads": label}
        for name in sets:
            row[f"passages_per_s_{name}"] = _summary(rates[key][name])
        row["query_ms"] = _latency_summary(times[key]["1"])
        row["query2_ms"] = _latency_summary(times[key]["2"])
        row["concurrent_qps"] = statistics.median(qps[key])
        results.append(row)
        log(format_row(row))
    agree = {}
    if "torch" in vectors:
        for runtime in vectors:
            if runtime != "torch":
                agree[runtime] = {n: agreement(vectors["torch"][n], vectors[runtime][n]) for n in sets}
    return {"machine": machine(), "texts": {n: {"pieces": len(t), "mean_tokens": round(lengths[n], 1)}
                                            for n, t in sets.items()},
            "settings": {"entries": entries, "passages": passages, "repeats": repeats,
                         "query_calls": query_calls, "batch_size": 64, "quality_texts": quality_texts,
                         "threads": "torch: torch threads; onnx: N = N workers of 1 thread each, "
                                    "1xNi = one worker of N intra-op threads"},
            "results": results, "agreement": agree, "load_average_after": os.getloadavg()}


def compare_quant_options(entries: int = 500, quality_texts: int = 500, passages: int = 128,
                          repeats: int = 3, cache_dir: Path | None = None, log=print) -> list[dict]:
    """Agreement with torch and speed of each int8 quantisation option."""
    from indexer.embedding import OnnxEmbedder
    from indexer.embedding.export import ensure_export, quantize_variant
    rows = load_entries(MEDQUAD, entries)
    counter = OnnxEmbedder("fp32", threads=1, cache_dir=cache_dir)
    sets = {"60w": passages_by_words(rows), "165tok": passages_by_tokens(rows, counter.count_tokens)}
    torch_embedder = make_embedder("torch", 2)
    reference = {n: torch_embedder.encode(t[:quality_texts], batch_size=64) for n, t in sets.items()}
    fp32 = ensure_export("fp32", cache_dir)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for per_channel in (False, True):
            for reduce_range in (False, True):
                for matmul_only in (False, True):
                    folder = quantize_variant(fp32, Path(tmp) / f"{per_channel}-{reduce_range}-{matmul_only}",
                                              per_channel, reduce_range, matmul_only)
                    embedder = OnnxEmbedder("int8", threads=2, folder=folder)
                    row = {"per_channel": per_channel, "reduce_range": reduce_range,
                           "matmul_only": matmul_only,
                           "bytes": (folder / "model.onnx").stat().st_size}
                    for n, texts in sets.items():
                        row[n] = agreement(reference[n], embedder.encode(texts[:quality_texts], batch_size=64))
                    row["passages_per_s_60w"] = throughput(embedder, sets["60w"][:passages], repeats)["median"]
                    out.append(row)
                    log(f"per_channel={per_channel!s:5} reduce_range={reduce_range!s:5} "
                        f"matmul_only={matmul_only!s:5} {row['bytes'] / 1e6:5.1f} MB  "
                        f"60w cos mean {row['60w']['cos_mean']:.5f} min {row['60w']['cos_min']:.5f}  "
                        f"165tok cos mean {row['165tok']['cos_mean']:.5f} min {row['165tok']['cos_min']:.5f}  "
                        f"{row['passages_per_s_60w']:.1f} p/s")
    return out


# ------------------------------------------------------------------ build vs raw model loop
BUILD_WORDS = 128      # passage length of the build part: ~165 word pieces read by the model
BUILD_BATCH = 64       # the build's batch size (indexer/build.py)


def build_texts(passages_target: int, words: int = BUILD_WORDS):
    """(articles, texts): whole NIH articles until `passages_target`
    passages, and every text a build of them embeds (each passage and each
    article's opening), so the raw loop and the build do the same work."""
    from indexer.chunking import ChunkingConfig, chunk_article
    from indexer.models import article_embed_text
    from indexer.sources import load_corpus
    chunking = ChunkingConfig(max_words=words)
    chosen, count = [], 0
    for article in load_corpus([MEDQUAD]).articles:
        chosen.append(article)
        count += len(chunk_article(article, chunking))
        if count >= passages_target:
            break
    texts = [p.embed_text for a in chosen for p in chunk_article(a, chunking)]
    return chosen, texts + [article_embed_text(a) for a in chosen], chunking


def raw_model_loop(embedder, texts: list[str]) -> float:
    """Passages/s of the model alone, batched as the build batches: longest
    first, BUILD_BATCH texts a call, on the build's embedder (one worker a
    core)."""
    ordered = sorted(texts, key=len, reverse=True)
    started = time.perf_counter()
    for start in range(0, len(ordered), BUILD_BATCH):
        embedder.encode(ordered[start:start + BUILD_BATCH], batch_size=BUILD_BATCH)
    return len(texts) / (time.perf_counter() - started)


def end_to_end_build(embedder, articles, chunking) -> tuple[float, int]:
    """(passages/s, texts embedded) of publish_articles, what `python -m
    indexer build` runs, into a fresh store and embedding cache: chunking,
    embedding, SQLite, vector and lexical indexes, checksums, publish."""
    from indexer.build import publish_articles
    from indexer.index import IndexStore
    with tempfile.TemporaryDirectory(prefix="bench-build-") as folder:
        store = IndexStore(Path(folder) / "index")
        with store.lock():
            started = time.perf_counter()
            report = publish_articles(store, articles, [], embedder, chunking=chunking, progress=QuietProgress)
            seconds = time.perf_counter() - started
    return report.embedded / seconds, report.embedded


def build_models() -> list[str]:
    """The MiniLM models a build can use: fp32, dynamic int8, and any other
    int8 (a batchable static one) the registry has."""
    from indexer.embedding import FP32_MODEL, INT8_MODEL, MODELS
    others = [m for m in MODELS if "int8" in m and m != INT8_MODEL and "MiniLM" in m]
    return [INT8_MODEL, *others, FP32_MODEL]


def measure_build(models: list[str], passages: int, repeats: int, log=print) -> dict:
    """Raw model loop and end-to-end build on the same texts, alternating
    (raw, build, raw, build, ...) so load from other work hits both alike;
    medians reported."""
    from indexer.embedding import BUILD_MODEL, load_embedder
    articles, texts, chunking = build_texts(passages)
    out: dict = {"texts": len(texts), "articles": len(articles), "passage_words": chunking.max_words,
                 "batch_size": BUILD_BATCH, "build_model": BUILD_MODEL, "cores": os.cpu_count(),
                 "load_average_before": [round(x, 2) for x in os.getloadavg()], "models": {}}
    for name in models:
        embedder = load_embedder(name)  # as a build loads it: one worker a core
        count = getattr(embedder, "count_tokens", None)
        window = getattr(embedder, "max_tokens", 256)
        if "mean_tokens" not in out and count:
            out["mean_tokens"] = round(statistics.fmean(min(window, count(t)) for t in texts), 1)
        embedder.encode(texts[:BUILD_BATCH], batch_size=BUILD_BATCH)  # warm up
        raw, build, embedded = [], [], None
        for _ in range(repeats):
            raw.append(raw_model_loop(embedder, texts))
            rate, embedded = end_to_end_build(embedder, articles, chunking)
            build.append(rate)
        row = {"name": embedder.name, "raw_passages_per_s": round(statistics.median(raw), 1),
               "build_passages_per_s": round(statistics.median(build), 1),
               "build_over_raw": round(statistics.median(build) / statistics.median(raw), 3),
               "texts_embedded_by_build": embedded, "threads": getattr(embedder, "threads", None),
               "raw_runs": [round(r, 1) for r in raw], "build_runs": [round(b, 1) for b in build]}
        out["models"][name] = row
        log(f"  {name}: raw model loop {row['raw_passages_per_s']} passages/s, build "
            f"{row['build_passages_per_s']} ({row['build_over_raw']:.0%} of raw); "
            f"load average {os.getloadavg()[0]:.1f}")
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return out


# ------------------------------------------------------------------ bare single-query encodes on every core
def measure_bare_encodes(models: list[str], seconds: float, log=print) -> dict:
    """Per model: bare single-query encodes/s on one core (one process) and
    on every core (one process a core, concurrently), measured as bench_http
    measures its yardstick (benchmarks.common.bare_encodes)."""
    from benchmarks.common import bare_encodes, unique_queries
    from indexer.settings import usable_cores
    cores = usable_cores()  # as many processes as bench_http's yardstick and the server's workers
    texts = unique_queries(cores * (int(seconds * 500) + 20))  # more than a process encodes in `seconds`
    out = {"texts": "benchmarks.common.unique_queries, distinct per process", "cores": cores, "models": {}}
    for name in models:
        row = {"one_core": bare_encodes(texts, 1, seconds, name),
               "all_cores": bare_encodes(texts, cores, seconds, name),
               "load_average": [round(x, 2) for x in os.getloadavg()]}
        out["models"][name] = row
        log(f"  {name}: bare single-query encodes/s: one core {row['one_core']['encodes_per_s']}, "
            f"{cores} cores {row['all_cores']['encodes_per_s']} ({row['all_cores']['cpu_ms_per_encode']} CPU-ms "
            f"each); load average {row['load_average'][0]}")
    return out


def format_build(build: dict) -> str:
    lines = [f"build vs raw model loop: {build['texts']} texts of ~{build.get('mean_tokens')} word pieces "
             f"({build['articles']} NIH articles at {build['passage_words']} words a passage), "
             f"batches of {build['batch_size']}, {build['cores']} cores",
             "| model | raw model loop passages/s | end-to-end build passages/s | build / raw |",
             "| --- | ---: | ---: | ---: |"]
    for name, r in build["models"].items():
        lines.append(f"| {name} | {r['raw_passages_per_s']} | {r['build_passages_per_s']} | "
                     f"{r['build_over_raw']:.2f} |")
    return "\n".join(lines)


def format_bare(bare: dict) -> str:
    lines = ["bare single-query encodes/s (one process a core, one intra-op thread each, distinct texts)",
             f"| model | one core | {bare['cores']} cores at once | CPU ms an encode |", "| --- | ---: | ---: | ---: |"]
    for name, r in bare["models"].items():
        lines.append(f"| {name} | {r['one_core']['encodes_per_s']} | {r['all_cores']['encodes_per_s']} | "
                     f"{r['all_cores']['cpu_ms_per_encode']} |")
    return "\n".join(lines)


def machine() -> dict:
    import onnxruntime
    import torch
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "torch": torch.__version__, "onnxruntime": onnxruntime.__version__,
            "load_average": os.getloadavg()}


HEADER = (f"{'runtime':10} {'thr':>5} {'p/s 60w':>8} {'(/cpu-s)':>8} {'p/s 165tok':>10} {'(/cpu-s)':>8} "
          f"{'query p50':>9} {'p90':>7} {'2-text p50':>10} {'conc q/s':>8}")


def format_row(row: dict) -> str:
    w, t = row["passages_per_s_60w"], row["passages_per_s_165tok"]
    return (f"{row['runtime']:10} {row['threads']:>5} {w['median']:>8.1f} {w['per_cpu_s']:>8.1f} "
            f"{t['median']:>10.1f} {t['per_cpu_s']:>8.1f} {row['query_ms']['p50']:>7.2f}ms "
            f"{row['query_ms']['p90']:>5.2f}ms {row['query2_ms']['p50']:>8.2f}ms {row['concurrent_qps']:>8.0f}")


def format_report(report: dict) -> str:
    lines = [HEADER] + [format_row(r) for r in report["results"]]
    if report.get("agreement"):
        lines.append("")
        lines.append("agreement with torch fp32 (cosine mean / min, max abs difference):")
        for runtime, sets in report["agreement"].items():
            lines.append(f"  {runtime:10} " + "   ".join(
                f"{n}: {a['cos_mean']:.6f} / {a['cos_min']:.6f}, {a['max_abs']:.2e}" for n, a in sets.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default=None,
                        help="comma-separated: build (raw model loop vs end-to-end build), bare (single-query "
                             "encodes/s on one and on every core), runtimes (the runtime matrix); default all "
                             "three, with --quick build,bare")
    parser.add_argument("--runtimes", nargs="+", default=list(RUNTIMES), choices=RUNTIMES)
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--passages", type=int, default=256, help="pieces per throughput run")
    parser.add_argument("--repeats", type=int, default=5, help="rounds over all configurations")
    parser.add_argument("--build-passages", type=int, default=1500, help="passages of the build part")
    parser.add_argument("--build-repeats", type=int, default=3, help="raw/build rounds of the build part")
    parser.add_argument("--build-models", default=None, metavar="NAME[,NAME]",
                        help="models of the build part (default: dynamic int8, any other MiniLM int8, fp32)")
    parser.add_argument("--bare-seconds", type=float, default=15, help="seconds of each bare-encode run")
    parser.add_argument("--quick", action="store_true", help="fewer texts and calls (a smoke run)")
    parser.add_argument("--quant-options", action="store_true",
                        help="compare int8 quantisation options instead")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not MEDQUAD.exists():
        print(f"{MEDQUAD} not found; nothing to measure", file=sys.stderr)
        return 1
    if args.quant_options:
        rows = compare_quant_options()
        out = args.out.with_name("model-quant-options.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(rows, indent=2) + "\n")
        print(f"wrote {out}")
        return 0
    parts = {p.strip() for p in (args.parts or ("build,bare" if args.quick else "build,bare,runtimes")).split(",")
             if p.strip()}
    if args.quick:
        args.build_passages, args.build_repeats, args.bare_seconds = 120, 1, 3
    models = args.build_models.split(",") if args.build_models else build_models()
    report: dict = {}
    if "runtimes" in parts:
        kwargs = dict(passages=32, repeats=1, query_calls=20, quality_texts=32, entries=20) if args.quick else \
            dict(passages=args.passages, repeats=args.repeats)
        report.update(measure_runtimes(tuple(args.runtimes), tuple(args.threads), **kwargs))
        print()
        print(format_report(report))
    if "build" in parts:
        print(f"\nbuild vs raw model loop ({', '.join(models)}) ...", flush=True)
        report["build"] = measure_build(models, args.build_passages, args.build_repeats)
        print(format_build(report["build"]))
    if "bare" in parts:
        from indexer.embedding import BUILD_MODEL, FP32_MODEL
        bare_models = list(dict.fromkeys([FP32_MODEL, BUILD_MODEL, *models]))
        print(f"\nbare single-query encodes ({', '.join(bare_models)}) ...", flush=True)
        report["bare_encodes"] = measure_bare_encodes(bare_models, args.bare_seconds)
        print(format_bare(report["bare_encodes"]))
    report.setdefault("machine", machine())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
