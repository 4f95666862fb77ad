"""The API's responses, built from the response models in
`search_app/api/schemas.py` (the same models the OpenAPI document shows), so
a response cannot drift from what is documented."""
from __future__ import annotations

from typing import Sequence

from indexer.index import Generation, PassageRecord
from indexer.models import Article
from search_app.api import schemas as s
from search_app.api.urgent_schema import EmergencyNumber, Urgent
from search_app.search.hits import Also, Hit
from search_app.search.match_quality import any_good, is_good, no_good_match_similarity
from search_app.search.results import attribution_label, attribution_of
from indexer.titles import display_title
from search_app.search.searcher import SearchResult
from search_app.search.urgent import urgent_notice


def _pages(generation: Generation) -> dict:
    """The generation's pages by id (their titles go into unattributed lines)."""
    return generation.pages_by_id


def _article_fields(id: str, title: str, kind: str, url: str | None, author: str | None,
                    credentials: str | None, source: str | None, page: str | None, pages: dict) -> dict:
    """The one article summary: what every article response says about the article."""
    on_page = pages.get(page) if page else None
    attribution = attribution_of(author, credentials, source, kind=kind,
                                 page_title=on_page.title if on_page else None,
                                 url=url or (on_page.url if on_page else None))
    return {"id": id, "title": display_title(title), "source_title": title, "kind": kind, "url": url,
            "author": s.Author(name=author, credentials=credentials), "source": source,
            "attribution": attribution.text, "page": page}


def _fields_of_passage(p: PassageRecord, pages: dict) -> dict:
    return _article_fields(p.article_id, p.article_title, p.article_kind, p.article_url, p.author,
                           p.credentials, p.source, p.page_id, pages)


def _article_ref(p: PassageRecord) -> s.ArticleRef:
    return s.ArticleRef(id=p.article_id, title=display_title(p.article_title), source_title=p.article_title,
                        url=p.article_url, kind=p.article_kind)


def _also(also: Also, pages: dict) -> s.AlsoAnswer:
    p = also.passage
    return s.AlsoAnswer(article=_article_ref(p), author=s.Author(name=p.author, credentials=p.credentials),
                        source=p.source, attribution=attribution_label(p, pages).text,
                        passage=s.AlsoPassage(id=p.id, position=p.position, text=p.text),
                        score=round(also.score, 6),
                        similarity=None if also.similarity is None else round(also.similarity, 6))


def search_hit(hit: Hit, pages: dict, threshold: float) -> s.SearchHit:
    p = hit.passage
    fields = _fields_of_passage(p, pages)
    return s.SearchHit(
        rank=hit.rank, score=round(hit.score, 6),
        similarity=None if hit.similarity is None else round(hit.similarity, 6),
        good_match=is_good(hit, threshold),
        text=p.text, passage=s.PassageRef(id=p.id, position=p.position, of=p.passage_count, heading=p.heading),
        matched_sentence=None if hit.matched_sentence is None else s.MatchedSentence(
            index=hit.matched_sentence, text=p.sentences[hit.matched_sentence]),
        other_passages=list(hit.other_passages), article=_article_ref(p), author=fields["author"],
        source=p.source, attribution=fields["attribution"], page=p.page_id,
        also=[_also(a, pages) for a in hit.also])


def urgent(query: str) -> Urgent | None:
    """The page's call-emergency-services notice, for API clients to show too."""
    notice = urgent_notice(query)
    if notice is None:
        return None
    return Urgent(level=notice.level, title=notice.title, message=notice.message,
                  numbers=[EmergencyNumber(number=n.number, region=n.region) for n in notice.numbers],
                  conditions=list(notice.conditions))


def search_response(result: SearchResult, k: int, offset: int, next_offset: int | None) -> dict:
    f, pages = result.filters, _pages(result.generation)
    threshold = no_good_match_similarity(result.generation)
    return s.SearchResponse(
        query=result.query, urgent=urgent(result.query), mode=result.mode, k=k, offset=offset,
        total=result.total, next_offset=next_offset,
        filters=s.Filters(author=f.author, source=f.source, article=f.article),
        interpreted_as=s.InterpretedAs(corrections=dict(result.plan.corrections),
                                       expansions=list(result.plan.expansions)),
        generation=result.generation.name, took_ms=round(result.took_ms, 2),
        no_good_match=not any_good(result.hits, result.generation),
        results=[search_hit(h, pages, threshold) for h in result.hits]).model_dump()


def passage_detail(p: PassageRecord, generation: Generation, disclaimer: str | None) -> dict:
    fields = _fields_of_passage(p, _pages(generation))
    return s.PassageDetail(
        id=p.id, position=p.position, of=p.passage_count, text=p.text, sentences=list(p.sentences),
        article=_article_ref(p), author=fields["author"], source=p.source, attribution=fields["attribution"],
        page=p.page_id, disclaimer=disclaimer, generation=generation.name).model_dump()


def article_detail(article: Article, passages: Sequence[PassageRecord], generation: Generation,
                   disclaimer: str | None) -> dict:
    """An article with its attribution, all its passages (at least one) and
    what the import repaired in its text."""
    first = passages[0]
    return s.ArticleDetail(
        **_fields_of_passage(first, _pages(generation)), disclaimer=disclaimer, generation=generation.name,
        passage_count=first.passage_count,
        passages=[s.ArticlePassage(id=p.id, position=p.position, heading=p.heading, text=p.text,
                                   sentences=list(p.sentences)) for p in passages],
        repairs=[s.TextRepair(kind=r.kind, before=r.before, after=r.after) for r in article.repairs],
        source_text=article.original_text).model_dump()


def article_list(articles: Sequence[tuple[Article, int]], total: int, offset: int, limit: int,
                 next_offset: int | None, author: str | None, source: str | None, generation: Generation) -> dict:
    """A page of article summaries: (article, its passage count) pairs."""
    pages = _pages(generation)
    return s.ArticleList(total=total, offset=offset, limit=limit, next_offset=next_offset,
                         filters=s.ListFilters(author=author, source=source), generation=generation.name,
                         articles=[s.ArticleSummary(**_article_fields(a.id, a.title, a.kind, a.url, a.author,
                                                                      a.credentials, a.source, a.page, pages),
                                                    passages=n) for a, n in articles]).model_dump()


def ready(generation: Generation) -> dict:
    return s.Ready(status="ready", generation=generation.name, passages=generation.passage_count,
                   model=generation.model).model_dump()
