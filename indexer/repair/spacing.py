"""A space lost after punctuation between two words: after a comma
("mitral,and aortic") or at a sentence end ("discomfort.Most heart
attacks"). Only between letters as they occur in prose: "1,200", chemical
names ("N,N-dimethyl"), abbreviations ("U.S.") and web addresses
("www.nhlbi.nih.gov") keep their punctuation as written."""
from __future__ import annotations

import re

from indexer.models import Repair

_GLUED_COMMA = re.compile(r"(?<![\w./@-])([a-z]+),([a-z]+)(?![\w@/-])")
# Two lowercase letters, the stop, then a capitalised word: a lost space
# between sentences (an abbreviation has one letter before its stop).
_GLUED_SENTENCE = re.compile(r"(?<![\w./@-])([A-Za-z]*[a-z]{2}[.!?])([A-Z][a-z]+)(?![\w@/.-])")


def repair(text: str) -> tuple[str, list[Repair]]:
    """`text` with a space after each comma or sentence end glued to the next word."""
    changes: list[Repair] = []

    def spaced(match: re.Match, between: str) -> str:
        after = f"{match.group(1)}{between} {match.group(2)}"
        changes.append(Repair("spacing", match.group(0), after))
        return after

    text = _GLUED_COMMA.sub(lambda m: spaced(m, ","), text)
    return _GLUED_SENTENCE.sub(lambda m: spaced(m, ""), text), changes
