"""From ranked ids to what a reader sees: for each article its passage to
show (closest to the query, nudged towards the query's words), the sentence
to highlight, its other passages; the filters a search can carry; `Hit`
(with `also`: the other answers to its question, search/questions.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

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


def best_passage(ids: list[int], stems: dict[int, frozenset[str]], sims: dict, query_stems: set[str],
                 word_match_bonus: float) -> int:
    """The article's passage to show: closest to the query, nudged towards
    passages that contain the query's words. Without the nudge a passage
    that is a bare list of terms can win on its (embedded) title alone."""
    def score(pid: int) -> float:
        return float(sims.get(pid, 0.0)) + word_match_bonus * len(stems.get(pid, frozenset()) & query_stems)

    return max(ids, key=lambda pid: (score(pid), -pid))  # ties go to the earliest passage


def show_articles(generation: Generation, plan: QueryPlan, vectors, articles: Sequence[int],
                  word_match_bonus: float) -> list[Shown]:
    """Each article's passage to show. Choosing reads only every passage's
    stems and vector; the whole record (text, sentences, attribution) is
    read for the chosen passages alone, in one query."""
    ranges = [list(range(*generation.passage_range(num))) for num in articles]
    all_ids = [pid for ids in ranges for pid in ids]
    stems = generation.passage_stems(all_ids)
    sims = dict(zip(all_ids, (generation.passage_vectors(all_ids) @ vectors[0]).tolist())) \
        if vectors is not None and all_ids else {}
    chosen = [best_passage(ids, stems, sims, plan.highlight_stems, word_match_bonus) if ids else None
              for ids in ranges]
    records = generation.passages([pid for pid in chosen if pid is not None])
    shown = []
    for num, ids, best in zip(articles, ranges, chosen):
        record = records[best]
        shown.append(Shown(num, record, sims[best] if sims else None,
                           matched_sentence(record, plan.highlight_stems),
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
