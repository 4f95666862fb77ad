"""Where a test finds the files of a published generation, to damage them."""
from __future__ import annotations

from pathlib import Path

from indexer.index import IndexStore


def live_segment_file(index_dir: Path, filename: str, generation: str | None = None) -> Path:
    """`filename` (vectors.faiss, passages.sqlite, ...) in the newest
    segment of `generation` (default: the live one)."""
    store = IndexStore(index_dir)
    opened = store.open_generation(generation) if generation else store.open_current()
    try:
        return opened.segments[-1].path / filename
    finally:
        opened.close()
