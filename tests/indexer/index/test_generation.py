"""indexer.index.generation: what an index gives back of the import's repairs."""
from __future__ import annotations

from indexer.chunking import ChunkingConfig, chunk_article
from indexer.index import SegmentContent, segment_content
from indexer.sources.base import make_article
from tests.indexer.index.synthetic import article, publish, unit_vectors

GLUED = ("Espaol\n\nMuch of the time, MVP doesnt cause any problems. This can lead topalpitations.\n\n"
         "Normal Mitral Valve\n\nThe mitral valve controls blood flow between the upper and lower chambers.")


def _store_with_a_repaired_article(tmp_path):
    from indexer.index import IndexStore
    repaired = make_article({"id": "mvp", "title": "Mitral Valve Prolapse", "text": GLUED}, "mvp.jsonl:1")
    plain = article(1)
    passages = chunk_article(repaired, ChunkingConfig(max_words=15)) + chunk_article(plain)
    store = IndexStore(tmp_path / "index")
    publish(store, SegmentContent([repaired, plain], passages, unit_vectors(len(passages)), unit_vectors(2, 1)))
    return store, repaired, passages


def test_the_source_text_and_the_repairs_come_back_from_the_index(tmp_path):
    store, repaired, _ = _store_with_a_repaired_article(tmp_path)
    generation = store.open_current()
    found = {a.id: a for a in generation.articles()}["mvp"]
    assert found.source_text() == GLUED and found.text == repaired.text
    assert found.repairs == repaired.repairs and found.content_hash() == repaired.content_hash()
    assert generation.repair_counts() == (1, 1, {"furniture": 1, "glued": 1, "heading": 1})


def test_a_passages_heading_is_read_back_and_survives_a_merge(tmp_path):
    store, _, passages = _store_with_a_repaired_article(tmp_path)
    generation = store.open_current()
    records = generation.article_passages("mvp")
    assert [r.heading for r in records] == [p.heading for p in passages if p.article_id == "mvp"]
    assert "Normal Mitral Valve" in [r.heading for r in records]
    merged = segment_content(generation.segments, set())
    assert [p.heading for p in merged.passages] == [p.heading for p in passages]
    assert merged.passages == passages
