"""One result per question: which articles answer the same question, and a
ranked list of articles collapsed into ranked groups of them.

A reader gains nothing from six slots holding the six answers of one Q&A
page, or three NIH institutes' copies of "What are the symptoms of Heart
Attack?". Articles share a question when their display titles, casefolded,
are equal (indexer/titles.py): the answers of one page carry the
page's question as their title, and entries copied between sources keep it.
The key of every article is computed once per generation (`Questions`), so
collapsing a ranked list is a dictionary lookup per article.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from indexer.titles import question_key


class Questions:
    """The question of every live article of one generation."""

    def __init__(self, article_ids: Sequence[str | None], rows: Iterable[tuple[int, str]]):
        self.key: list[str | None] = [None] * len(article_ids)
        self._members: dict[str, list[str]] = {}
        for num, title in rows:
            key = question_key(title)
            self.key[num] = key
            self._members.setdefault(key, []).append(article_ids[num])
        self._key_of_id = {article_ids[num]: key for num, key in enumerate(self.key) if key is not None}

    def key_of(self, article_id: str) -> str | None:
        return self._key_of_id.get(article_id)

    def members(self, article_id: str) -> list[str]:
        """Every article id answering the same question as `article_id`
        (itself included, in article-number order); [] if it is unknown."""
        key = self.key_of(article_id)
        return list(self._members[key]) if key is not None else []

    def size(self, article_id: str) -> int:
        key = self.key_of(article_id)
        return len(self._members[key]) if key is not None else 0


def collapse(ranked: Sequence[int], key: Sequence[str | None]) -> list[list[int]]:
    """`ranked` (article numbers, best first) as groups of one question each,
    in the order of each group's best member; within a group, best first.
    An article without a key (no live title) is a group of its own."""
    groups: list[list[int]] = []
    where: dict[str, int] = {}
    for num in ranked:
        k = key[num] if 0 <= num < len(key) else None
        if k is None:
            groups.append([num])
        elif k in where:
            groups[where[k]].append(num)
        else:
            where[k] = len(groups)
            groups.append([num])
    return groups
