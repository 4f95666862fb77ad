"""The readers' page: a plain HTML form that works without JavaScript."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from search_app.results import hit_to_dict
from search_app.searcher import QueryError, normalise_query

web = Blueprint("web", __name__)

EXAMPLE_QUESTIONS = [
    "leaky heart valve",
    "what causes mitral regurgitation",
    "heart problems in dialysis patients",
    "can surgery fix a heart valve",
]


@web.get("/")
def index():
    config = current_app.config["HEARTSEARCH"]
    searcher = current_app.extensions["searcher"]
    raw = request.args.get("q")
    context = {"query": raw or "", "results": None, "error": None,
               "examples": EXAMPLE_QUESTIONS, "disclaimers": searcher.disclaimers(),
               "max_chars": config.max_query_chars}
    if raw is not None:
        try:
            query = normalise_query(raw, config.max_query_chars)
            result = searcher.search(query, config.page_size)
            context["results"] = [hit_to_dict(h) for h in result.hits]
        except QueryError as err:
            context["error"] = err.message
    status = 400 if context["error"] else 200
    return render_template("index.html", **context), status
