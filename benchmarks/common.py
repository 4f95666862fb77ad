"""Small helpers shared by the benchmark scripts.

Kept to the standard library on purpose: `run_all.py` and `bench_http.py`
import this without loading torch or the index, and a benchmark run under
another virtualenv (bench_peer) can import it too.

  machine_facts()     what the figures were measured on (cores, CPU, RAM,
                      Python, library versions, SQLite/FTS5, load, git commit)
  percentile()        linear-interpolation percentile (numpy's default)
  table()             an aligned Markdown table, pasteable into docs/
  fmt(), dig()        "n/a" for missing figures; tolerant nested look-ups
  write_json()        atomic JSON write (a crash never leaves half a file)
  process_memory_mb() VmRSS / VmHWM of any process from /proc/<pid>/status
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
WORK_DIR = RESULTS_DIR / "work"  # scratch indexes and logs (git-ignored with results/)
SHARED = ROOT.parent / "shared"
MEDQUAD = SHARED / "corpora" / "medquad-heart.jsonl"
DEV_QUERIES = SHARED / "eval" / "dev-queries.jsonl"
REFERENCE_CACHE = ROOT / "data" / "cache" / "medquad-embeddings.sqlite"  # the tests' embedding cache

# Libraries whose version changes the figures. Read from package metadata, so
# nothing heavy (torch) is imported just to print a header.
LIBRARIES = ("torch", "onnxruntime", "sentence-transformers", "transformers", "faiss-cpu", "numpy",
             "flask", "granian", "dask", "distributed", "pydantic")
# Environment variables that change what is measured.
RELEVANT_ENV = ("HEARTSEARCH_RUNTIME", "HEARTSEARCH_MODEL_THREADS", "HEARTSEARCH_THREADS", "OMP_NUM_THREADS",
                "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "MKL_NUM_THREADS")


# ------------------------------------------------------------------ machine

def _first_value(path: str, key: str) -> str | None:
    """The value after `key:` on the first matching line of a /proc file."""
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                name, _, value = line.partition(":")
                if name.strip() == key:
                    return value.strip()
    except OSError:
        pass
    return None


def cpu_model() -> str:
    return _first_value("/proc/cpuinfo", "model name") or platform.processor() or platform.machine()


def ram_gb() -> float | None:
    total = _first_value("/proc/meminfo", "MemTotal")  # "24567 kB"
    return round(int(total.split()[0]) / 1024 / 1024, 1) if total else None


def library_versions(names: Iterable[str] = LIBRARIES) -> dict[str, str | None]:
    """Installed version of each distribution, None if it is not installed."""
    from importlib import metadata
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def sqlite_facts() -> dict:
    """SQLite library version and whether FTS5 (the lexical index) works."""
    db = sqlite3.connect(":memory:")
    try:
        try:
            db.execute("CREATE VIRTUAL TABLE t USING fts5(x)")
            fts5 = True
        except sqlite3.OperationalError:
            fts5 = False
        return {"version": sqlite3.sqlite_version, "fts5": fts5}
    finally:
        db.close()


def git_facts() -> dict:
    """Commit of the work tree and whether it had uncommitted changes."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(status) if status is not None else None}


def machine_facts() -> dict:
    """Everything a reader needs to judge a figure measured here. The load
    average matters most: this machine may be shared while benchmarking."""
    return {"cores": os.cpu_count(), "cpu": cpu_model(), "ram_gb": ram_gb(),
            "platform": platform.platform(), "python": platform.python_version(),
            "python_executable": sys.executable, "libraries": library_versions(), "sqlite": sqlite_facts(),
            "env": {k: os.environ[k] for k in RELEVANT_ENV if k in os.environ},
            "git": git_facts(), "load_average": [round(x, 2) for x in os.getloadavg()],
            "utc": utc_now()}


def format_machine(facts: dict) -> str:
    """The header lines printed above every run."""
    libs = ", ".join(f"{k} {v}" for k, v in facts["libraries"].items() if v)
    missing = [k for k, v in facts["libraries"].items() if not v]
    sqlite = facts["sqlite"]
    git = facts.get("git") or {}
    lines = [f"machine: {facts['cores']} cores, {facts['cpu']}, {facts['ram_gb']} GB RAM; {facts['platform']}",
             f"python {facts['python']} ({facts['python_executable']})",
             f"libraries: {libs}" + (f"; not installed: {', '.join(missing)}" if missing else ""),
             f"sqlite {sqlite['version']}, FTS5 {'yes' if sqlite['fts5'] else 'NO'}",
             f"git {git.get('commit')}{' (uncommitted changes)' if git.get('dirty') else ''}; "
             f"load average {' '.join(str(x) for x in facts['load_average'])} at {facts['utc']}"]
    if facts.get("env"):
        lines.append("environment: " + " ".join(f"{k}={v}" for k, v in facts["env"].items()))
    return "\n".join(lines)


def process_memory_mb(pid: int) -> dict[str, float | None]:
    """Resident memory of a process now (VmRSS) and at its peak (VmHWM), in MB."""
    path = f"/proc/{pid}/status"
    out: dict[str, float | None] = {}
    for key, name in (("VmRSS", "rss_mb"), ("VmHWM", "peak_rss_mb")):
        value = _first_value(path, key)
        out[name] = round(int(value.split()[0]) / 1024, 1) if value else None
    return out


# ------------------------------------------------------------------ numbers

def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation between the
    closest ranks, as numpy.percentile does by default; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def dig(data: Any, *path: str | int, default: Any = None) -> Any:
    """data[path[0]][path[1]]... or `default` if any step is missing, so a
    summary survives a benchmark whose JSON layout changed."""
    for step in path:
        try:
            data = data[step]
        except (KeyError, IndexError, TypeError):
            return default
    return default if data is None else data


def fmt(value: Any, spec: str = "", suffix: str = "") -> str:
    """`value` formatted with `spec`, or "n/a" when it is missing."""
    if value is None:
        return "n/a"
    try:
        return f"{value:{spec}}{suffix}"
    except (TypeError, ValueError):
        return f"{value}{suffix}"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], right: Sequence[bool] | None = None) -> str:
    """An aligned Markdown table. `right` says which columns are numbers
    (right-aligned); by default every column but the first."""
    rows = [[("n/a" if c is None else str(c)) for c in row] for row in rows]
    right = list(right) if right is not None else [False] + [True] * (len(headers) - 1)
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells):
        return "| " + " | ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)) + " |"
    rule = "| " + " | ".join(("-" * (w - 1) + ":") if r else "-" * w for w, r in zip(widths, right)) + " |"
    return "\n".join([line(headers), rule] + [line(r) for r in rows])


# ------------------------------------------------------------------ files

def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_stamp() -> str:
    """A timestamp for file names: 20250101T120000Z."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def write_json(path: Path, data: Any) -> Path:
    """Write `data` as indented JSON via a temporary file and a rename, so a
    reader (or run_all.py) never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_json(path: Path) -> Any:
    """The parsed file, or None if it is missing or not valid JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def project_env(**extra: str) -> dict[str, str]:
    """The environment a benchmark subprocess runs in: the project on the
    import path, the model loaded offline, output unbuffered (streamed)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


# ------------------------------------------------------------------ queries

# Ways readers put a question about a condition, for unique_queries(): the
# dev queries alone are only 100 texts, and a benchmark that asks them
# again and again would measure whatever caches a repeat, not a search.
LAY_PHRASINGS = ("what is {t}", "{t} symptoms", "how is {t} treated", "what causes {t}", "is {t} serious",
                 "can {t} be cured", "{t} in children", "living with {t}", "is {t} hereditary",
                 "how do doctors test for {t}", "{t} warning signs", "can you prevent {t}",
                 "{t} and exercise", "{t} life expectancy", "does {t} go away on its own",
                 "{t} medication side effects", "what to eat with {t}", "{t} in older adults")
# The question forms of the NIH titles ("What is (are) Angina ?"), stripped
# to leave the condition they ask about.
_TITLE_FORMS = (r"what is \(are\)", r"what are the symptoms of", r"what are the treatments for",
                r"how to diagnose", r"how to prevent", r"what causes", r"who is at risk for",
                r"what is the outlook for", r"what research \(or clinical trials\) is being done for",
                r"what are the genetic changes related to", r"is .+ inherited", r"do you have information about",
                r"how many people are affected by", r"what to do for", r"what are the complications of")


def title_topic(title: str) -> str | None:
    """The condition an NIH question title asks about, lower-cased, or None
    when the title is not one of the known question forms."""
    import re
    text = title.strip().rstrip("?").strip().rstrip("?").strip()
    lowered = text.lower()
    inherited = re.fullmatch(r"is (.+) inherited", lowered)
    if inherited:
        return inherited.group(1).strip() or None
    for form in _TITLE_FORMS:
        match = re.match(form + r"\s+(.+)", lowered)
        if match:
            topic = match.group(1).strip(" .:")
            return topic if 2 < len(topic) <= 60 else None
    return None


def unique_queries(count: int, seed: int = 17, dev_queries: Path = DEV_QUERIES, corpus: Path = MEDQUAD) -> list[str]:
    """`count` distinct reader-style questions, the same list for the same
    arguments: the dev queries first, then lay phrasings of the conditions
    the NIH titles ask about, in a seeded shuffle. Figures for unique queries
    must never ask a text twice (a repeat is answered by the query-vector
    cache, which the repeated-question run measures on its own). Raises
    ValueError if the sources cannot make `count` texts."""
    import random
    seen: set[str] = set()
    out: list[str] = []

    def keep(text: str) -> None:
        text = " ".join(text.split())
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)

    if dev_queries.exists():
        for line in dev_queries.read_text(encoding="utf-8").splitlines():
            if line.strip():
                keep(json.loads(line).get("query", ""))
    topics: list[str] = []
    if corpus.exists():
        with open(corpus, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    topic = title_topic(json.loads(line).get("title", ""))
                    if topic and topic not in topics:
                        topics.append(topic)
    rng = random.Random(seed)
    generated = [p.format(t=t) for t in topics for p in LAY_PHRASINGS]
    rng.shuffle(generated)
    for text in generated:
        if len(out) >= count:
            break
        keep(text)
    if len(out) < count:
        raise ValueError(f"only {len(out)} distinct queries can be made from {dev_queries} and {corpus}")
    head = out[:count]
    rng.shuffle(head)
    return head


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages, recorded beside every figure:
    other work on a shared machine makes every figure worse."""
    return [round(x, 2) for x in os.getloadavg()]
