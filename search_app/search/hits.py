"""From ranked ids to what a reader sees: for each article its passage to
show (closest to the query, nudged towards the query's words), the sentence
to highlight, its other passages; the filters a search can carry; `Hit`
(with `also`: the other answers to its question, search/questions.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
import bisect
import itertools
import re
from typing import Container, Sequence

import numpy as np

from indexer.index import Generation, PassageRecord
from indexer.text import stem, words
from search_app.search.query import QueryPlan


@dataclass
class Hit:
    rank: int
    score: float                   # fused score (comparable within one response only)
    similarity: float | None       # cosine of the best passage to the query, when known
    passage: PassageRecord
    matched_sentence: int | None   # index into passage.sentences
    other_passages: list[int] = field(default_factory=list)
    also: list["Also"] = field(default_factory=list)  # other answers to the same question, best first
    answers: int = 1               # how many articles of the generation answer this question


@dataclass(frozen=True)
class Also:
    """An answer collapsed into a result: its best passage and fused score."""

    passage: PassageRecord
    score: float
    similarity: float | None


@dataclass(frozen=True)
class Shown:
    """One ranked item (article number or passage id) with its passage chosen."""

    item: int
    passage: PassageRecord
    similarity: float | None
    matched_sentence: int | None
    other_passages: tuple[int, ...] = ()


@dataclass(frozen=True)
class Filters:
    """Keep only results whose author's name / source contains the text
    (case-insensitive; unattributed never matches), or of one article."""

    author: str | None = None
    source: str | None = None
    article: str | None = None

    def __bool__(self) -> bool:
        return any((self.author, self.source, self.article))

    def keeps(self, p: PassageRecord) -> bool:
        return (self.article is None or p.article_id == self.article) and contains(p.author, self.author) and \
            contains(p.source, self.source)


def contains(value: str | None, needle: str | None) -> bool:
    return needle is None or (value is not None and needle.casefold() in value.casefold())


def matched_sentence(passage: PassageRecord, query_stems: set[str]) -> int | None:
    """The sentence sharing most query words (stemmed); None if none does."""
    best, best_overlap = None, 0
    for i, sentence in enumerate(passage.sentences):
        overlap = len({stem(w) for w in words(sentence)} & query_stems)
        if overlap > best_overlap:
            best, best_overlap = i, overlap
    return best


def stem_counts(texts: Sequence[str], query_stems: set[str]) -> np.ndarray:
    """How many distinct query stems each Generation.passage_stems string
    holds: one regular-expression scan over them all joined (a search scores
    every passage of the articles on its page)."""
    counts = np.zeros(len(texts))
    if not query_stems or not texts:
        return counts
    pattern = re.compile(" (" + "|".join(re.escape(s) for s in sorted(query_stems)) + ")(?= )")
    starts = list(itertools.accumulate((len(t) for t in texts[:-1]), initial=0))
    found = {(bisect.bisect_right(starts, m.start()) - 1, m.group(1)) for m in pattern.finditer("".join(texts))}
    for row, _ in found:
        counts[row] += 1
    return counts


def best_passages(ranges: Sequence[Sequence[int]], scores: np.ndarray) -> list[int | None]:
    """Per article (its passage ids, consecutive in `scores`' order), the one
    scoring highest; ties go to the earliest passage."""
    chosen, start = [], 0
    for ids in ranges:
        end = start + len(ids)
        chosen.append(ids[int(np.argmax(scores[start:end]))] if ids else None)
        start = end
    return chosen


def show_articles(generation: Generation, plan: QueryPlan, vectors, articles: Sequence[int],
                  word_match_bonus: float, highlighted: Container[int] | None = None) -> list[Shown]:
    """Each article's passage to show: the closest to the query, nudged by
    `word_match_bonus` per query word it contains (without the nudge a
    passage that is a bare list of terms can win on its embedded title
    alone). Choosing reads only every passage's stems and vector; the whole
    record (text, sentences, attribution) is read for the chosen passages
    alone, in one query. The sentence to highlight is found for the
    `highlighted` articles only (None: all): a collapsed answer's is never shown."""
    ranges = [list(range(*generation.passage_range(num))) for num in articles]
    all_ids = [pid for ids in ranges for pid in ids]
    stems = generation.passage_stems(all_ids)
    sims = (generation.passage_vectors(all_ids) @ vectors[0]).astype(np.float64) \
        if vectors is not None and all_ids else None
    scores = (sims if sims is not None else np.zeros(len(all_ids))) + \
        word_match_bonus * stem_counts([stems.get(pid, "") for pid in all_ids], plan.highlight_stems)
    chosen = best_passages(ranges, scores)
    similarity = dict(zip(all_ids, sims.tolist())) if sims is not None else {}
    records = generation.passages([pid for pid in chosen if pid is not None])
    shown = []
    for num, ids, best in zip(articles, ranges, chosen):
        record = records[best]
        highlight = highlighted is None or num in highlighted
        shown.append(Shown(num, record, similarity.get(best),
                           matched_sentence(record, plan.highlight_stems) if highlight else None,
                           tuple(pid for pid in ids if pid != best)))
    return shown


def show_passages(generation: Generation, plan: QueryPlan, vectors, passage_ids: Sequence[int]) -> list[Shown]:
    passage_ids = list(passage_ids)
    records = generation.passages(passage_ids)
    sims = generation.passage_vectors(passage_ids) @ vectors[0] if vectors is not None and passage_ids else None
    return [Shown(pid, records[pid], None if sims is None else float(sims[i]),
                  matched_sentence(records[pid], plan.highlight_stems))
            for i, pid in enumerate(passage_ids)]


def to_hits(groups: Sequence[Sequence[Shown]], fused: dict[int, float], first_rank: int,
            answers: Sequence[int] = ()) -> list[Hit]:
    """One hit per group: its first (best) member shown, the others in
    `also`. `answers`: per group, how many articles answer its question."""
    return [Hit(rank=first_rank + i, score=fused[s.item], similarity=s.similarity, passage=s.passage,
                matched_sentence=s.matched_sentence, other_passages=list(s.other_passages),
                also=[Also(m.passage, fused[m.item], m.similarity) for m in rest],
                answers=answers[i] if i < len(answers) else 1 + len(rest))
            for i, (s, *rest) in enumerate(groups)]
