"""One shape for a search hit, used by both the JSON API and the page, so the
two can never disagree about who wrote a passage."""
from __future__ import annotations

from indexer.store import PassageRecord
from search_app.searcher import Hit, SearchResult

UNATTRIBUTED = "unattributed"


def attribution_label(passage: PassageRecord) -> str:
    """Who stands behind a passage, in words: a person with credentials, else
    the source organisation, else honestly 'unattributed'."""
    if passage.author:
        return f"{passage.author}, {passage.credentials}" if passage.credentials else passage.author
    if passage.source:
        return passage.source
    return UNATTRIBUTED


def hit_to_dict(hit: Hit) -> dict:
    p = hit.passage
    return {
        "rank": hit.rank,
        "score": round(hit.score, 6),
        "similarity": None if hit.similarity is None else round(hit.similarity, 6),
        "text": p.text,
        "passage": {"id": p.id, "position": p.position, "of": p.passage_count},
        "matched_sentence": None if hit.matched_sentence is None else {
            "index": hit.matched_sentence, "text": p.sentences[hit.matched_sentence]},
        "other_passages": hit.other_passages,
        "article": {"id": p.article_id, "title": p.article_title, "url": p.article_url,
                    "kind": p.article_kind},
        "author": {"name": p.author, "credentials": p.credentials},
        "source": p.source,
        "attribution": attribution_label(p),
        "page": p.page_id,
    }


def result_to_dict(result: SearchResult, k: int, offset: int = 0) -> dict:
    return {
        "query": result.query,
        "mode": result.mode,
        "k": k,
        "offset": offset,
        "total": result.total,
        "interpreted_as": {"corrections": result.plan.corrections, "expansions": result.plan.expansions},
        "generation": result.generation,
        "took_ms": round(result.took_ms, 2),
        "results": [hit_to_dict(h) for h in result.hits],
    }
