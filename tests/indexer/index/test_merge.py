"""indexer.index.merge: the merge policy on made-up segments, and what a
merge re-reads from a real (model-free) one."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from indexer.index.merge import MAX_DELETED_SHARE, MAX_SEGMENTS, plan_merge, segment_content
from tests.indexer.index.synthetic import article, content, passages_of, synthetic_store


@dataclass
class FakeSegment:
    """What the policy reads of a segment: its size and which article each passage belongs to."""

    name: str
    first_article: int
    passages_per_article: list[int]

    @property
    def passage_articles(self) -> np.ndarray:
        return np.repeat(np.arange(self.first_article, self.first_article + len(self.passages_per_article)),
                         self.passages_per_article)

    @property
    def passage_total(self) -> int:
        return sum(self.passages_per_article)


@dataclass
class FakeWriter:
    kept: list[FakeSegment]
    deleted: set[int] = field(default_factory=set)
    new_segments: list = field(default_factory=list)


def segments(*sizes: int, articles_each: int = 10) -> list[FakeSegment]:
    """Segments of `articles_each` articles with `size` passages in total each."""
    out, first = [], 0
    for i, size in enumerate(sizes):
        per = [size // articles_each] * articles_each
        per[-1] += size - sum(per)
        out.append(FakeSegment(f"seg-{i + 1:06d}", first, per))
        first += articles_each
    return out


def names(plan) -> list[str]:
    return [s.name for s in plan.segments]


def test_few_segments_without_deletions_are_left_alone():
    assert names(plan_merge(FakeWriter(segments(100, 10, 10)))) == []


def test_up_to_max_segments_including_the_incoming_ones_is_no_reason_to_merge():
    kept = segments(*[100] * (MAX_SEGMENTS - 2), 1, 1)
    assert names(plan_merge(FakeWriter(kept), incoming=0)) == []
    assert names(plan_merge(FakeWriter(kept), incoming=1)) == ["seg-000007", "seg-000008"]
    assert names(plan_merge(FakeWriter(kept, new_segments=["seg-new"]), incoming=0)) == ["seg-000007", "seg-000008"]


def test_too_many_segments_merge_the_small_ones():
    kept = segments(1000, 600, 400, 100, 100, 50, 20, 10)
    assert names(plan_merge(FakeWriter(kept))) == ["seg-000003", "seg-000004", "seg-000005", "seg-000006",
                                                   "seg-000007", "seg-000008"]


def test_too_many_segments_of_one_size_merge_them_all():
    kept = segments(*[100] * MAX_SEGMENTS)
    assert names(plan_merge(FakeWriter(kept))) == [s.name for s in kept]


def test_a_segment_mostly_deleted_is_merged_even_when_segments_are_few():
    kept = segments(100, 100)  # 10 articles of 10 passages each
    over = {10, 11, 12}       # 30% of seg-000002's passages
    assert MAX_DELETED_SHARE < 0.3
    assert names(plan_merge(FakeWriter(kept, deleted=over))) == ["seg-000002"]
    under = {10, 11}          # 20%
    assert MAX_DELETED_SHARE >= 0.2
    assert names(plan_merge(FakeWriter(kept, deleted=under))) == []


def test_deleted_passages_count_against_the_largest_segments_size():
    kept = segments(1000, 450, 100, 100, *[600] * (MAX_SEGMENTS - 4))
    assert names(plan_merge(FakeWriter(kept))) == ["seg-000002", "seg-000003", "seg-000004"]
    # A fifth of the largest deleted (too little to merge it for that alone)
    # makes it smaller, and with it what counts as small.
    assert names(plan_merge(FakeWriter(kept, deleted={0, 1}))) == ["seg-000003", "seg-000004"]


def test_segment_content_re_reads_the_live_articles_passages_and_vectors(tmp_path):
    store = synthetic_store(tmp_path / "index", articles=4)
    generation = store.open_current()
    (segment,) = generation.segments
    deleted = {generation.article_numbers()["art-1"]}
    merged = segment_content(generation.segments, deleted)
    assert list(merged.articles) == [article(i) for i in (0, 2, 3)]
    assert list(merged.passages) == [p for i in (0, 2, 3) for p in passages_of(article(i))]
    written = content([article(i) for i in range(4)])
    keep = [0, 1, 4, 5, 6, 7]  # passages of art-0, art-2 and art-3 (two each)
    np.testing.assert_allclose(merged.vectors, written.vectors[keep], atol=1e-3)  # stored as fp16 at most
    np.testing.assert_allclose(merged.article_vectors, written.article_vectors[[0, 2, 3]], atol=1e-3)
    assert merged.vectors.shape == (6, segment.index.d)
