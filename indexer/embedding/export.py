"""Export a packaged model's weights to ONNX, once, and keep it.

Which weights, where they come from and which precisions exist is the
registry's (registry.py: a spec's `weights`, `module`, `precision`,
`export_folder`); `weights` defaults to the default model's
(all-MiniLM-L6-v2). `ensure_export(variant)` returns a folder holding `model.onnx` (the BERT
encoder: input_ids, attention_mask, token_type_ids -> last_hidden_state;
pooling and normalisation are done by `OnnxEmbedder`), the tokenizer and
the pooling configuration it needs, and `manifest.json`. An MPNet encoder
(all-mpnet-base-v2) has no token_type_ids input (`model_inputs`). Variants:

  fp32  `torch.onnx.export` (TorchScript exporter, opset 17, dynamic batch
        and sequence axes) of the model in the spec's package;
  int8  the fp32 export with its weights dynamically quantised to int8
        (quantize.py: `onnxruntime.quantization.quantize_dynamic`, the
        weights' options);
  int8-token  the fp32 export rewritten to int8 with per-token activation
        scales (quantize.py: `quantize_per_token`; MiniLM only).

Where: `$HEARTSEARCH_MODEL_CACHE`, else `data/models/` in the project (one
cache for every index folder: the export depends only on the model, not on
the index; `data/` is git-ignored). Folder per variant: the spec's
`export_folder`, `<cache>/<weights>-onnx-<variant>/`.

An export is re-used only if its manifest matches: same format version,
variant and options, the same source model (SHA-256 of each source file),
and every exported file present with the recorded size and SHA-256. Anything
else (a stale, partial or corrupted folder) is exported again. An export is
written to a temporary folder beside the target and renamed into place, and
exports in the cache are serialised by a lock file, so readers never see a
half-written export and two processes never both export. No network: the
model comes from the installed package (HF_HUB_OFFLINE=1 is set).

Command line: `python -m indexer.embedding.export [fp32|int8|int8-token ...] [--weights NAME] [--cache DIR]`;
`--sources` only makes every registered model's source folder ready (a split
zip reassembled and verified: split_zip.py), as `make install` does.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from indexer.settings import MODEL_CACHE
from indexer.embedding.cache_files import cache_lock, file_sha256
from indexer.embedding.quantize import QUANT_OPTIONS, QUANTIZED_PRECISIONS, quant_options, quantize, quantize_int8
from indexer.embedding.registry import DEFAULT_MODEL, SPECS, ModelSpec, model_spec, onnx_precisions, onnx_spec

log = logging.getLogger(__name__)

MODEL_NAME = model_spec(DEFAULT_MODEL).weights  # the default weights (recorded as "model" in a manifest)
FORMAT_VERSION = 1
OPSET = 17
VARIANTS = onnx_precisions()
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
# Encoders that take no token_type_ids (their config.json "model_type").
NO_TOKEN_TYPES = ("mpnet",)
OUTPUT_NAME = "last_hidden_state"
# Files of the source model that decide the export; a change to any redoes it.
SOURCE_FILES = ("config.json", "model.safetensors", "tokenizer.json", "sentence_bert_config.json",
                "1_Pooling/config.json")
# Copied next to model.onnx so the export folder is self-contained.
COPIED_FILES = ("tokenizer.json", "sentence_bert_config.json", "1_Pooling/config.json", "config.json")
EXPORT_TOLERANCE = 1e-3  # max abs difference of last_hidden_state vs torch, checked at export


class ExportError(RuntimeError):
    pass


def default_cache_dir() -> Path:
    return MODEL_CACHE.read()


def _spec(variant: str, weights: str | None = None) -> ModelSpec:
    return onnx_spec(variant, weights)  # ValueError "unknown ONNX variant" for one the registry lacks


def source_model_dir(weights: str | None = None) -> Path:
    """The installed model folder the export is made from."""
    return _spec("fp32", weights).model_dir()


def export_dir(variant: str, cache_dir: Path | None = None, weights: str | None = None) -> Path:
    return Path(cache_dir or default_cache_dir()) / _spec(variant, weights).export_folder


def source_fingerprint(source: Path) -> dict[str, str]:
    missing = [name for name in SOURCE_FILES if not (source / name).is_file()]
    if missing:
        raise ExportError(f"the model folder {source} lacks {', '.join(missing)}")
    return {name: file_sha256(source / name) for name in SOURCE_FILES}


def expected_identity(variant: str, source: Path, weights: str | None = None) -> dict:
    """What a usable export's manifest must say."""
    identity = {"format": FORMAT_VERSION, "model": _spec(variant, weights).weights, "variant": variant,
                "opset": OPSET,
                "source_files": source_fingerprint(source)}
    if variant == "int8":
        identity["quantization"] = dict(quant_options(weights or MODEL_NAME), weight_type="QInt8")
    elif variant in QUANTIZED_PRECISIONS:
        identity["quantization"] = dict(quant_options(weights or MODEL_NAME, variant))
    return identity


def check_export(folder: Path, identity: dict) -> str | None:
    """None if `folder` is a complete export matching `identity`, else why not."""
    manifest_path = folder / "manifest.json"
    if not folder.is_dir():
        return "not exported yet"
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        return f"no readable manifest ({exc.__class__.__name__})"
    for key, value in identity.items():
        if manifest.get(key) != value:
            return f"manifest {key!r} differs (stale export)"
    files = manifest.get("files")
    if not isinstance(files, dict) or "model.onnx" not in files:
        return "manifest lists no model.onnx"
    for name, meta in files.items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        if path.stat().st_size != meta.get("bytes"):
            return f"{name} has the wrong size (partial or corrupted)"
        if file_sha256(path) != meta.get("sha256"):
            return f"{name} has the wrong checksum (corrupted)"
    return None


# ------------------------------------------------------------------ exporting
def ensure_export(variant: str = "fp32", cache_dir: Path | None = None,
                  source: Path | None = None, weights: str | None = None) -> Path:
    """The folder of a valid export of `variant` of `weights` (default: the
    default model's), exporting it first if needed."""
    _spec(variant, weights)
    cache_dir = Path(cache_dir or default_cache_dir())
    source = Path(source or source_model_dir(weights))
    target = export_dir(variant, cache_dir, weights)
    if check_export(target, expected_identity(variant, source, weights)) is None:
        return target
    with cache_lock(cache_dir):
        return _ensure_locked(variant, cache_dir, source, weights)


def _ensure_locked(variant: str, cache_dir: Path, source: Path, weights: str | None = None) -> Path:
    """`ensure_export` with the cache lock held."""
    target = export_dir(variant, cache_dir, weights)
    identity = expected_identity(variant, source, weights)
    problem = check_export(target, identity)  # another process may have exported meanwhile
    if problem is None:
        return target
    fp32 = _ensure_locked("fp32", cache_dir, source, weights) if variant != "fp32" else None
    log.info("exporting %s to ONNX %s in %s (%s)", identity["model"], variant, target, problem)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=cache_dir))
    try:
        if fp32 is None:
            extra = _export_fp32(source, tmp)
        elif variant == "int8":
            extra = _quantize_int8(fp32, tmp, quant_options(weights or MODEL_NAME))
        else:
            quantize(variant, fp32 / "model.onnx", tmp / "model.onnx", quant_options(weights or MODEL_NAME, variant))
            extra = {}
        for name in COPIED_FILES:
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / name, tmp / name)
        _write_manifest(tmp, identity, extra, time.perf_counter() - started)
        problem = check_export(tmp, identity)
        if problem is not None:
            raise ExportError(f"the fresh export failed its own check: {problem}")
        tmp.chmod(0o755)  # mkdtemp makes it private
        _replace_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("exported %s to ONNX %s in %.1fs", identity["model"], variant, time.perf_counter() - started)
    return target


def _replace_dir(new: Path, target: Path) -> None:
    """Put `new` at `target`; an old folder there is moved aside first and
    then deleted (a directory rename cannot replace a non-empty one)."""
    old = None
    if target.exists() or target.is_symlink():
        old = target.with_name(f".{target.name}.old-{os.getpid()}-{time.monotonic_ns()}")
        os.rename(target, old)
    os.rename(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_manifest(folder: Path, identity: dict, extra: dict, seconds: float) -> None:
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json"):
        name = path.relative_to(folder).as_posix()
        files[name] = {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
    manifest = dict(identity, files=files, created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    seconds=round(seconds, 2), versions=_versions(), **extra)
    tmp = folder / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, folder / "manifest.json")


def _versions() -> dict[str, str]:
    versions = {}
    for module in ("torch", "transformers", "onnx", "onnxruntime"):
        try:
            versions[module] = __import__(module).__version__
        except Exception:  # noqa: BLE001 - informational only
            pass
    return versions


def model_inputs(source: Path) -> tuple[str, ...]:
    """The encoder's input names: BERT's three, or two for a model type
    that has no token types (the ONNX graph then has no such input)."""
    model_type = json.loads((source / "config.json").read_text()).get("model_type")
    return INPUT_NAMES[:2] if model_type in NO_TOKEN_TYPES else INPUT_NAMES


def _sample_inputs():
    """Two padded rows of different lengths, for tracing and the self-check."""
    import torch
    ids = torch.tensor([[101, 2054, 2003, 1037, 2540, 2162, 1029, 102, 0, 0, 0],
                        [101, 3112, 4975, 3132, 1998, 2152, 2668, 3778, 7388, 2540, 102]])
    return ids, (ids != 0).long(), torch.zeros_like(ids)


def _export_fp32(source: Path, folder: Path) -> dict:
    import warnings

    import numpy as np
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the load report lists the unused pooler weights
    try:
        # Eager attention and no pooler: the plainest graph to trace.
        # safetensors only: never unpickle weights.
        model = AutoModel.from_pretrained(str(source), attn_implementation="eager",
                                          add_pooling_layer=False, use_safetensors=True).eval()
    finally:
        hf_logging.set_verbosity(verbosity)

    names = model_inputs(source)

    class Encoder(torch.nn.Module):
        """The encoder with the attention mask made here, as an additive 4-D
        bias: transformers' own mask builder branches on tensor values,
        which tracing would freeze."""

        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            bias = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) \
                * torch.finfo(torch.float32).min
            extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
            return self.bert(input_ids=input_ids, attention_mask=bias, **extra).last_hidden_state

    encoder = Encoder(model).eval()
    sample = _sample_inputs()[:len(names)]
    # Check on inputs other than the traced ones: a shape baked into the graph shows here.
    check_ids = torch.randint(1000, 20000, (3, 23), generator=torch.Generator().manual_seed(0))
    check_ids[:, 0] = 101
    check_mask = torch.ones_like(check_ids)
    check_mask[1, 9:] = 0
    check = (check_ids, check_mask, torch.zeros_like(check_ids))[:len(names)]
    with torch.no_grad():
        reference = encoder(*check).numpy()
    path = folder / "model.onnx"
    axes = {name: {0: "batch", 1: "sequence"} for name in (*names, OUTPUT_NAME)}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notices
        torch.onnx.export(encoder, sample, str(path), input_names=list(names),
                          output_names=[OUTPUT_NAME], dynamic_axes=axes, opset_version=OPSET,
                          do_constant_folding=True, dynamo=False)
    import onnx
    onnx.checker.check_model(str(path))
    output = _run(path, {n: t.numpy() for n, t in zip(names, check)})
    mask = check_mask.numpy()[..., None].astype(bool)
    diff = float(np.abs((output - reference) * mask).max())
    if not diff < EXPORT_TOLERANCE:
        raise ExportError(f"the ONNX export differs from torch by {diff:g} (tolerance {EXPORT_TOLERANCE})")
    return {"check_max_abs_diff": diff}


def _run(path: Path, feed: dict):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run([OUTPUT_NAME], feed)[0]


def _quantize_int8(fp32_dir: Path, folder: Path, options: dict | None = None) -> dict:
    quantize_int8(fp32_dir / "model.onnx", folder / "model.onnx", QUANT_OPTIONS if options is None else options)
    return {}


def quantize_variant(fp32_dir: Path, folder: Path, per_channel: bool, reduce_range: bool,
                     matmul_only: bool = False) -> Path:
    """An int8 model with the given options in `folder` (for comparing options
    in the benchmark; the cached int8 export uses QUANT_OPTIONS)."""
    folder.mkdir(parents=True, exist_ok=True)
    _quantize_int8(fp32_dir, folder, {"per_channel": per_channel, "reduce_range": reduce_range,
                                      "matmul_only": matmul_only})
    for name in COPIED_FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(fp32_dir / name, folder / name)
    return folder


def main(argv: list[str] | None = None) -> int:
    import argparse
    parser = argparse.ArgumentParser(prog="python -m indexer.embedding.export",
                                     description=f"Export {MODEL_NAME} to ONNX (cached).")
    parser.add_argument("variants", nargs="*", metavar="VARIANT",
                        help=f"{' or '.join(VARIANTS)} (default: all)")
    parser.add_argument("--weights", default=None, metavar="NAME",
                        help=f"whose weights (default: {MODEL_NAME})")
    parser.add_argument("--cache", type=Path, default=None,
                        help="cache folder (default: $HEARTSEARCH_MODEL_CACHE or data/models)")
    parser.add_argument("--sources", action="store_true",
                        help="only make every model's source folder ready (reassemble split zips), no export")
    args = parser.parse_args(argv)
    if args.sources:
        for weights in dict.fromkeys(spec.weights for spec in SPECS):
            print(source_model_dir(weights))
        return 0
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant {unknown[0]!r} (choose from {', '.join(VARIANTS)})")
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    log.setLevel(logging.INFO)
    for variant in args.variants or VARIANTS:
        print(ensure_export(variant, args.cache, weights=args.weights))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
