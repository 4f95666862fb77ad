"""How an fp32 ONNX export becomes the int8 one: the quantisation options
of each model's weights, and the one call that applies them.

Dynamic quantisation (`onnxruntime.quantization.quantize_dynamic`): int8
weights, activations scaled per call. Which options suit a model is a
measurement, so they live here per weights and are recorded in the
export's manifest (export.py): a change of options re-exports.
"""
from __future__ import annotations

from pathlib import Path

# Chosen by measurement (`python -m benchmarks.bench_model --quant-options`):
# per-channel weights, quantising the MatMuls only, keep int8 vectors
# closest to the torch ones (best mean and worst case); per-tensor weights
# and reduce_range lose much more. The price is a larger file, since the
# word-embedding table stays fp32 (figures: docs/performance.md, "int8
# quantisation options").
QUANT_OPTIONS = {"per_channel": True, "reduce_range": False, "matmul_only": True}
# Weights quantised otherwise. MPNet: each layer's second feed-forward MatMul
# (node names containing "/output/dense/") reads GELU activations whose outliers
# one int8 scale cannot hold; quantised, the vectors drift far from fp32, kept
# fp32 they stay as close as MiniLM's int8 (figures: docs/quality.md, "A second model").
QUANT_OPTIONS_BY_WEIGHTS = {"all-mpnet-base-v2": dict(QUANT_OPTIONS, fp32_matmuls="/output/dense/")}


def quant_options(weights: str) -> dict:
    """The int8 options of `weights`."""
    return QUANT_OPTIONS_BY_WEIGHTS.get(weights, QUANT_OPTIONS)


def quantize_int8(source: Path, target: Path, options: dict) -> None:
    """`source` (an fp32 model.onnx) quantised with `options` into `target`."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    extra = {"op_types_to_quantize": ["MatMul"]} if options.get("matmul_only") else {}
    if options.get("fp32_matmuls"):
        extra["nodes_to_exclude"] = matmuls_named(source, options["fp32_matmuls"])
    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=options["per_channel"],
                     reduce_range=options["reduce_range"], **extra)
    for leftover in target.parent.glob("*-inferred.onnx"):  # older onnxruntime leaves this behind
        leftover.unlink()


def matmuls_named(path: Path, part: str) -> list[str]:
    """The MatMul nodes whose name contains `part` (kept fp32); none is an
    error, since the options would then silently quantise everything."""
    import onnx
    graph = onnx.load(str(path), load_external_data=False).graph
    names = [node.name for node in graph.node if node.op_type == "MatMul" and part in node.name]
    if not names:
        raise ValueError(f"no MatMul named like {part!r} to keep fp32 in {path}")
    return names
