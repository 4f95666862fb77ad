"""All settings of the web app in one object, read from HEARTSEARCH_* environment
variables with defaults that suit a laptop."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from indexer.config import index_dir_from_env

DEFAULT_RATE_LIMIT = 120  # requests a minute per client address, for `python -m search_app` / `make serve`
# Searches a minute per client address on the readers' page (`/?q=`); the
# page runs a 20-result search per view, so it is limited like the API.
DEFAULT_PAGE_RATE_LIMIT = 60
DEFAULT_DRAIN_SECONDS = 10.0
DEFAULT_BODY_TIMEOUT = 10.0


def _int(name: str, default: int, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if minimum is not None and number < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {number}")
    return number


def _float(name: str, default: float, minimum: float | None = None) -> float:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(number) or (minimum is not None and number < minimum):
        raise ValueError(f"{name} must be a number of at least {minimum:g}, got {value!r}")
    return number


def _bool(name: str, default: bool) -> bool:
    value = (os.environ.get(name) or "").strip().lower()
    if value == "":
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be 1 or 0 (true or false), got {value!r}")


def _list(name: str) -> tuple[str, ...]:
    value = os.environ.get(name) or ""
    return tuple(item.strip().rstrip("/") for item in value.split(",") if item.strip())


@dataclass
class Config:
    index_dir: Path = field(default_factory=index_dir_from_env)
    host: str = "127.0.0.1"
    port: int = 8000
    threads: int = 4                 # threads running the app per worker process (they share the index in memory)
    # Worker processes (granian, search_app/server.py), forked after the app
    # is built so they share the model and index pages; 1 on a laptop.
    workers: int = 1
    # Seconds a client has to send a request's headers (from its first byte,
    # and from the end of the previous response on a keep-alive connection):
    # slow or idle connections are closed after this, so they cannot pile up.
    header_timeout: float = 5.0
    # Seconds a client has, once its headers are in, to send the whole body
    # (POST /api/v1/search): a body not complete by then is a 408 and the
    # connection is closed. The body is received on the event loop, never on
    # one of the `threads` (search_app/asgi_bridge.py).
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    backlog: int = 1024              # connections the kernel queues before the server accepts them
    drain_seconds: float = DEFAULT_DRAIN_SECONDS  # on SIGTERM, how long requests in flight may take
    default_k: int = 10
    max_k: int = 50
    max_query_chars: int = 500
    reload_interval: float = 2.0     # seconds between checks for a newly published generation
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
    proxy_hops: int = 0              # trusted reverse proxies in front (X-Forwarded-For hops to believe)
    max_body_bytes: int = 64 * 1024  # largest request body (POST /api/v1/search); larger is a 413
    # Threads one embedding-model call may use in the server: 1. A query is
    # one call of 1-2 texts, run on one core (onnxruntime intra-op and
    # inter-op threads 1; torch pinned to 1 thread), so `threads` concurrent
    # requests share the cores instead of each spreading over all of them
    # and waiting on each other. FAISS searches on 1 OpenMP thread
    # (search_app/search/searcher.py). A build (the indexer) uses all cores:
    # HEARTSEARCH_MODEL_THREADS (indexer/embedding/).
    model_threads: int = 1

    @classmethod
    def from_env(cls) -> "Config":
        return cls(
            index_dir=index_dir_from_env(),
            host=os.environ.get("HEARTSEARCH_HOST", "127.0.0.1"),
            port=_int("HEARTSEARCH_PORT", 8000),
            threads=_int("HEARTSEARCH_THREADS", 4, minimum=1),
            workers=_int("HEARTSEARCH_WORKERS", 1, minimum=1),
            header_timeout=_float("HEARTSEARCH_HEADER_TIMEOUT", 5.0, minimum=0.001),
            body_timeout=_float("HEARTSEARCH_BODY_TIMEOUT", DEFAULT_BODY_TIMEOUT, minimum=0.001),
            drain_seconds=_float("HEARTSEARCH_DRAIN_SECONDS", DEFAULT_DRAIN_SECONDS, minimum=0),
            max_query_chars=_int("HEARTSEARCH_MAX_QUERY_CHARS", 500, minimum=1),
            reload_interval=_float("HEARTSEARCH_RELOAD_INTERVAL", 2.0),
            rate_limit=_int("HEARTSEARCH_RATE_LIMIT", DEFAULT_RATE_LIMIT, minimum=0),
            page_rate_limit=_int("HEARTSEARCH_PAGE_RATE_LIMIT", DEFAULT_PAGE_RATE_LIMIT, minimum=0),
            allow_empty_index=_bool("HEARTSEARCH_ALLOW_EMPTY_INDEX", False),
            cors_origins=_list("HEARTSEARCH_CORS_ORIGINS"),
            proxy_hops=_int("HEARTSEARCH_PROXY_HOPS", 0, minimum=0),
        )
