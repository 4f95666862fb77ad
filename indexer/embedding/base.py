"""What every runtime shares: the `Embedder` interface, the error a build
raises when its model cannot be had, the thread setting, and the part of
`encode` that is the same for every runtime.

Kept free of torch, onnxruntime and the registry so that importing the
interface (the index, the app, type hints) costs nothing.
"""
from __future__ import annotations

import os
import threading
from typing import Protocol, Sequence

import numpy as np

from indexer.settings import MODEL_THREADS


class Embedder(Protocol):
    """A model as the rest of the code sees it. `name` is stored in every
    index so that a mismatch is caught; `encode` returns L2-normalised
    float32 rows, so inner product is cosine similarity."""

    name: str
    dimension: int
    max_tokens: int

    def encode(self, texts: Sequence[str], batch_size: int = 32,
               show_progress: bool = False) -> np.ndarray: ...


class ModelUnavailable(RuntimeError):
    """The model a build decided on could not be loaded as that model."""


def model_threads(default: int | None = None) -> int:
    """Cores a many-text call may use (onnx: parallel one-thread workers;
    torch: its thread count): $HEARTSEARCH_MODEL_THREADS, else `default`,
    else all cores. Queries always use one."""
    value = MODEL_THREADS.read()
    if value is not None and value > 0:
        return value
    return default or os.cpu_count() or 1


class CountingEmbedder:
    """The shared front of a runtime's `encode`: nothing to embed gives an
    empty (0, dimension) array without touching the model, and every text
    embedded is counted in `calls` (tests use it to prove caching).

    A runtime sets `dimension` and implements `_encode` for a non-empty
    list. `serial`: model calls run one at a time, under the same lock as
    the counter (torch modules are not re-entrant across threads; an
    onnxruntime session is, and releases the GIL)."""

    dimension: int
    serial = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = 0

    def encode(self, texts: Sequence[str], batch_size: int = 32,
               show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        texts = list(texts)
        with self._lock:
            self.calls += len(texts)
            if self.serial:
                return self._encode(texts, batch_size, show_progress)
        return self._encode(texts, batch_size, show_progress)

    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        raise NotImplementedError
