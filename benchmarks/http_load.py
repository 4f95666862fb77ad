"""What bench_http.py needs beside wrk: a pool of distinct readers'
questions (so no cache can answer a request of the unique-query load), the
bare model's single-query encodes/s on the same cores (the yardstick the
HTTP figure is held against), and the server's memory and CPU read from
/proc with its worker processes counted.

Kept apart from bench_http.py so that file stays about running the server
and wrk; standard library only at import (the model is loaded in child
processes of the bare-model measurement).
"""
from __future__ import annotations

import itertools
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# ------------------------------------------------------------------ distinct questions

# The NIH titles name a condition in a handful of fixed frames.
TITLE_TOPIC = [re.compile(p, re.I) for p in (
    r"^what (?:is|are) \(are\) (.+?) \?$", r"^what are the symptoms of (.+?) \?$", r"^what causes (.+?) \?$",
    r"^what are the treatments for (.+?) \?$", r"^how to (?:diagnose|prevent) (.+?) \?$",
    r"^who is at risk for (.+?)\? ?\?*$", r"^is (.+?) inherited \?$", r"^what is the outlook for (.+?) \?$",
    r"^what are the complications of (.+?) \?$", r"^what to do for (.+?) \?$",
    r"^what are the genetic changes related to (.+?) \?$", r"^how many people are affected by (.+?) \?$",
    r"^what (?:is|are) (.+?) \?$")]

# How readers ask about a condition (lay words, not the titles' frames).
PHRASINGS = (
    "what is {t}", "{t} symptoms", "signs of {t}", "how is {t} treated", "can {t} be cured",
    "is {t} dangerous", "what causes {t}", "{t} and exercise", "living with {t}", "how do doctors test for {t}",
    "is {t} hereditary", "{t} warning signs", "diet for {t}", "{t} medicine side effects",
    "what happens if {t} is not treated", "{t} recovery time", "does {t} go away", "{t} risk factors",
    "how common is {t}", "surgery for {t}", "my mother has {t}", "does {t} cause chest pain",
    "{t} shortness of breath", "can you die from {t}", "early signs of {t}", "how to prevent {t}",
    "{t} tiredness", "{t} and pregnancy", "is {t} the same as a heart attack", "{t} explained simply",
)
WHO = ("", " in children", " in women", " in older adults", " in men", " in teenagers", " after 60",
       " in athletes", " at night", " with diabetes", " with high blood pressure", " in babies")
# Ways a reader wraps one of the dev queries.
WRAPS = ("{q} in women", "{q} in children", "{q} at night", "{q} after eating", "{q} what should I do",
         "is {q} serious", "{q} when to see a doctor", "{q} and stress", "{q} in older people",
         "my husband has {q}", "{q} during exercise", "{q} after surgery", "worried about {q}",
         "{q} for years", "{q} every morning", "{q} and dizziness", "sudden {q}", "{q} with a cold")


def word_key(text: str) -> str:
    """What makes two questions the same to a search: their words, any case."""
    return " ".join(re.findall(r"\w+", text.lower()))


def title_topics(corpus: Path) -> list[str]:
    """The conditions named by the corpus's titles (JSON Lines with a title), in first-seen order."""
    topics: dict[str, None] = {}
    if corpus.exists():
        for line in corpus.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            title = (json.loads(line).get("title") or "").strip()
            for pattern in TITLE_TOPIC:
                match = pattern.match(title)
                if match:
                    topics.setdefault(match[1].strip().lower())
                    break
    return list(topics)


def unique_queries(dev_queries: list[str], corpus: Path, avoid: list[str] = (), seed: int = 17) -> list[str]:
    """Distinct questions (by their words), in a fixed shuffled order:
    every condition the titles name in every lay phrasing and audience,
    and every dev query in every wrap. None equals one of `avoid` (the
    rotating load's queries, so a warm-up on those answers none of these)."""
    seen = {word_key(q) for q in avoid}
    pool: list[str] = []

    def add(text: str) -> None:
        key = word_key(text)
        if key and key not in seen:
            seen.add(key)
            pool.append(text)

    for topic, phrasing, who in itertools.product(title_topics(corpus), PHRASINGS, WHO):
        add(phrasing.format(t=topic) + who)
    for query, wrap in itertools.product(dev_queries, WRAPS):
        add(wrap.format(q=query))
    random.Random(seed).shuffle(pool)  # consecutive requests ask about different things
    return pool


# ------------------------------------------------------------------ the bare model

BARE_CHILD = r"""
import json, sys, time
from indexer.embedding import load_embedder
model, seconds = sys.argv[1], float(sys.argv[2])
texts = json.loads(sys.stdin.readline())
embedder = load_embedder(model, threads=1)
for text in texts[:20]:  # warm: the first calls allocate
    embedder.encode([text])
print("ready", flush=True)
sys.stdin.readline()  # "go": every process starts together
done, started, cpu = 0, time.perf_counter(), time.process_time()
end = started + seconds
while time.perf_counter() < end:
    embedder.encode([texts[20 + done % (len(texts) - 20)]])
    done += 1
wall = time.perf_counter() - started
print(json.dumps({"encodes": done, "wall_s": wall, "cpu_s": time.process_time() - cpu}), flush=True)
"""


def bare_encodes(texts: list[str], processes: int, seconds: float, model: str = "all-MiniLM-L6-v2",
                 env: dict | None = None) -> dict:
    """Single-query encodes/s of the bare model: `processes` processes (one
    a core, as the server's workers), each loading it as the server does
    (one intra-op thread) and encoding one text per call, all running at
    once for `seconds`. Each process encodes its own slice of `texts`."""
    share = max(50, len(texts) // max(1, processes))
    children = []
    try:
        for i in range(processes):
            child = subprocess.Popen([sys.executable, "-c", BARE_CHILD, model, str(seconds)], cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            child.stdin.write(json.dumps(texts[i * share:(i + 1) * share] or texts[:share]) + "\n")
            child.stdin.flush()
            children.append(child)
        for child in children:
            if child.stdout.readline().strip() != "ready":
                raise RuntimeError(f"a bare-model process could not load {model}")
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        per_process = [json.loads(child.stdout.readline()) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.wait()
    encodes = sum(p["encodes"] for p in per_process)
    return {"model": model, "processes": processes, "intra_op_threads": 1, "texts_per_call": 1,
            "duration_s": round(max(p["wall_s"] for p in per_process), 2), "encodes": encodes,
            "encodes_per_s": round(sum(p["encodes"] / p["wall_s"] for p in per_process), 1),
            "ms_per_encode_per_process": [round(1000 * p["wall_s"] / max(1, p["encodes"]), 3) for p in per_process],
            "cpu_ms_per_encode": round(1000 * sum(p["cpu_s"] for p in per_process) / max(1, encodes), 3)}


# ------------------------------------------------------------------ the server's processes

def children_of(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _kb(path: str, keys: tuple[str, ...]) -> dict[str, int]:
    out = {}
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                name, _, value = line.partition(":")
                if name in keys:
                    out[name] = int(value.split()[0])
    except OSError:
        pass
    return out


def server_memory(master: int) -> dict:
    """The server's memory with shared pages counted once: PSS (each shared
    page split among the processes mapping it) summed over the master and
    its workers, from /proc/PID/smaps_rollup; and each process's RSS."""
    workers = children_of(master)
    rollups = {pid: _kb(f"/proc/{pid}/smaps_rollup", ("Rss", "Pss")) for pid in [master, *workers]}
    mb = lambda kb: round(kb / 1024, 1) if kb is not None else None  # noqa: E731
    return {"pss_total_mb": mb(sum(r.get("Pss", 0) for r in rollups.values())),
            "master_rss_mb": mb(rollups[master].get("Rss")),
            "worker_rss_mb": [mb(rollups[w].get("Rss")) for w in workers],
            "worker_pss_mb": [mb(rollups[w].get("Pss")) for w in workers],
            "workers": len(workers)}


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes (their own threads)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / tick
