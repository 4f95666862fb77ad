"""Text repair at import: scraping leftovers in an article's text undone
before it is chunked, each change recorded (`Repair`) and the source's text
kept (`Article.original_text`), so an editor can check every change.

One module a kind of repair, applied in this order (each sees the text the
one before left):

- `furniture`: lines of page furniture ("Espaol", the remnant of an
  "Español" link), dropped;
- `spacing`: a missing space after a comma between words ("mitral,and");
- `bullets`: a list flattened into one line ("include - Smoking - Diabetes")
  put back one item a line;
- `glued`: two words run together by a lost link or space
  ("congenitalheart"), split where the frozen lexicon (`lexicon`) says both
  halves are common words and the pair is attested;
- `blocks`: which blocks are headings (recorded, not changed: the chunker
  gives them to passages as their heading instead of running them into the
  prose).

Every rule is a function of the article's text and of the frozen lexicon
alone, never of the rest of the corpus being built, so publishing one new
article cannot change another article's text, and building twice gives the
same text. Repairing repaired text changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

from indexer.models import Repair
from indexer.repair import blocks, bullets, furniture, glued, spacing


@dataclass(frozen=True)
class Repaired:
    text: str
    repairs: tuple[Repair, ...]


_TEXT_REPAIRS = (furniture.repair, spacing.repair, bullets.repair, glued.repair)


def repair_text(text: str) -> Repaired:
    """`text` with every repair applied, and what each changed."""
    found: list[Repair] = []
    for repair in _TEXT_REPAIRS:
        text, changes = repair(text)
        found.extend(changes)
    found.extend(Repair("heading", heading, heading) for heading in blocks.headings(text))
    return Repaired(text, tuple(found))
