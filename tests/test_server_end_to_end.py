"""The real server (granian, `python -m search_app`) on a loopback port."""
import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import pytest

from indexer.settings import PROJECT_ROOT
from tests.servers import free_port, running_server


@pytest.fixture
def server(seed_index_dir):
    with running_server(seed_index_dir) as base:
        yield base


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
    assert headers["Server"] == "HeartSearch"  # our server, not the Flask dev server


def test_bad_request_over_http_is_json(server):
    with pytest.raises(urllib.error.HTTPError) as info:
        get(server + "/api/v1/search?q=")
    assert info.value.code == 400
    assert json.loads(info.value.read())["error"]["code"] == "empty_query"


@pytest.mark.heavy  # starts the real server
def test_server_refuses_to_start_without_an_index(tmp_path):
    env = dict(os.environ, HEARTSEARCH_INDEX_DIR=str(tmp_path / "none"), PYTHONPATH=str(PROJECT_ROOT))
    proc = subprocess.run([sys.executable, "-m", "search_app", "--port", str(free_port())], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3
    assert "cannot start" in proc.stderr and "python -m indexer build" in proc.stderr
