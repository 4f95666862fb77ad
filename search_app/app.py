"""HeartSearch web app: `create_app(config)` builds it; `python -m search_app`
serves it with granian, a production server (search_app/server.py; the
app is WSGI, run behind granian's ASGI interface by search_app/asgi_bridge.py).

Around every request: a request id (the client's X-Request-ID if it looks
sane, else a new one; echoed in the response) and one access-log line on the
`heartsearch.access` logger (method, path without the query string, status,
milliseconds, request id, client address: what people search for is never
logged). Around /api/v1: per-address rate limiting (Config.rate_limit), CORS
for the configured origins, and the API's one error shape for every failure.
HTML, CSS and JSON go out brotli- or gzip-compressed to clients that ask.
"""
from __future__ import annotations

import json
import logging
import re
import time
import uuid
from urllib.parse import quote

from flask import Flask, g, render_template, request
from flask_compress import Compress
from werkzeug.exceptions import HTTPException, NotFound

from indexer.embedding import Embedder
from indexer.index import IndexError_
from indexer.insights import SEARCH_LOG, SearchLog
from search_app.config import Config
from search_app.api.errors import (INDEX_UNAVAILABLE_MESSAGE, INTERNAL_ERROR_MESSAGE, api_error,
                               http_api_error)
from search_app.api.ratelimit import RateLimiter
from search_app.json_encoding import OrjsonProvider
from search_app.search.searcher import make_searcher
from search_app.shared_http import INDEX_RETRY_AFTER

# No script may run at all (script-src falls back to default-src 'none'). connect-src 'self' therefore lets
# no page script connect anywhere; it is there for tools that fetch from inside the page, such as
# Lighthouse's robots.txt check (blocked by 'none', it reports "unable to download a robots.txt file").
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; connect-src 'self'; "
                           "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")

SECURITY_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
                    "Server": "HeartSearch"}  # the server's name and version stay private
access_log = logging.getLogger("heartsearch.access")
REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
API_PREFIX = "/api/"
RATE_LIMITED_PREFIX = "/api/v1/"
NOT_RATE_LIMITED = frozenset({"/api/v1/health", "/api/v1/ready"})
CORS_EXPOSED = "X-Request-ID, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining"

# Compression (flask-compress) of the page, the stylesheet, the favicon and JSON: a results page is
# 27-45 KiB as text, a few KiB compressed. Brotli first (what browsers prefer), gzip for the rest; no
# deflate or zstd (two more encodings to get right for little gain). Bodies under COMPRESS_MIN_BYTES are
# sent as they are (the encoding would cost more than it saves), and so is anything not listed here (an
# event stream, were there one, must never be buffered by compression). A compressed response's strong
# ETag gets the encoding appended ("abc:br"), so a conditional request matches only the variant it holds.
COMPRESSED_TYPES = ["text/html", "text/css", "text/plain", "application/json", "image/svg+xml"]
COMPRESS_MIN_BYTES = 500
COMPRESSION = {"COMPRESS_MIMETYPES": COMPRESSED_TYPES, "COMPRESS_MIN_SIZE": COMPRESS_MIN_BYTES,
               "COMPRESS_ALGORITHM": ["br", "gzip"], "COMPRESS_ALGORITHM_STREAMING": ["br", "gzip"],
               "COMPRESS_BR_LEVEL": 5, "COMPRESS_LEVEL": 6}


class RefuseAmbiguousFraming:
    """WSGI middleware: a request whose body framing could be read two ways
    is refused and its connection closed (RFC 9112 6.1/6.3), so nothing
    after it on the connection is taken as a request. The server (granian)
    already refuses Transfer-Encoding with Content-Length; this also covers
    any Transfer-Encoding other than one `chunked` (`chunked, chunked`,
    `gzip, chunked`, ...), which it passes on."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        encoding = environ.get("HTTP_TRANSFER_ENCODING")
        if encoding is None or (encoding.strip().lower() == "chunked" and not environ.get("CONTENT_LENGTH")):
            return self.app(environ, start_response)
        message = ("The request's Transfer-Encoding must be exactly `chunked` (once), without a "
                   "Content-Length.")
        if environ.get("PATH_INFO", "").startswith(API_PREFIX):
            body = json.dumps({"error": {"code": "invalid_framing", "message": message, "field": None}}).encode()
            kind = "application/json"
        else:
            body, kind = (message + "\n").encode(), "text/plain; charset=utf-8"
        start_response("400 Bad Request", [("Content-Type", kind), ("Content-Length", str(len(body))),
                                           ("Connection", "close"), *SECURITY_HEADERS.items()])
        return [body]


class RequestLog:
    """WSGI middleware: request id in, X-Request-ID out, one access-log line."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        offered = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = offered if REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        environ["heartsearch.request_id"] = request_id
        status = ["500"]

        def start(status_line, headers, exc_info=None):
            status[0] = status_line.split(" ", 1)[0]
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"] + [("X-Request-ID", request_id)]
            return start_response(status_line, headers, exc_info)

        try:
            body = self.app(environ, start)
        except BaseException:
            self._log(environ, status[0], started, request_id)
            raise
        try:
            # Every response here is small (JSON, the page, a stylesheet): it is handed to the server whole,
            # as one list. granian sends a list in one go; an iterator takes its streaming path, which left
            # some connections open after their answer (figures: docs/reliability.md, "The server").
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()
            self._log(environ, status[0], started, request_id)

    @staticmethod
    def _log(environ, status: str, started: float, request_id: str) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        path = environ.get("PATH_INFO", "")
        try:
            path = quote(path.encode("latin-1"), safe="/:@!$&'()*+,;=-._~")
        except UnicodeEncodeError:
            path = quote(path, safe="/")
        access_log.info("%s %s %s %.1fms id=%s addr=%s", environ.get("REQUEST_METHOD", "-"), path, status,
                        (time.perf_counter() - started) * 1000, request_id, environ.get("REMOTE_ADDR", "-"))


def _is_api() -> bool:
    return request.path.startswith(API_PREFIX)


def create_app(config: Config | None = None, embedder: Embedder | None = None) -> Flask:
    """Build the app. Opens the index now, so a missing index or one built
    with another model fails at start-up with a message naming the fix."""
    config = config or Config.from_env()
    app = Flask(__name__)
    app.config["HEARTSEARCH"] = config
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.json = OrjsonProvider(app)  # keys in insertion order, as the schemas list them
    searcher = make_searcher(config, embedder)
    app.extensions["live_index"] = searcher.index     # which generation is served (views take it from here)
    app.extensions["searcher"] = searcher             # a search over the live generation
    limiter = RateLimiter(config.rate_limit) if config.rate_limit > 0 else None
    app.extensions["rate_limiter"] = limiter
    app.extensions["page_rate_limiter"] = RateLimiter(config.page_rate_limit) if config.page_rate_limit > 0 \
        else None
    # The private search log (docs/privacy.md): written by a thread of each worker, never on a request's path.
    app.extensions["search_log"] = SearchLog(config.index_dir / SEARCH_LOG, retention_days=config.search_log_days) \
        if config.search_log else None

    from search_app.api.views import api
    from search_app.api.openapi import docs
    from search_app.pages.robots import robots
    from search_app.pages.views import web
    app.register_blueprint(api)
    app.register_blueprint(docs)
    app.register_blueprint(web)
    app.register_blueprint(robots)
    # The editors' pages (/editors/: only with HEARTSEARCH_EDITOR_TOKEN, docs/privacy.md) and their sign-in limit.
    from search_app.editors.views import SIGN_IN_BURST, SIGN_IN_PER_MINUTE, editors
    app.extensions["editor_sign_in_limiter"] = RateLimiter(SIGN_IN_PER_MINUTE, burst=SIGN_IN_BURST, max_clients=1024)
    app.register_blueprint(editors)

    if config.proxy_hops:
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.proxy_hops)
    app.wsgi_app = RequestLog(RefuseAmbiguousFraming(app.wsgi_app))

    @app.before_request
    def api_options():
        """OPTIONS on an API address: 204 with the methods it takes (`Allow`;
        CORS headers are added after, when configured), or the JSON 404.
        Flask's automatic answer is a 200 with an empty HTML body."""
        if request.method != "OPTIONS" or not _is_api():
            return None
        try:
            methods = app.url_map.bind_to_environ(request.environ).allowed_methods(request.path)
        except HTTPException:
            methods = []
        if not methods:
            return http_api_error(NotFound())
        response = app.response_class(status=204)
        del response.headers["Content-Type"]  # a 204 has no body, so no content type
        response.headers["Allow"] = ", ".join(sorted(set(methods) | {"OPTIONS"}))
        return response

    @app.before_request
    def page_rate_limit():
        """The readers' page runs a 20-result search per view: a search on it
        (`/` with `q`) spends a token of its own bucket, apart from the API's."""
        limiter = app.extensions.get("page_rate_limiter")
        if limiter is None or request.path != "/" or "q" not in request.args:
            return None
        decision = limiter.take(request.remote_addr or "unknown")
        if decision.allowed:
            return None
        wait = decision.retry_after
        return render_template("rate_limited.html", wait=wait, query=request.args.get("q", "")[:200],
                               limit=decision.limit), 429, {"Retry-After": str(wait)}

    @app.before_request
    def rate_limit():
        limiter = app.extensions.get("rate_limiter")
        if limiter is None or request.method == "OPTIONS" or not request.path.startswith(RATE_LIMITED_PREFIX) \
                or request.path in NOT_RATE_LIMITED:
            return None
        decision = limiter.take(request.remote_addr or "unknown")
        g.rate_limit = decision
        if not decision.allowed:
            wait = decision.retry_after
            return api_error(429, "rate_limited",
                             f"Too many requests from your address: the limit is {decision.limit} a minute. "
                             f"Try again in {wait} second{'s' if wait != 1 else ''}.",
                             headers={"Retry-After": str(wait)})
        return None

    @app.after_request
    def api_headers(response):
        decision = g.get("rate_limit")
        if decision is not None:
            response.headers["X-RateLimit-Limit"] = str(decision.limit)
            response.headers["X-RateLimit-Remaining"] = str(decision.remaining)
        if config.cors_origins and (_is_api() or request.path == "/openapi.json"):
            _cors(response, config.cors_origins)
        return response

    @app.after_request
    def security_headers(response):
        if response.status_code in (204, 304):
            response.headers.pop("Content-Type", None)  # no body, so no content type
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        if err.code is None or err.code < 400:
            return err  # redirects stay redirects
        if _is_api():
            if err.code == 413:  # the connection is closed after it: the rest of the body is never read
                return api_error(413, "body_too_large",
                                 f"The request body is larger than {config.max_body_bytes} bytes.",
                                 headers={"Connection": "close"})
            return http_api_error(err)
        if err.code in (404, 405):
            headers = {}
            if err.code == 405 and getattr(err, "valid_methods", None):
                headers["Allow"] = ", ".join(sorted(err.valid_methods))  # RFC 9110 15.5.6: a 405 says what is
            return render_template("error.html", message="That page does not exist.", code=err.code), err.code, \
                headers
        return err

    @app.errorhandler(IndexError_)
    def index_unavailable(err: IndexError_):
        app.logger.error("index unavailable: %s", err)
        if _is_api():
            return api_error(503, "index_unavailable", INDEX_UNAVAILABLE_MESSAGE,
                             headers={"Retry-After": str(INDEX_RETRY_AFTER)})
        return render_template("error.html", message="The search is not available right now. Please try again "
                               "in a moment.", code=503), 503

    @app.errorhandler(500)
    def server_error(err):
        if _is_api():
            return api_error(500, "internal_error", INTERNAL_ERROR_MESSAGE)
        return render_template("error.html", message="Something went wrong on our side. Please try again "
                               "in a moment.", code=500), 500

    # Registered last, so it runs first of the after-request hooks: the headers added after it
    # (security headers, which drop Content-Type from a 304) see the compressed response.
    app.config.update(COMPRESSION)
    Compress(app)
    return app


def _cors(response, allowed: tuple[str, ...]) -> None:
    """CORS headers for a browser on an allowed origin (preflight included)."""
    origin = request.headers.get("Origin")
    if "*" in allowed:
        response.headers["Access-Control-Allow-Origin"] = "*"
    else:
        response.vary.add("Origin")
        if not origin or origin.rstrip("/") not in allowed:
            return
        response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSED
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, X-Request-ID"
        response.headers["Access-Control-Max-Age"] = "600"
