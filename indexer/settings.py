"""Every HEARTSEARCH_* setting of both packages, read from the environment
here and nowhere else, so one list can be checked against the README's
configuration table (tests/test_settings_documented.py) and a mistyped
value gets the same clear error whichever command reads it.

It lives in indexer because the web app may import the indexer, never the
reverse. Each `Setting` is read when asked (`.read()`), not at import, so a
command sees the environment it was started with and tests can change it.
search_app/config.py turns the server's settings into its `Config`.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INDEX_DIR = PROJECT_ROOT / "data" / "index"
DEFAULT_CORPUS_DIR = PROJECT_ROOT / "corpus"
DEFAULT_MODEL_CACHE = PROJECT_ROOT / "data" / "models"

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, what an unset or blank value
    means, and how a set value is checked. `kind` is one of text, choice,
    int, float, bool, list, path."""
    name: str
    default: object
    kind: str
    meaning: str
    minimum: float | None = None
    choices: tuple[str, ...] = ()

    def raw(self) -> str:
        return (os.environ.get(self.name) or "").strip()

    def read(self):
        value = self.raw()
        if value == "":
            return self.default
        return getattr(self, "_" + self.kind)(value)

    def _text(self, value: str) -> str:
        return value

    def _path(self, value: str) -> Path:
        return Path(value)

    def _choice(self, value: str) -> str:
        if value.lower() not in self.choices:
            raise ValueError(f"{self.name} must be one of {', '.join(self.choices)}, not {value!r}")
        return value.lower()

    def _int(self, value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"{self.name} must be a whole number, got {value!r}") from None
        if self.minimum is not None and number < self.minimum:
            raise ValueError(f"{self.name} must be at least {self.minimum:g}, got {number}")
        return number

    def _float(self, value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"{self.name} must be a number, got {value!r}") from None
        if not math.isfinite(number) or (self.minimum is not None and number < self.minimum):
            least = f" of at least {self.minimum:g}" if self.minimum is not None else ""
            raise ValueError(f"{self.name} must be a finite number{least}, got {value!r}")
        return number

    def _bool(self, value: str) -> bool:
        if value.lower() in TRUE_WORDS:
            return True
        if value.lower() in FALSE_WORDS:
            return False
        raise ValueError(f"{self.name} must be 1 or 0 (true or false), got {value!r}")

    def _list(self, value: str) -> tuple[str, ...]:
        return tuple(item.strip().rstrip("/") for item in value.split(",") if item.strip())


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, which a
    container or `taskset` narrows), not the machine's count."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no sched_getaffinity (macOS)
        return max(1, os.cpu_count() or 1)


# Where things are (indexer and app)
INDEX_DIR = Setting("HEARTSEARCH_INDEX_DIR", DEFAULT_INDEX_DIR, "path", "index folder (indexer and app)")

# The server (search_app/config.py)
HOST = Setting("HEARTSEARCH_HOST", "127.0.0.1", "text", "address the app listens on")
PORT = Setting("HEARTSEARCH_PORT", 8000, "int", "port the app listens on", minimum=0)
THREADS = Setting("HEARTSEARCH_THREADS", 4, "int", "threads running the app per worker process", minimum=1)
# One worker process a core: Python code (Flask, JSON, the searcher) runs on
# one core per process, whatever the threads. Read when the module is
# imported, like every default here.
WORKERS = Setting("HEARTSEARCH_WORKERS", usable_cores(), "int",
                  "worker processes (default: the usable cores), forked after the app is built", minimum=1)
HEADER_TIMEOUT = Setting("HEARTSEARCH_HEADER_TIMEOUT", 5.0, "float",
                         "seconds a client has to send a request's headers", minimum=0.001)
BODY_TIMEOUT = Setting("HEARTSEARCH_BODY_TIMEOUT", 10.0, "float",
                       "seconds a client has to send a request's body", minimum=0.001)
DRAIN_SECONDS = Setting("HEARTSEARCH_DRAIN_SECONDS", 10.0, "float",
                        "on SIGTERM, how long requests in flight may take", minimum=0)
MAX_QUERY_CHARS = Setting("HEARTSEARCH_MAX_QUERY_CHARS", 500, "int", "longest accepted query", minimum=1)
QUERY_CACHE = Setting("HEARTSEARCH_QUERY_CACHE", 4096, "int",
                      "query vectors kept per worker for questions asked again; 0 = off", minimum=0)
RELOAD_INTERVAL = Setting("HEARTSEARCH_RELOAD_INTERVAL", 2.0, "float",
                          "seconds between checks for a new generation", minimum=0)
RATE_LIMIT = Setting("HEARTSEARCH_RATE_LIMIT", 120, "int", "API requests a minute per address; 0 = off", minimum=0)
PAGE_RATE_LIMIT = Setting("HEARTSEARCH_PAGE_RATE_LIMIT", 60, "int",
                          "page searches a minute per address; 0 = off", minimum=0)
ALLOW_EMPTY_INDEX = Setting("HEARTSEARCH_ALLOW_EMPTY_INDEX", False, "bool",
                            "a live generation with no passages counts as ready")
CORS_ORIGINS = Setting("HEARTSEARCH_CORS_ORIGINS", (), "list", "origins browsers may call the API from")
PROXY_HOPS = Setting("HEARTSEARCH_PROXY_HOPS", 0, "int", "reverse proxies whose X-Forwarded-For to trust",
                     minimum=0)

# The private search log and the editors' insights (indexer/insights/, docs/privacy.md)
SEARCH_LOG = Setting("HEARTSEARCH_SEARCH_LOG", True, "bool",
                     "keep the private search log (search-log.sqlite beside the index)")
SEARCH_LOG_DAYS = Setting("HEARTSEARCH_SEARCH_LOG_DAYS", 30, "int",
                          "days a search-log row is kept; older rows are deleted", minimum=1)
INSIGHTS_MIN_COUNT = Setting("HEARTSEARCH_INSIGHTS_MIN_COUNT", 3, "int",
                             "searches a wording needs before the editors' report shows it (k)", minimum=2)
EDITOR_TOKEN = Setting("HEARTSEARCH_EDITOR_TOKEN", None, "text",
                       "token of the editors' pages (/editors/); unset = those pages are off")

# The index (indexer/index/vectors.py)
ANN_MIN_VECTORS = Setting("HEARTSEARCH_ANN_MIN_VECTORS", 10_000, "int",
                          "segments this large get an approximate (IVF) index", minimum=0)
ANN_STORAGE = Setting("HEARTSEARCH_ANN_STORAGE", "fp16", "choice", "how the IVF index stores vectors",
                      choices=("flat", "fp16", "sq8"))

# The embedding model (indexer/embedding/). HEARTSEARCH_MODEL and
# HEARTSEARCH_RUNTIME are checked by their reader (embedding/loader.py)
# against the model registry, which knows the names.
MODEL = Setting("HEARTSEARCH_MODEL", None, "text", "embedding model of build/add/sync without --model")
RUNTIME = Setting("HEARTSEARCH_RUNTIME", None, "text", "runtime of the fp32 model (onnx or torch)")
MODEL_THREADS = Setting("HEARTSEARCH_MODEL_THREADS", None, "int", "cores a build's embedding uses")
MODEL_CACHE = Setting("HEARTSEARCH_MODEL_CACHE", DEFAULT_MODEL_CACHE, "path",
                      "where the ONNX exports of the models and the reassembled all-mpnet-base-v2 are kept")

# Tests only (indexer/faults.py)
KILL_AT = Setting("HEARTSEARCH_KILL_AT", None, "text", "a build kills itself at this point")

ALL = (INDEX_DIR, HOST, PORT, THREADS, WORKERS, HEADER_TIMEOUT, BODY_TIMEOUT, DRAIN_SECONDS, MAX_QUERY_CHARS,
       QUERY_CACHE, RELOAD_INTERVAL, RATE_LIMIT, PAGE_RATE_LIMIT, ALLOW_EMPTY_INDEX, CORS_ORIGINS, PROXY_HOPS,
       SEARCH_LOG, SEARCH_LOG_DAYS, INSIGHTS_MIN_COUNT, EDITOR_TOKEN,
       ANN_MIN_VECTORS, ANN_STORAGE, MODEL, RUNTIME, MODEL_THREADS, MODEL_CACHE, KILL_AT)


def index_dir_from_env() -> Path:
    return INDEX_DIR.read()
