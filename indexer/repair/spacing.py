"""A space lost after a comma between two words ("mitral,and aortic"). Only
between lowercase letters: "1,200" and chemical names ("N,N-dimethyl") keep
their commas as written."""
from __future__ import annotations

import re

from indexer.models import Repair

_GLUED_COMMA = re.compile(r"(?<![\w./@-])([a-z]+),([a-z]+)(?![\w@/-])")


def repair(text: str) -> tuple[str, list[Repair]]:
    """`text` with a space after each comma glued to the next word."""
    changes: list[Repair] = []

    def spaced(match: re.Match) -> str:
        after = f"{match.group(1)}, {match.group(2)}"
        changes.append(Repair("spacing", match.group(0), after))
        return after

    return _GLUED_COMMA.sub(spaced, text), changes
