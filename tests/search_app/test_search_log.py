"""The hook into searches (search_app/search/search_log.py, called by the API
and the readers' page): a real search through the app writes one row with
exactly the allowed fields, matching what the reader was answered, and
nothing that identifies the reader; look-ups and later pages are not logged;
a full disk never fails a search; the setting off means no file at all."""
from __future__ import annotations

import sqlite3
from types import SimpleNamespace

import pytest

from indexer.insights import log as search_log_module
from indexer.insights.log import SEARCH_LOG, read_searches
from search_app.config import Config
from search_app.search.search_log import search_event

ADDRESS = "203.0.113.77"
AGENT = "ReaderBrowser/9.9 (unmistakable-agent-string)"
REQUEST_ID = "req-7f3a9c-unmistakable"
COOKIE = "unmistakable-cookie-value"
IDENTIFYING = (ADDRESS, AGENT, "unmistakable", REQUEST_ID, COOKIE)
COLUMNS = ["id", "hour", "query", "mode", "results", "best_similarity", "no_good_match", "urgent", "generation"]


def _app(index_dir, embedder, **fields):
    from search_app import create_app
    return create_app(Config(index_dir=index_dir, **fields), embedder=embedder)


def _get(client, url):
    client.set_cookie("session", COOKIE)
    return client.get(url, headers={"User-Agent": AGENT, "X-Request-ID": REQUEST_ID},
                      environ_base={"REMOTE_ADDR": ADDRESS})


@pytest.fixture
def logged(writable_index, embedder):
    app = _app(writable_index, embedder, search_log=True)
    yield app, app.test_client(), writable_index / SEARCH_LOG
    app.extensions["search_log"].close()


def test_an_api_search_writes_the_allowed_fields_and_nothing_identifying(logged):
    app, client, path = logged
    response = _get(client, "/api/v1/search?q=Leaky++HEART+valve&k=5")
    assert response.status_code == 200
    answer = response.get_json()
    assert app.extensions["search_log"].flush(timeout=10)
    [row] = read_searches(path)
    assert row.query == "leaky heart valve"
    assert (row.mode, row.results, row.generation) == ("hybrid", answer["total"], answer["generation"])
    assert row.best_similarity == pytest.approx(max(r["similarity"] for r in answer["results"]), abs=1e-6)
    assert row.no_good_match is answer["no_good_match"] and row.urgent == ()
    assert row.hour.minute == row.hour.second == 0

    db = sqlite3.connect(path)
    assert [c[1] for c in db.execute("PRAGMA table_info(searches)")] == COLUMNS
    values = " ".join(map(str, db.execute("SELECT * FROM searches").fetchone()))
    db.close()
    stored = path.read_bytes() + (path.parent / (SEARCH_LOG + "-wal")).read_bytes()
    for secret in IDENTIFYING:
        assert secret not in values and secret.encode() not in stored


def test_the_page_and_post_searches_are_logged_with_the_urgent_signs(logged):
    app, client, path = logged
    assert _get(client, "/?q=crushing+chest+pain+and+my+left+arm+is+numb").status_code == 200
    posted = client.post("/api/v1/search", json={"q": "how do I bake sourdough bread", "mode": "lexical"},
                         environ_base={"REMOTE_ADDR": ADDRESS})
    assert posted.status_code == 200
    app.extensions["search_log"].flush(timeout=10)
    page, post = read_searches(path)
    assert page.query == "crushing chest pain and my left arm is numb" and "heart attack" in page.urgent
    assert page.mode == "hybrid" and page.results > 0
    assert (post.query, post.mode, post.no_good_match) == ("how do i bake sourdough bread", "lexical",
                                                           posted.get_json()["no_good_match"])


def test_look_ups_and_later_pages_are_not_logged(logged):
    app, client, path = logged
    first = client.get("/api/v1/search?q=angina&k=2").get_json()
    article = first["results"][0]["article"]["id"]
    assert client.get("/api/v1/search?q=angina&k=2&offset=2").status_code == 200
    assert client.get("/?q=angina&page=2").status_code == 200
    assert client.get(f"/api/v1/articles/{article}").status_code == 200
    assert client.get(f"/api/v1/passages/{first['results'][0]['passage']['id']}").status_code == 200
    assert client.get(f"/questions/{article}").status_code == 200
    assert client.get("/api/v1/search?q=").status_code == 400  # refused searches are not searches
    app.extensions["search_log"].flush(timeout=10)
    assert [r.query for r in read_searches(path)] == ["angina"]


def test_the_log_sits_beside_the_index_not_in_a_generation(logged):
    app, client, path = logged
    client.get("/api/v1/search?q=heart+failure")
    app.extensions["search_log"].flush(timeout=10)
    index_dir = path.parent
    assert path.exists()
    assert not list((index_dir / "generations").rglob("search-log*"))
    assert not list((index_dir / "segments").rglob("search-log*"))


def test_a_full_disk_drops_rows_and_every_search_still_answers(writable_index, embedder, monkeypatch):
    search_log_module.connect(writable_index / SEARCH_LOG).close()  # the file exists, its tables empty
    real = search_log_module.connect

    def full(path, *, readonly=False):  # SQLite's own SQLITE_FULL: the file may not grow by a page
        db = real(path, readonly=readonly)
        db.execute("PRAGMA max_page_count = 1")
        return db
    monkeypatch.setattr(search_log_module, "connect", full)
    app = _app(writable_index, embedder, search_log=True)
    client = app.test_client()
    log = app.extensions["search_log"]
    log.flush_interval = 60.0  # one batch, written when flushed: more rows than the file's free space
    long_question = " ".join(["is a fluttering heartbeat after climbing the stairs dangerous"] * 7)
    try:
        for i in range(6):
            assert client.get(f"/api/v1/search?q={long_question} {i}").status_code == 200
            assert client.get(f"/?q={long_question} {i}").status_code == 200
        assert log.flush(timeout=10)
        assert (log.dropped, log.written) == (12, 0)
    finally:
        log.close()
    assert read_searches(writable_index / SEARCH_LOG) == []


def test_with_the_setting_off_no_file_is_made(writable_index, embedder):
    app = _app(writable_index, embedder, search_log=False)
    assert app.extensions["search_log"] is None
    client = app.test_client()
    assert client.get("/api/v1/search?q=leaky+heart+valve").status_code == 200
    assert client.get("/?q=leaky+heart+valve").status_code == 200
    assert not list(writable_index.rglob("search-log*"))


def test_the_log_is_on_from_the_environment_and_off_with_one_setting(monkeypatch):
    monkeypatch.delenv("HEARTSEARCH_SEARCH_LOG", raising=False)
    monkeypatch.delenv("HEARTSEARCH_SEARCH_LOG_DAYS", raising=False)
    config = Config.from_env()
    assert (config.search_log, config.search_log_days) == (True, 30)
    monkeypatch.setenv("HEARTSEARCH_SEARCH_LOG", "0")
    monkeypatch.setenv("HEARTSEARCH_SEARCH_LOG_DAYS", "7")
    config = Config.from_env()
    assert (config.search_log, config.search_log_days) == (False, 7)
    assert Config().search_log is False  # an app built in code (the tests') logs only when asked


def test_the_event_names_the_signs_and_the_best_shown_similarity():
    hits = [SimpleNamespace(similarity=0.31), SimpleNamespace(similarity=None), SimpleNamespace(similarity=0.44)]
    result = SimpleNamespace(query="Chest pain", mode="dense", total=12, generation=SimpleNamespace(name="gen-9"))
    event = search_event(result, hits, no_good_match=False, urgent_conditions=("a heart attack", "a stroke"))
    assert (event.query, event.mode, event.results, event.best_similarity, event.urgent, event.generation) == \
        ("Chest pain", "dense", 12, 0.44, ("heart attack", "stroke"), "gen-9")
    assert search_event(result, [], no_good_match=True).best_similarity is None


@pytest.mark.slow
def test_the_shipped_server_logs_from_every_worker_and_keeps_the_rows_on_a_graceful_stop(writable_index):
    """Its workers are forked after the app (and its log) is built: each must
    start a writer of its own, and a SIGTERM must not lose what is queued."""
    import urllib.parse
    import urllib.request

    from tests.servers import server_process
    questions = [f"leaky heart valve question {i}" for i in range(12)]
    with server_process(writable_index, HEARTSEARCH_SEARCH_LOG="1", HEARTSEARCH_WORKERS="2",
                        HEARTSEARCH_RATE_LIMIT="0", HEARTSEARCH_PAGE_RATE_LIMIT="0") as (base, proc):
        for q in questions:
            url = base + "/api/v1/search?" + urllib.parse.urlencode({"q": q, "k": 3})
            with urllib.request.urlopen(url, timeout=30) as response:
                assert response.status == 200
    # the server has stopped (SIGTERM, granian's graceful shutdown)
    assert proc.returncode == 0
    assert sorted(r.query for r in read_searches(writable_index / SEARCH_LOG)) == sorted(questions)
