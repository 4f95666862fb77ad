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
    before; the one with id `shown_id` marked. The reader has just read the
    shown passage whole, above the list: the next passage drops what repeats
    its end, and the one before it what repeats its start."""
    ordered = sorted(passages, key=lambda r: r.position)
    readings, before = [], []
    for i, p in enumerate(ordered):
        sentences = without_overlap(before, sentences_of(p))
        if i + 1 < len(ordered) and ordered[i + 1].id == shown_id:
            sentences = without_repeated_end(sentences, sentences_of(ordered[i + 1]))
        readings.append(Reading(p.position + 1, sentences, p, p.id == shown_id))
        before = sentences_of(p)
    return readings


def without_repeated_end(sentences: Sequence[str], after: Sequence[str]) -> tuple[str, ...]:
    """`sentences` minus its longest end that `after` starts with."""
    reversed_kept = without_overlap(list(reversed(after)), list(reversed(sentences)))
    return tuple(reversed(reversed_kept))


def article_text(passages: Iterable[PassageRecord]) -> list[str]:
    """A whole article's sentences, once each, from its passages."""
    return [sentence for reading in in_order(passages) for sentence in reading.sentences]
