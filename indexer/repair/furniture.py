"""Page furniture left in the text by the scrape: whole lines that belong to
the source site's navigation, not to the article. Only exact lines are
dropped, so a sentence that happens to contain such a word stays."""
from __future__ import annotations

import re

from indexer.models import Repair

# "Espaol": the "Español" language link of NHLBI pages with its "ñ" lost.
_FURNITURE_LINES = ("Espaol", "Español")
_LINE = re.compile(r"^[ \t]*(" + "|".join(map(re.escape, _FURNITURE_LINES)) + r")[ \t]*(?:\n|$)", re.M)


def repair(text: str) -> tuple[str, list[Repair]]:
    """`text` without its furniture lines."""
    changes = [Repair("furniture", m.group(1), "") for m in _LINE.finditer(text)]
    if not changes:
        return text, []
    return _LINE.sub("", text).strip(), changes
