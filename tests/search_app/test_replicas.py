"""Two server processes (replicas) serve one index folder, memory-mapped
and read-only, and both switch to each newly published generation while
clients keep querying them: no failed request, no response mixing
generations, no replica going back to an older one (docs/deploy.md)."""
from __future__ import annotations

import contextlib
import threading
import time
import urllib.parse
from pathlib import Path

from indexer.cli import main
from indexer.index import IndexStore
from tests.index_files import live_segment_file
from tests.servers import get_json, running_server

ARTICLE = "---\nid: replica-probe\ntitle: Probe about the pulmonary valve\n---\n{text}\n"
VERSIONS = ("Version two: the pulmonary valve opens to send blood to the lungs.",
            "Version three: a narrow pulmonary valve can cause a heart murmur.",
            "Version four: a balloon can widen a narrow pulmonary valve.")


def _server_pids(port: int) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                args = (proc / "cmdline").read_bytes().split(b"\0")
                if b"search_app" in args and str(port).encode() in args:
                    pids.append(int(proc.name))
    return pids


def _mapped_files(pid: int) -> set[str]:
    with open(f"/proc/{pid}/maps") as fh:
        return {line.split()[-1] for line in fh if line.rstrip().endswith(".faiss")}


def test_two_replicas_switch_generation_together_under_load(writable_index, tmp_path):
    probe = tmp_path / "probe.md"
    versions = {}  # generation name -> probe text published in it

    def publish(text):
        probe.write_text(ARTICLE.format(text=text))
        assert main(["add", str(probe), "--index-dir", str(writable_index)]) == 0
        versions[IndexStore(writable_index).current_name()] = text

    publish("Version one: the pulmonary valve sits between the right ventricle and the lungs.")
    query = "?" + urllib.parse.urlencode({"q": "pulmonary valve probe", "k": 3})
    # One worker a replica: the workers of one server switch each on its own
    # (tests/search_app/test_workers.py checks each never goes back).
    single = {"HEARTSEARCH_RELOAD_INTERVAL": "0.3", "HEARTSEARCH_WORKERS": "1"}
    with running_server(writable_index, **single) as first, running_server(writable_index, **single) as second:
        replicas = (first, second)
        seen = {(base, n): [] for base in replicas for n in range(2)}  # per client thread, in order
        failures, stop = [], threading.Event()

        def client(base, n):
            while not stop.is_set():
                try:
                    seen[(base, n)].append(get_json(base + "/api/v1/search" + query))
                except Exception as err:  # any failure counts
                    failures.append(f"{base}: {err!r}")

        threads = [threading.Thread(target=client, args=key) for key in seen]
        for t in threads:
            t.start()
        try:
            for text in VERSIONS:
                time.sleep(1.0)
                publish(text)
            newest = max(versions)
            deadline = time.monotonic() + 20  # both replicas reach the newest generation
            while time.monotonic() < deadline and not all(
                    seen[(base, 0)] and seen[(base, 0)][-1]["generation"] == newest for base in replicas):
                time.sleep(0.2)
            time.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
        # Both processes map the newest generation's vectors rather than copying them.
        for base in replicas:
            port = int(base.rsplit(":", 1)[1])
            pids = _server_pids(port)
            assert pids, f"no server process found for {base}"
            mapped = set().union(*(_mapped_files(pid) for pid in pids))
            assert str(live_segment_file(writable_index, "vectors.faiss", newest)) in mapped, mapped

    assert failures == []
    for base in replicas:
        responses = seen[(base, 0)] + seen[(base, 1)]
        assert len(responses) > 10, base
        assert {r["generation"] for r in responses} >= {min(versions), newest}, base  # switched while serving
        for n in range(2):
            generations = [r["generation"] for r in seen[(base, n)]]
            assert generations == sorted(generations), f"{base} went back to an older generation"
            assert generations[-1] == newest
        for r in responses:
            hits = [h for h in r["results"] if h["article"]["id"] == "replica-probe"]
            assert hits and hits[0]["text"] == versions[r["generation"]], r
