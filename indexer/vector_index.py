"""Which FAISS index holds a segment's vectors, and how it is searched.

Small segments use exact inner-product search (`IndexFlatIP`): below
`ann_min_vectors` a scan costs well under a millisecond and is never wrong.
Larger ones use HNSW, a graph index whose search cost grows with log(n)
instead of n, storing vectors as fp16 by default (half the memory of fp32,
recall unchanged in our measurements; sq8 quarters it at some recall cost).

HNSW's accuracy depends on `efSearch`. Rather than guess it, the writer
measures recall@10 against exact search on probe queries (real reader
questions embedded by the same model, `indexer/data/probe_queries.txt`)
and picks the smallest efSearch reaching `target_recall`. The figure is
stored in segment.json and shown by `python -m indexer status`.

Deleted passages are not removed from a segment (segments are immutable);
searches skip them with an id selector, so deleting stays incremental at
every size, which HNSW alone does not support.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import faiss
import numpy as np

PROBE_QUERIES = Path(__file__).resolve().parent / "data" / "probe_queries.txt"
STORAGES = ("flat", "fp16", "sq8")
_FACTORY_SUFFIX = {"flat": "Flat", "fp16": "SQfp16", "sq8": "SQ8"}


@dataclass(frozen=True)
class VectorIndexSettings:
    # Where exact search stops being cheap: see docs/scaling.md and
    # benchmarks/bench_search.py (flat ~1 ms per query at 20k vectors on one
    # core, ~7 ms at 100k; HNSW ~0.2-0.5 ms at either).
    ann_min_vectors: int = 20_000
    hnsw_m: int = 32
    ef_construction: int = 80
    storage: str = "fp16"
    target_recall: float = 0.98
    max_ef_search: int = 1024

    @classmethod
    def from_env(cls) -> "VectorIndexSettings":
        """HEARTSEARCH_ANN_MIN_VECTORS (exact search below it) and
        HEARTSEARCH_ANN_STORAGE (flat | fp16 | sq8)."""
        storage = os.environ.get("HEARTSEARCH_ANN_STORAGE", cls.storage).strip().lower()
        if storage not in STORAGES:
            raise ValueError(f"HEARTSEARCH_ANN_STORAGE must be one of {', '.join(STORAGES)}, not {storage!r}")
        threshold = os.environ.get("HEARTSEARCH_ANN_MIN_VECTORS")
        try:
            minimum = int(threshold) if threshold else cls.ann_min_vectors
        except ValueError:
            raise ValueError(f"HEARTSEARCH_ANN_MIN_VECTORS must be a whole number, not {threshold!r}") from None
        return cls(ann_min_vectors=minimum, storage=storage)


def probe_texts() -> list[str]:
    lines = PROBE_QUERIES.read_text("utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Exact top-k ids by inner product (the ground truth for recall)."""
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index.search(queries, min(k, len(vectors)))[1]


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    hits = [len(set(f[f >= 0]) & set(t[t >= 0])) / max(1, len(t[t >= 0])) for f, t in zip(found, truth)]
    return float(np.mean(hits)) if hits else 1.0


def build_vector_index(vectors: np.ndarray, settings: VectorIndexSettings,
                       probe_vectors: Callable[[], np.ndarray] | None = None):
    """The index for one segment's vectors and its description (stored in
    segment.json: type, parameters, measured recall@10)."""
    n, dimension = vectors.shape
    if n < settings.ann_min_vectors:
        index = faiss.IndexFlatIP(dimension)
        if n:
            index.add(vectors)
        return index, {"type": "flat", "exact": True, "recall_at_10": 1.0}
    index = faiss.index_factory(dimension, f"HNSW{settings.hnsw_m},{_FACTORY_SUFFIX[settings.storage]}",
                                faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = settings.ef_construction
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(os.cpu_count() or 1)  # a build may use every core
    try:
        if not index.is_trained:
            index.train(vectors)
        index.add(vectors)
    finally:
        faiss.omp_set_num_threads(threads)
    probes, probe_kind = _probes(vectors, probe_vectors)
    ef, recall = tune_ef_search(index, vectors, probes, settings)
    return index, {"type": "hnsw", "exact": False, "m": settings.hnsw_m, "storage": settings.storage,
                   "ef_construction": settings.ef_construction, "ef_search": ef,
                   "recall_at_10": round(recall, 4), "probe_queries": len(probes), "probes": probe_kind}


def _probes(vectors: np.ndarray, probe_vectors) -> tuple[np.ndarray, str]:
    if probe_vectors is not None:
        probes = np.ascontiguousarray(probe_vectors(), dtype=np.float32)
        if len(probes):
            return probes, "reader questions"
    # No model at hand: stored vectors stand in for queries (a harder test:
    # each one's nearest neighbours are very close together).
    rng = np.random.default_rng(0)
    return np.ascontiguousarray(vectors[rng.choice(len(vectors), min(200, len(vectors)), replace=False)]), \
        "passage sample"


def tune_ef_search(index, vectors: np.ndarray, probes: np.ndarray,
                   settings: VectorIndexSettings, k: int = 10) -> tuple[int, float]:
    """Smallest efSearch (doubling from 16) whose recall@k reaches the target."""
    truth = exact_top(vectors, probes, k)
    ef, recall = 16, 0.0
    while True:
        index.hnsw.efSearch = ef
        recall = recall_at(index.search(probes, k)[1], truth)
        if recall >= settings.target_recall or ef >= settings.max_ef_search:
            return ef, recall
        ef *= 2


def live_selector(live: np.ndarray):
    """A FAISS id selector admitting the local ids marked live, with the
    bitmap it reads (keep both alive while searching)."""
    bitmap = np.packbits(live.astype(np.uint8), bitorder="little")
    return faiss.IDSelectorBitmap(len(live), faiss.swig_ptr(bitmap)), bitmap


def search_params(index, info: dict, selector=None):
    """Search parameters for one segment's index: its tuned efSearch and,
    when some of its passages are deleted, a selector skipping them."""
    if info.get("type") == "hnsw":
        params = faiss.SearchParametersHNSW()
        params.efSearch = int(info["ef_search"])
    elif selector is not None:
        params = faiss.SearchParameters()
    else:
        return None
    if selector is not None:
        params.sel = selector
    return params


def describe(info: dict) -> str:
    """One line for `status`: the index type, its settings and recall."""
    if info.get("type") != "hnsw":
        return "exact (flat inner product)"
    return (f"HNSW M={info['m']} {info['storage']} efSearch={info['ef_search']}, "
            f"recall@10 {info['recall_at_10']:.3f} vs exact on {info['probe_queries']} {info['probes']}")
