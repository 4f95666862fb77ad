"""`python -m search_app`: serve the app with waitress, a production WSGI
server (never Flask's dev server). One process with HEARTSEARCH_THREADS worker
threads, so every thread shares the one memory-mapped index and the model."""
from __future__ import annotations

import argparse
import logging
import sys

from indexer.store import IndexError_
from search_app.config import Config


def main(argv: list[str] | None = None) -> int:
    try:
        config = Config.from_env()
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(prog="python -m search_app",
                                     description="Serve HeartSearch (page, /api/v1, /openapi.json, /api/docs) "
                                                 "on HOST:PORT with waitress.")
    parser.add_argument("--host", default=config.host, help=f"address to bind (default {config.host})")
    parser.add_argument("--port", type=int, default=config.port, help=f"port (default {config.port})")
    parser.add_argument("--threads", type=int, default=config.threads,
                        help=f"worker threads (default $HEARTSEARCH_THREADS or 4; now {config.threads})")
    parser.add_argument("--rate-limit", type=int, default=config.rate_limit, metavar="N",
                        help=f"requests a minute per client address on /api/v1, 0 = off "
                             f"(default $HEARTSEARCH_RATE_LIMIT or 120; now {config.rate_limit})")
    parser.add_argument("--index-dir", default=None, help="index folder (default $HEARTSEARCH_INDEX_DIR)")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.rate_limit < 0:
        parser.error("--threads must be at least 1 and --rate-limit at least 0")
    config.host, config.port, config.threads, config.rate_limit = args.host, args.port, args.threads, \
        args.rate_limit
    if args.index_dir:
        from pathlib import Path
        config.index_dir = Path(args.index_dir)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from search_app import create_app
    try:
        app = create_app(config)
    except IndexError_ as err:
        print(f"error: cannot start: {err}", file=sys.stderr)
        return 3
    import waitress
    limit = f"{config.rate_limit}/min per address" if config.rate_limit else "off"
    print(f"HeartSearch serving on http://{config.host}:{config.port}/ "
          f"(generation {app.extensions['searcher'].generation.name}; waitress, {config.threads} threads; "
          f"rate limit {limit}; API docs at /api/docs)", flush=True)
    waitress.serve(app, host=config.host, port=config.port, threads=config.threads, ident="HeartSearch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
