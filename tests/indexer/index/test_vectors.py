"""indexer/index/vectors.py: which FAISS index a segment gets (exact below
the threshold, IVF above it, with nprobe tuned to a recall target) and how
deleted passages are skipped. Synthetic clustered unit vectors, no model and
no ../shared data, so the approximate index is always tested."""
from __future__ import annotations

import numpy as np
import pytest

from indexer.index.vectors import (STORAGES, VectorIndexSettings, build_vector_index, describe, exact_top,
                                   live_selector, recall_at, search_params)


def clustered(n: int, dimension: int = 32, clusters: int = 40, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dimension))
    vectors = centres[rng.integers(clusters, size=n)] + 0.3 * rng.normal(size=(n, dimension))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors, dtype=np.float32)


def search(index, info, queries, k=10, selector=None):
    params = search_params(index, info, selector)
    return index.search(queries, k, params=params)[1] if params is not None else index.search(queries, k)[1]


def test_a_small_segment_gets_exact_search():
    vectors = clustered(300)
    index, info = build_vector_index(vectors, VectorIndexSettings(ann_min_vectors=1000))
    assert info == {"type": "flat", "exact": True, "recall_at_10": 1.0}
    queries = vectors[:20]
    assert recall_at(search(index, info, queries), exact_top(vectors, queries, 10)) == 1.0
    assert describe(info).startswith("exact")


def test_an_empty_segment_is_a_valid_exact_index():
    index, info = build_vector_index(np.zeros((0, 32), dtype=np.float32), VectorIndexSettings())
    assert info["type"] == "flat" and index.ntotal == 0


@pytest.mark.parametrize("storage", STORAGES)
def test_a_large_segment_gets_ivf_tuned_to_the_recall_target(storage):
    every = clustered(4200)
    vectors, held_out = every[:4000], every[4000:]
    settings = VectorIndexSettings(ann_min_vectors=1000, storage=storage, target_recall=0.95)
    index, info = build_vector_index(vectors, settings)
    assert info["type"] == "ivf" and info["storage"] == storage and not info["exact"]
    assert info["cells"] == int(settings.cells_per_sqrt * 4000 ** 0.5)
    assert 1 <= info["nprobe"] <= info["cells"]
    assert info["recall_at_10"] >= 0.95 and info["probes"] == "passage sample"
    # Held-out queries (not the probes it was tuned on) reach nearly the same recall.
    assert recall_at(search(index, info, held_out), exact_top(vectors, held_out, 10)) >= 0.9
    assert f"nprobe={info['nprobe']}" in describe(info)


def test_probe_vectors_given_are_what_nprobe_is_tuned_on():
    vectors = clustered(2000)
    probes = clustered(50, seed=2)
    _, info = build_vector_index(vectors, VectorIndexSettings(ann_min_vectors=1000), probes)
    assert info["probes"] == "reader questions" and info["probe_queries"] == 50


@pytest.mark.parametrize("size", [300, 3000])
def test_deleted_passages_are_never_returned(size):
    vectors = clustered(size)
    index, info = build_vector_index(vectors, VectorIndexSettings(ann_min_vectors=1000))
    live = np.ones(size, dtype=bool)
    live[::2] = False
    selector, bitmap = live_selector(live)
    found = search(index, info, vectors[:10], selector=selector)
    assert len(bitmap) and (found >= 0).all() and live[found].all()


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("HEARTSEARCH_ANN_MIN_VECTORS", "500")
    monkeypatch.setenv("HEARTSEARCH_ANN_STORAGE", "SQ8")
    settings = VectorIndexSettings.from_env()
    assert (settings.ann_min_vectors, settings.storage) == (500, "sq8")
    monkeypatch.setenv("HEARTSEARCH_ANN_STORAGE", "pq4")
    with pytest.raises(ValueError, match="HEARTSEARCH_ANN_STORAGE must be one of"):
        VectorIndexSettings.from_env()
