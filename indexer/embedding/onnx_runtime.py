"""A model run by onnxruntime from a cached ONNX export
(indexer/embedding/export.py): tokenised with `tokenizers` from the
export's tokenizer.json (truncated at max_seq_length), mean-pooled over the
attention mask, L2-normalised. onnxruntime and tokenizers are imported when
a model is made, not when this module is.

Threads: each model call runs on one core (intra-op threads = 1), so a
query costs one core and concurrent requests each get their own. A call
with many texts (a build: 64 at a time) is split into sub-batches run by
`threads` workers at once ($HEARTSEARCH_MODEL_THREADS, default: all
cores). On the 2-core machine this beat intra-op threading for builds and
for concurrent queries, and suffers far less when other processes compete
for the cores (benchmarks/bench_model.py, docs/performance.md).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from indexer.embedding.base import CountingEmbedder, model_threads
from indexer.embedding.registry import onnx_spec


def _pad_id(tokenizer) -> int:
    """The id the tokenizer pads with (MPNet: `<pad>`, 1; BERT: `[PAD]`,
    0). The mask makes padding irrelevant to attention, but MPNet derives
    position ids from which ids are padding, so it must be the real one."""
    padding = tokenizer.padding
    if padding and padding.get("pad_id") is not None:
        return int(padding["pad_id"])
    return int(tokenizer.token_to_id("[PAD]") or 0)


# Precisions whose activation scale spans a whole model call (dynamic
# quantisation): in a batch, a text's vector would depend on its batch-mates
# (measurably off its vector alone: docs/performance.md, "int8: one text per
# model call") and a cached passage vector would not be reproducible.
ONE_TEXT_PER_CALL = ("int8",)
# Word pieces (rows x padded width) per model call, for precisions that batch
# better in small calls: int8-token's large batches ran slower per text than
# small ones on the 2-core machine (the extra passes over its activations
# leave the cache; docs/performance.md, "Batchable int8").
MAX_BATCH_TOKENS = {"int8-token": 1024}


def _batches(order: list[int], lengths: list[int], size: int, max_tokens: int | None = None) -> list[list[int]]:
    """`order` (longest first) cut into batches of at most `size` rows and,
    if `max_tokens`, at most that many padded word pieces (rows x the
    first row's length); a text longer than `max_tokens` is a batch alone."""
    batches: list[list[int]] = []
    for i in order:
        batch = batches[-1] if batches else None
        if batch is not None and len(batch) < size and \
                (max_tokens is None or (len(batch) + 1) * lengths[batch[0]] <= max_tokens):
            batch.append(i)
        else:
            batches.append([i])
    return batches


class OnnxEmbedder(CountingEmbedder):
    """The ONNX export of `variant` (the spec's precision: "fp32", "int8",
    "int8-token"), named as the registry names that model.

    "fp32" agrees with the torch model to float rounding and so has
    the torch model's name (an index built with either serves the other);
    the int8 precisions differ measurably and have their own, so an index
    refuses a mix.

    fp32 and int8-token texts are batched (padded to the batch's longest; the
    mask makes padding irrelevant, and int8-token scales each token on its
    own). int8 texts run one at a time (ONE_TEXT_PER_CALL).
    """

    PARALLEL_MIN_TEXTS = 8  # fewer texts (a query) run in the caller's thread

    def __init__(self, variant: str = "fp32", threads: int | None = None,
                 cache_dir: str | os.PathLike | None = None, folder: str | os.PathLike | None = None,
                 intra_op_threads: int = 1, weights: str | None = None):
        """`folder`: use this export folder as it is (benchmarks); otherwise
        the cached export of `variant` in `cache_dir` (made if needed).
        `weights`: whose export (default: the default model's)."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from indexer.embedding.export import OUTPUT_NAME, ensure_export

        super().__init__()
        self.spec = onnx_spec(variant, weights)
        self.variant = variant
        self.name = self.spec.name
        self.folder = Path(folder) if folder is not None else \
            Path(ensure_export(variant, Path(cache_dir) if cache_dir else None, weights=weights))
        config = json.loads((self.folder / "sentence_bert_config.json").read_text())
        pooling = json.loads((self.folder / "1_Pooling" / "config.json").read_text())
        if not pooling.get("pooling_mode_mean_tokens"):
            raise ValueError(f"{self.folder}: only mean pooling is implemented")
        self.dimension = int(pooling["word_embedding_dimension"])
        self.max_tokens = int(config["max_seq_length"])
        self._lowercase = bool(config.get("do_lower_case"))
        self._per_text = variant in ONE_TEXT_PER_CALL
        self._max_batch_tokens = MAX_BATCH_TOKENS.get(variant)

        tokenizer_file = str(self.folder / "tokenizer.json")
        self._tokenizer = Tokenizer.from_file(tokenizer_file)
        self._pad_id = _pad_id(self._tokenizer)  # read before no_padding() forgets it
        self._tokenizer.enable_truncation(max_length=self.max_tokens)
        self._tokenizer.no_padding()  # padded here, per batch
        self._counter = Tokenizer.from_file(tokenizer_file)  # untruncated, for count_tokens
        self._counter.no_truncation()
        self._counter.no_padding()

        self.threads = int(threads or model_threads())
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, int(intra_op_threads))
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only
        self._session = ort.InferenceSession(str(self.folder / "model.onnx"), options,
                                             providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._output = OUTPUT_NAME
        # An onnxruntime session may be run from several threads at once
        # (and releases the GIL); the lock guards only the counter and pool.
        self._pool = None

    def _ids(self, texts: list[str]) -> list[list[int]]:
        if self._lowercase:
            texts = [t.lower() for t in texts]
        return [e.ids for e in self._tokenizer.encode_batch(texts)]

    def _workers(self):
        with self._lock:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="onnx-embed")
            return self._pool

    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        ids = self._ids(texts)
        parallel = self.threads > 1 and len(ids) >= self.PARALLEL_MIN_TEXTS
        if self._per_text:
            size = 1
        else:
            size = max(1, int(batch_size))
            if parallel:  # enough batches to keep every worker busy
                size = min(size, -(-len(ids) // self.threads))
        # Longest first, as sentence-transformers does: batches of similar
        # length waste less padding. Rows go back to the caller's order.
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
        batches = _batches(order, [len(row) for row in ids], size, self._max_batch_tokens)
        out = np.empty((len(ids), self.dimension), dtype=np.float32)
        bar = None
        if show_progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=len(order), desc="embedding", unit="text")
        try:
            run = lambda rows: self._embed([ids[i] for i in rows])  # noqa: E731
            results = self._workers().map(run, batches) if parallel else map(run, batches)
            for rows, vectors in zip(batches, results):
                out[rows] = vectors
                if bar is not None:
                    bar.update(len(rows))
        finally:
            if bar is not None:
                bar.close()
        return out

    def _embed(self, batch: list[list[int]]) -> np.ndarray:
        width = max(len(row) for row in batch)
        input_ids = np.full((len(batch), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for r, row in enumerate(batch):
            input_ids[r, :len(row)] = row
            mask[r, :len(row)] = 1
        feed = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(input_ids)
        hidden = self._session.run([self._output], feed)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text.lower() if self._lowercase else text).ids)
