"""The versioned JSON API: /api/v1/...

Every parameter is validated by the pydantic models in `search_app/api/schemas.py`
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
from werkzeug.exceptions import RequestEntityTooLarge

from indexer.index import Generation, PassageRecord
from search_app.api.errors import INDEX_RETRY_AFTER, INDEX_UNAVAILABLE_MESSAGE, api_error
from search_app.search.results import article_to_dict, attribution_of, passage_to_dict, result_to_dict
from search_app.api.schemas import (FILTER_CANDIDATES, MAX_LIST_OFFSET, MAX_OFFSET, MAX_PASSAGE_ID, ApiInputError,
                                ArticleListParams, invalid_encoding_field,
                                search_params_model, validate)
from search_app.search.searcher import QueryError

api = Blueprint("api", __name__, url_prefix="/api/v1")


# --------------------------------------------------------------------------- helpers

def _config():
    return current_app.config["HEARTSEARCH"]


def _searcher():
    return current_app.extensions["searcher"]


def _query_args() -> dict:
    """The query string as a plain dict (first value of each name); an empty
    value is the same as leaving the parameter out, except for q. A value
    that is not UTF-8 is refused (werkzeug would search U+FFFD for it)."""
    field = invalid_encoding_field(request.query_string)
    if field is not None:
        raise ApiInputError("invalid_encoding", f"{field} is not valid UTF-8 text (after percent-decoding).",
                            field)
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

    identity: object  # the generation's name and id (indexer.index.history.Entry)
    articles: list[dict]
    by_id: dict[str, dict]
    disclaimers: dict[str, str | None]


_catalog_lock = threading.Lock()


def _catalog(generation: Generation) -> Catalog:
    cached = current_app.extensions.get("api_catalog")
    if cached is not None and cached.identity == generation.identity:
        return cached
    with _catalog_lock:
        cached = current_app.extensions.get("api_catalog")
        if cached is not None and cached.identity == generation.identity:
            return cached
        passages = generation.passage_counts()
        articles = [{
            "id": a.id, "title": a.title, "kind": a.kind, "url": a.url,
            "author": {"name": a.author, "credentials": a.credentials}, "source": a.source,
            "attribution": attribution_of(a.author, a.credentials, a.source), "page": a.page,
            "passages": passages.get(a.id, 0),
        } for a in generation.articles()]
        catalog = Catalog(generation.identity, articles, {a["id"]: a for a in articles},
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


def _body(limit: int) -> bytes:
    """The request body, refused (413) as soon as it is over `limit` bytes.
    With a Content-Length werkzeug refuses before reading anything; a
    chunked body has none, and werkzeug would quietly cut it at the limit
    (then read as invalid JSON), so it is read to one byte past the limit."""
    if request.content_length is not None or "chunked" not in request.headers.get("Transfer-Encoding", ""):
        return request.get_data(cache=True)
    stream, parts, size = request.environ["wsgi.input"], [], 0
    while size <= limit:
        part = stream.read(limit + 1 - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    if size > limit:
        raise RequestEntityTooLarge()
    return b"".join(parts)


@api.get("/search")
def search():
    return _search(_query_args(), strict=False)


@api.post("/search")
def search_post():
    if not request.is_json:
        return api_error(415, "unsupported_media_type",
                         "Send the search as JSON with the header Content-Type: application/json.")
    raw = _body(_config().max_body_bytes)
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


@api.get("/passages/<passage_id>")
def passage(passage_id: str):
    """Only ASCII digits are an id: werkzeug's `int` converter also takes
    other scripts' digits (`%D9%A3`, Arabic-Indic 3, was passage 3)."""
    number = int(passage_id) if passage_id.isascii() and passage_id.isdigit() else None
    if number is None or number > MAX_PASSAGE_ID:
        return _not_found("passage with that id")
    passage_id = number
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
    """Readiness: an index generation is loaded and serving, and holds
    passages unless an empty index is allowed (HEARTSEARCH_ALLOW_EMPTY_INDEX):
    a build from a mistyped path empties the site, and a load balancer
    should then keep sending readers to a replica that still has one."""
    generation = _searcher().generation
    missing = generation.missing_files()
    if missing:
        current_app.logger.error("generation %s is being served but %s is gone (index folder deleted or moved?)",
                                 generation.name, missing[0])
        return api_error(503, "index_unavailable", INDEX_UNAVAILABLE_MESSAGE,
                         headers={"Retry-After": str(INDEX_RETRY_AFTER)})
    if generation.passage_count == 0 and not _config().allow_empty_index:
        return api_error(503, "empty_index", f"The live index generation ({generation.name}) holds no passages; "
                         "searches would find nothing.", headers={"Retry-After": str(INDEX_RETRY_AFTER)})
    return {"status": "ready", "generation": generation.name, "passages": generation.passage_count,
            "model": generation.model}


# --------------------------------------------------------------------------- errors

@api.errorhandler(ApiInputError)
@api.errorhandler(QueryError)
def input_error(err):
    return api_error(400, err.code, err.message, err.field)
