"""Where the index lives, read once from the environment so the indexer CLI
and the web app always agree."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INDEX_DIR = PROJECT_ROOT / "data" / "index"
DEFAULT_CORPUS_DIR = PROJECT_ROOT / "corpus"


def index_dir_from_env() -> Path:
    return Path(os.environ.get("HEARTSEARCH_INDEX_DIR") or DEFAULT_INDEX_DIR)
