"""Shared fixtures. The real model and a real index of the shipped corpus are
built once per test session (embedding costs ~55 ms a passage)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The private search log is on for the shipped server; the servers tests start would write it into
# the shared, read-only seed index. A test of the log turns it on (tests/search_app/test_search_log.py).
os.environ.setdefault("HEARTSEARCH_SEARCH_LOG", "0")

from indexer.build import publish_articles  # noqa: E402
from indexer.settings import DEFAULT_CORPUS_DIR, PROJECT_ROOT  # noqa: E402
from indexer.embedding import load_embedder  # noqa: E402
from indexer.sources import load_corpus  # noqa: E402
from indexer.index import IndexStore  # noqa: E402

SHARED = PROJECT_ROOT.parent / "shared"
MEDQUAD = SHARED / "corpora" / "medquad-heart.jsonl"


@pytest.fixture(scope="session")
def embedder():
    return load_embedder()


@pytest.fixture(scope="session")
def seed_corpus():
    corpus = load_corpus([DEFAULT_CORPUS_DIR])
    assert not corpus.errors, corpus.errors
    return corpus


@pytest.fixture(scope="session")
def seed_index_dir(tmp_path_factory, embedder, seed_corpus) -> Path:
    """A real index of corpus/ built with the real model. Read-only for tests:
    tests that write copy it first (`writable_index`)."""
    root = tmp_path_factory.mktemp("seed-index")
    store = IndexStore(root)
    with store.lock():
        report = publish_articles(store, seed_corpus.articles, seed_corpus.pages, embedder)
    assert report.published
    return root


@pytest.fixture
def writable_index(seed_index_dir, tmp_path) -> Path:
    """A private copy of the seed index (embedding cache included, so it is cheap)."""
    target = tmp_path / "index"
    shutil.copytree(seed_index_dir, target)
    return target


@pytest.fixture(scope="session")
def app(seed_index_dir, embedder):
    from search_app import create_app
    from search_app.config import Config
    return create_app(Config(index_dir=seed_index_dir), embedder=embedder)


@pytest.fixture
def client(app):
    return app.test_client()


def require_shared(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"shared data not found at {path} (tests that need ../shared/ are skipped)")


@pytest.fixture(scope="session")
def medquad_index_dir(tmp_path_factory, embedder) -> Path:
    """The 954-article NIH corpus, indexed once per session with the real
    model. Embeddings are cached under data/cache/ (git-ignored) keyed by
    model and text, so a second local run only rebuilds the index files."""
    require_shared(MEDQUAD)
    corpus = load_corpus([MEDQUAD])
    assert not corpus.errors, corpus.errors[:3]
    root = tmp_path_factory.mktemp("medquad-index")
    store = IndexStore(root, cache_path=PROJECT_ROOT / "data" / "cache" / "medquad-embeddings.sqlite")
    with store.lock():
        publish_articles(store, corpus.articles, corpus.pages, embedder)
    return root


@pytest.fixture(scope="session")
def medquad_searcher(medquad_index_dir, embedder):
    from search_app.search.searcher import make_searcher
    from search_app.config import Config
    return make_searcher(Config(index_dir=medquad_index_dir), embedder)


# --- The fast tier (`make test-fast`, `pytest --fast`) ---------------------
# Tests that need none of the fixtures below (the model, a real index, the
# app) are marked `fast` at collection. With --fast only they run, and the
# model, the server, the browser and a Dask cluster refuse to start, so a
# test that reaches one of them without a fixture fails loudly (mark it
# `heavy`) instead of quietly making the fast tier slow. A test module adds
# its own model-loading fixtures with a module-level HEAVY_FIXTURES set.
HEAVY_FIXTURES = frozenset({"embedder", "seed_index_dir", "writable_index", "app", "client",
                            "medquad_index_dir", "medquad_searcher"})


def pytest_addoption(parser):
    parser.addoption("--fast", action="store_true",
                     help="run only the fast tier: no model, server, browser or cluster")


def pytest_collection_modifyitems(config, items):
    fast, rest = [], []
    for item in items:
        heavy_fixtures = HEAVY_FIXTURES.union(getattr(item.module, "HEAVY_FIXTURES", ()))
        heavy = (heavy_fixtures.intersection(item.fixturenames) or item.get_closest_marker("heavy")
                 or item.get_closest_marker("slow") or item.get_closest_marker("long"))
        if not heavy:
            item.add_marker(pytest.mark.fast)
        (rest if heavy else fast).append(item)
    if config.getoption("--fast"):
        items[:] = fast
        if rest:
            config.hook.pytest_deselected(items=rest)


CHILD_GUARD = """
import builtins
_real_import = builtins.__import__
_REFUSED = ("sentence_transformers", "onnxruntime", "playwright", "distributed")
def _guarded_import(name, *args, **kwargs):
    if name.split(".")[0] in _REFUSED:
        raise RuntimeError(f"the fast tier must not load {name} in a child process: mark this test `heavy`")
    return _real_import(name, *args, **kwargs)
builtins.__import__ = _guarded_import
"""


def _refuse(what: str):
    def refused(*args, **kwargs):
        raise RuntimeError(f"the fast tier must not start {what}: mark this test `heavy` "
                           f"(@pytest.mark.heavy) or give it a fixture of the full suite")
    return refused


@pytest.fixture(scope="session", autouse=True)
def fast_tier_guard(request):
    if not request.config.getoption("--fast"):
        yield
        return
    import subprocess
    real_popen = subprocess.Popen
    child_guard = request.config._tmp_path_factory.mktemp("fast-tier-guard")
    (child_guard / "sitecustomize.py").write_text(CHILD_GUARD)

    class GuardedPopen(real_popen):
        """Child processes get the same refusals through a sitecustomize on their path."""
        def __init__(self, args, *rest, **kwargs):
            argv = [str(a) for a in args] if isinstance(args, (list, tuple)) else str(args).split()
            if "chromium" in " ".join(argv) or any(argv[i:i + 2] == ["-m", "search_app"] for i in range(len(argv))):
                _refuse(f"a process ({' '.join(argv)[:80]})")()
            env = dict(kwargs.get("env") or os.environ)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(child_guard), env.get("PYTHONPATH")]))
            kwargs["env"] = env
            super().__init__(args, *rest, **kwargs)

    patch = pytest.MonkeyPatch()
    patch.setattr(subprocess, "Popen", GuardedPopen)
    import sentence_transformers
    import onnxruntime
    patch.setattr(sentence_transformers.SentenceTransformer, "__init__", _refuse("the embedding model"))
    patch.setattr(onnxruntime.InferenceSession, "__init__", _refuse("the ONNX model"))
    try:
        import playwright.sync_api
        patch.setattr(playwright.sync_api, "sync_playwright", _refuse("a browser"))
    except ImportError:
        pass
    import distributed
    patch.setattr(distributed, "LocalCluster", _refuse("a Dask cluster"))
    yield
    patch.undo()
