"""Spelling correction against the corpus's own vocabulary ("hart" → "heart",
"murmer" → "murmur", "arrythmia" → "arrhythmia").

Only words the corpus has never seen are touched, and only when a corpus
word is within one edit (two for long words); the most frequent such word
wins. A word the reader spelled right but the corpus lacks is left alone
unless a near neighbour exists, which is why short words are never changed.
"""
from __future__ import annotations

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from indexer.text import STOP_WORDS

MIN_LENGTH = 4


class SpellingCorrector:
    def __init__(self, vocabulary: dict[str, int], protected: frozenset[str] = frozenset()):
        # Words seen once may themselves be typos in the corpus; don't suggest them.
        self._counts = {w: c for w, c in vocabulary.items() if w.isalpha()}
        self._choices = [w for w, c in self._counts.items() if c >= 2 and len(w) >= MIN_LENGTH - 1]
        self._protected = protected

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
        best = min(candidates, key=lambda c: (c[1], -self._counts[c[0]]))
        return best[0]

    def corrections(self, words: list[str]) -> dict[str, str]:
        found = {}
        for word in dict.fromkeys(words):
            fixed = self.correct_word(word)
            if fixed:
                found[word] = fixed
        return found
