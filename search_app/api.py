"""The versioned JSON API: /api/v1/..."""
from __future__ import annotations

from flask import Blueprint, current_app, request
from werkzeug.exceptions import HTTPException

from search_app.errors import api_error
from search_app.results import result_to_dict
from search_app.searcher import QueryError, normalise_query

api = Blueprint("api", __name__, url_prefix="/api/v1")


def parse_k(raw: object, default: int, maximum: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        k = int(str(raw).strip())
    except ValueError:
        raise QueryError("invalid_k", f"k must be a whole number from 1 to {maximum}.", "k")
    if not 1 <= k <= maximum:
        raise QueryError("invalid_k", f"k must be from 1 to {maximum}.", "k")
    return k


@api.get("/search")
def search():
    config = current_app.config["HEARTSEARCH"]
    query = normalise_query(request.args.get("q", ""), config.max_query_chars)
    k = parse_k(request.args.get("k"), config.default_k, config.max_k)
    result = current_app.extensions["searcher"].search(query, k)
    return result_to_dict(result, k)


@api.get("/health")
def health():
    return {"status": "ok"}


@api.get("/ready")
def ready():
    generation = current_app.extensions["searcher"].generation
    return {"status": "ready", "generation": generation.name, "passages": generation.passage_count,
            "model": generation.model}


@api.errorhandler(QueryError)
def query_error(err: QueryError):
    return api_error(400, err.code, err.message, err.field)


@api.errorhandler(HTTPException)
def http_error(err: HTTPException):
    code = (err.name or "error").lower().replace(" ", "_")
    return api_error(err.code or 500, code, err.description or err.name)


@api.errorhandler(Exception)
def unexpected_error(err: Exception):
    current_app.logger.exception("unhandled error in API request")
    return api_error(500, "internal_error", "Something went wrong on our side; please try again.")
