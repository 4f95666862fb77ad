"""A model run by sentence-transformers on torch (fp32, CPU).

The reference runtime: the ONNX export is checked against it, and it is
what stands in when onnxruntime is missing. torch and sentence-transformers
are imported when a model is made, not when this module is.

Calls with few texts (a query) run on one torch thread: with two threads
on two cores a query gained a little on an idle machine, but when other
work shared the cores its tail latency grew many times over (OpenMP
threads waiting on each other; figures: docs/performance.md, "Model
threads: one torch thread for a query"). Batches
use `threads` (default: torch's own choice, all cores).
"""
from __future__ import annotations

import contextlib

import numpy as np

from indexer.embedding.base import CountingEmbedder
from indexer.embedding.registry import DEFAULT_MODEL, model_spec


class SentenceTransformerEmbedder(CountingEmbedder):
    """Model `model` (a spec that runs on torch; default the fp32 model)
    from the folder its package installs."""

    SMALL_CALL = 8  # fewer texts than this run on one thread
    serial = True   # torch modules are not re-entrant across threads

    def __init__(self, threads: int | None = None, model: str = DEFAULT_MODEL):
        spec = model_spec(model)
        if not spec.runs_on("torch"):
            raise ValueError(f"{model!r} has no torch runtime (runtimes: {', '.join(spec.runtimes)})")
        import torch
        from sentence_transformers import SentenceTransformer

        from transformers.utils import logging as hf_logging
        hf_logging.disable_progress_bar()  # the weight-loading bar is noise in logs
        super().__init__()
        if threads:
            torch.set_num_threads(threads)
            if threads == 1:  # a server: no inter-op pool either (settable only before first use)
                with contextlib.suppress(RuntimeError):
                    torch.set_num_interop_threads(1)
        self.spec = spec
        self.name = spec.name
        # safetensors and JSON only: no pickled weights, no code from the model folder.
        self._model = SentenceTransformer(str(spec.model_dir()), device="cpu", trust_remote_code=False,
                                          model_kwargs={"use_safetensors": True})
        self.dimension = int(self._model.get_embedding_dimension()
                             if hasattr(self._model, "get_embedding_dimension")
                             else self._model.get_sentence_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)

    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        import torch
        threads = torch.get_num_threads()
        small = len(texts) < self.SMALL_CALL and threads > 1
        if small:
            torch.set_num_threads(1)
        try:
            vectors = self._model.encode(
                texts, batch_size=batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=show_progress,
            )
        finally:
            if small:
                torch.set_num_threads(threads)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=True)["input_ids"])
