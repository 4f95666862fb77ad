"""An article's passages as a reader reads them: in order, without the
overlap the chunker adds, the passage already shown marked at its place.

Passages carry one sentence of overlap (indexer/chunking.py) so that a fact
split across a boundary is still found whole; shown one after another that
sentence would be read twice. So a passage's leading sentences that repeat
the end of the passage before it are dropped here, for display only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from indexer.index import PassageRecord


@dataclass(frozen=True)
class Reading:
    """One passage of an article, as shown in order."""

    position: int              # 1-based, as readers count
    sentences: tuple[str, ...]  # what is new in this passage (the overlap dropped)
    passage: PassageRecord
    shown: bool = False        # the passage the result already shows

    @property
    def repeats_only(self) -> bool:
        """True when everything in it was already said by the passage before."""
        return not self.sentences


def sentences_of(p: PassageRecord) -> list[str]:
    return list(p.sentences or [p.text])


def without_overlap(before: Sequence[str], sentences: Sequence[str]) -> tuple[str, ...]:
    """`sentences` minus its longest start that repeats the end of `before`."""
    longest = 0
    for n in range(1, min(len(before), len(sentences)) + 1):
        if list(before[-n:]) == list(sentences[:n]):
            longest = n
    return tuple(sentences[longest:])


def in_order(passages: Iterable[PassageRecord], shown_id: int | None = None) -> list[Reading]:
    """`passages` of one article in order, each without what repeats the one
    before; the one with id `shown_id` marked (its text is compared with
    the next one's too: the reader has just read it)."""
    readings, before = [], []
    for p in sorted(passages, key=lambda r: r.position):
        sentences = sentences_of(p)
        readings.append(Reading(p.position + 1, without_overlap(before, sentences), p, p.id == shown_id))
        before = sentences
    return readings


def article_text(passages: Iterable[PassageRecord]) -> list[str]:
    """A whole article's sentences, once each, from its passages."""
    return [sentence for reading in in_order(passages) for sentence in reading.sentences]
