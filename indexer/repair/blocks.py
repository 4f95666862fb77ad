"""An article's blocks (its blank-line-separated paragraphs) as headings,
list items and prose.

The sources keep a page's headings and image captions as short blocks
without closing punctuation ("Overview", "How the Heart Valves Work",
"Normal Mitral Valve"); so are the items of lists whose bullets were lost
("Smoking", "High blood pressure"). Told apart by their neighbours:

- a run of one or two short blocks followed by prose is headings (a section
  and a subsection heading: "Overview", "How the Heart Valves Work"), unless
  the block before ends with a colon ("You can control:") or a block has a
  comma ("Fruits, such as apples"): then they are items;
- every other short block is a list item; so are lines starting "- ", and
  the entries of a list a colon opens ("such as:") for as long as they
  are not full sentences, closing parenthesis or not ("Fatigue
  (tiredness)", "Confusion").

An image caption reads like a heading and sits where one would, so it is
taken for one: readers see it as a passage's heading, never run into the
next sentence. Misreading an item as a heading would take it out of the
prose, so anything doubtful is an item.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

HEADING_MAX_WORDS = 10
MAX_HEADING_RUN = 2
LIST_ENTRY_MAX_WORDS = 25
_CLOSED = re.compile(r"[.!?:;,)\]\"'”’…]$")
_BLOCK_BREAK = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Block:
    kind: str  # "heading", "item" or "prose"
    text: str  # whitespace collapsed, except the line breaks between list lines


def paragraphs(text: str) -> list[str]:
    """The blank-line-separated blocks of `text`, each line's spaces collapsed."""
    found = []
    for block in _BLOCK_BREAK.split(text):
        lines = [" ".join(line.split()) for line in block.split("\n")]
        joined = "\n".join(line for line in lines if line)
        if joined:
            found.append(joined)
    return found


def _short(block: str) -> bool:
    return ("\n" not in block and len(block.split()) <= HEADING_MAX_WORDS and not _CLOSED.search(block)
            and not block.startswith("- ") and block[0].isupper())


def _run_kind(run: list[str], before: str | None, after: str | None) -> str:
    if after is None or after.startswith("- ") or len(run) > MAX_HEADING_RUN:
        return "item"
    if (before is not None and before.endswith(":")) or any("," in b for b in run):
        return "item"
    return "heading"


def _list_entry(block: str) -> bool:
    """A block that can be an item of a list opened by a colon: short, and
    not a full sentence ("Fatigue (tiredness)", "Chest pain")."""
    return "\n" not in block and len(block.split()) <= LIST_ENTRY_MAX_WORDS and not block.endswith((".", "!", "?"))


def _open_list(found: list[str], start: int) -> int:
    """Where the list opened by the colon-ended block before `start` ends:
    its entries run on while they look like entries, even when one has
    closing punctuation ("Fatigue (tiredness)") between short ones."""
    end = start
    while end < len(found) and _list_entry(found[end]):
        end += 1
    return end


def structure(text: str) -> list[Block]:
    """The blocks of `text` in order, each with its kind."""
    found = paragraphs(text)
    kinds: list[str] = []
    i = 0
    while i < len(found):
        if i and found[i - 1].endswith(":") and _list_entry(found[i]):
            end = _open_list(found, i)
            kinds.extend(["item"] * (end - i))
            i = end
            continue
        if not _short(found[i]):
            kinds.append("item" if found[i].startswith("- ") else "prose")
            i += 1
            continue
        end = i
        while end < len(found) and _short(found[end]):
            end += 1
        before = found[i - 1] if i else None
        after = found[end] if end < len(found) else None
        kinds.extend([_run_kind(found[i:end], before, after)] * (end - i))
        i = end
    return [Block(kind, block) for kind, block in zip(kinds, found)]


def headings(text: str) -> list[str]:
    """The blocks of `text` read as headings, in order."""
    return [b.text for b in structure(text) if b.kind == "heading"]
