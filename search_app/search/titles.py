"""Display titles: a source's raw title as a reader should see it, and the
question key that tells two entries asking the same question apart from two
that do not.

Scraped Q&A collections (the NIH corpus) carry template leftovers in their
titles: "What is (are) Heart Failure ?", "Who is at risk for Stroke? ?". The
rules, applied in this order:

1. "What is (are) X" becomes "What is X" (the template's plural hedge);
2. white space before `? ! . , ; :` is removed ("X ?" becomes "X?");
3. a run of question marks (with or without spaces between) becomes one;
4. white space is collapsed and the first letter capitalised;
5. a title that starts like a question ("Do you have information about X")
   and ends in no punctuation gets its "?".

Anything else is kept as the source wrote it: the raw title stays in the
index and in the API (`source_title`) for provenance.
"""
from __future__ import annotations

import re

_ARE_HEDGE = re.compile(r"^(\s*what\s+is)\s+\(are\)", re.IGNORECASE)
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([?!.,;:])")
_REPEATED_QUESTION = re.compile(r"\?(?:\s*\?)+")
_QUESTION_WORDS = ("what", "how", "who", "why", "when", "where", "which", "is", "are", "do", "does", "can")


def display_title(raw: str) -> str:
    """`raw` cleaned by the rules in this module's docstring."""
    title = _ARE_HEDGE.sub(r"\1", raw)
    title = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", title)
    title = _REPEATED_QUESTION.sub("?", title)
    title = " ".join(title.split())
    if not title:
        return title
    title = title[0].upper() + title[1:]
    if title.split()[0].casefold() in _QUESTION_WORDS and title[-1].isalnum():
        title += "?"
    return title


def question_key(raw: str) -> str:
    """What makes two entries answers to the same question: the display
    title, casefolded (the answers of one Q&A page all carry the page's
    question as their title, corpus/README.md)."""
    return display_title(raw).casefold()
