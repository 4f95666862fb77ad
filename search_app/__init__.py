"""HeartSearch web app: `create_app(config)` builds it; `python -m search_app`
serves it with a production WSGI server."""
from __future__ import annotations

from flask import Flask, render_template, request

from indexer.embedding import Embedder, load_embedder
from indexer.store import IndexStore
from search_app.config import Config
from search_app.errors import api_error
from search_app.searcher import Searcher

CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                           "base-uri 'none'; frame-ancestors 'none'")


def make_searcher(config: Config, embedder: Embedder | None = None) -> Searcher:
    from search_app.glossary import Glossary
    return Searcher(IndexStore(config.index_dir), embedder or load_embedder(), config.reload_interval,
                    glossary=Glossary.load())


def create_app(config: Config | None = None, embedder: Embedder | None = None) -> Flask:
    """Build the app. Opens the index now, so a missing index or one built
    with another model fails at start-up with a message naming the fix."""
    config = config or Config.from_env()
    app = Flask(__name__)
    app.config["HEARTSEARCH"] = config
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.extensions["searcher"] = make_searcher(config, embedder)

    from search_app.api import api
    from search_app.web import web
    app.register_blueprint(api)
    app.register_blueprint(web)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    @app.errorhandler(404)
    @app.errorhandler(405)
    def not_found(err):
        if request.path.startswith("/api/"):
            return api_error(err.code, err.name.lower().replace(" ", "_"), err.description)
        return render_template("error.html", message="That page does not exist.", code=err.code), err.code

    @app.errorhandler(500)
    def server_error(err):
        if request.path.startswith("/api/"):
            return api_error(500, "internal_error", "Something went wrong on our side; please try again.")
        return render_template("error.html", message="Something went wrong on our side. Please try again "
                               "in a moment.", code=500), 500

    return app
