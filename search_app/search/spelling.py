"""Spelling correction against the corpus's own vocabulary ("hart" → "heart",
"murmer" → "murmur", "arrythmia" → "arrhythmia").

Only words the corpus has never seen are touched, and only when a corpus
word is within one edit (two for long words); the most frequent such word
wins. A real English word the corpus lacks ("went") is left alone, unless
it sits one edit from one of the corpus's most common words ("hart" next to
"heart"): then it is almost surely a typo. Short words are never changed.
"""
from __future__ import annotations

from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from indexer.embedding.registry import DEFAULT_MODEL, model_spec
from indexer.text import STOP_WORDS

MIN_LENGTH = 4
COMMON_IN_CORPUS = 500  # a corpus word this frequent may replace a real English word one edit away


def load_english_words(vocab_file: Path | None = None, model: str = DEFAULT_MODEL) -> frozenset[str]:
    """Whole English words: the alphabetic entries of 3+ letters in an
    embedding model's word-piece vocabulary (BERT uncased for all-MiniLM),
    read where the model's package keeps it (its registry spec says where)
    rather than copied. `vocab_file`: another vocabulary, one piece a line."""
    pieces = vocab_file.read_text("utf-8").split() if vocab_file is not None \
        else model_spec(model).read_vocabulary()
    return frozenset(w for w in pieces if len(w) >= 3 and w.isascii() and w.isalpha())


class SpellingCorrector:
    def __init__(self, vocabulary: dict[str, int], protected: frozenset[str] = frozenset(),
                 english: frozenset[str] = frozenset()):
        # Words seen once may themselves be typos in the corpus; don't suggest them.
        self._counts = {w: c for w, c in vocabulary.items() if w.isalpha()}
        self._choices = [w for w, c in self._counts.items() if c >= 2 and len(w) >= MIN_LENGTH - 1]
        self._protected = protected
        self._english = english

    def correct_word(self, word: str) -> str | None:
        """The corrected word, or None when the word should stay as it is."""
        if (len(word) < MIN_LENGTH or not word.isalpha() or word in self._counts
                or word in STOP_WORDS or word in self._protected):
            return None
        max_edits = 1 if len(word) < 7 else 2
        candidates = process.extract(word, self._choices, scorer=DamerauLevenshtein.distance,
                                     score_cutoff=max_edits, limit=8)
        if not candidates:
            return None
        best, distance, _ = min(candidates, key=lambda c: (c[1], -self._counts[c[0]]))
        if word in self._english and not (distance == 1 and self._counts[best] >= COMMON_IN_CORPUS):
            return None
        return best

    def corrections(self, words: list[str]) -> dict[str, str]:
        found = {}
        for word in dict.fromkeys(words):
            fixed = self.correct_word(word)
            if fixed:
                found[word] = fixed
        return found
