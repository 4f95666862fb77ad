"""Start the real production server (`python -m search_app`) on a free
loopback port for a test, and stop it afterwards. Rate limiting is off
unless the test sets HEARTSEARCH_RATE_LIMIT."""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Iterator

from indexer.settings import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server_process(index_dir: Path, drop_env: tuple[str, ...] = (),
                   **env_overrides: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """The server as shipped (no setting forced); yields (base URL, process)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in drop_env}
    env.update(HEARTSEARCH_INDEX_DIR=str(index_dir), PYTHONPATH=str(PROJECT_ROOT), **env_overrides)
    # Output goes to a file, not a pipe nobody reads while the server runs: the
    # access log (a line a request) would fill a pipe and block the server.
    output = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "search_app", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                output.seek(0)
                raise RuntimeError(f"server exited: {output.read()[-2000:]}")
            try:
                urllib.request.urlopen(base + "/api/v1/health", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start in 120 s")
                time.sleep(0.3)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        output.close()


@contextlib.contextmanager
def running_server(index_dir: Path, **env_overrides: str) -> Iterator[str]:
    """The server with rate limiting off (it is on by default) unless the
    test sets HEARTSEARCH_RATE_LIMIT; yields the base URL."""
    with server_process(index_dir, **{"HEARTSEARCH_RATE_LIMIT": "0", **env_overrides}) as (base, _):
        yield base


def get_json(url: str, timeout: float = 30) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())
