"""One shape for a search hit, used by both the JSON API and the page, so the
two can never disagree about who wrote a passage. The shapes are documented
by the response models in `search_app/api/schemas.py`; the contract tests check
that every response fits them."""
from __future__ import annotations

from typing import Sequence

from indexer.index import PassageRecord
from search_app.search.searcher import Hit, SearchResult

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


def article_ref(p: PassageRecord) -> dict:
    return {"id": p.article_id, "title": p.article_title, "url": p.article_url, "kind": p.article_kind}


def author_of(p: PassageRecord) -> dict:
    return {"name": p.author, "credentials": p.credentials}


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
        "other_passages": list(hit.other_passages),
        "article": article_ref(p),
        "author": author_of(p),
        "source": p.source,
        "attribution": attribution_label(p),
        "page": p.page_id,
    }


def result_to_dict(result: SearchResult, k: int, offset: int = 0, *, hits: Sequence[Hit] | None = None,
                   total: int | None = None, next_offset: int | None = None, filters: dict | None = None,
                   took_ms: float | None = None) -> dict:
    """The search response. `hits`/`total` override the searcher's (after
    filtering); `took_ms` the searcher's own time (to include filtering)."""
    hits = result.hits if hits is None else hits
    return {
        "query": result.query,
        "mode": result.mode,
        "k": k,
        "offset": offset,
        "total": result.total if total is None else total,
        "next_offset": next_offset,
        "filters": filters or {"author": None, "source": None, "article": None},
        "interpreted_as": {"corrections": dict(result.plan.corrections),
                           "expansions": list(result.plan.expansions)},
        "generation": result.generation,
        "took_ms": round(result.took_ms if took_ms is None else took_ms, 2),
        "results": [hit_to_dict(h) for h in hits],
    }


def passage_to_dict(p: PassageRecord, generation: str, disclaimer: str | None) -> dict:
    return {
        "id": p.id,
        "position": p.position,
        "of": p.passage_count,
        "text": p.text,
        "sentences": list(p.sentences),
        "article": article_ref(p),
        "author": author_of(p),
        "source": p.source,
        "attribution": attribution_label(p),
        "page": p.page_id,
        "disclaimer": disclaimer,
        "generation": generation,
    }


def article_to_dict(passages: Sequence[PassageRecord], generation: str, disclaimer: str | None) -> dict:
    """An article with its attribution and all its passages (at least one)."""
    first = passages[0]
    return {
        "id": first.article_id,
        "title": first.article_title,
        "kind": first.article_kind,
        "url": first.article_url,
        "author": author_of(first),
        "source": first.source,
        "attribution": attribution_label(first),
        "page": first.page_id,
        "disclaimer": disclaimer,
        "generation": generation,
        "passage_count": first.passage_count,
        "passages": [{"id": p.id, "position": p.position, "text": p.text, "sentences": list(p.sentences)}
                     for p in passages],
    }
