"""The real server (waitress, `python -m search_app`) on a loopback port."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from indexer.config import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(seed_index_dir):
    port = free_port()
    env = dict(os.environ, HEARTSEARCH_INDEX_DIR=str(seed_index_dir), PYTHONPATH=str(PROJECT_ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "search_app", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited: {proc.stdout.read()}")
        try:
            urllib.request.urlopen(base + "/api/v1/health", timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("server did not start in 120 s")
    yield base
    proc.terminate()
    proc.wait(timeout=30)


def get(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.headers, response.read().decode("utf-8")


def test_search_over_http(server):
    status, headers, body = get(server + "/api/v1/search?" + urllib.parse.urlencode({"q": "leaky heart valve"}))
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    data = json.loads(body)
    assert data["results"][0]["article"]["title"] == "What is mitral regurgitation (MR)?"
    status, headers, html = get(server + "/?q=dialysis")
    assert status == 200 and "National Kidney Foundation" in html
    assert headers["Server"] == "HeartSearch"  # waitress, not the Flask dev server


def test_bad_request_over_http_is_json(server):
    with pytest.raises(urllib.error.HTTPError) as info:
        get(server + "/api/v1/search?q=")
    assert info.value.code == 400
    assert json.loads(info.value.read())["error"]["code"] == "empty_query"


def test_server_refuses_to_start_without_an_index(tmp_path):
    env = dict(os.environ, HEARTSEARCH_INDEX_DIR=str(tmp_path / "none"), PYTHONPATH=str(PROJECT_ROOT))
    proc = subprocess.run([sys.executable, "-m", "search_app", "--port", str(free_port())], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3
    assert "cannot start" in proc.stderr and "python -m indexer build" in proc.stderr
