"""Display titles: a source's raw title as a reader should see it, and the
question key that tells two entries asking the same question apart from two
that do not.

Scraped Q&A collections (the NIH corpus) carry template leftovers in their
titles: "What is (are) Heart Failure ?", "Who is at risk for Stroke? ?". The
rules, applied in this order:

1. "What is (are) X" becomes "What is X", or "What are X" when X ends in a
   plural noun ("Varicose Veins", "Heart Valve Diseases"; not "Diabetes",
   "Pericarditis", "Mitral Valve Prolapse"): the template's hedge resolved
   the way a reader would write it;
2. white space before `? ! . , ; :` is removed ("X ?" becomes "X?");
3. a run of question marks (with or without spaces between) becomes one;
4. white space is collapsed and the first letter capitalised;
5. a title that starts like a question ("Do you have information about X")
   and ends in no punctuation gets its "?".

Anything else is kept as the source wrote it: the raw title stays in the
index and in the API (`source_title`) for provenance.
"""
from __future__ import annotations

import functools
import re

_ARE_HEDGE = re.compile(r"^\s*what\s+is\s+\(are\)\s*", re.IGNORECASE)
# Last words ending in "s" that are singular (or uncountable) all the same.
_SINGULAR_ENDINGS = ("ss", "is", "us", "os", "ics", "ous")
_SINGULAR_WORDS = {"diabetes", "herpes", "rabies", "measles", "mumps", "series", "species"}
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([?!.,;:])")
_REPEATED_QUESTION = re.compile(r"\?(?:\s*\?)+")
_QUESTION_WORDS = ("what", "how", "who", "why", "when", "where", "which", "is", "are", "do", "does", "can")


@functools.lru_cache(maxsize=8192)
def display_title(raw: str) -> str:
    """`raw` cleaned by the rules in this module's docstring (kept per
    title: a corpus has few, and every response shows some again)."""
    title = _resolve_hedge(raw)
    title = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", title)
    title = _REPEATED_QUESTION.sub("?", title)
    title = " ".join(title.split())
    if not title:
        return title
    title = title[0].upper() + title[1:]
    if title.split()[0].casefold() in _QUESTION_WORDS and title[-1].isalnum():
        title += "?"
    return title


def _resolve_hedge(raw: str) -> str:
    found = _ARE_HEDGE.match(raw)
    if not found:
        return raw
    topic = raw[found.end():]
    return ("What are " if _is_plural(topic) else "What is ") + topic


def _is_plural(topic: str) -> bool:
    """Whether a topic's head noun (its last word before any comma, bracket
    or "of"/"in"/"with") is a plural: "Heart Valve Diseases", "Arrhythmias",
    not "Transposition of the great arteries"."""
    head = re.split(r"[,(]|\s(?:of|in|with|during|for|after)\s", topic, maxsplit=1)[0].strip(" ?").split()
    if not head:
        return False
    word = head[-1].casefold()
    return word.endswith("s") and not word.endswith(_SINGULAR_ENDINGS) and word not in _SINGULAR_WORDS


def question_key(raw: str) -> str:
    """What makes two entries answers to the same question: the display
    title, casefolded (the answers of one Q&A page all carry the page's
    question as their title, corpus/README.md)."""
    return display_title(raw).casefold()
