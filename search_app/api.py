"""The versioned JSON API: /api/v1/...

Every parameter is validated by the pydantic models in `search_app/schemas.py`
(the same models the OpenAPI document at /openapi.json is generated from);
every failure is {"error": {"code", "message", "field"}} with its HTTP status.

Filters on search (author, source, article) are applied here, not in the
searcher: the API asks the searcher for its top FILTER_CANDIDATES (200)
results and keeps those that match, so a filtered search sees only those 200
candidates and its `total` counts the matches among them.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from flask import Blueprint, current_app, request

from indexer.store import Generation, PassageRecord
from search_app.errors import api_error
from search_app.results import article_to_dict, attribution_of, passage_to_dict, result_to_dict
from search_app.schemas import (FILTER_CANDIDATES, MAX_LIST_OFFSET, MAX_OFFSET, MAX_PASSAGE_ID, ApiInputError,
                                ArticleListParams, search_params_model, validate)
from search_app.searcher import QueryError

api = Blueprint("api", __name__, url_prefix="/api/v1")


# --------------------------------------------------------------------------- helpers

def _config():
    return current_app.config["HEARTSEARCH"]


def _searcher():
    return current_app.extensions["searcher"]


def _query_args() -> dict:
    """The query string as a plain dict (first value of each name); an empty
    value is the same as leaving the parameter out, except for q."""
    return {name: value for name, value in request.args.items() if value != "" or name == "q"}


def _contains(value: str | None, needle: str | None) -> bool:
    return needle is None or (value is not None and needle.casefold() in value.casefold())


def _passage_matches(p: PassageRecord, author: str | None, source: str | None, article: str | None) -> bool:
    return (article is None or p.article_id == article) and _contains(p.author, author) and \
        _contains(p.source, source)


@dataclass
class Catalog:
    """Per generation: every article's summary (ordered by id) and the source
    pages' disclaimers, built once on first use."""

    generation: str
    articles: list[dict]
    by_id: dict[str, dict]
    disclaimers: dict[str, str | None]


_catalog_lock = threading.Lock()


def _catalog(generation: Generation) -> Catalog:
    cached = current_app.extensions.get("api_catalog")
    if cached is not None and cached.generation == generation.name:
        return cached
    with _catalog_lock:
        cached = current_app.extensions.get("api_catalog")
        if cached is not None and cached.generation == generation.name:
            return cached
        passages = generation.passage_counts()
        articles = [{
            "id": a.id, "title": a.title, "kind": a.kind, "url": a.url,
            "author": {"name": a.author, "credentials": a.credentials}, "source": a.source,
            "attribution": attribution_of(a.author, a.credentials, a.source), "page": a.page,
            "passages": passages.get(a.id, 0),
        } for a in generation.articles()]
        catalog = Catalog(generation.name, articles, {a["id"]: a for a in articles},
                          {p.id: p.disclaimer for p in generation.pages()})
        current_app.extensions["api_catalog"] = catalog
        return catalog


def _next_offset(offset: int, shown: int, total: int, deepest: int) -> int | None:
    following = offset + shown
    return following if shown and following < total and following <= deepest else None


# --------------------------------------------------------------------------- search

def _search(data: dict, *, strict: bool):
    config = _config()
    model = search_params_model(config)
    params = validate(model, data, strict=strict, max_k=config.max_k)
    k = config.default_k if params.k is None else params.k
    offset = 0 if params.offset is None else params.offset
    group = True if params.group is None else params.group
    filters = {"author": params.author, "source": params.source, "article": params.article}
    started = time.perf_counter()
    searcher = _searcher()
    if any(filters.values()):
        result = searcher.search(params.q, FILTER_CANDIDATES, offset=0, mode=params.mode, group=group)
        kept = [hit for hit in result.hits if _passage_matches(hit.passage, **filters)]
        hits = kept[offset:offset + k]
        for i, hit in enumerate(hits):
            hit.rank = offset + i + 1
        total = len(kept)
    else:
        result = searcher.search(params.q, k, offset=offset, mode=params.mode, group=group)
        hits, total = result.hits, result.total
    return result_to_dict(result, k, offset, hits=hits, total=total,
                          next_offset=_next_offset(offset, len(hits), total, MAX_OFFSET), filters=filters,
                          took_ms=(time.perf_counter() - started) * 1000)


@api.get("/search")
def search():
    return _search(_query_args(), strict=False)


@api.post("/search")
def search_post():
    if not request.is_json:
        return api_error(415, "unsupported_media_type",
                         "Send the search as JSON with the header Content-Type: application/json.")
    raw = request.get_data(cache=True)  # a 413 if over MAX_CONTENT_LENGTH
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiInputError("invalid_json", "The body is not valid JSON (UTF-8).")
    if not isinstance(data, dict):
        raise ApiInputError("invalid_body", 'The body must be a JSON object such as {"q": "leaky heart valve"}.')
    return _search(data, strict=True)


# --------------------------------------------------------------------------- passages and articles

def _not_found(what: str):
    return api_error(404, "not_found", f"There is no {what} in the live index generation.")


@api.get(f"/passages/<int(max={MAX_PASSAGE_ID}):passage_id>")
def passage(passage_id: int):
    generation = _searcher().generation
    record = generation.passages([passage_id]).get(passage_id)
    if record is None:
        return _not_found(f"passage {passage_id}")
    disclaimer = _catalog(generation).disclaimers.get(record.page_id) if record.page_id else None
    return passage_to_dict(record, generation.name, disclaimer)


@api.get("/articles/<article_id>")
def article(article_id: str):
    generation = _searcher().generation
    catalog = _catalog(generation)
    if article_id not in catalog.by_id:
        return _not_found("article with that id")
    records = generation.article_passages(article_id)
    if not records:
        return _not_found("article with that id")
    page = records[0].page_id
    return article_to_dict(records, generation.name, catalog.disclaimers.get(page) if page else None)


@api.get("/articles")
def articles():
    params = validate(ArticleListParams, _query_args(), strict=False)
    offset = params.offset or 0
    limit = params.limit or ArticleListParams.model_fields["limit"].default
    generation = _searcher().generation
    matching = [a for a in _catalog(generation).articles
                if _contains(a["author"]["name"], params.author) and _contains(a["source"], params.source)]
    page = matching[offset:offset + limit]
    return {"total": len(matching), "offset": offset, "limit": limit,
            "next_offset": _next_offset(offset, len(page), len(matching), MAX_LIST_OFFSET),
            "filters": {"author": params.author, "source": params.source},
            "generation": generation.name, "articles": page}


# --------------------------------------------------------------------------- health

@api.get("/health")
def health():
    """Liveness: the process answers. Touches nothing else."""
    return {"status": "ok"}


@api.get("/ready")
def ready():
    """Readiness: an index generation is loaded and serving."""
    generation = _searcher().generation
    return {"status": "ready", "generation": generation.name, "passages": generation.passage_count,
            "model": generation.model}


# --------------------------------------------------------------------------- errors

@api.errorhandler(ApiInputError)
@api.errorhandler(QueryError)
def input_error(err):
    return api_error(400, err.code, err.message, err.field)
