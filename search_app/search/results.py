"""Who stands behind a result, in words, for both the JSON API and the page,
so the two can never disagree about who wrote a passage. The API's response
shapes are built from the models in `search_app/api/schemas.py`
(`search_app/api/responses.py`)."""
from __future__ import annotations

from indexer.index import PassageRecord

UNATTRIBUTED = "unattributed"


def attribution_label(passage: PassageRecord) -> str:
    """Who stands behind a passage, in words: a person with credentials, else
    the source organisation, else honestly 'unattributed'."""
    return attribution_of(passage.author, passage.credentials, passage.source)


def attribution_of(author: str | None, credentials: str | None, source: str | None) -> str:
    if author:
        return f"{author}, {credentials}" if credentials else author
    if source:
        return source
    return UNATTRIBUTED
