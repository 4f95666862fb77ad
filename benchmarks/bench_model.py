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
share the machine. Agreement: cosine between the torch vectors and each
ONNX variant's over 500 passages of each kind (vectors are unit length).

    PYTHONPATH=. .venv/bin/python -m benchmarks.bench_model [--quick] [--quant-options]

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
    parser.add_argument("--runtimes", nargs="+", default=list(RUNTIMES), choices=RUNTIMES)
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--passages", type=int, default=256, help="pieces per throughput run")
    parser.add_argument("--repeats", type=int, default=5, help="rounds over all configurations")
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
    kwargs = dict(passages=32, repeats=1, query_calls=20, quality_texts=32, entries=20) if args.quick else \
        dict(passages=args.passages, repeats=args.repeats)
    report = measure_runtimes(tuple(args.runtimes), tuple(args.threads), **kwargs)
    print()
    print(format_report(report))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
