"""Hostile requests against the app (Flask's test client, the session's seed
index): each has an expected clear outcome (a 4xx with the JSON error shape
on /api, a page with escaped content on /), never a 500 or a stack trace, and
nothing in the index changes."""
from __future__ import annotations

import json
import re

import pytest

from indexer.index import IndexStore
from tests.reliability.htmlcheck import active_markup

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE")

# (what, query string as bytes or str): through /api/v1/search and /
QUERY_CATALOGUE = [
    ("control characters", {"q": "leaky\x01\x02\x1b[31m valve\x7f"}),
    ("NUL byte", {"q": "leaky\x00valve"}),
    ("only NUL and controls", {"q": "\x00\x01\x02"}),
    ("invalid UTF-8 (percent-encoded)", b"q=%ff%fe%fd+valve"),
    ("invalid UTF-8 (raw bytes)", b"q=\xff\xfe\xc3(valve"),
    ("overlong UTF-8 encoding of '/'", b"q=%c0%af%c0%afetc"),
    ("lone surrogate escape", b"q=%ed%a0%80valve"),
    ("1 MB query", {"q": "a" * 1_000_000}),
    ("1 MB k", {"q": "valve", "k": "9" * 1_000_000}),
    ("1 MB unknown parameter", {"q": "valve", "zzz": "x" * 1_000_000}),
    ("negative k", {"q": "valve", "k": "-1"}),
    ("k as float", {"q": "valve", "k": "1e3"}),
    ("huge offset", {"q": "valve", "offset": "99999999999999999999999"}),
    ("odd mode", {"q": "valve", "mode": "../../etc/passwd"}),
    ("odd group", {"q": "valve", "group": "<script>"}),
    ("odd page", {"q": "valve", "page": "-99999999999999999999"}),
    ("repeated q", b"q=valve&q=heart&q=%00"),
    ("script tag query", {"q": "<script>alert(1)</script> leaky valve"}),
    ("attribute breakout query", {"q": '"><img src=x onerror=alert(1)> valve'}),
    ("right-to-left override", {"q": "\u202eevlav ykael"}),
    ("zero-width and BOM", {"q": "\ufeff\u200bleaky\u200d valve"}),
    ("emoji", {"q": "\U0001f494 heart \U0001f494"}),
    ("whitespace only", {"q": " \t\n\r "}),
    ("no q at all", b""),
]

# FTS5 and SQL syntax: each must give ordinary results, not an error.
FTS_INJECTION = [
    '"', '""', '"leaky valve', '*', 'valve*', 'NEAR(', 'NEAR(valve heart, 2)', 'OR', 'AND', 'NOT',
    'valve OR', 'OR valve', 'valve AND NOT heart', '(valve', 'valve)', '^valve', 'body:valve',
    'synonyms:mitral', '{body synonyms}: valve', '- valve', '+valve', "valve' OR '1'='1",
    '\'; DROP TABLE articles; --', '" OR 1=1 --', 'valve"); DELETE FROM passages; --',
    'rowid:1', 'passages_fts MATCH *', "%' OR '%'='", '\\', '\\"', 'leaky valve UNION SELECT * FROM articles',
]

# (what, method, path, body, headers)
ODD_PATHS = [
    "/api/v1/passages/../../../../etc/passwd", "/api/v1/passages/..%2F..%2F..%2Fetc%2Fpasswd",
    "/api/v1/passages/-1", "/api/v1/passages/0", "/api/v1/passages/99999999999999999999999999",
    "/api/v1/passages/1e9", "/api/v1/passages/%00", "/api/v1/passages/%ff", "/api/v1/passages/<script>",
    "/api/v1/articles/../../etc/passwd", "/api/v1/articles/..%2F..%2Fetc%2Fpasswd",
    "/api/v1/articles/%00", "/api/v1/articles/%ff%fe", "/api/v1/articles/" + "a" * 10_000,
    "/api/v1/articles/mr-answer-2", "/api/v1/articles/mr-answer-2%27%20OR%20%271%27=%271",
    "/api/v1/articles/<script>alert(1)<%2Fscript>", "/api/v1/articles/CON", "/api/v1/articles/.",
    "/passages/../../etc/passwd", "/passages/-1", "/articles/../../etc/passwd", "/articles/%00",
    "/static/../../../../etc/passwd", "/static/..%2F..%2F..%2Fetc%2Fpasswd", "/static/%2e%2e/%2e%2e/etc/passwd",
    "/..%2F..%2Fetc%2Fpasswd", "/api/v1/..%2F..%2Fetc%2Fpasswd", "/api/v2/search?q=valve",
    "/api/v1/search/../../search?q=valve", "//etc/passwd", "/api/v1/search%00?q=valve",
]


def qs(query):
    """Raw bytes go into the WSGI query string as they are (latin-1 str)."""
    return query.decode("latin-1") if isinstance(query, bytes) else query


def problems_with(response, path: str) -> list[str]:
    """What is wrong with one response, if anything."""
    found = []
    body = response.get_data()
    if response.status_code >= 500:
        found.append(f"status {response.status_code}")
    if b"Traceback" in body or b'File "/' in body or b"werkzeug.debug" in body:
        found.append("stack trace in body")
    if b"root:x:0:0" in body:
        found.append("served a file from outside the app")
    for header in SECURITY_HEADERS:
        if header not in response.headers:
            found.append(f"no {header} header")
    if path.startswith("/api/") and response.status_code >= 400 and body:
        try:
            error = json.loads(body)["error"]
            assert {"code", "message", "field"} <= set(error)
        except Exception:
            found.append(f"{response.status_code} without the JSON error shape: {body[:120]!r}")
    return found


@pytest.fixture(scope="module")
def indexed_before(seed_index_dir):
    return IndexStore(seed_index_dir).open_current().article_hashes()


def lost_articles(seed_index_dir, before: dict) -> int:
    after = IndexStore(seed_index_dir).open_current().article_hashes()
    return sum(1 for article_id, digest in before.items() if after.get(article_id) != digest)


def test_hostile_query_catalogue(client, seed_index_dir, indexed_before, scorecard):
    failures = []
    count = 0
    for what, query in QUERY_CATALOGUE:
        for path in ("/api/v1/search", "/"):
            response = client.get(path, query_string=qs(query))
            count += 1
            problems = problems_with(response, path)
            if response.status_code not in (200, 400, 413, 414, 431):
                problems.append(f"unexpected status {response.status_code}")
            html = response.get_data(as_text=True)
            if path == "/" and active_markup(html):
                problems.append(f"active markup from the query in the page: {active_markup(html)}")
            if problems:
                failures.append(f"{what} {path}: {problems}")
    lost = lost_articles(seed_index_dir, indexed_before)
    scorecard.add("hostile queries", "control chars, NUL, bad UTF-8, 1 MB params, markup via /api/v1/search and /",
                  count, len(failures), lost)
    assert failures == [] and lost == 0, failures


def test_expected_outcomes_of_hostile_queries(client):
    """The outcomes are clear, not just 'not a 500'."""
    def error(query):
        response = client.get("/api/v1/search", query_string=qs(query))
        return response.status_code, response.get_json()["error"]["code"] if response.status_code >= 400 else None
    assert error({"q": "a" * 1_000_000}) == (400, "query_too_long")
    assert error({"q": "\x00\x01\x02"}) == (400, "empty_query")
    assert error({"q": "valve", "k": "9" * 1_000_000})[0] == 400
    assert error({"q": "valve", "mode": "../../etc/passwd"}) == (400, "invalid_mode")
    assert error({"q": "leaky\x00valve"})[0] == 200
    assert error(b"q=%ff%fe%fd+valve") == (400, "invalid_encoding")  # issue 13, item 10: was searched as U+FFFD
    page = client.get("/", query_string={"q": "a" * 1_000_000})
    assert page.status_code == 400 and "longer than" in page.get_data(as_text=True)


def test_fts_and_sql_injection_strings_give_ordinary_results(client, seed_index_dir, indexed_before, scorecard):
    failures = []
    for text in FTS_INJECTION:
        for mode in ("hybrid", "lexical"):
            response = client.get("/api/v1/search", query_string={"q": text, "mode": mode})
            problems = problems_with(response, "/api/v1/search")
            if response.status_code != 200:
                problems.append(f"status {response.status_code}: {response.get_data()[:120]!r}")
            elif mode == "hybrid" and not response.get_json()["results"]:
                problems.append("no results")
            if problems:
                failures.append(f"{text!r} ({mode}): {problems}")
        page = client.get("/", query_string={"q": text})
        if page.status_code != 200 or problems_with(page, "/"):
            failures.append(f"{text!r} on /: {page.status_code} {problems_with(page, '/')}")
    lost = lost_articles(seed_index_dir, indexed_before)
    scorecard.add("FTS/SQL injection", '", *, NEAR(, OR, DROP TABLE, UNION ... (hybrid + lexical + page)',
                  3 * len(FTS_INJECTION), len(failures), lost)
    assert failures == [] and lost == 0, failures


def test_odd_paths_and_ids(client, seed_index_dir, indexed_before, scorecard):
    failures = []
    for path in ODD_PATHS:
        response = client.get(path)
        problems = problems_with(response, path)
        if response.status_code not in (200, 301, 308, 400, 404, 405):
            problems.append(f"unexpected status {response.status_code}")
        if problems:
            failures.append(f"{path[:80]}: {problems}")
    lost = lost_articles(seed_index_dir, indexed_before)
    scorecard.add("odd paths and ids", "path traversal, NUL, huge and odd ids in /passages/<id>, /articles/<id>, "
                  "/static", len(ODD_PATHS), len(failures), lost)
    assert failures == [] and lost == 0, failures


def _sample_path(rule) -> str:
    values = {arg: ("1" if arg in ("id", "passage_id") else "mr-answer-2") for arg in rule.arguments}
    if rule.endpoint == "static":
        values["filename"] = "style.css"
    path = rule.rule
    for arg, value in values.items():
        path = re.sub(r"<(?:[^:<>]+:)?" + re.escape(arg) + r">", value, path)
    return path


def test_every_method_on_every_route(app, client, seed_index_dir, indexed_before, scorecard):
    generation_before = IndexStore(seed_index_dir).current_name()
    failures, count = [], 0
    for rule in app.url_map.iter_rules():
        path = _sample_path(rule)
        for method in METHODS:
            response = client.open(path, method=method, query_string={"q": "valve"},
                                   data=b'{"q": "valve"}', content_type="application/json")
            count += 1
            problems = problems_with(response, path)
            if method in ("PUT", "DELETE", "PATCH", "TRACE") and response.status_code < 400:
                problems.append(f"{method} accepted ({response.status_code})")
            if problems:
                failures.append(f"{method} {path}: {problems}")
    lost = lost_articles(seed_index_dir, indexed_before)
    changed = IndexStore(seed_index_dir).current_name() != generation_before
    scorecard.add("every method x route", f"{len(METHODS)} methods on {len(list(app.url_map.iter_rules()))} routes",
                  count, len(failures) + changed, lost)
    assert failures == [] and lost == 0 and not changed, failures


# POST routes that change nothing but a cookie: the editors' sign-in and sign-out (search_app/editors/).
SESSION_POSTS = {"/editors/sign-in", "/editors/sign-out"}


def test_no_write_endpoint(app):
    """Nothing accepts PUT/DELETE/PATCH, and POST only reads (search) or
    signs an editor in or out (a cookie, nothing stored)."""
    for rule in app.url_map.iter_rules():
        methods = set(rule.methods or ())
        assert not methods & {"PUT", "DELETE", "PATCH"}, rule
        if "POST" in methods:
            assert rule.rule.endswith("/search") or rule.rule in SESSION_POSTS, f"{rule.rule} accepts POST"


def test_big_and_nested_bodies(client, seed_index_dir, indexed_before, scorecard):
    """10 MB and deeply nested JSON bodies: refused with a clear 4xx (413 for
    the size; 400 for what does not parse; 405 where no body is taken)."""
    bodies = [
        ("10 MB JSON", json.dumps({"q": "valve", "pad": "x" * 10_000_000}).encode()),
        ("10 MB garbage", b"\xff" * 10_000_000),
        ("nested 100000 deep (array)", b"[" * 100_000 + b"]" * 100_000),
        ("nested 50000 deep (object)", b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
        ("nested within the size limit", b"[" * 30_000 + b"]" * 30_000),
        ("not JSON", b"q=valve"),
        ("JSON null", b"null"),
        ("JSON list", b'["valve"]'),
        ("q as object", b'{"q": {"$ne": null}}'),
        ("q as number", b'{"q": 12345, "k": "x"}'),
        ("NUL in JSON", b'{"q": "valve\\u0000heart"}'),
        ("invalid UTF-8 in JSON", b'{"q": "\xff\xfe valve"}'),
    ]
    failures, count = [], 0
    for path in ("/api/v1/search", "/"):
        for what, body in bodies:
            response = client.post(path, data=body, content_type="application/json")
            count += 1
            problems = problems_with(response, path)
            if response.status_code not in (200, 400, 405, 413, 415):
                problems.append(f"unexpected status {response.status_code}")
            if len(body) > 1_000_000 and response.status_code not in (405, 413):
                problems.append(f"{len(body)} bytes not refused ({response.status_code})")
            if problems:
                failures.append(f"{what} {path}: {problems}")
    lost = lost_articles(seed_index_dir, indexed_before)
    scorecard.add("big and nested bodies", "10 MB JSON, 100k-deep nesting, wrong types (POST)", count,
                  len(failures), lost)
    assert failures == [] and lost == 0, failures


def test_security_defaults(app, client):
    assert app.debug is False
    assert app.config["MAX_CONTENT_LENGTH"] and app.config["MAX_CONTENT_LENGTH"] <= 1024 * 1024
    response = client.get("/api/v1/search?q=valve")
    for header in SECURITY_HEADERS:
        assert header in response.headers, header
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    from search_app.config import Config
    import os
    saved = os.environ.pop("HEARTSEARCH_RATE_LIMIT", None)
    try:
        assert Config.from_env().rate_limit > 0, "rate limiting is off by default in production"
    finally:
        if saved is not None:
            os.environ["HEARTSEARCH_RATE_LIMIT"] = saved
