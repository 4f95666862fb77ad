"""Article → passages.

Passages are whole sentences packed up to a word budget, with a one-sentence
overlap so that a fact split across a boundary is still found whole in one
passage. The budget is in words because the model's window is 256 word
pieces: with the title in front, `max_words=120` stays well inside it for
English prose (tests check the real tokenizer on the real corpus).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.models import Article, Passage

# Abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = {
    "dr", "mr", "mrs", "ms", "prof", "st", "vs", "etc", "e.g", "i.e", "eg", "ie",
    "fig", "no", "approx", "u.s", "inc", "jr", "sr", "mg", "ml", "cf", "al",
}
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")


@dataclass(frozen=True)
class ChunkingConfig:
    max_words: int = 120
    overlap_sentences: int = 1


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences; paragraphs and list lines always break."""
    sentences: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)", text):
        block = " ".join(block.split())
        if not block:
            continue
        start = 0
        for match in _SENTENCE_END.finditer(block):
            candidate = block[start:match.start()].strip()
            last_word = candidate.rsplit(" ", 1)[-1].rstrip(".").lower()
            if last_word in _ABBREVIATIONS or re.fullmatch(r"[a-z]", last_word):
                continue
            sentences.append(candidate)
            start = match.end()
        tail = block[start:].strip()
        if tail:
            sentences.append(tail)
    return sentences


def _split_long_sentence(sentence: str, max_words: int) -> list[str]:
    words = sentence.split()
    return [" ".join(words[i:i + max_words]) for i in range(0, len(words), max_words)]


def _word_count(sentence: str) -> int:
    return len(sentence.split())


def chunk_article(article: Article, config: ChunkingConfig = ChunkingConfig()) -> list[Passage]:
    sentences: list[str] = []
    for sentence in split_sentences(article.text):
        if _word_count(sentence) > config.max_words:
            sentences.extend(_split_long_sentence(sentence, config.max_words))
        else:
            sentences.append(sentence)

    groups: list[list[str]] = []
    current: list[str] = []
    for sentence in sentences:
        if current and sum(map(_word_count, current)) + _word_count(sentence) > config.max_words:
            groups.append(current)
            overlap = current[-config.overlap_sentences:] if config.overlap_sentences else []
            # Carry the overlap only if it leaves room for the new sentence.
            if sum(map(_word_count, overlap)) + _word_count(sentence) > config.max_words:
                overlap = []
            current = list(overlap)
        current.append(sentence)
    if current:
        groups.append(current)

    return [
        Passage(
            article_id=article.id,
            position=position,
            text=" ".join(group),
            embed_text=f"{article.title}\n{' '.join(group)}",
            sentences=tuple(group),
        )
        for position, group in enumerate(groups)
    ]
