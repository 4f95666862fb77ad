"""The on-disk index: segments, generations, the writer that publishes them
and the store that owns the folder. Everything outside this package reads and
writes the index through the names below."""
from indexer.index.store import (MAX_SEGMENTS, METADATA, VECTORS, EmbeddingCache, Generation, GenerationWriter,
                                 IndexBusy, IndexCorrupt, IndexError_, IndexMissing, IndexStore, IndexWriteFailed,
                                 PassageRecord, Segment, SegmentContent, plan_merge, segment_content)

__all__ = ["MAX_SEGMENTS", "METADATA", "VECTORS", "EmbeddingCache", "Generation", "GenerationWriter", "IndexBusy",
           "IndexCorrupt", "IndexError_", "IndexMissing", "IndexStore", "IndexWriteFailed", "PassageRecord",
           "Segment", "SegmentContent", "plan_merge", "segment_content"]
