"""What a reader search hands the private search log (indexer/insights/log.py):
only the fields docs/privacy.md lists, taken from what the API or the page
already worked out for its answer (the hits shown, "no good match", the
urgent notice), so logging costs a search a queue append and nothing is
decided twice. The request (address, cookies, headers, request id) never
reaches this module, so it cannot be logged by mistake.

Only first pages are logged: a reader paging on asks the same question, and
counting every page would inflate the editors' "asked most" list.
"""
from __future__ import annotations

import logging
from typing import Iterable, Sequence

from indexer.insights.log import SearchEvent, SearchLog
from search_app.search.hits import Hit
from search_app.search.searcher import SearchResult
from search_app.search.urgent import SIGNS

log = logging.getLogger("heartsearch.insights")

# The notice names each sign in words (SIGNS' values); the log keeps the sign (its key).
SIGN_OF_CONDITION = {wording: sign for sign, wording in SIGNS.items()}


def best_similarity(hits: Sequence[Hit]) -> float | None:
    sims = [h.similarity for h in hits if h.similarity is not None]
    return max(sims) if sims else None


def search_event(result: SearchResult, shown: Sequence[Hit], no_good_match: bool,
                 urgent_conditions: Iterable[str] = ()) -> SearchEvent:
    """`shown`: the hits of the first page the reader sees; `urgent_conditions`:
    the notice's conditions as worded (UrgentNotice.conditions, the API's
    `urgent.conditions`), empty when no notice."""
    return SearchEvent(query=result.query, mode=result.mode, results=int(result.total),
                       best_similarity=best_similarity(shown), no_good_match=bool(no_good_match),
                       urgent=tuple(SIGN_OF_CONDITION.get(c, c) for c in urgent_conditions),
                       generation=result.generation.name)


def record_search(search_log: SearchLog | None, result: SearchResult, shown: Sequence[Hit], no_good_match: bool,
                  urgent_conditions: Iterable[str] = (), offset: int = 0) -> None:
    """Record a first-page search when the log is on; never raises."""
    if search_log is None or offset:
        return
    try:
        search_log.record(search_event(result, shown, no_good_match, urgent_conditions))
    except Exception:  # the log must never fail a search
        log.exception("could not record a search in the search log")
