"""The editors' page over the real app (search_app/editors/views.py): who
gets a 404 and who gets the page, the sign-in form and its cookies, the
cross-site defence, the sign-in limit, the headers, that the token never
shows up in a log line, a response or an address, and what the page shows
(from a hand-made report, and from a real log through the real report)."""
from __future__ import annotations

import itertools
import logging
import re
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from markupsafe import escape

from indexer.insights import SEARCH_LOG
from indexer.insights.log import HOUR_FORMAT, connect
from search_app.editors import auth, views
from search_app.editors.views import ReportCache
from tests.search_app.editors.reports import HOSTILE, sample_report

TOKEN = "tok-EDITOR-0123456789-abcdefghij"
OTHER_TOKEN = "another-token-9876543210-zyxwvu"
PATHS = ["/editors", "/editors/", "/editors/insights", "/editors/insights?since=7d", "/editors/sign-in",
         "/editors/sign-out", "/editors/nothing-here"]
METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"]
_addresses = itertools.count(1)


@pytest.fixture(scope="module")
def editor_app(seed_index_dir, embedder):
    from search_app import create_app
    from search_app.config import Config
    return create_app(Config(index_dir=seed_index_dir, editor_token=TOKEN), embedder=embedder)


@pytest.fixture
def report(editor_app, monkeypatch):
    """The page's report, settable per test (and a fresh report cache)."""
    holder = {"report": sample_report()}
    monkeypatch.setattr(views, "compute_report", lambda index_dir, since, k: holder["report"])
    editor_app.extensions["editor_reports"] = ReportCache()
    return holder


@pytest.fixture
def editor(editor_app, report):
    """A client from an address of its own, so the sign-in limit of one test
    never spends another's."""
    return client_from(editor_app, f"10.0.0.{next(_addresses)}")


def client_from(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def form_token_of(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def sign_in(client, token: str = TOKEN, **headers):
    page = client.get("/editors/sign-in")
    assert page.status_code == 200
    return client.post("/editors/sign-in", data={"token": token, "form_token": form_token_of(page.text)},
                       headers=headers)


def set_cookie_headers(response, name: str) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]


# ---------------------------------------------------------------- the 404 rule

@pytest.mark.parametrize("method", METHODS)
def test_with_the_token_unset_every_editors_address_is_the_sites_plain_404(client, method):
    missing = client.open("/no-such-page", method="GET")
    for path in PATHS:
        for headers in ({}, {"Authorization": f"Bearer {TOKEN}"}):
            response = client.open(path, method=method, headers=headers, data={"token": TOKEN})
            assert response.status_code == 404, (method, path)
            if method == "GET":
                assert response.data == missing.data, path
            assert not response.headers.getlist("Set-Cookie"), path


@pytest.mark.parametrize("method", METHODS)
def test_with_the_token_set_nothing_but_the_sign_in_form_answers_without_credentials(editor, method):
    for path in PATHS:
        response = editor.open(path, method=method)
        if path == "/editors/sign-in" and method in ("GET", "HEAD"):
            assert response.status_code == 200
        elif path == "/editors/sign-in" and method == "POST":
            assert response.status_code == 400       # no form token: the cross-site defence answers first
        elif path == "/editors/sign-out" and method == "POST":
            assert response.status_code == 400
        else:
            assert response.status_code == 404, (method, path)


def test_a_wrong_bearer_token_is_a_404_and_the_right_one_gets_the_page(editor):
    for wrong in (OTHER_TOKEN, TOKEN[:-1], TOKEN + "x", TOKEN.lower(), ""):
        assert editor.get("/editors/insights", headers={"Authorization": f"Bearer {wrong}"}).status_code == 404
    assert editor.get("/editors/insights", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 404
    for scheme in ("Bearer", "bearer"):
        page = editor.get("/editors/insights", headers={"Authorization": f"{scheme} {TOKEN}"})
        assert page.status_code == 200 and "<h1 class=\"page-title\">Search insights</h1>" in page.text
        assert "Sign out" not in page.text        # a script has no session to end


def test_a_token_in_the_address_is_never_accepted(editor):
    assert editor.get(f"/editors/insights?token={TOKEN}").status_code == 404
    page = editor.get("/editors/sign-in")
    posted = editor.post(f"/editors/sign-in?token={TOKEN}", data={"form_token": form_token_of(page.text)})
    assert posted.status_code == 404 and not set_cookie_headers(posted, auth.SESSION_COOKIE)


# ---------------------------------------------------------------- sign-in and its cookie

def test_signing_in_sets_a_strict_httponly_cookie_that_is_not_the_token_and_opens_the_page(editor_app, editor):
    response = sign_in(editor)
    assert response.status_code == 303 and response.headers["Location"] == "/editors/insights"
    [cookie] = set_cookie_headers(response, auth.SESSION_COOKIE)
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags and "samesite=strict" in flags and "path=/editors" in flags
    assert f"max-age={auth.SESSION_SECONDS}" in flags and "secure" not in flags   # plain http: no Secure
    value = cookie.split(";")[0].split("=", 1)[1]
    assert TOKEN not in value and auth.valid_session(value, TOKEN)
    # The cookie alone (a fresh client, no Authorization) opens the page, and it offers to sign out.
    fresh = editor_app.test_client()
    fresh.set_cookie(auth.SESSION_COOKIE, value, path="/editors")
    page = fresh.get("/editors/insights")
    assert page.status_code == 200 and "Sign out" in page.text


def test_over_https_the_cookies_are_secure(editor_app, report):
    client = client_from(editor_app, "10.1.0.1")
    page = client.get("/editors/sign-in", base_url="https://localhost")
    [form_cookie] = set_cookie_headers(page, auth.FORM_COOKIE)
    assert "Secure" in form_cookie
    response = client.post("/editors/sign-in", base_url="https://localhost",
                           data={"token": TOKEN, "form_token": form_token_of(page.text)})
    [cookie] = set_cookie_headers(response, auth.SESSION_COOKIE)
    assert response.status_code == 303 and "Secure" in cookie


def test_a_wrong_token_gets_the_form_again_as_a_404_and_no_cookie(editor):
    for wrong in (OTHER_TOKEN, "", TOKEN[:-1]):
        response = sign_in(editor, wrong)
        assert response.status_code == 404
        assert "Sign-in failed. Check the token and try again." in response.text
        assert not set_cookie_headers(response, auth.SESSION_COOKIE)
        assert 'name="token"' in response.text
    assert editor.get("/editors/insights").status_code == 404


def test_a_cookie_made_from_another_token_or_expired_or_forged_is_a_404(editor_app, report):
    for value in (auth.session_value(OTHER_TOKEN), auth.session_value(TOKEN, now=0), TOKEN,
                  "v1.99999999999.0" + "0" * 63):
        client = editor_app.test_client()
        client.set_cookie(auth.SESSION_COOKIE, value, path="/editors")
        assert client.get("/editors/insights").status_code == 404


def test_a_good_cookie_stops_working_when_the_token_changes(editor_app, report):
    client = editor_app.test_client()
    client.set_cookie(auth.SESSION_COOKIE, auth.session_value(TOKEN), path="/editors")
    assert client.get("/editors/insights").status_code == 200
    config = editor_app.config["HEARTSEARCH"]
    config.editor_token = OTHER_TOKEN
    try:
        assert client.get("/editors/insights").status_code == 404
    finally:
        config.editor_token = TOKEN


# ---------------------------------------------------------------- cross-site posts

def test_a_post_without_the_forms_token_or_from_another_site_signs_no_one_in(editor):
    page = editor.get("/editors/sign-in")
    form_token = form_token_of(page.text)
    [form_cookie] = set_cookie_headers(page, auth.FORM_COOKIE)
    assert "HttpOnly" in form_cookie and "SameSite=Strict" in form_cookie and form_token in form_cookie
    refusals = [
        ({"token": TOKEN}, {}),                                              # no form token (another site's form)
        ({"token": TOKEN, "form_token": auth.new_form_token()}, {}),         # a made-up one
        ({"token": TOKEN, "form_token": form_token}, {"Sec-Fetch-Site": "cross-site"}),
        ({"token": TOKEN, "form_token": form_token}, {"Sec-Fetch-Site": "same-site"}),
    ]
    for data, headers in refusals:
        response = editor.post("/editors/sign-in", data=data, headers=headers)
        assert response.status_code == 400, (data, headers)
        assert not set_cookie_headers(response, auth.SESSION_COOKIE)
    # The site's own form, as a browser posts it (same-origin; Origin: null under no-referrer) works.
    ok = editor.post("/editors/sign-in", data={"token": TOKEN, "form_token": form_token},
                     headers={"Sec-Fetch-Site": "same-origin", "Origin": "null"})
    assert ok.status_code == 303


def test_sign_out_forgets_the_session_and_needs_the_forms_token_too(editor):
    assert sign_in(editor).status_code == 303
    page = editor.get("/editors/insights")
    assert page.status_code == 200
    assert editor.post("/editors/sign-out", data={}).status_code == 400
    assert editor.get("/editors/insights").status_code == 200               # still signed in
    out = editor.post("/editors/sign-out", data={"form_token": form_token_of(page.text)})
    assert out.status_code == 303 and out.headers["Location"] == "/editors/sign-in"
    [cleared] = set_cookie_headers(out, auth.SESSION_COOKIE)
    assert "Max-Age=0" in cleared and "Path=/editors" in cleared
    assert editor.get("/editors/insights").status_code == 404


def test_sign_in_attempts_are_limited_per_address(editor):
    answers = [sign_in(editor, OTHER_TOKEN).status_code for _ in range(views.SIGN_IN_BURST + 1)]
    assert answers == [404] * views.SIGN_IN_BURST + [429]
    limited = sign_in(editor, TOKEN)               # even the right token waits: a guesser cannot tell
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert not set_cookie_headers(limited, auth.SESSION_COOKIE)


# ---------------------------------------------------------------- headers, logs, addresses

def test_every_editors_response_is_no_store_and_noindex_and_robots_keeps_crawlers_out(editor, client):
    responses = [editor.get("/editors/insights"), editor.get("/editors/sign-in"), sign_in(editor),
                 editor.get("/editors/insights"), editor.get("/editors/nothing-here")]
    assert [r.status_code for r in responses] == [404, 200, 303, 200, 404]
    for response in responses:
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Robots-Tag"] == "noindex"
        assert "Content-Security-Policy" in response.headers
    assert "Disallow: /editors/" in client.get("/robots.txt").text.splitlines()


def test_the_token_is_never_logged_nor_sent_back_nor_in_an_address(editor_app, editor, caplog):
    caplog.set_level(logging.DEBUG)                       # every logger, the access log included
    seen = []
    seen.append(editor.get("/editors/insights", headers={"Authorization": f"Bearer {TOKEN}"}))
    seen.append(editor.get("/editors/insights", headers={"Authorization": f"Bearer {TOKEN}x"}))
    seen.append(sign_in(editor, TOKEN + "-wrong"))
    seen.append(sign_in(editor))
    seen.append(editor.get("/editors/insights"))          # by the cookie
    seen.append(editor.get("/editors/insights?since=nonsense"))
    page = editor.get("/editors/insights")
    seen.append(editor.post("/editors/sign-out", data={"form_token": form_token_of(page.text)}))
    assert [r.status_code for r in seen] == [200, 404, 404, 303, 200, 400, 303]
    access = [r for r in caplog.records if r.name == "heartsearch.access"]
    assert len(access) >= len(seen) + 2                   # the log did run (the sign-in pages' GETs too)
    assert TOKEN not in caplog.text
    for response in seen:
        assert TOKEN not in response.get_data(as_text=True)
        assert all(TOKEN not in value for _, value in response.headers.items())
        assert TOKEN not in response.headers.get("Location", "")


# ---------------------------------------------------------------- what the page shows

def bearer(client, path="/editors/insights"):
    return client.get(path, headers={"Authorization": f"Bearer {TOKEN}"})


def test_the_page_shows_the_chart_questions_groups_and_urgent_counts(editor, report):
    html = bearer(editor).text
    chart = html.split('<figure class="chart">')[1].split("</figure>")[0]
    assert chart.count('class="day"') == 7 and 'role="img"' in chart and "<title>" in chart
    assert "leaky heart valve" in html and "31×" in html
    assert "23 searches</span>" in html and "fainting during pregnancy" in html and "similarity 0.22" in html
    assert 'href="/questions/mr-answer-2"' in html
    assert "sourdough bread" in html and "Best match:\n              none" in html
    urgent = html.split('id="urgent"')[1]
    assert "<th scope=\"row\">a heart attack</th><td>17</td>" in urgent
    total = report["report"].total
    assert f"<strong>{total}</strong> searches" in html


def test_every_text_from_the_log_is_escaped_and_the_page_has_no_script_or_inline_style(editor, report):
    report["report"] = sample_report(hostile=True)
    html = bearer(editor).text
    assert "<script" not in html.lower() and " style=" not in html and "<style" not in html
    assert html.count(str(escape(HOSTILE))) == 3      # a top question, a group's wording, a trigger


@pytest.mark.parametrize("since,status", [("7d", 200), ("24h", 200), ("2w", 200), ("all", 200), ("30D", 200),
                                          ("bogus", 400), ("0d", 400), ("-7d", 400), ("99999d", 400),
                                          ("7d;drop", 400), ("", 200)])
def test_the_period_is_checked(editor, since, status):
    response = bearer(editor, f"/editors/insights?since={since}")
    assert response.status_code == status
    if status == 400:
        assert "Choose one of the periods offered" in response.text


def test_a_guessable_token_stops_the_app_at_start(seed_index_dir, embedder):
    from search_app import create_app
    from search_app.config import Config
    with pytest.raises(ValueError, match="HEARTSEARCH_EDITOR_TOKEN must be at least 16"):
        create_app(Config(index_dir=seed_index_dir, editor_token="letmein"), embedder=embedder)


def test_the_server_command_refuses_a_guessable_token_with_a_message_not_a_traceback(seed_index_dir):
    """As every mistyped setting: "error: ..." and exit 2, the value never repeated."""
    import os
    import subprocess
    import sys
    from indexer.settings import PROJECT_ROOT
    from tests.servers import free_port
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(PROJECT_ROOT), HEARTSEARCH_EDITOR_TOKEN="short 123")
    proc = subprocess.run([sys.executable, "-m", "search_app", "--index-dir", str(seed_index_dir),
                           "--port", str(free_port())], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "error: cannot start: HEARTSEARCH_EDITOR_TOKEN must be at least 16" in proc.stderr
    assert "Traceback" not in proc.stderr and "short 123" not in proc.stderr + proc.stdout


# ---------------------------------------------------------------- a real log, the real report

def write_log(index_dir, rows) -> None:
    """Rows as the log keeps them (already normalised), at past hours."""
    db = connect(index_dir / SEARCH_LOG)
    db.executemany("INSERT INTO searches(hour, query, mode, results, best_similarity, no_good_match, urgent, "
                   "generation) VALUES (?, ?, 'hybrid', ?, ?, ?, ?, 'gen')", rows)
    db.close()


def synthetic_rows(now: datetime) -> list[tuple]:
    rows = []
    for day in range(6):
        hour = (now - timedelta(days=day, hours=1)).strftime(HOUR_FORMAT)
        rows += [(hour, "leaky heart valve", 10, 0.61, 0, "")] * (3 + day)
        rows += [(hour, "fainting during pregnancy", 3, 0.21, 1, "")] * 2
        rows += [(hour, "fainting while pregnant", 3, 0.2, 1, "")]
        rows += [(hour, "crushing chest pain right now", 10, 0.5, 0, "a heart attack")]
    rows += [((now - timedelta(hours=2)).strftime(HOUR_FORMAT), "my private one-off question", 1, 0.1, 1, "")]
    return rows


def test_the_page_over_a_real_log_and_the_real_report(writable_index, embedder):
    from search_app import create_app
    from search_app.config import Config
    write_log(writable_index, synthetic_rows(datetime.now(timezone.utc)))
    app = create_app(Config(index_dir=writable_index, editor_token=TOKEN), embedder=embedder)
    html = bearer(app.test_client(), "/editors/insights?since=7d").text
    chart = html.split('<figure class="chart">')[1].split("</figure>")[0]
    assert chart.count('class="day"') in (7, 8)          # the period's days (its first may be a partial day)
    assert "leaky heart valve" in html and "fainting during pregnancy" in html
    assert "my private one-off question" not in html     # asked once: never shown as text
    assert "<th scope=\"row\">a heart attack</th><td>6</td>" in html
    with sqlite3.connect(writable_index / SEARCH_LOG) as db:
        assert db.execute("SELECT count(*) FROM searches").fetchone()[0] == len(synthetic_rows(datetime.now()))
