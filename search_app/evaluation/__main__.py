"""`python -m search_app.evaluation` (what `make eval` runs): MRR@10,
nDCG@10, Recall@10 and Recall@50 per retrieval mode for an index.

Here and not under `python -m indexer`: evaluation measures the searcher,
which lives in search_app, and the indexer must never import search_app
(the dependency runs one way, search_app -> indexer). This module only
parses the command line; search_app.evaluation.cli does the work."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from indexer.settings import PROJECT_ROOT, index_dir_from_env

DEFAULT_QUERIES = PROJECT_ROOT.parent / "shared" / "eval" / "dev-queries.jsonl"


def _path(value: str) -> Path:
    """An empty --index-dir (an unset shell variable) is refused, not read
    as the current folder."""
    if not value:
        raise argparse.ArgumentTypeError("empty path (an unset shell variable?)")
    return Path(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m search_app.evaluation",
        description="Run a query set (JSON Lines: {\"query\": ..., \"relevant\": [ids]}) against the index and "
                    "print MRR@10, nDCG@10, Recall@10 and Recall@50 per retrieval mode, for the whole set and "
                    "its tuning and held-out halves; then the topic-fold protocol: cross-validated MRR@10, "
                    "topic-level MRR@10, the glossary and need cues per held-out fold.")
    parser.add_argument("--index-dir", type=_path, action="append", default=None,
                        help="index folder (default: $HEARTSEARCH_INDEX_DIR or data/index); give it once per "
                             "model to compare several indexes")
    parser.add_argument("--queries", default=str(DEFAULT_QUERIES), help=f"query set (default: {DEFAULT_QUERIES})")
    parser.add_argument("--modes", default="dense,lexical,hybrid,default", help="comma-separated modes")
    parser.add_argument("--folds", type=int, default=5,
                        help="topic folds for the honest protocol (default 5; 0: the dev-all table only)")
    parser.add_argument("--out", default=None, metavar="FILE", help="write per-query ranks (JSON Lines) to FILE")
    return parser


def run(argv: list[str] | None = None) -> int:
    from search_app.evaluation.cli import main
    args = build_parser().parse_args(argv)
    args.index_dir_resolved = args.index_dir or [index_dir_from_env()]
    return main(args)


if __name__ == "__main__":
    sys.exit(run())
