"""The response model of one text repair (`ArticleDetail.repairs` in
`search_app/api/schemas.py`): what the import changed in an article's text
(indexer/repair/), so a client or an editor can check every change against
the source's text. Kept apart from schemas.py so that module stays readable."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

REPAIRS_DOC = ("What the import changed in the source's text to make it readable (indexer/repair/, "
               "docs/quality.md \"Text repair at import\"), in order; empty if nothing was changed.")
SOURCE_TEXT_DOC = "The article's text exactly as the source had it, before the repairs; null if none changed it."


class TextRepair(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="The rule: `furniture`, `spacing`, `list`, `glued` or `heading` (a heading "
                                  "told from prose: recorded, the text unchanged).")
    before: str = Field(description="The source's text the rule replaced.")
    after: str = Field(description="What it put there.")
