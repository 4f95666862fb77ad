"""A reader's words → what each retriever is asked.

The plan keeps the reader's query as typed (for display), fixes misspelt
words against the corpus vocabulary, and bridges lay words to clinical ones
through two sources: the project's reviewed glossary and the corpus's own
topic synonyms. The dense retriever gets one sentence with the clinical
terms appended; the lexical retriever gets the stems of all of it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from indexer.text import fold, stems, words


class InputError(ValueError):
    """A request refused as the reader's mistake (the API's 400, the page's
    message); `code` is machine-readable, `field` names the parameter."""

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


def normalise_query(raw: object, max_chars: int) -> str:
    """Collapse whitespace and control characters; refuse empty or huge."""
    if not isinstance(raw, str):
        raise InputError("invalid_query", "The query must be text.", "q")
    if len(raw) > max_chars * 4:  # don't even clean something absurdly long
        raise InputError("query_too_long", f"The query is longer than {max_chars} characters.", "q")
    cleaned = "".join(ch if ch.isprintable() else " " for ch in raw)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise InputError("empty_query", "Type a question or a few words to search for.", "q")
    if len(cleaned) > max_chars:
        raise InputError("query_too_long", f"The query is longer than {max_chars} characters.", "q")
    return cleaned


@dataclass
class QueryPlan:
    text: str                                   # as the reader typed it (normalised whitespace)
    corrected: str                              # spelling fixed
    dense_text: str                             # what is embedded
    lexical_terms: list[str]                    # stems for BM25
    corrections: dict[str, str] = field(default_factory=dict)
    expansions: list[str] = field(default_factory=list)

    @property
    def highlight_stems(self) -> set[str]:
        return set(self.lexical_terms)


@dataclass(frozen=True)
class QueryOptions:
    """Which bridging pieces run. Each was kept only where the held-out half
    of the dev queries improved (docs/quality.md): expanding queries with the
    corpus's topic synonyms did not (worse on tune, equal on held-out:
    docs/quality.md, "Ablations"), so it is off; the synonyms still count on the document
    side, in the lexical index."""
    spelling: bool = True
    glossary: bool = True
    synonyms: bool = False


class PhraseTable:
    """Phrase → clinical names, matched on whole words (used for the corpus's
    topic synonyms; the glossary has its own richer matcher)."""

    def __init__(self, mapping: dict[str, tuple[str, ...]]):
        self._mapping = mapping
        phrases = sorted(mapping, key=len, reverse=True)
        self._pattern = re.compile(r"\b(" + "|".join(re.escape(p) for p in phrases) + r")\b") \
            if phrases else None

    def expansions(self, text: str) -> list[str]:
        if self._pattern is None:
            return []
        found: list[str] = []
        for match in self._pattern.finditer(" ".join(words(text))):
            found.extend(self._mapping[match.group(1)])
        return found


def corpus_synonym_table(articles_synonyms: list[tuple[str, tuple[str, ...]]]) -> PhraseTable:
    """From (topic, synonyms) pairs: every synonym of a topic points at the
    topic's first name. Short or ambiguous synonyms (under 4 letters, or one
    that names several topics) are left out: "AF" or "MI" alone would fire on
    too much."""
    targets: dict[str, set[str]] = {}
    for _title, synonyms in articles_synonyms:
        if not synonyms:
            continue
        canonical = synonyms[0]
        for synonym in synonyms[1:]:
            key = " ".join(words(synonym))
            if len(key) >= 4 and key != " ".join(words(canonical)):
                targets.setdefault(key, set()).add(canonical)
    mapping = {k: tuple(sorted(v)) for k, v in targets.items() if len(v) == 1}
    return PhraseTable(mapping)


def plan_query(text: str, options: QueryOptions = QueryOptions(), speller=None, glossary=None,
               synonyms: PhraseTable | None = None) -> QueryPlan:
    corrections = speller.corrections(words(text)) if (options.spelling and speller) else {}
    corrected = " ".join(corrections.get(w, w) for w in words(text)) if corrections else text
    expansions: list[str] = []
    if options.glossary and glossary is not None:
        for _lay, clinical in glossary.expansions(corrected):
            expansions.extend(clinical)
    if options.synonyms and synonyms is not None:
        expansions.extend(synonyms.expansions(corrected))
    folded = fold(corrected)
    expansions = [e for e in dict.fromkeys(expansions) if fold(e) not in folded]
    dense_text = f"{corrected} ({'; '.join(expansions)})" if expansions else corrected
    lexical = stems(corrected) + [s for e in expansions for s in stems(e)]
    if corrections:
        lexical += stems(text)  # the typed word may be right after all
    return QueryPlan(text=text, corrected=corrected, dense_text=dense_text,
                     lexical_terms=list(dict.fromkeys(lexical)), corrections=corrections,
                     expansions=expansions)
