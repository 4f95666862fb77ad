"""The OpenAPI 3.1 document of /api/v1, generated from the pydantic models in
`search_app/api/params.py` (the models that validate the requests), served at
/openapi.json, and the same document as a readable page at /api/docs.

Query and path parameters are the properties of the request models: a
property that may be null in a JSON body ("not given") is, in a query
string, simply left out, so its null branch is dropped there.
"""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import Blueprint, current_app, render_template, request
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from search_app.api import params
from search_app.api import schemas as s
from search_app.api.docs_page import code_pieces, docs_view
from search_app.config import DEFAULT_RATE_LIMIT, Config

API_VERSION = "1.0.0"
# Who answers for the API (OpenAPI `info.contact`). No address is published for them yet: add a `url` or
# `email` here when there is one.
CONTACT = {"name": "HeartSearch maintainers"}
# Every operation can answer these (the wrong method on its address; our fault), in the one error shape.
ALWAYS_POSSIBLE = (405, 500)
REF = "#/components/schemas/{model}"

docs = Blueprint("docs", __name__)

OVERVIEW = f"""\
Plain-language search over heart-disease articles, with who wrote every passage.

Parameters: every operation takes its parameters in the query string; `POST /api/v1/search` takes the same \
fields as a JSON object instead. Parameters (and body fields) this document does not list are ignored. In a \
query string an empty value (`k=`) is the same as leaving the parameter out, except for `q`.

Errors: every failure is a JSON object `{{"error": {{"code": ..., "message": ..., "field": ...}}}}` with the \
HTTP status: 400 (a parameter is wrong; `field` names it), 404 (no such passage, article or address), 405 \
(wrong method; `Allow` lists the right ones), 413 (body over {Config().max_body_bytes} bytes), 415 (POST \
without `Content-Type: application/json`), 429 (rate limited; wait `Retry-After` seconds), 503 (the index is \
not available; retry after `Retry-After` seconds) and 500 (our fault). Numbers (`k`, `offset`, `limit`, \
passage ids) are ASCII digits only (`k=1_0` is `invalid_k`); a parameter that is not UTF-8 once \
percent-decoded is `invalid_encoding`. A few malformed requests are refused by the HTTP server itself before \
the app sees them, with an empty body: a bad `Content-Length`, both `Content-Length` and `Transfer-Encoding` \
(400, connection closed), headers over 400 KB (431), headers not sent within a few seconds (connection closed).

OPTIONS on any API address answers 204 with `Allow` (and the CORS headers when configured), or 404.

Rate limiting: each client address may make a configured number of requests a minute to /api/v1 (the server \
started with `make serve` allows {DEFAULT_RATE_LIMIT} a minute by default; `HEARTSEARCH_RATE_LIMIT`, 0 = off); `/health` \
and `/ready` are not limited. Limited responses carry `X-RateLimit-Limit` and `X-RateLimit-Remaining`.

Request ids: send `X-Request-ID` (letters, digits, `._:-`, at most 128) to have it echoed back and logged; \
otherwise the server makes one. Every response carries one.

CORS: browsers on the origins listed in `HEARTSEARCH_CORS_ORIGINS` may call the API.

Filters: `author`, `source` and `article` on a search are applied to the top {params.FILTER_CANDIDATES} results \
of the unfiltered search; `total` then counts the matches among those.

Ids: passage ids belong to one index generation (every response names its `generation`); a new generation \
may number passages differently. Article ids are stable.
"""


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    description: str
    response: type[BaseModel]
    response_description: str
    errors: tuple[int, ...]
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    path_params: type[BaseModel] | None = None
    rate_limited: bool = True
    tag: str = "search"
    example: str = ""                 # for the docs page
    example_body: dict = field(default_factory=dict)


ERROR_RESPONSES = {
    400: ("BadRequest", "A parameter is missing or wrong. `code` says what (`empty_query`, `query_too_long`, "
                        "`invalid_query`, `invalid_k`, `invalid_offset`, `invalid_mode`, `invalid_group`, "
                        "`invalid_author`, `invalid_source`, `invalid_article`, `invalid_limit`, `invalid_json`, "
                        "`invalid_body`, `invalid_encoding`: a parameter that is not UTF-8, `invalid_framing`: a "
                        "body whose Transfer-Encoding is not one `chunked`, the connection is then closed) and "
                        "`field` names the parameter."),
    404: ("NotFound", "No such passage, article or address (`not_found`)."),
    405: ("MethodNotAllowed", "This address does not take that method (`method_not_allowed`); `Allow` lists "
                              "the methods it takes."),
    408: ("RequestTimeout", "The request body did not arrive within the server's body timeout "
                            "(`request_timeout`); the connection is closed."),
    413: ("PayloadTooLarge", "The request body is too large (`body_too_large`)."),
    415: ("UnsupportedMediaType", "The body is not sent as `application/json` (`unsupported_media_type`)."),
    429: ("TooManyRequests", "Too many requests from this address (`rate_limited`); retry after `Retry-After` "
                             "seconds."),
    503: ("ServiceUnavailable", "The search index is not available (`index_unavailable`), or, on "
                                "`/api/v1/ready`, the live generation holds no passages (`empty_index`, unless "
                                "`HEARTSEARCH_ALLOW_EMPTY_INDEX` is set); retry after `Retry-After` seconds."),
    500: ("InternalError", "Something went wrong on our side (`internal_error`); the message says nothing "
                           "more, the server's log has the details (find it by `X-Request-ID`)."),
}


def operations(config: Config) -> list[Operation]:
    search_params = params.search_params_model(config)
    search_doc = ("Passages that answer the question, best first, each with its article, attribution, score "
                  "and the sentence that matched, and the index generation and time taken. By default one "
                  "result per article.")
    return [
        Operation("get", "/api/v1/search", "search", "Search", search_doc, s.SearchResponse, "The results.",
                  (400, 429, 503), query=search_params,
                  example="/api/v1/search?" + urlencode({"q": "leaky heart valve", "k": 5})),
        Operation("post", "/api/v1/search", "searchPost", "Search (JSON body)",
                  search_doc + " The parameters come as a JSON object, checked strictly (`\"k\": 5`, not `\"5\"`).",
                  s.SearchResponse, "The results.", (400, 408, 413, 415, 429, 503), body=search_params,
                  example="/api/v1/search", example_body={"q": "leaky heart valve", "k": 5, "source": "Kidney"}),
        Operation("get", "/api/v1/passages/{passage_id}", "getPassage", "One passage",
                  "A passage with its article, attribution and sentences.", s.PassageDetail, "The passage.",
                  (404, 429, 503), path_params=params.PassagePath, tag="articles", example="/api/v1/passages/1"),
        Operation("get", "/api/v1/articles", "listArticles", "List articles",
                  "Every article in the live index, ordered by id, a page at a time, optionally filtered by "
                  "author or source.", s.ArticleList, "A page of articles.", (400, 429, 503),
                  query=params.ArticleListParams, tag="articles",
                  example="/api/v1/articles?" + urlencode({"limit": 5, "source": "Kidney"})),
        Operation("get", "/api/v1/articles/{article_id}", "getArticle", "One article",
                  "An article with its attribution and all its passages.", s.ArticleDetail, "The article.",
                  (404, 429, 503), path_params=params.ArticlePath, tag="articles",
                  example="/api/v1/articles/mr-answer-2"),
        Operation("get", "/api/v1/health", "health", "Liveness",
                  "The process is up and answering. Never rate limited.", s.Health, "Alive.", (),
                  rate_limited=False, tag="service", example="/api/v1/health"),
        Operation("get", "/api/v1/ready", "ready", "Readiness",
                  "An index generation is loaded and serving: its name, passage count and model. A generation "
                  "with no passages is not ready (503 `empty_index`) unless `HEARTSEARCH_ALLOW_EMPTY_INDEX` is set. "
                  "Never rate limited.", s.Ready, "Ready to search.", (503,), rate_limited=False, tag="service",
                  example="/api/v1/ready"),
    ]


def _without_null(schema: dict) -> dict:
    """A body field's schema as a query/path parameter's: no null branch."""
    schema = copy.deepcopy(schema)
    options = schema.get("anyOf")
    if options and {"type": "null"} in options:
        rest = [o for o in options if o != {"type": "null"}]
        del schema["anyOf"]
        if len(rest) == 1:
            schema = {**rest[0], **schema}
        else:
            schema["anyOf"] = rest
    if schema.get("default", 0) is None:
        del schema["default"]
    return schema


def _parameters(model: type[BaseModel], location: str) -> list[dict]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema["properties"].items():
        prop = _without_null(prop)
        prop.pop("title", None)
        description = prop.pop("description", "")
        param = {"name": name, "in": location, "required": location == "path" or name in required,
                 "description": description, "schema": prop}
        if prop.get("examples"):
            param["example"] = prop["examples"][0]
        params.append(param)
    return params


REQUEST_ID_PARAMETER = {
    "name": "X-Request-ID", "in": "header", "required": False,
    "description": "Your id for this request, echoed back in the response and logged. Anything that does not "
                   "match the pattern is replaced by a fresh id.",
    "schema": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"},
}

HEADERS = {
    "X-Request-ID": {"description": "The request's id (yours if you sent a sane one).",
                     "schema": {"type": "string"}},
    "Retry-After": {"description": "Seconds to wait before trying again.",
                    "schema": {"type": "integer", "minimum": 1}},
    "X-RateLimit-Limit": {"description": "Requests a minute allowed per address (when rate limiting is on).",
                          "schema": {"type": "integer", "minimum": 1}},
    "X-RateLimit-Remaining": {"description": "Requests left right now (when rate limiting is on).",
                              "schema": {"type": "integer", "minimum": 0}},
    "Allow": {"description": "The methods this address takes, e.g. `GET, OPTIONS`.", "schema": {"type": "string"}},
}
ERROR_HEADERS = {429: ("Retry-After",), 503: ("Retry-After",), 405: ("Allow",)}


def _headers(*names: str) -> dict:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def build_spec(config: Config) -> dict:
    ops = operations(config)
    # Only body models become components: query and path models are spelled out as parameters,
    # so a component for them would be referenced by nothing.
    request_models = {op.body for op in ops if op.body}
    models = [(m, "validation") for m in sorted(request_models, key=lambda m: m.__name__)]
    models += [(m, "serialization") for m in s.RESPONSE_MODELS]
    _, top = models_json_schema(models, ref_template=REF)
    paths: dict[str, dict] = {}
    for op in ops:
        parameters = []
        if op.path_params:
            parameters += _parameters(op.path_params, "path")
        if op.query:
            parameters += _parameters(op.query, "query")
        parameters.append({"$ref": "#/components/parameters/X-Request-ID"})
        ok_headers = _headers("X-Request-ID", *(("X-RateLimit-Limit", "X-RateLimit-Remaining")
                                               if op.rate_limited else ()))
        responses = {"200": {"description": op.response_description, "headers": ok_headers,
                             "content": {"application/json": {"schema": {"$ref": REF.format(
                                 model=op.response.__name__)}}}}}
        for status in sorted(set(op.errors) | set(ALWAYS_POSSIBLE)):
            responses[str(status)] = {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"}
        operation = {"operationId": op.operation_id, "tags": [op.tag], "summary": op.summary,
                     "description": op.description, "parameters": parameters, "responses": responses}
        if op.body:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {
                    "schema": {"$ref": REF.format(model=op.body.model_config.get("title") or op.body.__name__)},
                    **({"example": op.example_body} if op.example_body else {})}}}
        paths.setdefault(op.path, {})[op.method] = operation
    error_ref = {"application/json": {"schema": {"$ref": REF.format(model="ErrorResponse")}}}
    responses = {}
    for status, (name, description) in ERROR_RESPONSES.items():
        headers = _headers("X-Request-ID", *ERROR_HEADERS.get(status, ()))
        responses[name] = {"description": description, "headers": headers, "content": error_ref}
    return {
        "openapi": "3.1.0",
        "info": {"title": "HeartSearch API", "version": API_VERSION, "description": OVERVIEW, "contact": CONTACT},
        "servers": [{"url": "/"}],
        "tags": [{"name": "search", "description": "Searching the articles."},
                 {"name": "articles", "description": "Articles and passages by id."},
                 {"name": "service", "description": "Liveness and readiness."}],
        "paths": paths,
        "components": {"schemas": top["$defs"], "responses": responses, "headers": HEADERS,
                       "parameters": {"X-Request-ID": REQUEST_ID_PARAMETER}},
    }


def app_spec() -> dict:
    spec = current_app.extensions.get("openapi")
    if spec is None:
        spec = current_app.extensions["openapi"] = build_spec(current_app.config["HEARTSEARCH"])
    return spec


# Both documents change only with the code (and the settings they describe): each is built once per app and
# served with an ETag and Cache-Control, so a revalidation is a 304 and a flood of them costs little.
DOCS_CACHE_CONTROL = "public, max-age=3600"
DOCS_CACHED_HOSTS = 16  # the docs page shows the request's Host: kept for this many (Host is the client's to choose)


def _cached_document(key: str, build, mimetype: str):
    cache = current_app.extensions.setdefault("docs_cache", {})
    entry = cache.get(key)
    if entry is None:
        body = build()
        entry = (body, hashlib.sha256(body).hexdigest()[:32])
        if len(cache) < DOCS_CACHED_HOSTS + 1:
            cache[key] = entry
    body, etag = entry
    response = current_app.response_class(body, mimetype=mimetype)
    response.set_etag(etag)
    response.headers["Cache-Control"] = DOCS_CACHE_CONTROL
    return response.make_conditional(request)


@docs.get("/openapi.json")
def openapi_json():
    return _cached_document("openapi.json", lambda: (json.dumps(app_spec(), ensure_ascii=False, separators=(",", ":"))
                                                    + "\n").encode(), "application/json")


@docs.get("/api/docs")
def api_docs():
    def build() -> bytes:
        examples = {op.operation_id: op for op in operations(current_app.config["HEARTSEARCH"])}
        view = docs_view(app_spec(), examples)
        return render_template("api_docs.html", json_dumps=lambda v: json.dumps(v, ensure_ascii=False),
                               pieces=code_pieces, **view).encode("utf-8")
    return _cached_document("docs " + request.host, build, "text/html")
