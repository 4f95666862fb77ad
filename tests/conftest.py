"""Shared fixtures. The real model and a real index of the shipped corpus are
built once per test session (embedding costs ~55 ms a passage)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from indexer.build import publish_articles  # noqa: E402
from indexer.config import DEFAULT_CORPUS_DIR, PROJECT_ROOT  # noqa: E402
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
    from search_app import make_searcher
    from search_app.config import Config
    return make_searcher(Config(index_dir=medquad_index_dir), embedder)
