"""When segments are merged, and what a merge re-reads.

More segments cost a little per query (one more vector search and one more
set of postings each); deleted passages cost memory and lexical over-fetch,
since a segment is never rewritten to drop them. So segments are merged
when there are too many, or when too much of one is deleted.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from indexer.index.layout import article_from_row
from indexer.index.segment import Segment
from indexer.index.writer import GenerationWriter, SegmentContent
from indexer.models import Passage

MAX_SEGMENTS = 8
MAX_DELETED_SHARE = 0.25


@dataclass
class MergePlan:
    """Segments to merge into one (none: leave the segments as they are)."""

    segments: list[Segment] = field(default_factory=list)


def plan_merge(writer: GenerationWriter, incoming: int = 1) -> MergePlan:
    """Tiered merging, simplified: when there are more than MAX_SEGMENTS
    segments, merge the small ones (under half the largest's live size);
    a segment with more than MAX_DELETED_SHARE deleted is always merged.
    `incoming`: segments the caller is about to add. Reads only the
    writer's kept segments, new segment folders and deleted articles."""
    live = {}
    deleted = np.fromiter(writer.deleted, dtype=np.int64) if writer.deleted else np.zeros(0, np.int64)
    for s in writer.kept:
        live[s.name] = int(np.count_nonzero(~np.isin(s.passage_articles, deleted))) if len(deleted) \
            else s.passage_total
    chosen = [s for s in writer.kept if s.passage_total and
              1 - live[s.name] / s.passage_total > MAX_DELETED_SHARE]
    if len(writer.kept) + len(writer.new_segments) + incoming > MAX_SEGMENTS:
        largest = max(live.values(), default=0)
        chosen += [s for s in writer.kept if live[s.name] < largest / 2 and s not in chosen]
        if len(chosen) < 2:  # nothing small enough: merge everything
            chosen = list(writer.kept)
    if not chosen:
        return MergePlan()
    return MergePlan(chosen)


def segment_content(segments: Sequence[Segment], deleted: set[int]) -> SegmentContent:
    """The live articles, passages and vectors of `segments`, re-read from
    disk for merging (vectors as stored: exact unless the segment's index
    was quantised, then float16-rounded)."""
    articles, passages, vectors, article_vectors = [], [], [], []
    for segment in segments:
        for found in segment.article_rows():
            if found["num"] in deleted:
                continue
            article = article_from_row(found)
            articles.append(article)
            article_vectors.append(segment.article_index.reconstruct(found["num"] - segment.first_article))
            for stored in segment.stored_passages(article.id):
                passages.append(Passage(article.id, stored["position"], stored["text"], stored["embed_text"],
                                        tuple(json.loads(stored["sentences"])), stored["heading"]))
                vectors.append(segment.stored_vectors(stored["id"] - segment.first_passage, 1)[0])
    dimension = segments[0].index.d if segments else 0
    return SegmentContent(articles, passages,
                          np.array(vectors, dtype=np.float32).reshape(-1, dimension),
                          np.array(article_vectors, dtype=np.float32).reshape(-1, dimension))
