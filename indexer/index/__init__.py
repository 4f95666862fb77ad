"""The on-disk index: segments, generations, the writer that publishes them
and the store that owns the folder. Everything outside this package reads and
writes the index through the names below; the files and folders themselves
are described in indexer.index.layout.

One idea a module: layout (file names, schema, rows by column name), files
(durable writes, checksums), errors, segment (reading one segment),
generation (reading a published generation), writer (new segments and
generations), merge (when segments are merged), verify (deep checks), store
(CURRENT, history, lock, publish, rollback), plus history, lexical and
vectors. Modules here import each other, never this package."""
from indexer.index.errors import IndexBusy, IndexCorrupt, IndexError_, IndexMissing, IndexWriteFailed
from indexer.index.generation import Generation
from indexer.index.layout import METADATA, VECTORS, PassageRecord
from indexer.index.merge import MAX_SEGMENTS, plan_merge, segment_content
from indexer.index.segment import Segment
from indexer.index.store import IndexStore
from indexer.index.writer import GenerationWriter, SegmentContent

__all__ = ["MAX_SEGMENTS", "METADATA", "VECTORS", "Generation", "GenerationWriter", "IndexBusy",
           "IndexCorrupt", "IndexError_", "IndexMissing", "IndexStore", "IndexWriteFailed", "PassageRecord",
           "Segment", "SegmentContent", "plan_merge", "segment_content"]
