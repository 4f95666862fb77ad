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
  unique_queries()    distinct reader questions, never a repeat (title_topic, word_key)
  bare_encodes()      the bare model's single-query encodes/s, N one-thread processes at once
  QuietProgress       a progress bar that draws nothing
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

# How readers ask about a condition (lay words, not the titles' frames), and
# whom they ask for, for unique_queries(): the dev queries alone are only 100
# texts, and a benchmark that asks them again and again would measure
# whatever caches a repeat, not a search. bench_http's unique load needs tens
# of thousands (one slice per mode, never repeated within a server's life).
PHRASINGS = (
    "what is {t}", "{t} symptoms", "signs of {t}", "how is {t} treated", "can {t} be cured",
    "is {t} dangerous", "is {t} serious", "what causes {t}", "{t} and exercise", "living with {t}",
    "how do doctors test for {t}", "is {t} hereditary", "{t} warning signs", "diet for {t}",
    "{t} medicine side effects", "what happens if {t} is not treated", "{t} recovery time",
    "does {t} go away on its own", "{t} risk factors", "how common is {t}", "surgery for {t}",
    "my mother has {t}", "does {t} cause chest pain", "{t} shortness of breath", "can you die from {t}",
    "early signs of {t}", "how to prevent {t}", "{t} tiredness", "{t} and pregnancy",
    "is {t} the same as a heart attack", "{t} explained simply", "{t} life expectancy",
)
WHO = ("", " in children", " in women", " in older adults", " in men", " in teenagers", " after 60",
       " in athletes", " at night", " with diabetes", " with high blood pressure", " in babies")
# Ways a reader wraps one of the dev queries.
WRAPS = ("{q} in women", "{q} in children", "{q} at night", "{q} after eating", "{q} what should I do",
         "is {q} serious", "{q} when to see a doctor", "{q} and stress", "{q} in older people",
         "my husband has {q}", "{q} during exercise", "{q} after surgery", "worried about {q}",
         "{q} for years", "{q} every morning", "{q} and dizziness", "sudden {q}", "{q} with a cold")
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


def word_key(text: str) -> str:
    """What makes two questions the same to a search: their words, any case."""
    import re
    return " ".join(re.findall(r"\w+", text.casefold()))


def _jsonl_field(path: Path, name: str) -> list[str]:
    if not path.exists():
        return []
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return [str(row.get(name) or "") for row in rows]


def unique_queries(count: int, seed: int = 17, avoid: Iterable[str] = (), dev_queries: Path = DEV_QUERIES,
                   corpus: Path = MEDQUAD) -> list[str]:
    """`count` reader-style questions, no two the same by their words and
    none the same as one of `avoid` (a load's repeated questions, so warming
    up on those answers none of these); the same list for the same
    arguments. The dev queries come first, then, in a seeded shuffle, every
    condition the NIH titles ask about in every lay phrasing and audience
    and every dev query in every wrap. Figures for unique queries must never
    ask a text twice (a repeat is answered by the query-vector cache, which
    the repeated-question runs measure on their own), so this raises
    ValueError rather than repeat when the sources cannot make `count`."""
    import itertools
    import random
    seen = {word_key(q) for q in avoid}
    out: list[str] = []

    def keep(text: str) -> None:
        text = " ".join(text.split())
        key = word_key(text)
        if key and key not in seen:
            seen.add(key)
            out.append(text)

    dev = _jsonl_field(dev_queries, "query")
    for text in dev:
        keep(text)
    topics = list(dict.fromkeys(t for t in map(title_topic, _jsonl_field(corpus, "title")) if t))
    generated = [p.format(t=t) + who for t, p, who in itertools.product(topics, PHRASINGS, WHO)]
    generated += [w.format(q=" ".join(q.split())) for q, w in itertools.product(dev, WRAPS) if q.strip()]
    rng = random.Random(seed)
    rng.shuffle(generated)
    for text in generated:
        if len(out) >= count:
            break
        keep(text)
    if len(out) < count:
        raise ValueError(f"only {len(out)} distinct queries can be made from {dev_queries} and {corpus}, "
                         f"{count} asked")
    head = out[:count]
    rng.shuffle(head)  # consecutive requests ask about different things
    return head


# ------------------------------------------------------------------ the bare model

# One process of bare_encodes(): loads the model as a server worker does,
# says "ready", waits for "go" so every process starts together.
_BARE_CHILD = r"""
import json, sys, time
from indexer.embedding import load_embedder
model, seconds = sys.argv[1], float(sys.argv[2])
texts = json.loads(sys.stdin.readline())
warm, texts = texts[:20], texts[20:]
embedder = load_embedder(model, threads=1)
for text in warm:  # the first calls allocate
    embedder.encode([text])
print("ready", flush=True)
sys.stdin.readline()
done, started, cpu = 0, time.perf_counter(), time.process_time()
end = started + seconds
while time.perf_counter() < end:
    embedder.encode([texts[done % len(texts)]])
    done += 1
wall = time.perf_counter() - started
print(json.dumps({"encodes": done, "texts": len(texts), "wall_s": wall, "cpu_s": time.process_time() - cpu}),
      flush=True)
"""


def bare_encodes(texts: Sequence[str], processes: int, seconds: float, model: str = "all-MiniLM-L6-v2",
                 env: dict | None = None) -> dict:
    """Single-query encodes/s of the bare model, the yardstick a search is
    held against: `processes` processes (one a core, as the server's
    workers), each loading `model` as a server worker does (one intra-op
    thread) and encoding one text per call, all at once for `seconds`. Each
    process encodes its own slice of `texts` (the first 20 warm it); one that
    gets through its slice starts it again (the bare model has no cache, so
    a repeat costs what a new text does; `repeated` says it happened).
    Child processes, not threads: the figure must not share a GIL."""
    share = len(texts) // max(1, processes)
    if share < 21:
        raise ValueError(f"bare_encodes needs at least 21 texts a process, got {len(texts)} for {processes}")
    children: list[subprocess.Popen] = []
    try:
        for i in range(processes):
            child = subprocess.Popen([sys.executable, "-c", _BARE_CHILD, model, str(seconds)], cwd=ROOT,
                                     env=env or project_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
            children.append(child)
            child.stdin.write(json.dumps(list(texts[i * share:(i + 1) * share])) + "\n")
            child.stdin.flush()
        for child in children:
            if child.stdout.readline().strip() != "ready":
                raise RuntimeError(f"a bare-model process could not load {model}")
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        rows = [json.loads(child.stdout.readline()) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.wait()
    encodes = sum(r["encodes"] for r in rows)
    return {"model": model, "processes": processes, "intra_op_threads": 1, "texts_per_call": 1,
            "seconds": seconds, "duration_s": round(max(r["wall_s"] for r in rows), 2), "encodes": encodes,
            "encodes_per_s": round(sum(r["encodes"] / r["wall_s"] for r in rows), 1),
            "per_process_encodes_per_s": [round(r["encodes"] / r["wall_s"], 1) for r in rows],
            "cpu_ms_per_encode": round(1000 * sum(r["cpu_s"] for r in rows) / max(1, encodes), 3),
            "repeated": any(r["encodes"] > r["texts"] for r in rows)}


class QuietProgress:
    """A progress bar that shows nothing, for publish_articles(progress=...):
    a benchmark's output is its figures (the build's default draws a bar)."""

    def __init__(self, total, label):
        pass

    def update(self, n):
        pass

    def close(self):
        pass


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages, recorded beside every figure:
    other work on a shared machine makes every figure worse."""
    return [round(x, 2) for x in os.getloadavg()]


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of an SQLite file even if a test is writing to it."""
    partial = target.with_name(target.name + ".partial")  # renamed when complete: never half a cache
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    os.replace(partial, target)
