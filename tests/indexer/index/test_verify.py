"""indexer.index.verify on generations written with random unit vectors."""
from __future__ import annotations

import json

import numpy as np
import pytest

from indexer.index import IndexCorrupt
from indexer.index.layout import LEXICAL, METADATA, SEGMENT_META, VECTORS
from indexer.index.verify import verify_generation
from tests.indexer.index.synthetic import DIMENSION, article, content, publish, synthetic_store


@pytest.fixture
def store(tmp_path):
    return synthetic_store(tmp_path / "index")


def _segment_folder(store):
    generation = store.open_current()
    try:
        return generation.segments[-1].path
    finally:
        generation.close()


def test_a_fresh_generation_verifies_clean(store):
    generation = store.open_current()
    assert verify_generation(generation) == []
    assert generation.manifest["articles"] == 4 and generation.passage_count == 8


def test_an_edited_generation_of_two_segments_verifies_clean(store):
    generation = publish(store, content([article(1), article(9)], seed=5), delete=["art-1"])
    assert len(generation.segments) == 2 and len(generation.deleted) == 1
    assert verify_generation(generation) == []
    assert verify_generation(generation, generation.segments[-1:]) == []


@pytest.mark.parametrize("filename", [METADATA, LEXICAL])
def test_a_changed_byte_is_a_checksum_mismatch(store, filename):
    path = _segment_folder(store) / filename
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    problems = verify_generation(store.open_current())
    assert problems == [f"{path}: checksum does not match segment.json (file damaged)"]
    with pytest.raises(IndexCorrupt, match="is damaged.*checksum does not match"):
        store.open_generation(store.current_name(), verify=True)


def test_a_truncated_file_is_reported(store):
    path = _segment_folder(store) / LEXICAL
    path.write_bytes(path.read_bytes()[:100])
    (problem,) = verify_generation(store.open_current())
    assert str(path) in problem and "checksum does not match" in problem


def test_a_missing_file_and_a_missing_checksum_are_reported(tmp_path):
    store = synthetic_store(tmp_path / "index")
    folder = _segment_folder(store)
    meta = json.loads((folder / SEGMENT_META).read_text())
    del meta["checksums"][VECTORS]
    (folder / SEGMENT_META).write_text(json.dumps(meta))  # a new segment.json: the segment is re-opened
    (folder / LEXICAL).unlink()
    problems = verify_generation(store.open_current())
    assert f"{folder / LEXICAL}: missing" in problems
    assert f"{folder}: segment.json does not list a checksum for every file" in problems


def test_publishing_vectors_that_are_not_unit_length_is_refused(store):
    before = store.current_name()
    bad = content([article(7)], vectors=np.full((2, DIMENSION), 0.9, dtype=np.float32))
    with pytest.raises(IndexCorrupt, match="new generation refused.*2 vectors are not unit length"):
        publish(store, bad)
    assert store.current_name() == before
    assert verify_generation(store.open_current()) == []
