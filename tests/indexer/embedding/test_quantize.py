"""The int8 precisions' quantisers (indexer/embedding/quantize.py) on small
synthetic graphs, and how OnnxEmbedder cuts a call into batches. The graph
rewrite is checked without onnxruntime (fast tier); running the rewritten
graph needs it (heavy). The real model's batch invariance is in
test_runtimes.py."""
from __future__ import annotations

import numpy as np
import pytest

from indexer.embedding.onnx_runtime import MAX_BATCH_TOKENS, ONE_TEXT_PER_CALL, _batches
from indexer.embedding.quantize import (PER_TOKEN_OPTIONS, QUANT_OPTIONS, per_channel_int8, quant_options,
                                        quantize_per_token)
from indexer.embedding.registry import INT8_MODEL, INT8_TOKEN_MODEL, model_spec

K, N = 16, 8


def _tiny_model(path, seed=0):
    """x [batch, tokens, K] -> y: two MatMuls by weights sharing the input
    x (as attention's query and key do) and one MatMul of two activations
    (which stays fp32), mixed per text."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(seed)
    w1 = rng.normal(size=(K, N)).astype(np.float32)
    w2 = rng.normal(size=(K, N)).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["a"], name="/layer/query/MatMul"),
             helper.make_node("MatMul", ["x", "w2"], ["b"], name="/layer/key/MatMul"),
             helper.make_node("Transpose", ["b"], ["bt"], perm=[0, 2, 1], name="/layer/T"),
             helper.make_node("MatMul", ["a", "bt"], ["scores"], name="/layer/self/MatMul"),
             helper.make_node("ReduceMean", ["scores"], ["s"], axes=[-1], keepdims=1, name="/layer/Mean"),
             helper.make_node("Add", ["a", "s"], ["y"], name="/layer/Add")]
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "tokens", K])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "tokens", N])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


# ---------------------------------------------------------------- options and the weight side
def test_each_int8_precision_has_its_options():
    assert quant_options("all-MiniLM-L6-v2") == QUANT_OPTIONS == quant_options("all-MiniLM-L6-v2", "int8")
    assert quant_options("all-MiniLM-L6-v2", "int8-token") == PER_TOKEN_OPTIONS
    with pytest.raises(ValueError, match="not a quantised precision"):
        quant_options("all-MiniLM-L6-v2", "fp32")
    assert model_spec(INT8_TOKEN_MODEL).precision == "int8-token" != model_spec(INT8_MODEL).precision
    assert model_spec(INT8_TOKEN_MODEL).export_folder == "all-MiniLM-L6-v2-onnx-int8-token"


def test_per_channel_weights_are_int8_within_half_a_step():
    rng = np.random.default_rng(1)
    weight = rng.normal(size=(64, 10)).astype(np.float32) * np.linspace(0.01, 10, 10, dtype=np.float32)
    weight[:, 3] = 0  # an all-zero column must not divide by zero
    values, scales = per_channel_int8(weight)
    assert values.dtype == np.int8 and scales.dtype == np.float32 and scales.shape == (10,)
    assert values.min() >= -127 and values.max() <= 127
    assert np.abs(values).max(axis=0)[[0, 9]].tolist() == [127, 127]  # each column uses the full range
    assert np.all(np.abs(values * scales - weight) <= scales / 2 + 1e-7)
    assert not values[:, 3].any()


# ---------------------------------------------------------------- the graph rewrite (no onnxruntime)
def test_the_rewrite_quantises_every_weight_matmul_once_per_input(tmp_path):
    import onnx
    source = _tiny_model(tmp_path / "fp32.onnx")
    quantize_per_token(source, tmp_path / "int8.onnx", PER_TOKEN_OPTIONS)
    graph = onnx.load(str(tmp_path / "int8.onnx")).graph
    ops = [node.op_type for node in graph.node]
    assert ops.count("MatMulIntegerToFloat") == 2
    assert ops.count("QuantizeLinear") == 1  # x feeds both: quantised once
    assert [n.name for n in graph.node if n.op_type == "MatMul"] == ["/layer/self/MatMul"]  # activations x activations
    # the row scale is a max over the last axis only (per token, never across texts)
    (reduce,) = [n for n in graph.node if n.op_type == "ReduceMax"]
    assert [a.ints for a in reduce.attribute if a.name == "axes"] == [[-1]]
    assert {i.name for i in graph.initializer}.isdisjoint({"w1", "w2"})  # the fp32 weights are gone


def test_the_rewrite_is_deterministic(tmp_path):
    source = _tiny_model(tmp_path / "fp32.onnx")
    quantize_per_token(source, tmp_path / "a.onnx", PER_TOKEN_OPTIONS)
    quantize_per_token(source, tmp_path / "b.onnx", PER_TOKEN_OPTIONS)
    assert (tmp_path / "a.onnx").read_bytes() == (tmp_path / "b.onnx").read_bytes()


def test_the_rewrite_refuses_other_options_and_a_graph_without_weights(tmp_path):
    source = _tiny_model(tmp_path / "fp32.onnx")
    with pytest.raises(ValueError, match="not per-token"):
        quantize_per_token(source, tmp_path / "x.onnx", QUANT_OPTIONS)
    with pytest.raises(ValueError, match="no MatMul by a weight"):
        quantize_per_token(source, tmp_path / "x.onnx", dict(PER_TOKEN_OPTIONS, fp32_matmuls="/layer/"))


# ---------------------------------------------------------------- running it (onnxruntime: heavy)
def _run(path, x):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(["y"], {"x": x})[0]


@pytest.mark.heavy
def test_a_token_is_scaled_alone(tmp_path):
    """Another text, or another token of the same text, with a hundred times
    larger activations changes nothing for a token: under one scale per call
    (dynamic int8) it would lose its resolution."""
    source = _tiny_model(tmp_path / "fp32.onnx")
    quantize_per_token(source, tmp_path / "int8.onnx", PER_TOKEN_OPTIONS)
    rng = np.random.default_rng(2)
    text = rng.normal(size=(1, 5, K)).astype(np.float32)
    loud = rng.normal(size=(1, 5, K)).astype(np.float32) * 100
    alone = _run(tmp_path / "int8.onnx", text)
    together = _run(tmp_path / "int8.onnx", np.concatenate([text, loud]))
    # The toy's attention-like sum mixes a text's own tokens, so compare texts, not tokens.
    assert np.abs(together[:1] - alone).max() <= 1e-5 * np.abs(alone).max()
    exact = _run(source, text)
    assert np.abs(alone - exact).max() < 0.05 * np.abs(exact).max()  # int8, but close


# ---------------------------------------------------------------- batches
def test_only_dynamic_int8_runs_one_text_per_call():
    assert ONE_TEXT_PER_CALL == ("int8",)
    assert "fp32" not in MAX_BATCH_TOKENS and "int8-token" in MAX_BATCH_TOKENS


def test_batches_keep_order_and_size():
    lengths = [9, 7, 7, 5, 3, 3, 1]
    order = list(range(len(lengths)))
    assert _batches(order, lengths, 3) == [[0, 1, 2], [3, 4, 5], [6]]
    assert _batches(order, lengths, 1) == [[i] for i in order]


def test_batches_stay_under_the_token_budget():
    lengths = [300, 165, 165, 165, 165, 165, 165, 165, 20, 20, 20, 20, 20]
    order = list(range(len(lengths)))
    batches = _batches(order, lengths, 64, max_tokens=1024)
    assert sum(batches, []) == order  # every text once, longest first
    assert batches[:2] == [[0, 1, 2], [3, 4, 5, 6, 7, 8]]  # padded to 300: 3 fit; to 165: 6 fit
    assert all(len(b) * lengths[b[0]] <= 1024 or len(b) == 1 for b in batches)
    assert _batches([0, 1], [2000, 10], 64, max_tokens=1024) == [[0], [1]]  # too long for the budget: alone
