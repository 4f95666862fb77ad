"""Two words run together where the scrape lost a link's spaces
("congenitalheart", "topalpitations", "Worksarticle", "TopicsHow").

A word is split in two only where all of these hold (`lexicon`):
- the word is not a whole word of the model's vocabulary ("overweight",
  "heartbeat" and "today" are words, not glue);
- both halves are common words of the corpus and of the model's vocabulary;
- the second half is not a contraction's tail ("youre", "dont": the
  sources dropped apostrophes, and "you re" would read worse);
- the two halves, as two words, occur in the corpus more often than the
  glued form does ("congenital heart" far more than "congenitalheart";
  "build up" less than "buildup", so "buildup" stays), or the first half is
  a function word that is never a prefix ("to", "of", "the"...), the glued
  form is seen at most once, and the second half is a word of 5+ letters
  ("topalpitations").
Words inside web addresses, e-mail addresses, hyphenated or apostrophed
words are left alone.
"""
from __future__ import annotations

import re

from indexer.models import Repair
from indexer.repair.lexicon import KNOWN, Lexicon, load_lexicon

CONTRACTION_TAILS = frozenset({"re", "ll", "ve", "nt", "st"})
FUNCTION_HEADS = frozenset({"to", "of", "the", "and", "or", "for", "with", "from", "your", "you", "this",
                            "that", "can", "has", "have", "are", "is"})
MIN_GLUED = 5
_TOKEN = re.compile(r"(?<![\w'’./@#-])[A-Za-z]{%d,}(?![\w'’@/#-]|\.[A-Za-z])" % MIN_GLUED)


def split_point(word: str, lexicon: Lexicon) -> int | None:
    """Where `word` splits into two words, or None when it is one word."""
    low = word.lower()
    seen = lexicon.seen.get(low)
    if seen is None or seen == KNOWN:
        return None
    best, best_count = None, 0
    for i in range(2, len(low) - 1):
        head, tail = low[:i], low[i:]
        if head not in lexicon.common or tail not in lexicon.common or tail in CONTRACTION_TAILS:
            continue
        together = lexicon.pairs.get((head, tail), 0)
        if together > seen and together > best_count:
            best, best_count = i, together
        elif best is None and head in FUNCTION_HEADS and seen <= 1 and len(tail) >= 5:
            best = i
    return best


def repair(text: str, lexicon: Lexicon | None = None) -> tuple[str, list[Repair]]:
    """`text` with each glued pair of words split by a space."""
    lexicon = lexicon or load_lexicon()
    changes: list[Repair] = []

    def split(match: re.Match) -> str:
        word = match.group(0)
        at = split_point(word, lexicon)
        if at is None:
            return word
        after = f"{word[:at]} {word[at:]}"
        changes.append(Repair("glued", word, after))
        return after

    return _TOKEN.sub(split, text), changes
