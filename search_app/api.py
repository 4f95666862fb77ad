"""The versioned JSON API: /api/v1/..."""
from __future__ import annotations

from flask import Blueprint, current_app, request
from werkzeug.exceptions import HTTPException

from search_app.errors import api_error
from search_app.results import result_to_dict
from search_app.searcher import MODES, QueryError, normalise_query

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


MAX_OFFSET = 1000


def parse_offset(raw: object) -> int:
    if raw is None or raw == "":
        return 0
    try:
        offset = int(str(raw).strip())
    except ValueError:
        raise QueryError("invalid_offset", f"offset must be a whole number from 0 to {MAX_OFFSET}.", "offset")
    if not 0 <= offset <= MAX_OFFSET:
        raise QueryError("invalid_offset", f"offset must be from 0 to {MAX_OFFSET}.", "offset")
    return offset


def parse_mode(raw: object) -> str | None:
    if raw is None or raw == "":
        return None
    if raw not in MODES:
        raise QueryError("invalid_mode", f"mode must be one of {', '.join(MODES)}.", "mode")
    return str(raw)


def parse_bool(raw: object, name: str, default: bool) -> bool:
    if raw is None or raw == "":
        return default
    value = str(raw).strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    raise QueryError(f"invalid_{name}", f"{name} must be true or false.", name)


@api.get("/search")
def search():
    config = current_app.config["HEARTSEARCH"]
    args = request.args
    query = normalise_query(args.get("q", ""), config.max_query_chars)
    k = parse_k(args.get("k"), config.default_k, config.max_k)
    offset = parse_offset(args.get("offset"))
    mode = parse_mode(args.get("mode"))
    group = parse_bool(args.get("group"), "group", True)
    result = current_app.extensions["searcher"].search(query, k, offset=offset, mode=mode, group=group)
    return result_to_dict(result, k, offset)


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
