"""The reviewed lay-language glossary: everyday words → clinical words.

Readers type "clogged arteries", "water pills" or "heart flutter"; the
articles say "atherosclerosis", "diuretics" and "atrial flutter". The
glossary (``search_app/search/data/lay_glossary.tsv``) lists such pairs, and this
module finds the lay phrases in a query and names the clinical terms to add.

File format — one entry a line, three TAB-separated columns::

    lay phrase<TAB>clinical phrase[; clinical phrase...]<TAB>category

``#`` starts a comment line; blank lines are ignored. Everything is lower
case. ``category`` is one of :data:`CATEGORIES`. A malformed line is a
``ValueError`` naming ``path:line`` and what is wrong.

Matching is on whole words after light normalisation, applied alike to the
glossary's phrases and to the query:

* the words are those of the lexical index (``indexer.text.words``):
  lower-cased, accents folded, curly apostrophes made straight, and
  punctuation other than an apostrophe suffix splits words, so "-" and " "
  are alike ("mini-stroke" = "mini stroke"); apostrophes are then dropped
  ("raynaud's" = "raynauds");
* a plural "s" is ignored ("water pill" = "water pills", "clogged artery"
  = "clogged arteries"; "-ies" = "-y", "-sses" = "-ss"; words ending in
  "ss", "us" or "is" — "bypass", "lupus", "thrombosis" — and words under
  four letters — "mis", "pes" — are left alone);
* a few little words are ignored: "the", "an" and the possessives "my",
  "your", "his", "her", "our", "their" ("blood clot in my leg" = "clot in
  the leg", "hole in the heart" = "hole in heart"); "a" is kept, since
  "a fib" needs it (``indexer.text.GLOSSARY_IGNORED``).

Matches never overlap. When they compete, the longest wins, so "high blood
pressure" never also yields an entry for "blood pressure". Between equally
long overlapping matches the rightmost wins: English puts the head of a
phrase last, so "high blood pressure pills" is about pills (→ "blood pressure
pills") and "high cholesterol test" about a test. Matching is a dictionary
look-up per query word, so a query costs microseconds.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from indexer.text import GLOSSARY_IGNORED, words

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "lay_glossary.tsv"

CATEGORIES = frozenset({"condition", "symptom", "test", "drug", "procedure", "anatomy", "risk"})



@dataclass(frozen=True)
class GlossaryEntry:
    lay: str                     # what a reader types, e.g. "water pills"
    clinical: tuple[str, ...]    # what the articles say, e.g. ("diuretics",)
    category: str                # one of CATEGORIES


def _word_key(word: str) -> str:
    """One word's matching form: apostrophes dropped, a plural "s" removed."""
    word = word.replace("'", "")
    if len(word) < 4:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def phrase_key(text: str) -> tuple[str, ...]:
    """The normalised words of a phrase or query, as they are matched."""
    keys = []
    for word in words(text):
        key = _word_key(word)
        if key and key not in GLOSSARY_IGNORED:
            keys.append(key)
    return tuple(keys)


def _entry_problem(lay: str, clinical: tuple[str, ...], category: str) -> str | None:
    """What is wrong with one entry on its own, or None."""
    if not lay.strip():
        return "empty lay phrase"
    if not phrase_key(lay):
        return f"lay phrase {lay!r} has no words"
    if not clinical:
        return f"no clinical phrase for {lay!r}"
    if not category.strip():
        return f"empty category for {lay!r}"
    if category not in CATEGORIES:
        return f"unknown category {category!r} for {lay!r} (expected one of {', '.join(sorted(CATEGORIES))})"
    seen: set[tuple[str, ...]] = set()
    for term in clinical:
        if not term.strip():
            return f"empty clinical phrase for {lay!r}"
        key = phrase_key(term)
        if not key:
            return f"clinical phrase {term!r} has no words"
        if key == phrase_key(lay):
            return f"clinical phrase {term!r} only repeats the lay phrase"
        if key in seen:
            return f"clinical phrase {term!r} given twice for {lay!r}"
        seen.add(key)
    return None


class Glossary:
    """Lay phrases and their clinical equivalents, with a fast phrase matcher."""

    def __init__(self, entries: Iterable[GlossaryEntry]):
        """Use :meth:`load` or :meth:`from_entries`; entries must already be valid."""
        self.entries: tuple[GlossaryEntry, ...] = tuple(entries)
        # first word key → [(phrase key, entry)], longest phrase first
        self._by_first: dict[str, list[tuple[tuple[str, ...], GlossaryEntry]]] = {}
        for entry in self.entries:
            key = phrase_key(entry.lay)
            self._by_first.setdefault(key[0], []).append((key, entry))
        for candidates in self._by_first.values():
            candidates.sort(key=lambda c: -len(c[0]))
        self.lay_words: frozenset[str] = frozenset(w for e in self.entries for w in words(e.lay))

    # -- building ---------------------------------------------------------

    @classmethod
    def from_entries(cls, entries: Iterable[GlossaryEntry]) -> "Glossary":
        """A glossary from entries made in code; ValueError if one is invalid
        or two lay phrases match the same words."""
        checked: list[GlossaryEntry] = []
        seen: dict[tuple[str, ...], str] = {}
        for entry in entries:
            lay = entry.lay.strip().lower()
            clinical = tuple(t.strip().lower() for t in entry.clinical)
            category = entry.category.strip().lower()
            problem = _entry_problem(lay, clinical, category)
            if problem:
                raise ValueError(problem)
            key = phrase_key(lay)
            if key in seen:
                raise ValueError(f"duplicate lay phrase {lay!r} (same words as {seen[key]!r})")
            seen[key] = lay
            checked.append(GlossaryEntry(lay, clinical, category))
        return cls(checked)

    @classmethod
    def load(cls, path: str | Path = DEFAULT_PATH) -> "Glossary":
        """Parse a glossary file; ValueError("path:line: what is wrong") if malformed."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as e:
            raise ValueError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
        entries: list[GlossaryEntry] = []
        seen: dict[tuple[str, ...], tuple[str, int]] = {}
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.rstrip("\r\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            where = f"{path}:{number}"
            fields = line.split("\t")
            if len(fields) != 3:
                hint = " (are the columns separated by TABs?)" if len(fields) == 1 else ""
                raise ValueError(f"{where}: expected 3 TAB-separated columns "
                                 f"(lay, clinical, category), found {len(fields)}{hint}")
            lay, clinical_field, category = (f.strip() for f in fields)
            if not lay:
                raise ValueError(f"{where}: empty lay phrase")
            if not clinical_field:
                raise ValueError(f"{where}: empty clinical column for {lay!r}")
            if not category:
                raise ValueError(f"{where}: empty category for {lay!r}")
            for name, value in (("lay phrase", lay), ("clinical column", clinical_field),
                                ("category", category)):
                if value != value.lower():
                    raise ValueError(f"{where}: {name} {value!r} must be lower case")
            clinical = tuple(t.strip() for t in clinical_field.split(";"))
            problem = _entry_problem(lay, clinical, category)
            if problem:
                raise ValueError(f"{where}: {problem}")
            key = phrase_key(lay)
            if key in seen:
                first, first_line = seen[key]
                same = "" if first == lay else f" (matches the same words as {first!r})"
                raise ValueError(f"{where}: duplicate lay phrase {lay!r}{same}, "
                                 f"first given on line {first_line}")
            seen[key] = (lay, number)
            entries.append(GlossaryEntry(lay, clinical, category))
        return cls(entries)

    # -- reading ----------------------------------------------------------

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries)

    def _matches(self, keys: tuple[str, ...]) -> list[tuple[int, GlossaryEntry]]:
        """Non-overlapping (start, entry) matches in query order; when they
        compete the longest wins, then the rightmost (see the module notes)."""
        found: list[tuple[int, int, GlossaryEntry]] = []   # (length, start, entry)
        for start, word in enumerate(keys):
            for phrase, entry in self._by_first.get(word, ()):
                n = len(phrase)
                if keys[start:start + n] == phrase:
                    found.append((n, start, entry))
        if not found:
            return []
        found.sort(key=lambda m: (-m[0], -m[1]))
        taken = [False] * len(keys)
        chosen: list[tuple[int, GlossaryEntry]] = []
        for n, start, entry in found:
            if not any(taken[start:start + n]):
                taken[start:start + n] = [True] * n
                chosen.append((start, entry))
        chosen.sort(key=lambda m: m[0])
        return chosen

    def expansions(self, query: str) -> list[tuple[str, tuple[str, ...]]]:
        """(lay phrase, clinical phrases) for each glossary phrase in the
        query, in query order. Overlapping candidates are settled longest
        first (ties: rightmost), so each query word belongs to at most one
        entry."""
        return [(entry.lay, entry.clinical) for _, entry in self._matches(phrase_key(query))]

