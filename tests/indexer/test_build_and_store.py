"""A real index of the shipped corpus: what is written, published and checked."""
import json
import sqlite3

import numpy as np
import pytest

from indexer.build import publish_articles
from indexer.models import Article
from indexer.index import IndexBusy, IndexCorrupt, IndexMissing, IndexStore
from tests.index_files import live_segment_file


def test_manifest_describes_the_generation(seed_index_dir, seed_corpus):
    generation = IndexStore(seed_index_dir).open_current()
    m = generation.manifest
    assert m["model"] == "all-MiniLM-L6-v2"
    assert m["dimension"] == 384
    assert m["articles"] == len(seed_corpus.articles) == 10
    assert m["passages"] == sum(s.index.ntotal for s in generation.segments) >= 10
    assert len(m["segments"]) == 1 and m["deleted_articles"] == []
    assert len(m["corpus_hash"]) == 64
    assert m["built_at"].endswith("Z")


def test_vectors_are_normalised_and_match_a_fresh_embedding(seed_index_dir, embedder):
    generation = IndexStore(seed_index_dir).open_current()
    vectors = generation.vectors()
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    first = generation.passages([0])[0]
    (embed_text,) = generation.segments[0].query("SELECT embed_text FROM passages WHERE id = 0")[0]
    assert embed_text.startswith(first.article_title)
    assert np.allclose(embedder.encode([embed_text])[0], vectors[0], atol=1e-5)


def test_every_passage_keeps_its_attribution(seed_index_dir):
    generation = IndexStore(seed_index_dir).open_current()
    records = generation.passages(range(generation.passage_count)).values()
    adams = [r for r in records if r.article_id == "mr-answer-5"]
    assert adams and all(r.author == "David H. Adams" and r.credentials == "MD, Cardiothoracic Surgeon"
                         for r in adams)
    nkf = [r for r in records if r.article_id == "mr-related-dialysis-risk"]
    assert nkf and nkf[0].source == "National Kidney Foundation" and nkf[0].article_kind == "teaser"


def test_unchanged_rebuild_publishes_nothing_and_embeds_nothing(writable_index, seed_corpus, embedder):
    store = IndexStore(writable_index)
    before, calls = store.current_name(), embedder.calls
    with store.lock():
        report = publish_articles(store, seed_corpus.articles, seed_corpus.pages, embedder)
    assert not report.published and report.unchanged == len(seed_corpus.articles)
    assert store.current_name() == before and embedder.calls == calls


def test_one_edit_reembeds_only_that_articles_passages(writable_index, seed_corpus, embedder):
    store = IndexStore(writable_index)
    articles = [a for a in seed_corpus.articles if a.id != "mr-answer-1"]
    articles.append(Article(id="mr-answer-1", title="What is mitral regurgitation (MR)?",
                            text="Edited: blood leaks backwards through the mitral valve.", kind="answer"))
    calls = embedder.calls
    with store.lock():
        report = publish_articles(store, articles, seed_corpus.pages, embedder)
    assert report.published and report.updated == ["mr-answer-1"]
    assert embedder.calls - calls == 1 == report.embedded
    texts = [r.text for r in store.open_current().article_passages("mr-answer-1")]
    assert texts == ["Edited: blood leaks backwards through the mitral valve."]


def test_failed_build_leaves_the_live_generation_and_is_cleaned_up(writable_index, seed_corpus):
    store = IndexStore(writable_index)
    before = store.current_name()

    class Exploding:
        name, dimension, max_tokens = "all-MiniLM-L6-v2", 384, 256

        def encode(self, texts, **kwargs):
            raise RuntimeError("model crashed mid-build")

    new = Article(id="brand-new", title="New", text="Brand new text about the aorta.")
    with store.lock():
        with pytest.raises(RuntimeError):
            publish_articles(store, seed_corpus.articles + [new], seed_corpus.pages, Exploding())
    assert store.current_name() == before
    assert store.open_current().article_passages("brand-new") == []
    # A staging folder from a killed build is removed by the next writer.
    store.new_generation("all-MiniLM-L6-v2", 384)  # simulate a build that died after starting
    with store.lock():
        assert store.clean_leftovers()
    assert not [p for p in (writable_index / "generations").iterdir() if p.name.startswith(".")]


def test_second_writer_is_refused_with_a_clear_message(writable_index):
    store = IndexStore(writable_index)
    with store.lock():
        with pytest.raises(IndexBusy, match="another indexer is writing"):
            with IndexStore(writable_index).lock(wait_seconds=0.2):
                pass


def test_corrupt_new_generation_is_refused_before_the_switch(writable_index, seed_corpus, embedder):
    store = IndexStore(writable_index)
    before = store.current_name()
    writer = store.new_generation(embedder.name, embedder.dimension)
    writer.write(seed_corpus.articles, [], [], np.zeros((0, 384), dtype=np.float32),
                 np.zeros((len(seed_corpus.articles), 384), dtype=np.float32))
    (writer.new_segments[0] / "vectors.faiss").write_bytes(b"not a faiss file")
    with pytest.raises(IndexCorrupt, match="refused"):
        store.publish(writer)
    assert store.current_name() == before
    assert not writer.new_segments[0].exists(), "the refused segment is removed"


def test_rollback_returns_to_the_previous_generation(writable_index, seed_corpus, embedder):
    store = IndexStore(writable_index)
    first = store.current_name()
    with store.lock():
        publish_articles(store, seed_corpus.articles[:3], seed_corpus.pages, embedder)
    assert store.current_name() != first
    assert store.rollback() == first
    assert store.open_current().manifest["articles"] == len(seed_corpus.articles)


def test_missing_index_names_the_command_that_builds_it(tmp_path):
    with pytest.raises(IndexMissing, match="python -m indexer build"):
        IndexStore(tmp_path / "nowhere").open_current()


def test_sqlite_and_faiss_disagreeing_is_detected(writable_index):
    store = IndexStore(writable_index)
    path = live_segment_file(writable_index, "passages.sqlite")
    db = sqlite3.connect(path)
    db.execute("DELETE FROM passages WHERE id = 0")
    db.commit()
    db.close()
    with pytest.raises(IndexCorrupt, match="disagrees with itself"):
        store.open_current()


def test_manifest_names_segments_whose_files_have_checksums(seed_index_dir):
    store = IndexStore(seed_index_dir)
    manifest = json.loads((seed_index_dir / "generations" / store.current_name() / "manifest.json").read_text())
    (segment,) = manifest["segments"]
    meta = json.loads((seed_index_dir / "segments" / segment["name"] / "segment.json").read_text())
    assert set(meta["checksums"]) == {"vectors.faiss", "articles.faiss", "passages.sqlite", "lexical.npz",
                                      "passage_vectors.npy"}
    assert meta["vector_index"]["type"] == "flat" and meta["passages"] == manifest["passages"]


def test_a_damaged_passage_vectors_file_is_reported_not_served(writable_index):
    """The array the search reads passage vectors from is checked like the
    other files: truncated, it cannot be opened; another shape, the segment
    disagrees with itself."""
    import numpy as np
    store = IndexStore(writable_index)
    path = live_segment_file(writable_index, "passage_vectors.npy")
    stored = np.load(path)
    np.save(path, stored[:-1])
    with pytest.raises(IndexCorrupt, match="disagrees with itself"):
        store.open_current()
    path.write_bytes(b"not an array")
    with pytest.raises(IndexCorrupt, match="passage_vectors.npy cannot be read"):
        store.open_current()
