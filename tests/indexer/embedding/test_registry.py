"""The model registry, with no model loaded: every spec complete, the
names the rest of the code uses derived from it, the vocabulary and
tokenizer found in the installed package, unknown names refused clearly."""
from __future__ import annotations

import json
import sys

import pytest

from indexer import embedding
from indexer.embedding import registry
from indexer.embedding.registry import (BUILD_MODEL, DEFAULT_MODEL, MODELS, SPECS, ModelSpec, UnknownModel,
                                        model_spec, onnx_spec, stand_in)


def test_models_are_the_registry():
    assert MODELS == tuple(s.name for s in SPECS) and len(set(MODELS)) == len(MODELS)
    assert DEFAULT_MODEL in MODELS and BUILD_MODEL in MODELS
    assert embedding.MODELS == MODELS
    assert (embedding.DEFAULT_MODEL, embedding.BUILD_MODEL) == (DEFAULT_MODEL, BUILD_MODEL)
    assert [model_spec(name).name for name in MODELS] == list(MODELS)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_spec_is_complete(spec):
    assert isinstance(spec, ModelSpec)
    assert spec.dimension > 0 and spec.max_tokens > 0
    assert 0 < spec.no_good_match_similarity < 1
    assert spec.runtimes and set(spec.runtimes) <= set(registry.RUNTIMES)
    assert spec.precision in ("fp32", "int8", "int8-token") and spec.package and (spec.module or spec.parts) and spec.weights
    with pytest.raises(AttributeError):  # frozen: nothing may change a model's facts at run time
        spec.dimension = 1


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_the_spec_agrees_with_the_installed_model_folder(spec):
    """Dimension and window as the package's configuration says (read as
    files: no weights loaded)."""
    folder = spec.model_dir()
    pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    config = json.loads((folder / "sentence_bert_config.json").read_text())
    assert pooling["word_embedding_dimension"] == spec.dimension
    assert config["max_seq_length"] == spec.max_tokens
    assert spec.tokenizer_path().is_file()


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_the_vocabulary_is_readable(spec):
    pieces = spec.read_vocabulary()
    assert len(pieces) > 1000 and len(set(pieces)) == len(pieces)
    assert {"[PAD]", "[CLS]", "[SEP]", "[UNK]", "heart", "valve"} <= set(pieces)
    assert any(p.startswith("##") for p in pieces)  # WordPiece continuations
    # line n is id n, as the tokenizer numbers them
    tokenizer = json.loads(spec.tokenizer_path().read_text("utf-8"))
    vocab = tokenizer["model"]["vocab"]
    assert all(vocab[piece] == i for i, piece in enumerate(pieces))


def test_reading_specs_needs_no_model_runtime(monkeypatch):
    """Specs, vocabulary and tokenizer paths come from files: with torch,
    sentence-transformers and onnxruntime unimportable, they still work."""
    for module in ("torch", "sentence_transformers", "onnxruntime", "transformers"):
        monkeypatch.setitem(sys.modules, module, None)  # `import module` now fails
    for spec in SPECS:
        assert spec.read_vocabulary() and spec.tokenizer_path().is_file()
        assert model_spec(spec.name).export_folder.startswith(spec.weights)


def test_unknown_model_is_refused_naming_the_known_ones():
    with pytest.raises(UnknownModel, match=r"unknown embedding model 'all-MiniLM-L12-v2' \(available: "
                                           + ", ".join(MODELS)):
        model_spec("all-MiniLM-L12-v2")
    with pytest.raises(ValueError, match="unknown embedding model"):  # UnknownModel is a ValueError
        model_spec(None)


def test_onnx_precisions_and_torch_stand_ins():
    for spec in SPECS:
        if spec.runs_on("onnx"):
            assert onnx_spec(spec.precision, spec.weights) is spec
        torch_spec = stand_in(spec)
        assert torch_spec.runs_on("torch") and torch_spec.weights == spec.weights
        assert (torch_spec is spec) == spec.runs_on("torch")
    with pytest.raises(ValueError, match="unknown ONNX variant 'fp16'"):
        onnx_spec("fp16")


def test_models_with_other_vectors_have_other_names():
    """Two specs of the same weights differ in precision (and so in name):
    an index records which vectors it holds."""
    seen = {}
    for spec in SPECS:
        key = (spec.weights, spec.precision)
        assert key not in seen, (spec.name, seen.get(key))
        seen[key] = spec.name
