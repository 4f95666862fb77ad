"""All settings of the web app in one object, with defaults that suit a
laptop. The HEARTSEARCH_* variables are read in indexer/settings.py (the one
place for both packages); `Config.from_env` takes the server's from there."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from indexer import settings

DEFAULT_RATE_LIMIT = settings.RATE_LIMIT.default  # for `python -m search_app` / `make serve`
# Searches a minute per client address on the readers' page (`/?q=`); the
# page runs a 20-result search per view, so it is limited like the API.
DEFAULT_PAGE_RATE_LIMIT = settings.PAGE_RATE_LIMIT.default
DEFAULT_DRAIN_SECONDS = settings.DRAIN_SECONDS.default
DEFAULT_BODY_TIMEOUT = settings.BODY_TIMEOUT.default


@dataclass
class Config:
    index_dir: Path = field(default_factory=settings.INDEX_DIR.read)
    host: str = settings.HOST.default
    port: int = settings.PORT.default
    threads: int = settings.THREADS.default  # threads running the app per worker process (they share the index in memory)
    # Worker processes (granian, search_app/server.py), forked after the app
    # is built so they share the model and index pages: by default one a
    # usable core, since each runs its Python (Flask, JSON, the searcher) on
    # one core at a time, whatever its threads.
    workers: int = settings.WORKERS.default
    # Seconds a client has to send a request's headers (from its first byte,
    # and from the end of the previous response on a keep-alive connection):
    # slow or idle connections are closed after this, so they cannot pile up.
    header_timeout: float = settings.HEADER_TIMEOUT.default
    # Seconds a client has, once its headers are in, to send the whole body
    # (POST /api/v1/search): a body not complete by then is a 408 and the
    # connection is closed. The body is received on the event loop, never on
    # one of the `threads` (search_app/asgi_bridge.py).
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    backlog: int = 1024              # connections the kernel queues before the server accepts them
    drain_seconds: float = DEFAULT_DRAIN_SECONDS  # on SIGTERM, how long requests in flight may take
    default_k: int = 10
    max_k: int = 50
    max_query_chars: int = settings.MAX_QUERY_CHARS.default
    # Query vectors kept per worker process for questions asked again
    # (search_app/search/query_vectors.py); 0 = every search calls the model.
    query_cache: int = settings.QUERY_CACHE.default
    reload_interval: float = settings.RELOAD_INTERVAL.default  # seconds between checks for a newly published generation
    page_size: int = 10              # results per page on the reader's page
    # Requests a minute per client address on /api/v1 (health and ready are
    # exempt); 0 = off. Off for an app built in code (tests); `from_env`, which
    # `python -m search_app` and `make serve` use, turns it on by default.
    rate_limit: int = 0
    # Searches a minute per client address on the readers' page (`/` with
    # `q`; the page without a query is not limited); 0 = off. Off in code,
    # DEFAULT_PAGE_RATE_LIMIT from the environment, as `rate_limit`.
    page_rate_limit: int = 0
    # /api/v1/ready answers 503 `empty_index` when the live generation holds
    # no passages (a mistyped build path empties the site); True for an index
    # that is meant to be empty.
    allow_empty_index: bool = False
    cors_origins: tuple[str, ...] = ()   # origins allowed to call the API from a browser; "*" = any
    proxy_hops: int = settings.PROXY_HOPS.default  # trusted reverse proxies in front (X-Forwarded-For hops to believe)
    max_body_bytes: int = 64 * 1024  # largest request body (POST /api/v1/search); larger is a 413
    # Threads one embedding-model call may use in the server: 1. A query is
    # one call of 1-2 texts, run on one core (onnxruntime intra-op and
    # inter-op threads 1; torch pinned to 1 thread), so `threads` concurrent
    # requests share the cores instead of each spreading over all of them
    # and waiting on each other. FAISS searches on 1 OpenMP thread
    # (search_app/search/searcher.py). A build (the indexer) uses all cores:
    # HEARTSEARCH_MODEL_THREADS (indexer/embedding/).
    model_threads: int = 1
    # The private search log (indexer/insights/log.py, docs/privacy.md): one
    # masked row per reader search in index_dir/search-log.sqlite. Off for an
    # app built in code (tests share one seed index); `from_env`, which
    # `python -m search_app` and `make serve` use, turns it on by default.
    search_log: bool = False
    search_log_days: int = settings.SEARCH_LOG_DAYS.default   # rows older than this are deleted
    insights_min_count: int = settings.INSIGHTS_MIN_COUNT.default  # k: searches before a wording is shown
    editor_token: str | None = None  # the editors' pages (/editors/) exist only when set

    @classmethod
    def from_env(cls) -> "Config":
        """The server as `python -m search_app` runs it: every field that has a
        HEARTSEARCH_* variable (indexer/settings.py) read from the environment."""
        return cls(
            host=settings.HOST.read(),
            port=settings.PORT.read(),
            threads=settings.THREADS.read(),
            workers=settings.WORKERS.read(),
            header_timeout=settings.HEADER_TIMEOUT.read(),
            body_timeout=settings.BODY_TIMEOUT.read(),
            drain_seconds=settings.DRAIN_SECONDS.read(),
            max_query_chars=settings.MAX_QUERY_CHARS.read(),
            query_cache=settings.QUERY_CACHE.read(),
            reload_interval=settings.RELOAD_INTERVAL.read(),
            rate_limit=settings.RATE_LIMIT.read(),
            page_rate_limit=settings.PAGE_RATE_LIMIT.read(),
            allow_empty_index=settings.ALLOW_EMPTY_INDEX.read(),
            cors_origins=settings.CORS_ORIGINS.read(),
            proxy_hops=settings.PROXY_HOPS.read(),
            search_log=settings.SEARCH_LOG.read(),
            search_log_days=settings.SEARCH_LOG_DAYS.read(),
            insights_min_count=settings.INSIGHTS_MIN_COUNT.read(),
            editor_token=settings.EDITOR_TOKEN.read(),
        )
