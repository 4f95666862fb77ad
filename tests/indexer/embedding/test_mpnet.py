"""The second model, all-mpnet-base-v2, on every runtime: the torch model
from the reassembled folder, its ONNX fp32 export (no token_type_ids, its
own pad id) and the int8 one, on a few texts.

Only the model is loaded, no index is built: the NIH measurements are in
docs/quality.md. The exports go to the project's model cache, so a machine
makes them once (tens of seconds) and later runs reuse them."""
from __future__ import annotations

import numpy as np
import pytest

from indexer.embedding import MPNET_FP32_MODEL, MPNET_INT8_MODEL, OnnxEmbedder, SentenceTransformerEmbedder
from indexer.embedding.export import model_inputs, source_model_dir

# Fixtures that load the model themselves: not in the fast tier (tests/conftest.py).
HEAVY_FIXTURES = {"mpnet_torch", "mpnet_fp32", "mpnet_int8"}

TEXTS = [
    "leaky heart valve",
    "Mitral regurgitation is a condition in which the mitral valve does not close tightly, "
    "so blood flows backward into the left atrium.",
    "How do I bake sourdough bread?",
    "ÉCG — 心臓 naïve",
    " ".join(["The heart pumps blood through the body."] * 80),  # past the 384-token window
]


@pytest.fixture(scope="module")
def mpnet_torch():
    return SentenceTransformerEmbedder(threads=2, model=MPNET_FP32_MODEL)


@pytest.fixture(scope="module")
def mpnet_fp32():
    return OnnxEmbedder("fp32", threads=2, weights=MPNET_FP32_MODEL)


@pytest.fixture(scope="module")
def mpnet_int8(mpnet_fp32):
    return OnnxEmbedder("int8", threads=2, weights=MPNET_FP32_MODEL)


def test_the_export_has_no_token_type_input():
    assert model_inputs(source_model_dir(MPNET_FP32_MODEL)) == ("input_ids", "attention_mask")


def test_the_torch_model_is_the_spec(mpnet_torch):
    assert (mpnet_torch.name, mpnet_torch.dimension, mpnet_torch.max_tokens) == (MPNET_FP32_MODEL, 768, 384)
    vectors = mpnet_torch.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), 768)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2  # the valve, not the bread


def test_fp32_onnx_gives_the_torch_vectors(mpnet_torch, mpnet_fp32):
    assert mpnet_fp32.name == MPNET_FP32_MODEL and mpnet_fp32._pad_id == 1  # MPNet's <pad>
    assert np.abs(mpnet_fp32.encode(TEXTS) - mpnet_torch.encode(TEXTS)).max() < 1e-3
    # padded in a batch or alone: the same vector (padding is masked, positions unaffected)
    alone = np.vstack([mpnet_fp32.encode([t]) for t in TEXTS])
    assert np.abs(alone - mpnet_fp32.encode(TEXTS)).max() < 1e-4
    assert [mpnet_fp32.count_tokens(t) for t in TEXTS] == [mpnet_torch.count_tokens(t) for t in TEXTS]


def test_int8_stays_close_to_fp32(mpnet_fp32, mpnet_int8):
    assert mpnet_int8.name == MPNET_INT8_MODEL
    cosines = (mpnet_int8.encode(TEXTS) * mpnet_fp32.encode(TEXTS)).sum(axis=1)
    assert cosines.min() > 0.97, cosines
