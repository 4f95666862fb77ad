"""The frozen word statistics the glued-word rule reads
(`data/lexicon.tsv.gz`), and how they are made.

Why frozen: counts taken from the corpus being built would make one
article's repair depend on every other article, so publishing one new
article could change (and re-embed) others, and an import would give
different text depending on what else was imported with it. The lexicon is
made once from the NIH collection and the shipped corpus and committed;
making it again (`python -m indexer.repair CORPUS...`) is a change
like any other, reviewed and published.

What it holds, all lowercase:
- `common`: words of 2+ letters that are whole words of the model's
  word-piece vocabulary and occur at least COMMON_MIN times in the corpus,
  and the clinical words the model's general vocabulary lacks (it reads
  "palpitations" and "anemia" in pieces) when the corpus uses them at least
  CLINICAL_MIN times and they are not themselves two vocabulary words;
- `pair`: how often two common words stand next to each other (pairs seen
  at least PAIR_MIN times);
- `seen`: how often a word that could be split into two common words
  occurs; a word of the model's vocabulary is `known`, never split.
"""
from __future__ import annotations

import functools
import gzip
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

LEXICON_PATH = Path(__file__).parent / "data" / "lexicon.tsv.gz"
COMMON_MIN = 5
CLINICAL_MIN = 20
PAIR_MIN = 2
KNOWN = -1  # the `seen` count of a whole word of the model's vocabulary
WORD = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class Lexicon:
    common: frozenset[str]
    pairs: dict[tuple[str, str], int]
    seen: dict[str, int]  # KNOWN: a vocabulary word


def _splits(word: str, common: frozenset[str]) -> list[tuple[str, str]]:
    return [(word[:i], word[i:]) for i in range(2, len(word) - 1) if word[:i] in common and word[i:] in common]


def build_lexicon(texts: Iterable[str], vocabulary: Iterable[str]) -> Lexicon:
    """The lexicon of `texts` (the sources' own text, before any repair)
    against the model's word pieces `vocabulary`."""
    whole = {w for w in vocabulary if w.isascii() and w.isalpha()}
    counts: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for text in texts:
        words = [w.lower() for w in WORD.findall(text)]
        counts.update(words)
        pairs.update(zip(words, words[1:]))
    common = frozenset(w for w, n in counts.items() if len(w) >= 2 and (
        (n >= COMMON_MIN and w in whole) or (n >= CLINICAL_MIN and len(w) >= 4 and not _splits(w, whole))))
    kept = {p: n for p, n in pairs.items() if n >= PAIR_MIN and p[0] in common and p[1] in common}
    seen = {w: n for w, n in counts.items() if w not in whole and _splits(w, common)}
    seen.update({w: KNOWN for w in whole if len(w) >= 4 and any(p in kept for p in _splits(w, common))})
    return Lexicon(common, kept, seen)


def write_lexicon(lexicon: Lexicon, path: Path = LEXICON_PATH) -> None:
    lines = [f"common\t{w}" for w in sorted(lexicon.common)]
    lines += [f"pair\t{a} {b}\t{n}" for (a, b), n in sorted(lexicon.pairs.items())]
    lines += [f"seen\t{w}\t{n}" for w, n in sorted(lexicon.seen.items())]
    # mtime=0: the same lexicon is the same bytes, so a rebuild shows no change in git.
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), mtime=0))


@functools.lru_cache(maxsize=None)
def load_lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    """The committed lexicon (read once per process)."""
    common: set[str] = set()
    pairs: dict[tuple[str, str], int] = {}
    seen: dict[str, int] = {}
    for line in filter(None, gzip.decompress(path.read_bytes()).decode("utf-8").splitlines()):
        kind, key, *value = line.split("\t")
        if kind == "common":
            common.add(key)
        elif kind == "pair":
            a, b = key.split(" ")
            pairs[(a, b)] = int(value[0])
        else:
            seen[key] = int(value[0])
    return Lexicon(frozenset(common), pairs, seen)
