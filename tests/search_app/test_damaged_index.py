"""A generation damaged at rest: the app serves the last intact one, or
refuses to start with a message naming the fix."""
import pytest

from indexer.build import publish_articles
from indexer.models import Article
from indexer.index import IndexCorrupt, IndexStore
from search_app import create_app
from search_app.config import Config
from tests.index_files import live_segment_file


def damage(index_dir, name):
    path = live_segment_file(index_dir, "passages.sqlite", name)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_damaged_live_generation_falls_back_to_the_previous_one(writable_index, embedder, caplog):
    store = IndexStore(writable_index)
    first = store.current_name()
    live = store.open_current()
    extra = Article(id="extra", title="Extra", text="An extra article about varicose veins.")
    with store.lock():
        publish_articles(store, live.articles() + [extra], live.pages(), embedder)
    second = store.current_name()
    damage(writable_index, second)
    app = create_app(Config(index_dir=writable_index), embedder=embedder)
    assert app.extensions["searcher"].generation.name == first
    assert "serving the earlier generation" in caplog.text
    response = app.test_client().get("/api/v1/search?q=leaky+valve")
    assert response.status_code == 200 and response.get_json()["generation"] == first


def test_no_intact_generation_refuses_to_start(writable_index, embedder):
    store = IndexStore(writable_index)
    damage(writable_index, store.current_name())
    with pytest.raises(IndexCorrupt, match="no earlier generation is intact.*python -m indexer build"):
        create_app(Config(index_dir=writable_index), embedder=embedder)
