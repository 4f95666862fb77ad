"""The versioned JSON API: /api/v1/...

Every parameter is validated by the pydantic models in `search_app/api/schemas.py`
(the same models the OpenAPI document at /openapi.json is generated from, and
that every response is built from: `search_app/api/responses.py`); every
failure is {"error": {"code", "message", "field"}} with its HTTP status.

Filters on search (author, source, article) are applied by the searcher to
its top RankingSettings.filter_candidates (200) results, so a filtered search
sees only those candidates and its `total` counts the matches among them.
"""
from __future__ import annotations

import json

from flask import Blueprint, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from search_app.api.errors import INDEX_UNAVAILABLE_MESSAGE, api_error
from search_app.api import responses
from search_app.api.responses import article_detail, article_list, passage_detail, search_response
from search_app.api.params import (MAX_LIST_OFFSET, MAX_OFFSET, MAX_PASSAGE_ID, ArticleListParams,
                                    search_params_model, validate)
from search_app.search.hits import Filters, contains
from search_app.search.query import InputError
from search_app.search.search_log import record_search
from search_app.shared_http import INDEX_RETRY_AFTER, invalid_encoding_field

api = Blueprint("api", __name__, url_prefix="/api/v1")


# --------------------------------------------------------------------------- helpers

def _config():
    return current_app.config["HEARTSEARCH"]


def _live():
    return current_app.extensions["live_index"]


def _query_args() -> dict:
    """The query string as a plain dict (first value of each name); an empty
    value is the same as leaving the parameter out, except for q. A value
    that is not UTF-8 is refused (werkzeug would search U+FFFD for it)."""
    field = invalid_encoding_field(request.query_string)
    if field is not None:
        raise InputError("invalid_encoding", f"{field} is not valid UTF-8 text (after percent-decoding).",
                         field)
    return {name: value for name, value in request.args.items() if value != "" or name == "q"}


def _next_offset(offset: int, shown: int, total: int, deepest: int) -> int | None:
    following = offset + shown
    return following if shown and following < total and following <= deepest else None


# --------------------------------------------------------------------------- search

def _search(data: dict, *, strict: bool):
    config = _config()
    params = validate(search_params_model(config), data, strict=strict, max_k=config.max_k)
    k = config.default_k if params.k is None else params.k
    offset = 0 if params.offset is None else params.offset
    result = current_app.extensions["searcher"].search(
        params.q, k, offset=offset, mode=params.mode, group=True if params.group is None else params.group,
        filters=Filters(params.author, params.source, params.article))
    response = search_response(result, k, offset, _next_offset(offset, len(result.hits), result.total, MAX_OFFSET))
    record_search(current_app.extensions.get("search_log"), result, result.hits, response["no_good_match"],
                  (response["urgent"] or {}).get("conditions", ()), offset)
    return response


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
        raise InputError("invalid_json", "The body is not valid JSON (UTF-8).")
    if not isinstance(data, dict):
        raise InputError("invalid_body", 'The body must be a JSON object such as {"q": "leaky heart valve"}.')
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
    live = _live()
    generation = live.generation
    record = generation.passages([passage_id]).get(passage_id)
    if record is None:
        return _not_found(f"passage {passage_id}")
    return passage_detail(record, generation, live.contents(generation).disclaimer(record.page_id))


@api.get("/articles/<article_id>")
def article(article_id: str):
    live = _live()
    generation = live.generation
    contents = live.contents(generation)
    if article_id not in contents.by_id:
        return _not_found("article with that id")
    records = generation.article_passages(article_id)
    if not records:
        return _not_found("article with that id")
    return article_detail(contents.by_id[article_id], records, generation, contents.disclaimer(records[0].page_id))


@api.get("/articles")
def articles():
    params = validate(ArticleListParams, _query_args(), strict=False)
    offset = params.offset or 0
    limit = params.limit or ArticleListParams.model_fields["limit"].default
    live = _live()
    generation = live.generation
    contents = live.contents(generation)
    matching = [a for a in contents.articles if contains(a.author, params.author) and contains(a.source, params.source)]
    page = matching[offset:offset + limit]
    return article_list([(a, contents.passage_counts.get(a.id, 0)) for a in page], len(matching), offset, limit,
                        _next_offset(offset, len(page), len(matching), MAX_LIST_OFFSET), params.author,
                        params.source, generation)


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
    generation = _live().generation
    missing = generation.missing_files()
    if missing:
        current_app.logger.error("generation %s is being served but %s is gone (index folder deleted or moved?)",
                                 generation.name, missing[0])
        return api_error(503, "index_unavailable", INDEX_UNAVAILABLE_MESSAGE,
                         headers={"Retry-After": str(INDEX_RETRY_AFTER)})
    if generation.passage_count == 0 and not _config().allow_empty_index:
        return api_error(503, "empty_index", f"The live index generation ({generation.name}) holds no passages; "
                         "searches would find nothing.", headers={"Retry-After": str(INDEX_RETRY_AFTER)})
    return responses.ready(generation)


# --------------------------------------------------------------------------- errors

@api.errorhandler(InputError)
def input_error(err: InputError):
    return api_error(400, err.code, err.message, err.field)
