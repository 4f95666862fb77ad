"""(long) Builds killed with SIGKILL at every named point while the
production server is serving: the live generation keeps answering, verify
stays clean, and the next build cleans up and succeeds."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import urllib.parse

import pytest

from indexer.settings import PROJECT_ROOT
from indexer.faults import POINTS
from indexer.index import IndexStore
from tests.servers import get_json, running_server


def indexer_cli(*args: str, kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    env.pop("HEARTSEARCH_KILL_AT", None)
    if kill_at:
        env["HEARTSEARCH_KILL_AT"] = kill_at
    return subprocess.run([sys.executable, "-m", "indexer", *args], env=env, capture_output=True, text=True,
                          timeout=600, cwd=PROJECT_ROOT)


@pytest.mark.long
def test_sigkill_at_every_point_while_serving(writable_index, tmp_path, scorecard):
    store = IndexStore(writable_index)
    live = store.open_current()
    before = live.article_hashes()
    live.close()
    folder = tmp_path / "bulk"
    folder.mkdir()
    failures, kills = [], 0
    with running_server(writable_index, HEARTSEARCH_RELOAD_INTERVAL="0.3", HEARTSEARCH_RATE_LIMIT="0") as base:
        url = base + "/api/v1/search?" + urllib.parse.urlencode({"q": "leaky heart valve", "k": 5})
        served, errors, stop = [], [], threading.Event()

        def client():
            while not stop.is_set():
                try:
                    served.append(get_json(url)["generation"])
                except Exception as err:
                    errors.append(repr(err)[:200])

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            for round_, point in enumerate(POINTS):
                # New articles each round (more than one embedding batch), so
                # every build really has something to embed and write.
                for i in range(70):
                    (folder / f"bulk-{round_}-{i}.md").write_text(
                        f"---\nid: bulk-{round_}-{i}\ntitle: Bulk {round_} {i}\n---\n"
                        f"Round {round_} article {i} about blood vessels, arteries and the heart.\n")
                current = store.current_name()
                proc = indexer_cli("add", str(folder), "--index-dir", str(writable_index), kill_at=point)
                kills += 1
                if proc.returncode != -9:
                    failures.append(f"{point}: not killed (exit {proc.returncode}): {proc.stderr[-200:]}")
                if store.current_name() != current:
                    failures.append(f"{point}: CURRENT changed by a killed build")
                verify = indexer_cli("verify", "--index-dir", str(writable_index))
                if verify.returncode != 0:
                    failures.append(f"{point}: verify {verify.returncode}: {verify.stderr[-200:]}")
                if get_json(url)["generation"] != current:
                    failures.append(f"{point}: server not on the live generation")
                proc = indexer_cli("add", str(folder), "--index-dir", str(writable_index))
                if proc.returncode != 0:
                    failures.append(f"{point}: next build failed: {proc.stderr[-300:]}")
                leftovers = [p.name for p in (writable_index / "generations").iterdir() if p.name.startswith(".")]
                if leftovers:
                    failures.append(f"{point}: leftovers {leftovers}")
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
    live = store.open_current()
    after = live.article_hashes()
    live.close()
    lost = sum(1 for a, h in before.items() if after.get(a) != h)
    expected = len(before) + 70 * len(POINTS)
    if len(after) != expected:
        failures.append(f"{len(after)} articles at the end, expected {expected}")
    scorecard.add("SIGKILL during builds", f"killed at {', '.join(POINTS)} while serving; verify; rebuild",
                  kills + len(served), len(failures) + len(errors), lost,
                  notes=f"{len(served)} searches served during the kills, {len(errors)} failed")
    assert failures == [] and errors == [] and lost == 0, (failures, errors[:3])
