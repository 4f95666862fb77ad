"""indexer.index.generation: what an index gives back of the import's repairs."""
from __future__ import annotations

import numpy as np
import pytest

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


def test_passage_vectors_read_in_runs_equal_one_by_one_across_segments(tmp_path):
    """Runs of consecutive ids are read with one call per segment: the rows
    equal each passage's own vector, in the order asked, over a segment
    boundary and out of order."""
    from indexer.index import IndexStore
    from tests.indexer.index.synthetic import content
    store = IndexStore(tmp_path / "index")
    publish(store, content([article(i) for i in range(3)], seed=1))
    generation = publish(store, content([article(i) for i in range(3, 6)], seed=2))
    assert len(generation.segments) == 2
    ids = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 4, 3, 11]
    one_by_one = [generation.passage_vectors([pid])[0] for pid in ids]
    assert np.array_equal(generation.passage_vectors(ids), np.stack(one_by_one))
    with pytest.raises(KeyError):
        generation.passage_vectors([5, 999])


def test_passage_stems_leave_out_deleted_passages(tmp_path):
    from indexer.index import IndexStore
    from tests.indexer.index.synthetic import content
    store = IndexStore(tmp_path / "index")
    publish(store, content([article(i) for i in range(3)]))
    generation = publish(store, content([]), delete=["art-1"])
    stems = generation.passage_stems(range(6))
    records = generation.passages(range(6))
    assert set(stems) == set(records) and len(stems) == 4      # art-1's two passages are gone
    assert all(set(stems[pid].split()) == records[pid].text_stems for pid in stems)
    assert all(stems[pid].startswith(" ") and stems[pid].endswith(" ") for pid in stems)
