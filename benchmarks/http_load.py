"""The server's memory and CPU for bench_http.py, read from /proc with its
worker processes counted (the master forks them, so they are its children).

Kept apart from bench_http.py so that file stays about running the server
and wrk; the questions it asks and the bare model it is held against come
from benchmarks.common (bench_search and bench_model use the same ones).
"""
from __future__ import annotations

import os
from pathlib import Path

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
