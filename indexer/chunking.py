"""Article → passages.

Passages are whole sentences packed up to a word budget, with a one-sentence
overlap so that a fact split across a boundary is still found whole in one
passage. The budget is in words; the model's window is its registry spec's
`max_tokens` word pieces, and 60 words (with the title in front) stays well
inside it even for dense clinical vocabulary: `count_tokens` counts with
the model's own tokenizer (no weights loaded), and the tests check every
registered model on the real corpus.
Short passages ranked better than 120-word ones on the dev queries
(figures: docs/quality.md, "What the ranking does"): a passage about one thing
matches a question about that thing more sharply.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from indexer.embedding.registry import DEFAULT_MODEL, model_spec
from indexer.models import Article, Passage

# Abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = {
    "dr", "mr", "mrs", "ms", "prof", "st", "vs", "etc", "e.g", "i.e", "eg", "ie",
    "fig", "no", "approx", "u.s", "inc", "jr", "sr", "mg", "ml", "cf", "al",
}
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")


@dataclass(frozen=True)
class ChunkingConfig:
    max_words: int = 60
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


@functools.lru_cache(maxsize=None)
def _tokenizer(model: str):
    from tokenizers import Tokenizer
    tokenizer = Tokenizer.from_file(str(model_spec(model).tokenizer_path()))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def count_tokens(text: str, model: str = DEFAULT_MODEL) -> int:
    """Word pieces model `model` would read for `text`, special tokens
    included, before truncation (what the runtimes' `count_tokens` say)."""
    return len(_tokenizer(model).encode(text).ids)


def model_window(model: str = DEFAULT_MODEL) -> int:
    """Word pieces model `model` reads; the rest of a text is cut off."""
    return model_spec(model).max_tokens


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
    carried = 0  # how many sentences at the start of `current` repeat the group before
    for sentence in sentences:
        if current and sum(map(_word_count, current)) + _word_count(sentence) > config.max_words:
            groups.append(current)
            overlap = current[-config.overlap_sentences:] if config.overlap_sentences else []
            # Carry the overlap only if it leaves room for the new sentence.
            if sum(map(_word_count, overlap)) + _word_count(sentence) > config.max_words:
                overlap = []
            current, carried = list(overlap), len(overlap)
        current.append(sentence)
    if current:
        groups.append(current)
    # A last passage of a few words ("Heeding them can save your life.") says
    # little on its own and would match on its title alone: fold it into the
    # one before, going over budget by at most a third.
    if len(groups) > 1:
        tail = groups[-1][carried:]
        if sum(map(_word_count, tail)) < config.max_words // 3:
            groups[-2] = groups[-2] + tail
            groups.pop()

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
