"""How an fp32 ONNX export becomes an int8 one: the quantisation options
of each model's weights and precision, and the calls that apply them.

Two precisions (the registry's `precision`, each its own model name):

  int8        dynamic quantisation (`onnxruntime.quantization.quantize_dynamic`):
              int8 weights, activations scaled per call. One scale covers
              every text of a call, so a text's vector depends on its
              batch-mates and such a model embeds one text per call.
  int8-token  int8 weights, activations scaled per token (`quantize_per_token`):
              each token's row gets its own scale, so a text's vector is
              the same alone or in any batch (and padding changes nothing),
              and the model can batch. onnxruntime has no per-token
              quantiser, so the graph is rewritten here; static
              (calibrated) quantisation was measured instead and lost
              more (docs/performance.md, "Batchable int8").

Which options suit a model is a measurement, so they live here and are
recorded in the export's manifest (export.py): a change of options re-exports.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

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


# int8-token: symmetric int8 weights per output channel, symmetric int8
# activations per token (unsigned with zero point 128, onnxruntime's fast
# u8 x s8 kernel), every MatMul with a weight; attention's two
# activation-by-activation MatMuls stay fp32, as in int8.
PER_TOKEN_OPTIONS = {"scheme": "per_token", "weights": "per_channel_symmetric",
                     "activations": "per_token_symmetric", "matmul_only": True}
QUANTIZED_PRECISIONS = ("int8", "int8-token")


def quant_options(weights: str, precision: str = "int8") -> dict:
    """The options of `precision` (an int8 one) for `weights`."""
    if precision == "int8-token":
        return PER_TOKEN_OPTIONS
    if precision != "int8":
        raise ValueError(f"{precision!r} is not a quantised precision")
    return QUANT_OPTIONS_BY_WEIGHTS.get(weights, QUANT_OPTIONS)


def quantize(precision: str, source: Path, target: Path, options: dict) -> None:
    """`source` (an fp32 model.onnx) quantised to `precision` into `target`."""
    if precision == "int8-token":
        quantize_per_token(source, target, options)
    else:
        quantize_int8(source, target, options)


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


# The activation side of int8-token: x / max|x| of its row is in [-1, 1];
# 1/127 as the scale and 128 as the zero point put it in [1, 255].
_UNIT_SCALE = np.float32(1 / 127)
_ZERO_POINT = np.uint8(128)
_TINY = np.float32(1e-12)  # an all-zero row quantises to zeros instead of dividing by 0


def quantize_per_token(source: Path, target: Path, options: dict) -> None:
    """`source` rewritten so that every MatMul by a weight runs in int8 with
    one activation scale per token: `a = max|x|` over the row, `x/a`
    quantised with a fixed scale, onnxruntime's MatMulIntegerToFloat
    against the per-channel int8 weight, and the result times `a`. An input
    shared by several MatMuls (attention's query, key and value) is
    quantised once. Deterministic: the same source gives the same bytes."""
    import onnx
    from onnx import helper, numpy_helper

    if options.get("scheme") != "per_token":
        raise ValueError(f"not per-token options: {options}")
    model = onnx.load(str(source))
    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    nodes, quantised = [], {}
    exclude = options.get("fp32_matmuls")
    added = [numpy_helper.from_array(np.array(_UNIT_SCALE), "pt/unit_scale"),
             numpy_helper.from_array(np.array(_ZERO_POINT), "pt/zero_point"),
             numpy_helper.from_array(np.array(_TINY), "pt/tiny")]
    for node in graph.node:
        if node.op_type != "MatMul" or node.input[1] not in weights or (exclude and exclude in node.name):
            nodes.append(node)
            continue
        x, weight = node.input
        values, scales = per_channel_int8(numpy_helper.to_array(weights[weight]))
        name = f"pt{node.name}"
        added += [numpy_helper.from_array(values, f"{name}/weight"),
                  numpy_helper.from_array(scales, f"{name}/weight_scale")]
        if x not in quantised:
            q = f"pt/{x}"
            nodes += [helper.make_node("Abs", [x], [f"{q}/abs"], name=f"{q}/Abs"),
                      helper.make_node("ReduceMax", [f"{q}/abs"], [f"{q}/max0"], name=f"{q}/ReduceMax",
                                       axes=[-1], keepdims=1),
                      helper.make_node("Max", [f"{q}/max0", "pt/tiny"], [f"{q}/max"], name=f"{q}/Max"),
                      helper.make_node("Div", [x, f"{q}/max"], [f"{q}/unit"], name=f"{q}/Div"),
                      helper.make_node("QuantizeLinear", [f"{q}/unit", "pt/unit_scale", "pt/zero_point"],
                                       [f"{q}/int8"], name=f"{q}/Quantize")]
            quantised[x] = (f"{q}/int8", f"{q}/max")
        x_int8, x_max = quantised[x]
        nodes += [helper.make_node("MatMulIntegerToFloat",
                                   [x_int8, f"{name}/weight", "pt/unit_scale", f"{name}/weight_scale", "pt/zero_point"],
                                   [f"{name}/unit_out"], name=f"{name}/MatMulInteger", domain="com.microsoft"),
                  helper.make_node("Mul", [f"{name}/unit_out", x_max], [node.output[0]], name=f"{name}/Rescale")]
    if not quantised:
        raise ValueError(f"no MatMul by a weight to quantise in {source}")
    used = {name for node in nodes for name in node.input}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept + added)
    del graph.node[:]
    graph.node.extend(nodes)
    if not any(op.domain == "com.microsoft" for op in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.checker.check_model(model)
    onnx.save(model, str(target))


def per_channel_int8(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A [in, out] weight as int8 in [-127, 127] and one fp32 scale per
    output column (max |w| of the column / 127)."""
    weight = np.asarray(weight, dtype=np.float32)
    scales = (np.maximum(np.abs(weight).max(axis=0), _TINY) / np.float32(127)).astype(np.float32)
    values = np.clip(np.rint(weight / scales), -127, 127).astype(np.int8)
    return values, scales
