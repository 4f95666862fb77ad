"""`python -m search_app`: serve the app with granian, a production server
(never Flask's dev server; why granian: search_app/server.py and
docs/reliability.md). HEARTSEARCH_WORKERS processes (default: one a usable core), each with
HEARTSEARCH_THREADS threads running the app (behind granian's ASGI interface:
a request body is received, within HEARTSEARCH_BODY_TIMEOUT, before a thread
is taken), forked after the app is built so they share
the memory-mapped index and the model.

A port already in use is refused (exit 1). SIGTERM or SIGINT stops it gracefully (granian's own shutdown): the workers
stop accepting connections, requests already received or being received are
answered, and the process exits 0. The wait is bounded by
HEARTSEARCH_DRAIN_SECONDS (default 10, `--drain-seconds`; at least 1 s):
a worker still busy then is killed, closing its connections."""
from __future__ import annotations

import argparse
import logging
import math
import sys

from indexer import settings
from indexer.index import IndexError_
from search_app.config import DEFAULT_DRAIN_SECONDS, Config


def main(argv: list[str] | None = None) -> int:
    try:
        config = Config.from_env()
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(prog="python -m search_app",
                                     description="Serve HeartSearch (page, /api/v1, /openapi.json, /api/docs) "
                                                 "on HOST:PORT with granian. SIGTERM or SIGINT stops it "
                                                 "gracefully: new connections are refused, requests in progress "
                                                 "are answered (for at most --drain-seconds), then it exits 0.")
    parser.add_argument("--host", default=config.host, help=f"address to bind (default {config.host})")
    parser.add_argument("--port", type=int, default=config.port, help=f"port (default {config.port})")
    parser.add_argument("--threads", type=int, default=config.threads,
                        help=f"threads running the app per worker process (default $HEARTSEARCH_THREADS or 4; now "
                             f"{config.threads})")
    parser.add_argument("--workers", type=int, default=config.workers,
                        help=f"worker processes (default $HEARTSEARCH_WORKERS or the usable cores, "
                             f"{settings.usable_cores()}; now {config.workers})")
    parser.add_argument("--rate-limit", type=int, default=config.rate_limit, metavar="N",
                        help=f"requests a minute per client address on /api/v1, 0 = off "
                             f"(default $HEARTSEARCH_RATE_LIMIT or 120; now {config.rate_limit})")
    parser.add_argument("--drain-seconds", type=float, default=config.drain_seconds, metavar="S",
                        help=f"on SIGTERM/SIGINT, how long requests in progress may take to finish, at least 1 "
                             f"(default $HEARTSEARCH_DRAIN_SECONDS or {DEFAULT_DRAIN_SECONDS:g}; now "
                             f"{config.drain_seconds:g})")
    parser.add_argument("--index-dir", default=None, help="index folder (default $HEARTSEARCH_INDEX_DIR)")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.workers < 1 or args.rate_limit < 0:
        parser.error("--threads and --workers must be at least 1 and --rate-limit at least 0")
    if not math.isfinite(args.drain_seconds) or args.drain_seconds < 0:
        parser.error("--drain-seconds must be 0 or more")
    config.host, config.port, config.threads, config.workers = args.host, args.port, args.threads, args.workers
    config.rate_limit, config.drain_seconds = args.rate_limit, args.drain_seconds
    if args.index_dir:
        from pathlib import Path
        config.index_dir = Path(args.index_dir)

    # The process id says which worker logged a line (the master's lines carry its own).
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s")
    from search_app import create_app
    try:
        app = create_app(config)
    except IndexError_ as err:
        print(f"error: cannot start: {err}", file=sys.stderr)
        return 3
    except ValueError as err:  # a setting only the app can check (e.g. the editors' token): never a traceback
        print(f"error: cannot start: {err}", file=sys.stderr)
        return 2
    from search_app.server import check_address_free, serve
    try:
        check_address_free(config.host, config.port)  # before the "serving" line: a second server must not start
    except OSError as err:
        print(f"error: cannot listen on {config.host}:{config.port}: {err}", file=sys.stderr)
        return 1
    limit = f"{config.rate_limit}/min per address" if config.rate_limit else "off"
    print(f"HeartSearch serving on http://{config.host}:{config.port}/ "
          f"(generation {app.extensions['searcher'].generation.name}; granian, {config.workers} worker(s) x "
          f"{config.threads} threads; rate limit {limit}; API docs at /api/docs)", flush=True)
    try:
        return serve(app, config)
    except OSError as err:
        print(f"error: cannot listen on {config.host}:{config.port}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
