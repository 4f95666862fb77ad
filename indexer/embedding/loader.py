"""Which model, on which runtime: `load_embedder` (once per process),
`LazyEmbedder` (loaded only when a build has something to embed), and the
environment variables that choose.

The runtime comes from the model's spec (registry.py): a model with one
runtime (int8: onnx) always gets it; one with several (fp32: onnx, torch)
gets $HEARTSEARCH_RUNTIME's choice, default onnx. If ONNX cannot run
(onnxruntime missing, the export failed), a warning is logged and torch
runs the spec's `stand_in` under that model's own name, so an int8 index
is refused rather than queried with fp32 vectors.
"""
from __future__ import annotations

import logging
import sys
import threading
from typing import Sequence

import numpy as np

from indexer.embedding.base import Embedder, ModelUnavailable, model_threads
from indexer.embedding.onnx_runtime import OnnxEmbedder
from indexer.embedding.registry import (DEFAULT_MODEL, DEFAULT_RUNTIME, MODELS, RUNTIMES, ModelSpec, model_spec,
                                        stand_in)
from indexer.embedding.torch_runtime import SentenceTransformerEmbedder
from indexer.settings import MODEL, MODEL_THREADS, RUNTIME

log = logging.getLogger(__name__)

_shared: dict[str, Embedder] = {}
_shared_lock = threading.Lock()


def runtime_from_env() -> str:
    """$HEARTSEARCH_RUNTIME: "onnx" or "torch" (default DEFAULT_RUNTIME)."""
    runtime = (RUNTIME.read() or DEFAULT_RUNTIME).lower()
    if runtime not in RUNTIMES:
        raise ValueError(f"HEARTSEARCH_RUNTIME must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
    return runtime


def model_from_env() -> str | None:
    """$HEARTSEARCH_MODEL (one of MODELS), or None if unset."""
    name = MODEL.read()
    if not name:
        return None
    if name not in MODELS:
        raise ValueError(f"HEARTSEARCH_MODEL must be one of {', '.join(MODELS)}, not {name!r}")
    return name


def load_embedder(name: str = DEFAULT_MODEL, threads: int | None = None) -> Embedder:
    """Model `name`, loaded once per process (loading is slow and takes
    real memory: docs/performance.md, "Loading a model once per process"),
    on the runtime its spec and $HEARTSEARCH_RUNTIME choose.

    `threads`: cores a many-text call may use (default:
    $HEARTSEARCH_MODEL_THREADS, else all); a server passes 1. It takes
    effect when the model is first loaded in the process.
    """
    with _shared_lock:
        if name not in _shared:
            _shared[name] = _make_embedder(model_spec(name), threads)
        return _shared[name]


def pick_runtime(spec: ModelSpec) -> str:
    """The runtime `spec` runs on here: its only one, else $HEARTSEARCH_RUNTIME's
    choice if the spec has it, else the spec's first."""
    if len(spec.runtimes) == 1:
        return spec.runtimes[0]
    runtime = runtime_from_env()
    return runtime if spec.runs_on(runtime) else spec.runtimes[0]


def _make_embedder(spec: ModelSpec, threads: int | None = None) -> Embedder:
    torch_spec = stand_in(spec)
    if pick_runtime(spec) == "onnx":
        try:
            return OnnxEmbedder(spec.precision, threads=threads, weights=spec.weights)
        except Exception as exc:  # noqa: BLE001 - any failure: the torch model still works
            log.warning("the ONNX runtime is unavailable (%s: %s); using the torch model %r instead%s",
                        exc.__class__.__name__, exc, torch_spec.name,
                        f" (not {spec.name!r})" if torch_spec is not spec else "")
    if threads is None and MODEL_THREADS.read() is not None:
        threads = model_threads()
    return SentenceTransformerEmbedder(threads=threads, model=torch_spec.name)


def onnxruntime_available() -> bool:
    """Whether `import onnxruntime` can work, without importing it."""
    if "onnxruntime" in sys.modules:
        return sys.modules["onnxruntime"] is not None
    import importlib.util
    return importlib.util.find_spec("onnxruntime") is not None


def expected_name(name: str) -> str:
    """The name model `name` will have once loaded here: without
    onnxruntime, a model that runs only on ONNX is replaced by its torch
    stand-in."""
    spec = model_spec(name)
    return name if spec.runs_on("torch") or onnxruntime_available() else stand_in(spec).name


class LazyEmbedder:
    """An `Embedder` for model `name` that is loaded (by `load`, default
    `load_embedder`) only when first used: a build that finds nothing to
    embed never pays for loading.

    `name` is known before loading, so a build can compare it with the live
    index's and decide what to re-embed: it is the name the model will have
    (`expected_name`: fp32 when onnxruntime is missing and torch stands in).
    If the loaded model turns out to have another name (the ONNX export
    failed), `ModelUnavailable` is raised before anything is embedded,
    rather than mixing two models' vectors in one index."""

    def __init__(self, name: str, load=None):
        if load is None:
            model_spec(name)  # an unknown name fails here, not at first use
        self._load = load or (lambda: load_embedder(name))
        self._name = name if load is not None else expected_name(name)
        self._requested = name
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Embedder:
        with self._lock:
            if self._model is None:
                model = self._load()
                if model.name != self._name:
                    raise ModelUnavailable(
                        f"the embedding model {self._requested!r} could not be loaded ({model.name!r} would stand "
                        f"in; see the warning above); nothing was published. Fix the model runtime, or build "
                        f"with --model {model.name}")
                self._model = model
            return self._model

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self.model.dimension

    @property
    def max_tokens(self) -> int:
        return self.model.max_tokens

    def encode(self, texts: Sequence[str], batch_size: int = 32,
               show_progress: bool = False) -> np.ndarray:
        return self.model.encode(texts, batch_size=batch_size, show_progress=show_progress)

    def __getattr__(self, attr: str):  # count_tokens, calls, encode_batches (a Dask cluster), ...
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(self.model, attr)
