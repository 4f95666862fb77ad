"""The API's responses, built from the response models in
`search_app/api/schemas.py` (the same models the OpenAPI document shows), so
a response cannot drift from what is documented."""
from __future__ import annotations

from typing import Sequence

from indexer.index import Generation, PassageRecord
from indexer.models import Article
from search_app.api import schemas as s
from search_app.search.hits import Hit
from search_app.search.results import attribution_of
from search_app.search.searcher import SearchResult


def _article_fields(id: str, title: str, kind: str, url: str | None, author: str | None,
                    credentials: str | None, source: str | None, page: str | None) -> dict:
    """The one article summary: what every article response says about the article."""
    return {"id": id, "title": title, "kind": kind, "url": url,
            "author": s.Author(name=author, credentials=credentials), "source": source,
            "attribution": attribution_of(author, credentials, source), "page": page}


def _fields_of_passage(p: PassageRecord) -> dict:
    return _article_fields(p.article_id, p.article_title, p.article_kind, p.article_url, p.author,
                           p.credentials, p.source, p.page_id)


def _article_ref(p: PassageRecord) -> s.ArticleRef:
    return s.ArticleRef(id=p.article_id, title=p.article_title, url=p.article_url, kind=p.article_kind)


def search_hit(hit: Hit) -> s.SearchHit:
    p = hit.passage
    fields = _fields_of_passage(p)
    return s.SearchHit(
        rank=hit.rank, score=round(hit.score, 6),
        similarity=None if hit.similarity is None else round(hit.similarity, 6),
        text=p.text, passage=s.PassageRef(id=p.id, position=p.position, of=p.passage_count),
        matched_sentence=None if hit.matched_sentence is None else s.MatchedSentence(
            index=hit.matched_sentence, text=p.sentences[hit.matched_sentence]),
        other_passages=list(hit.other_passages), article=_article_ref(p), author=fields["author"],
        source=p.source, attribution=fields["attribution"], page=p.page_id)


def search_response(result: SearchResult, k: int, offset: int, next_offset: int | None) -> dict:
    f = result.filters
    return s.SearchResponse(
        query=result.query, mode=result.mode, k=k, offset=offset, total=result.total, next_offset=next_offset,
        filters=s.Filters(author=f.author, source=f.source, article=f.article),
        interpreted_as=s.InterpretedAs(corrections=dict(result.plan.corrections),
                                       expansions=list(result.plan.expansions)),
        generation=result.generation.name, took_ms=round(result.took_ms, 2),
        results=[search_hit(h) for h in result.hits]).model_dump()


def passage_detail(p: PassageRecord, generation: Generation, disclaimer: str | None) -> dict:
    fields = _fields_of_passage(p)
    return s.PassageDetail(
        id=p.id, position=p.position, of=p.passage_count, text=p.text, sentences=list(p.sentences),
        article=_article_ref(p), author=fields["author"], source=p.source, attribution=fields["attribution"],
        page=p.page_id, disclaimer=disclaimer, generation=generation.name).model_dump()


def article_detail(passages: Sequence[PassageRecord], generation: Generation, disclaimer: str | None) -> dict:
    """An article with its attribution and all its passages (at least one)."""
    first = passages[0]
    return s.ArticleDetail(
        **_fields_of_passage(first), disclaimer=disclaimer, generation=generation.name,
        passage_count=first.passage_count,
        passages=[s.ArticlePassage(id=p.id, position=p.position, text=p.text, sentences=list(p.sentences))
                  for p in passages]).model_dump()


def article_list(articles: Sequence[tuple[Article, int]], total: int, offset: int, limit: int,
                 next_offset: int | None, author: str | None, source: str | None, generation: Generation) -> dict:
    """A page of article summaries: (article, its passage count) pairs."""
    return s.ArticleList(total=total, offset=offset, limit=limit, next_offset=next_offset,
                         filters=s.ListFilters(author=author, source=source), generation=generation.name,
                         articles=[s.ArticleSummary(**_article_fields(a.id, a.title, a.kind, a.url, a.author,
                                                                      a.credentials, a.source, a.page),
                                                    passages=n) for a, n in articles]).model_dump()


def ready(generation: Generation) -> dict:
    return s.Ready(status="ready", generation=generation.name, passages=generation.passage_count,
                   model=generation.model).model_dump()
