"""`python -m search_app`: serve the app with waitress (never Flask's dev server)."""
from __future__ import annotations

import argparse
import logging
import sys

from indexer.store import IndexError_
from search_app.config import Config


def main(argv: list[str] | None = None) -> int:
    config = Config.from_env()
    parser = argparse.ArgumentParser(prog="python -m search_app",
                                     description="Serve HeartSearch (page and /api/v1) on HOST:PORT.")
    parser.add_argument("--host", default=config.host, help=f"address to bind (default {config.host})")
    parser.add_argument("--port", type=int, default=config.port, help=f"port (default {config.port})")
    parser.add_argument("--threads", type=int, default=config.threads, help="worker threads")
    parser.add_argument("--index-dir", default=None, help="index folder (default $HEARTSEARCH_INDEX_DIR)")
    args = parser.parse_args(argv)
    config.host, config.port, config.threads = args.host, args.port, args.threads
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
    print(f"HeartSearch serving on http://{config.host}:{config.port}/ "
          f"(generation {app.extensions['searcher'].generation.name})", flush=True)
    waitress.serve(app, host=config.host, port=config.port, threads=config.threads, ident="HeartSearch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
