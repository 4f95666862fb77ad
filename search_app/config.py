"""All settings of the web app in one object, read from HEARTSEARCH_* environment
variables with defaults that suit a laptop."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from indexer.config import index_dir_from_env


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {value!r}")


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}")


@dataclass
class Config:
    index_dir: Path = field(default_factory=index_dir_from_env)
    host: str = "127.0.0.1"
    port: int = 8000
    threads: int = 4                 # waitress worker threads
    default_k: int = 10
    max_k: int = 50
    max_query_chars: int = 500
    reload_interval: float = 2.0     # seconds between checks for a newly published generation
    page_size: int = 10              # results per page on the reader's page

    @classmethod
    def from_env(cls) -> "Config":
        return cls(
            index_dir=index_dir_from_env(),
            host=os.environ.get("HEARTSEARCH_HOST", "127.0.0.1"),
            port=_int("HEARTSEARCH_PORT", 8000),
            threads=_int("HEARTSEARCH_THREADS", 4),
            max_query_chars=_int("HEARTSEARCH_MAX_QUERY_CHARS", 500),
            reload_interval=_float("HEARTSEARCH_RELOAD_INTERVAL", 2.0),
        )
