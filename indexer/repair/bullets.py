"""Lists the scrape flattened into one line ("Risk factors include - Smoking
- Diabetes - Obesity") put back one item a line ("- Smoking"), so each item
is a sentence of its own and readers see a list, not a run of dashes.

A block is taken for a flattened list when it has two or more " - "
separators, or one right after a colon ("resources: - Gene Review"); a
single spaced dash in prose is a dash and stays. Digits on both sides
("5 - 10") are a range, never an item break.
"""
from __future__ import annotations

import re

from indexer.models import Repair

_SEPARATOR = re.compile(r"(?<=\S) +- +(?=[A-Za-z(\"“])|(?<=[^\d\s]) +- +(?=\d)")
_BLOCKS = re.compile(r"(\n[ \t]*\n)")


def _is_flattened_list(block: str) -> bool:
    separators = list(_SEPARATOR.finditer(block))
    if len(separators) >= 2:
        return True
    return len(separators) == 1 and block[:separators[0].start()].rstrip().endswith(":")


def _unflatten(block: str) -> str:
    return _SEPARATOR.sub("\n- ", block)


def repair(text: str) -> tuple[str, list[Repair]]:
    """`text` with each flattened list one item a line."""
    parts = _BLOCKS.split(text)
    changes: list[Repair] = []
    for i in range(0, len(parts), 2):  # odd parts are the blank lines between blocks
        if _is_flattened_list(parts[i]):
            after = _unflatten(parts[i])
            changes.append(Repair("list", parts[i], after))
            parts[i] = after
    return "".join(parts), changes
