"""The embedding runtimes: ONNX fp32 and int8 against the torch model, the
export cache, `load_embedder`'s choice, fallback and threads, the lazy
embedder a build uses, and the app loading the model its index was built
with.

The ONNX exports are made once per session in a temporary cache (~15 s)."""
from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import threading

import numpy as np
import pytest

from indexer import embedding
from indexer.embedding import export as onnx_export
from indexer.embedding import loader
from indexer.chunking import chunk_article
from indexer.embedding import (BUILD_MODEL, DEFAULT_MODEL, FP32_MODEL, INT8_MODEL, MODELS, LazyEmbedder,
                               OnnxEmbedder, SentenceTransformerEmbedder, load_embedder, model_from_env)
from indexer.models import article_embed_text
from indexer.embedding.registry import INT8_TOKEN_MODEL
from indexer.embedding.export import check_export, ensure_export, expected_identity, export_dir, source_model_dir

QUERY = "leaky heart valve"


# Fixtures that load the model themselves: tests using them are not in the fast tier (tests/conftest.py).
HEAVY_FIXTURES = {"onnx_fp32", "onnx_int8", "onnx_int8_token", "torch_embedder"}


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def onnx_fp32(model_cache):
    return OnnxEmbedder("fp32", threads=2, cache_dir=model_cache)


@pytest.fixture(scope="session")
def onnx_int8(model_cache, onnx_fp32):
    return OnnxEmbedder("int8", threads=2, cache_dir=model_cache)


@pytest.fixture(scope="session")
def onnx_int8_token(model_cache, onnx_fp32):
    return OnnxEmbedder("int8-token", threads=2, cache_dir=model_cache)


@pytest.fixture(scope="session")
def torch_embedder(embedder):
    """The reference: sentence-transformers on torch (the shared test
    embedder if that already is the torch one)."""
    return embedder if isinstance(embedder, SentenceTransformerEmbedder) else SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def texts(seed_corpus):
    """Real texts of every shape the app embeds: passages with their title,
    whole articles (longer than the model's 256 tokens: truncated), a query,
    and the odd cases."""
    passages = [p.embed_text for a in seed_corpus.articles[:4] for p in chunk_article(a)][:12]
    articles = [article_embed_text(a) for a in seed_corpus.articles[:3]]
    everything = "\n".join(article_embed_text(a) for a in seed_corpus.articles)  # far past 256 tokens
    return passages + articles + [everything, QUERY, "What is mitral regurgitation (MR)?", "ÉCG — 心臓 naïve", ""]


@pytest.fixture(scope="session")
def torch_vectors(torch_embedder, texts):
    return torch_embedder.encode(texts)


def test_texts_include_ones_longer_than_the_model_reads(torch_embedder, texts):
    assert max(torch_embedder.count_tokens(t) for t in texts) > 256


def test_fp32_onnx_gives_the_torch_vectors(onnx_fp32, torch_vectors, texts):
    vectors = onnx_fp32.encode(texts)
    assert vectors.dtype == np.float32 and vectors.shape == (len(texts), 384)
    assert np.abs(vectors - torch_vectors).max() < 1e-3
    # Same vectors, so the same name: an index built by either runtime serves the other.
    assert onnx_fp32.name == FP32_MODEL


def test_int8_onnx_is_close_and_has_its_own_name(onnx_int8, torch_vectors, texts):
    vectors = onnx_int8.encode(texts)
    cosines = (vectors * torch_vectors).sum(axis=1)
    assert cosines.min() >= 0.98, cosines
    assert onnx_int8.name == INT8_MODEL != FP32_MODEL


@pytest.mark.parametrize("variant", ["fp32", "int8", "int8-token"])
def test_vectors_are_unit_length_float32(variant, onnx_fp32, onnx_int8, onnx_int8_token, texts):
    model = {"fp32": onnx_fp32, "int8": onnx_int8, "int8-token": onnx_int8_token}[variant]
    vectors = model.encode(texts)
    assert vectors.dtype == np.float32 and vectors.flags.c_contiguous
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("variant", ["fp32", "int8", "int8-token"])
def test_batched_and_single_texts_give_the_same_vectors(variant, onnx_fp32, onnx_int8, onnx_int8_token, texts):
    model = {"fp32": onnx_fp32, "int8": onnx_int8, "int8-token": onnx_int8_token}[variant]
    batched = model.encode(texts, batch_size=5)  # mixed lengths in a batch: padding must not matter
    whole = model.encode(texts, batch_size=64)
    single = np.stack([model.encode([t])[0] for t in texts])
    assert np.allclose(batched, single, atol=1e-5)
    assert np.allclose(whole, single, atol=1e-5)


def test_int8_token_is_closer_to_torch_than_int8(onnx_int8_token, onnx_int8, torch_vectors, texts):
    token = (onnx_int8_token.encode(texts) * torch_vectors).sum(axis=1)
    dynamic = (onnx_int8.encode(texts) * torch_vectors).sum(axis=1)
    assert token.min() >= 0.98, token  # the empty text ([CLS] [SEP] only) is the farthest
    assert np.median(token) >= 0.995 and token.mean() > dynamic.mean()
    assert onnx_int8_token.name == INT8_TOKEN_MODEL not in (INT8_MODEL, FP32_MODEL)


@pytest.fixture(scope="session")
def mixed_texts(texts, seed_passages):
    """32 texts from 2 to 256 word pieces (a query up to a truncated article)."""
    out = (texts + seed_passages)[:32]
    assert len(out) == 32
    return out


@pytest.fixture(scope="session")
def seed_passages(seed_corpus):
    return [p.embed_text for a in seed_corpus.articles for p in chunk_article(a)]


def test_int8_token_vector_does_not_depend_on_batch_mates(onnx_int8_token, mixed_texts):
    """What lets int8-token batch: a text alone and inside one padded call
    of 32 texts of very different lengths give the same vector (bit-identical
    when measured; the tolerance only allows for kernel rounding), and so do
    repeated runs, so a cached vector stays valid."""
    model = onnx_int8_token
    ids = model._ids(mixed_texts)
    assert min(map(len, ids)) <= 3 and max(map(len, ids)) == 256
    alone = np.stack([model._embed([row])[0] for row in ids])
    together = model._embed(ids)  # one call: every text padded to 256
    assert np.abs(together - alone).max() <= 1e-5
    assert np.abs(model.encode(mixed_texts, batch_size=32) - alone).max() <= 1e-5
    assert np.array_equal(model._embed(ids), together)


def test_dynamic_int8_vectors_do_depend_on_batch_mates(onnx_int8, mixed_texts):
    """Why int8 runs one text per call (ONE_TEXT_PER_CALL): in one padded
    call its vectors move far beyond rounding. If this ever fails, onnxruntime
    changed how it scales and int8 could batch too."""
    ids = onnx_int8._ids(mixed_texts)
    alone = np.stack([onnx_int8._embed([row])[0] for row in ids])
    assert np.abs(onnx_int8._embed(ids) - alone).max() > 1e-3
    assert np.abs(onnx_int8.encode(mixed_texts, batch_size=32) - alone).max() <= 1e-5  # the embedder never batches it


def test_the_int8_token_export_records_its_options(model_cache, onnx_int8_token):
    from indexer.embedding.quantize import PER_TOKEN_OPTIONS
    folder = export_dir("int8-token", model_cache)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["variant"] == "int8-token" and manifest["quantization"] == PER_TOKEN_OPTIONS
    identity = expected_identity("int8-token", source_model_dir())
    assert check_export(folder, identity) is None
    other = dict(identity, quantization=dict(PER_TOKEN_OPTIONS, fp32_matmuls="/output/dense/"))
    assert "quantization" in check_export(folder, other)  # other options: re-exported


def test_interface_matches_the_torch_embedder(onnx_fp32, torch_embedder, texts):
    assert (onnx_fp32.dimension, onnx_fp32.max_tokens) == (torch_embedder.dimension, torch_embedder.max_tokens) \
        == (384, 256)
    assert [onnx_fp32.count_tokens(t) for t in texts] == [torch_embedder.count_tokens(t) for t in texts]
    assert onnx_fp32.encode([]).shape == (0, 384)
    calls = onnx_fp32.calls
    onnx_fp32.encode([QUERY, "mitral valve"])
    assert onnx_fp32.calls - calls == 2


def test_concurrent_calls_give_the_same_vectors(onnx_int8, texts):
    expected = onnx_int8.encode(texts)
    calls = onnx_int8.calls
    results, errors = [], []

    def work():
        try:
            for _ in range(3):
                results.append(onnx_int8.encode(texts))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(np.allclose(r, expected, atol=1e-5) for r in results) and len(results) == 12
    assert onnx_int8.calls - calls == 12 * len(texts)


# ---------------------------------------------------------------- the export cache
def test_second_load_reuses_the_export(model_cache, onnx_fp32, onnx_int8, monkeypatch):
    folders = [export_dir(v, model_cache) for v in ("fp32", "int8")]
    before = [(f / "model.onnx").stat().st_mtime_ns for f in folders]

    def no_export(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_export, "_export_fp32", no_export)
    monkeypatch.setattr(onnx_export, "_quantize_int8", no_export)
    again = OnnxEmbedder("fp32", threads=1, cache_dir=model_cache)
    assert again.folder == folders[0]
    assert ensure_export("int8", model_cache) == folders[1]
    assert [(f / "model.onnx").stat().st_mtime_ns for f in folders] == before
    assert not [p for p in model_cache.iterdir() if ".tmp-" in p.name or ".old-" in p.name]
    manifest = json.loads((folders[1] / "manifest.json").read_text())
    assert manifest["variant"] == "int8" and manifest["source_files"]["model.safetensors"]


def _damage(folder, how):
    model = folder / "model.onnx"
    if how == "truncated":
        with open(model, "r+b") as fh:
            fh.truncate(model.stat().st_size // 2)
    elif how == "flipped":
        with open(model, "r+b") as fh:
            fh.seek(model.stat().st_size // 2)
            byte = fh.read(1)
            fh.seek(-1, os.SEEK_CUR)
            fh.write(bytes([byte[0] ^ 0xFF]))
    elif how == "no manifest":
        (folder / "manifest.json").unlink()
    elif how == "no model":
        model.unlink()
    elif how == "stale source":
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["source_files"]["model.safetensors"] = "0" * 64
        (folder / "manifest.json").write_text(json.dumps(manifest))
    elif how == "bad manifest":
        (folder / "manifest.json").write_text('{"format": 1, "files"')


@pytest.fixture
def cache_copy(model_cache, onnx_int8, tmp_path):
    """A private copy of the session's exports, free to damage."""
    target = tmp_path / "models"
    for variant in ("fp32", "int8"):
        shutil.copytree(export_dir(variant, model_cache), export_dir(variant, target))
    return target


@pytest.mark.parametrize("how", ["truncated", "flipped", "no manifest", "no model", "stale source",
                                 "bad manifest"])
def test_a_damaged_or_stale_export_is_detected(cache_copy, how):
    folder = export_dir("fp32", cache_copy)
    identity = expected_identity("fp32", source_model_dir())
    assert check_export(folder, identity) is None
    _damage(folder, how)
    assert check_export(folder, identity) is not None


def test_a_corrupted_export_is_redone(cache_copy, torch_vectors, texts):
    int8, fp32 = export_dir("int8", cache_copy), export_dir("fp32", cache_copy)
    fp32_mtime = (fp32 / "model.onnx").stat().st_mtime_ns
    _damage(int8, "truncated")
    (cache_copy / f".{int8.name}.tmp-leftover").mkdir()  # an interrupted export's temp folder
    model = OnnxEmbedder("int8", threads=1, cache_dir=cache_copy)
    assert check_export(int8, expected_identity("int8", source_model_dir())) is None
    assert (fp32 / "model.onnx").stat().st_mtime_ns == fp32_mtime  # the intact fp32 export was kept
    cosines = (model.encode(texts) * torch_vectors).sum(axis=1)
    assert cosines.min() >= 0.98


def test_unknown_variant_is_refused(model_cache):
    with pytest.raises(ValueError, match="unknown ONNX variant"):
        ensure_export("fp16", model_cache)


# ---------------------------------------------------------------- load_embedder
@pytest.fixture
def fresh_loader(monkeypatch, model_cache, torch_embedder):
    """load_embedder with an empty per-process cache, the session's export
    cache, and the (already loaded) torch model standing in for a new one."""
    monkeypatch.setattr(loader, "_shared", {})
    monkeypatch.setenv("HEARTSEARCH_MODEL_CACHE", str(model_cache))
    monkeypatch.delenv("HEARTSEARCH_RUNTIME", raising=False)
    monkeypatch.setattr(loader, "SentenceTransformerEmbedder", lambda threads=None, model=None: torch_embedder)
    return load_embedder


def test_default_model_runs_on_onnx_and_is_loaded_once(fresh_loader, onnx_fp32):
    model = fresh_loader()
    assert isinstance(model, OnnxEmbedder) and model.name == DEFAULT_MODEL == FP32_MODEL and model.variant == "fp32"
    assert fresh_loader(FP32_MODEL) is model
    assert BUILD_MODEL in MODELS  # what a new index is built with (indexer/cli.py)


def test_runtime_can_be_chosen(fresh_loader, torch_embedder, monkeypatch):
    monkeypatch.setenv("HEARTSEARCH_RUNTIME", "torch")
    assert fresh_loader() is torch_embedder
    monkeypatch.setattr(loader, "_shared", {})
    monkeypatch.setenv("HEARTSEARCH_RUNTIME", "tensorflow")
    with pytest.raises(ValueError, match="HEARTSEARCH_RUNTIME"):
        fresh_loader()


def test_the_runtime_comes_from_the_spec(monkeypatch):
    """int8 has only onnx, whatever $HEARTSEARCH_RUNTIME says; fp32 has both
    and the variable chooses (default onnx)."""
    from indexer.embedding import model_spec, pick_runtime
    fp32, int8 = model_spec(FP32_MODEL), model_spec(INT8_MODEL)
    monkeypatch.setenv("HEARTSEARCH_RUNTIME", "torch")
    assert (pick_runtime(fp32), pick_runtime(int8)) == ("torch", "onnx")
    monkeypatch.setenv("HEARTSEARCH_RUNTIME", "tensorflow")
    assert pick_runtime(int8) == "onnx"  # not read for a one-runtime model
    monkeypatch.delenv("HEARTSEARCH_RUNTIME")
    assert pick_runtime(fp32) == "onnx"


def test_int8_model_by_name(fresh_loader, onnx_int8):
    model = fresh_loader(INT8_MODEL)
    assert isinstance(model, OnnxEmbedder) and model.name == INT8_MODEL
    with pytest.raises(ValueError, match="unknown embedding model"):
        fresh_loader("all-MiniLM-L12-v2")


@pytest.mark.parametrize("name", MODELS)
def test_falls_back_to_torch_without_onnxruntime(name, fresh_loader, torch_embedder, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` now fails
    asked = []
    monkeypatch.setattr(loader, "SentenceTransformerEmbedder",
                        lambda threads=None, model=None: asked.append(model) or torch_embedder)
    with caplog.at_level(logging.WARNING, logger="indexer.embedding"):
        model = fresh_loader(name)
    # torch runs the fp32 model of the same weights, under its own name, so an int8 index is refused, not misread
    assert model is torch_embedder and asked == [embedding.model_spec(name).weights]
    assert "ONNX runtime is unavailable" in caplog.text and "import of onnxruntime" in caplog.text


def test_falls_back_to_torch_when_the_export_fails(fresh_loader, torch_embedder, monkeypatch, caplog,
                                                   tmp_path):
    monkeypatch.setenv("HEARTSEARCH_MODEL_CACHE", str(tmp_path / "empty-cache"))

    def broken(*args, **kwargs):
        raise onnx_export.ExportError("the exporter broke")

    monkeypatch.setattr(onnx_export, "_export_fp32", broken)
    with caplog.at_level(logging.WARNING, logger="indexer.embedding"):
        model = fresh_loader(INT8_MODEL)
    assert model is torch_embedder
    assert "the exporter broke" in caplog.text and "not 'all-MiniLM-L6-v2-onnx-int8'" in caplog.text
    assert not [p for p in (tmp_path / "empty-cache").iterdir() if p.is_dir()]  # no half export left


def test_an_int8_index_is_refused_by_the_fp32_model(tmp_path, seed_corpus, onnx_int8, onnx_fp32):
    from indexer.build import publish_articles
    from indexer.index import IndexStore
    from search_app.search.searcher import make_searcher
    from search_app.config import Config
    from search_app.search.live_index import IndexMismatch

    store = IndexStore(tmp_path / "index")
    with store.lock():
        publish_articles(store, seed_corpus.articles[:2], seed_corpus.pages, onnx_int8)
    assert make_searcher(Config(index_dir=tmp_path / "index"), onnx_int8).search(QUERY).hits
    with pytest.raises(IndexMismatch, match="onnx-int8"):
        make_searcher(Config(index_dir=tmp_path / "index"), onnx_fp32)


def test_torch_queries_run_on_one_thread_and_batches_keep_the_setting(torch_embedder, monkeypatch):
    import torch
    seen = []
    real_encode = torch_embedder._model.encode
    monkeypatch.setattr(torch_embedder._model, "encode",
                        lambda *a, **k: seen.append(torch.get_num_threads()) or real_encode(*a, **k))
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        torch_embedder.encode([QUERY])
        torch_embedder.encode([QUERY] * 8)
        assert seen == [1, 2] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


# ---------------------------------------------------------------- threads
def test_a_server_load_runs_every_model_call_on_one_thread(fresh_loader):
    model = fresh_loader(INT8_MODEL, threads=1)
    options = model._session.get_session_options()
    assert (options.intra_op_num_threads, options.inter_op_num_threads, model.threads) == (1, 1, 1)
    model.encode([QUERY] * 20, batch_size=4)  # even a many-text call: no worker pool
    assert model._pool is None


def test_a_build_load_uses_heartsearch_model_threads(fresh_loader, monkeypatch):
    monkeypatch.setenv("HEARTSEARCH_MODEL_THREADS", "3")
    model = fresh_loader(INT8_MODEL)
    assert model.threads == 3 and model._session.get_session_options().intra_op_num_threads == 1
    monkeypatch.setattr(loader, "_shared", {})
    monkeypatch.delenv("HEARTSEARCH_MODEL_THREADS")
    assert fresh_loader(INT8_MODEL).threads == (os.cpu_count() or 1)


def test_the_torch_fallback_is_given_the_thread_count(fresh_loader, torch_embedder, monkeypatch):
    seen = []
    monkeypatch.setattr(loader, "SentenceTransformerEmbedder",
                        lambda threads=None, model=None: seen.append(threads) or torch_embedder)
    monkeypatch.setenv("HEARTSEARCH_RUNTIME", "torch")
    fresh_loader(FP32_MODEL, threads=1)
    monkeypatch.setattr(loader, "_shared", {})
    fresh_loader(FP32_MODEL)
    assert seen == [1, None]  # None: torch's own choice, all cores


def test_app_config_asks_for_one_thread_per_model_call():
    from search_app.config import Config
    assert Config().model_threads == 1 and Config.from_env().model_threads == 1


# ---------------------------------------------------------------- choosing the model
def test_model_from_env(monkeypatch):
    monkeypatch.delenv("HEARTSEARCH_MODEL", raising=False)
    assert model_from_env() is None
    monkeypatch.setenv("HEARTSEARCH_MODEL", INT8_MODEL)
    assert model_from_env() == INT8_MODEL
    monkeypatch.setenv("HEARTSEARCH_MODEL", "all-MiniLM-L12-v2")
    with pytest.raises(ValueError, match="HEARTSEARCH_MODEL must be one of"):
        model_from_env()


def test_lazy_embedder_loads_only_when_used(onnx_int8):
    loads = []
    lazy = LazyEmbedder(INT8_MODEL, lambda: loads.append(1) or onnx_int8)
    assert lazy.name == INT8_MODEL and not lazy.loaded and not loads
    vectors = lazy.encode([QUERY])
    assert np.allclose(vectors, onnx_int8.encode([QUERY]))
    assert (lazy.dimension, lazy.max_tokens, lazy.count_tokens(QUERY)) == (384, 256, onnx_int8.count_tokens(QUERY))
    assert getattr(lazy, "encode_batches", None) is None and loads == [1]
    with pytest.raises(ValueError, match="unknown embedding model"):
        LazyEmbedder("all-MiniLM-L12-v2")


def test_lazy_embedder_names_the_torch_stand_in_before_loading(monkeypatch):
    """No onnxruntime: the int8 model cannot run and torch (fp32) stands in,
    so a build must know the name it will get before deciding what to
    re-embed, or it would add fp32 vectors to an int8 index."""
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    assert LazyEmbedder(INT8_MODEL).name == FP32_MODEL == LazyEmbedder(FP32_MODEL).name
    monkeypatch.delitem(sys.modules, "onnxruntime")
    assert LazyEmbedder(INT8_MODEL).name == INT8_MODEL


def test_lazy_embedder_refuses_a_stand_in_it_did_not_announce(torch_embedder):
    """int8 announced, torch fp32 loaded (the ONNX export failed): an error
    before anything is embedded, not an index of mixed vectors."""
    lazy = LazyEmbedder(INT8_MODEL, lambda: torch_embedder)
    with pytest.raises(embedding.ModelUnavailable, match="--model all-MiniLM-L6-v2$"):
        lazy.encode([QUERY])
    assert lazy.name == INT8_MODEL and not lazy.loaded


def test_build_with_a_lazy_embedder_publishes_nothing_when_nothing_changed(tmp_path, seed_corpus, onnx_int8):
    from indexer.build import publish_articles
    from indexer.index import IndexStore
    store = IndexStore(tmp_path / "index")
    articles = seed_corpus.articles[:2]
    with store.lock():
        first = publish_articles(store, articles, seed_corpus.pages, LazyEmbedder(INT8_MODEL, lambda: onnx_int8))
        assert first.published
        again = LazyEmbedder(INT8_MODEL, lambda: pytest.fail("loaded although nothing changed"))
        assert not publish_articles(store, articles, seed_corpus.pages, again).published
    live = store.open_current()
    assert live.model == INT8_MODEL
    live.close()


# ---------------------------------------------------------------- the app serves the index's model
@pytest.fixture
def int8_index(tmp_path, seed_corpus, onnx_int8):
    from indexer.build import publish_articles
    from indexer.index import IndexStore
    store = IndexStore(tmp_path / "int8-index")
    with store.lock():
        publish_articles(store, seed_corpus.articles[:3], seed_corpus.pages, onnx_int8)
    return store.root


def test_the_app_serves_an_int8_index_with_the_int8_model(int8_index, fresh_loader, monkeypatch):
    from search_app import create_app
    from search_app.config import Config
    monkeypatch.setenv("HEARTSEARCH_MODEL", FP32_MODEL)  # a build setting: the app goes by the index
    app = create_app(Config(index_dir=int8_index))
    searcher = app.extensions["searcher"]
    assert isinstance(searcher.embedder, OnnxEmbedder) and searcher.embedder.name == INT8_MODEL
    assert searcher.embedder.threads == 1  # loaded the server's way
    assert FP32_MODEL not in loader._shared  # the fp32 model was never loaded
    client = app.test_client()
    answer = client.get("/api/v1/search", query_string={"q": QUERY, "k": 3})
    assert answer.status_code == 200 and answer.get_json()["results"], answer.get_json()
    assert client.get("/api/v1/ready").get_json()["model"] == INT8_MODEL


def test_the_app_serves_an_fp32_index_with_the_fp32_model(seed_index_dir, fresh_loader):
    from search_app.search.searcher import make_searcher
    from search_app.config import Config
    searcher = make_searcher(Config(index_dir=seed_index_dir))
    assert searcher.embedder.name == FP32_MODEL == searcher.generation.model
    assert searcher.search(QUERY).hits


def test_the_app_refuses_an_index_of_an_unknown_model_naming_the_fix(tmp_path, seed_corpus, onnx_fp32,
                                                                     fresh_loader):
    from indexer.build import publish_articles
    from indexer.index import IndexStore
    from search_app.search.searcher import make_searcher
    from search_app.config import Config
    from search_app.search.live_index import IndexMismatch

    class Renamed:  # the fp32 vectors under a name this code does not know
        name, dimension, max_tokens = "all-MiniLM-L12-v2", 384, 256

        def encode(self, texts, **kwargs):
            return onnx_fp32.encode(texts, **kwargs)

    store = IndexStore(tmp_path / "index")
    with store.lock():
        publish_articles(store, seed_corpus.articles[:2], seed_corpus.pages, Renamed())
    with pytest.raises(IndexMismatch, match="all-MiniLM-L12-v2.*rebuild it with `python -m indexer build"):
        make_searcher(Config(index_dir=store.root))
