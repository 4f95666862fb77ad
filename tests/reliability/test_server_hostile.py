"""One hostile client against the production server (`python -m search_app`)
on loopback (issue 13, items 6-10, and readiness on an empty index): slow
and idle connections, request smuggling, huge bodies, the readers' page
hammered, odd encodings and numbers, server-layer errors and OPTIONS.

Each scenario is bounded (at most the header timeout plus a few seconds)
and adds a row to the scorecard. The slow clients connect from 127.0.0.2 /
127.0.0.3 (all of 127/8 is loopback on Linux), so "another reader" and
"the same address" can both be checked."""
from __future__ import annotations

import json
import re
import select
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.raw_http import closed_by_server, connect, read_for
from tests.servers import server_process

HEADER_TIMEOUT = 5.0   # the shipped HEARTSEARCH_HEADER_TIMEOUT
SEARCH = "/api/v1/search?" + urllib.parse.urlencode({"q": "leaky heart valve", "k": 10})
LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def server(seed_index_dir):
    """As shipped, rate limits off (their own tests below turn them on)."""
    with server_process(seed_index_dir, HEARTSEARCH_RATE_LIMIT="0", HEARTSEARCH_PAGE_RATE_LIMIT="0",
                        HEARTSEARCH_CORS_ORIGINS="https://clinic.example") as (base, _):
        yield base


def port_of(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def fetch(url: str, method: str = "GET", timeout: float = 5.0, headers: dict | None = None):
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def raw_exchange(port: int, data: bytes, seconds: float = 3.0) -> tuple[list[int], bytes, bool]:
    """Send `data`, read for up to `seconds`: every status line seen, the
    bytes, and whether the server closed the connection."""
    sock = connect(port)
    sock.sendall(data)
    try:
        return read_for(sock, seconds)
    finally:
        sock.close()


class Probe(threading.Thread):
    """A normal reader: a search on a new connection every 0.5 s, answered within 1 s."""

    def __init__(self, base: str, source: str = "127.0.0.1"):
        super().__init__(daemon=True)
        self.url = base.replace("127.0.0.1", "127.0.0.1") + SEARCH
        self.port, self.source = port_of(base), source
        self.stop, self.latencies, self.failures = threading.Event(), [], []

    def one(self) -> None:
        started = time.monotonic()
        try:
            sock = connect(self.port, self.source, timeout=1.0)
            sock.sendall(f"GET {SEARCH} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while time.monotonic() - started < 1.0:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
            sock.close()
            if not data.startswith(b"HTTP/1.1 200") or time.monotonic() - started > 1.0:
                raise TimeoutError(f"{data[:40]!r} after {time.monotonic() - started:.2f} s")
            self.latencies.append(time.monotonic() - started)
        except OSError as err:
            self.failures.append(f"{self.source}: {type(err).__name__} {err}")

    def run(self):
        while not self.stop.is_set():
            started = time.monotonic()
            self.one()
            self.stop.wait(max(0.0, 0.5 - (time.monotonic() - started)))

    def finish(self) -> str:
        self.stop.set()
        self.join(5)
        worst = max(self.latencies) * 1000 if self.latencies else float("nan")
        return f"{len(self.latencies)}/{len(self.latencies) + len(self.failures)} searches within 1 s " \
               f"(max {worst:.0f} ms)"


# --------------------------------------------------------------------------- item 6: slow and idle clients

def test_slow_header_clients_do_not_lock_readers_out(server, scorecard):
    """150 connections sending one header byte a second (waitress's default
    limit was 100, and every byte reset its 120 s timeout): a search from
    another address and one from the slow clients' own address are answered
    within a second throughout, and the slow connections are closed once
    the header deadline passes."""
    port = port_of(server)
    line = f"GET {SEARCH} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".encode() + b"x" * 1000
    socks = [connect(port, "127.0.0.2") for _ in range(150)]
    others, same = Probe(server), Probe(server, "127.0.0.2")
    others.start()
    same.start()
    started, step = time.monotonic(), 0
    while time.monotonic() - started < HEADER_TIMEOUT + 3:
        for sock in socks:
            try:
                sock.send(line[step:step + 1])
            except OSError:
                pass
        step += 1
        time.sleep(1.0)
    closed = sum(closed_by_server(s) for s in socks)
    for s in socks:
        s.close()
    notes = f"{others.finish()}; same address {same.finish()}; {closed}/150 slow closed"
    failures = others.failures + same.failures
    scorecard.add("slow header clients", "150 connections, one header byte a second; searches meanwhile",
                  150 + len(others.latencies) + len(same.latencies) + len(failures), len(failures) + (150 - closed),
                  0, notes=notes)
    assert failures == [], failures[:5]
    assert closed == 150, f"only {closed} of 150 slow connections closed after {step} s"


def test_idle_keepalive_connections_do_not_lock_readers_out(server, scorecard):
    """500 keep-alive connections that made one request and then say
    nothing: searches are still answered within a second, and the idle
    connections are closed after the header timeout."""
    port = port_of(server)
    socks = []
    for _ in range(500):
        sock = connect(port, "127.0.0.3")
        sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        socks.append(sock)
    answered, deadline = 0, time.monotonic() + 10  # bounded: a server that never answers fails, not hangs
    for sock in socks:
        try:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            answered += sock.recv(65536).startswith(b"HTTP/1.1 200")
        except OSError:
            pass
    probe = Probe(server)
    probe.start()
    started = time.monotonic()
    time.sleep(HEADER_TIMEOUT)
    while time.monotonic() - started < 2 * HEADER_TIMEOUT + 2:
        still_open = sum(not closed_by_server(s) for s in socks)
        if not still_open:
            break
        time.sleep(0.5)
    waited = time.monotonic() - started
    for s in socks:
        s.close()
    notes = f"{probe.finish()}; {answered} answered, {still_open} still open after {waited:.1f} s"
    scorecard.add("idle keep-alive", "500 idle keep-alive connections; searches meanwhile",
                  500 + len(probe.latencies) + len(probe.failures), len(probe.failures) + still_open, 0, notes=notes)
    assert probe.failures == [], probe.failures[:5]
    assert answered == 500 and still_open == 0, notes


BODY_TIMEOUT = 2.0  # HEARTSEARCH_BODY_TIMEOUT for the stalled-body test (the shipped default is 10 s)


def test_stalled_bodies_do_not_hold_threads(seed_index_dir, scorecard):
    """8 connections (twice the 4 threads) that send a POST's headers and
    then too little of its body: Content-Length 100 and one byte, a chunked
    body cut off in its first chunk, and `Expect: 100-continue` with no body
    at all. Searches from another address are answered within a second
    throughout; each stalled one gets a 408 within the body timeout (a
    little more) and its connection is closed; then SIGTERM with a fresh
    stalled body still exits 0 well before the drain timeout."""
    head = b"POST /api/v1/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    kinds = {
        "Content-Length 100, 1 byte": head + b"Content-Length: 100\r\n\r\n{",
        "chunked, cut off": head + b"Transfer-Encoding: chunked\r\n\r\n40\r\n{",
        "Expect: 100-continue, no body": head + b"Content-Length: 30\r\nExpect: 100-continue\r\n\r\n",
    }
    plan = [name for name in kinds for _ in range(3)][:8]
    with server_process(seed_index_dir, HEARTSEARCH_RATE_LIMIT="0", HEARTSEARCH_THREADS="4",
                        HEARTSEARCH_BODY_TIMEOUT=str(BODY_TIMEOUT), HEARTSEARCH_DRAIN_SECONDS="20") as (base, proc):
        port = port_of(base)
        probe = Probe(base)
        socks = []
        for name in plan:
            sock = connect(port, "127.0.0.2", timeout=10)
            sock.sendall(kinds[name])
            socks.append((name, sock, time.monotonic()))
        probe.start()
        answers: dict[int, tuple[bytes, float]] = {}
        deadline = time.monotonic() + BODY_TIMEOUT + 5
        while len(answers) < len(socks) and time.monotonic() < deadline:
            for i, (name, sock, sent) in enumerate(socks):
                if i in answers or not select.select([sock], [], [], 0)[0]:
                    continue
                data = _read_answer(sock, 1.0)
                if data.startswith(b"HTTP/1.1 100"):  # the interim answer to Expect: keep waiting for the real one
                    data = data.split(b"\r\n\r\n", 1)[1] or _read_answer(sock, BODY_TIMEOUT + 2)
                answers[i] = (data, time.monotonic() - sent)
            time.sleep(0.05)
        # Keep searching a moment after the 408s, then the stalled connections must be closed.
        time.sleep(1.0)
        probe_notes = probe.finish()
        closed = sum(closed_by_server(sock) for _, sock, _ in socks)
        for _, sock, _ in socks:
            sock.close()
        bad = []
        for i, (name, _, _) in enumerate(socks):
            data, took = answers.get(i, (b"", float("inf")))
            if not data.startswith(b"HTTP/1.1 408") or b"request_timeout" not in data \
                    or b"connection: close" not in data.lower() or took > BODY_TIMEOUT + 1.5:
                bad.append(f"{name}: {data[:60]!r} after {took:.1f} s")
        if closed != len(socks):
            bad.append(f"only {closed} of {len(socks)} stalled connections closed after their 408")
        # SIGTERM while a body is stalled: the 408 ends it, the drain does not wait for the client.
        stalled = connect(port, "127.0.0.2", timeout=10)
        stalled.sendall(kinds["Content-Length 100, 1 byte"])
        assert fetch(base + "/api/v1/health")[0] == 200
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        last = _read_answer(stalled, BODY_TIMEOUT + 3)
        stalled.close()
        try:
            exit_code = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            exit_code = None
        exited_after = time.monotonic() - signalled
    if not last.startswith(b"HTTP/1.1 408"):
        bad.append(f"stalled during SIGTERM: {last[:60]!r}")
    if exit_code != 0 or exited_after > BODY_TIMEOUT + 5:
        bad.append(f"SIGTERM with a stalled body: exit {exit_code} after {exited_after:.1f} s")
    worst = max((t for _, t in answers.values()), default=float("nan"))
    notes = f"{probe_notes}; {sum(d.startswith(b'HTTP/1.1 408') for d, _ in answers.values())}/{len(socks)} " \
            f"stalled got 408 (slowest {worst:.1f} s, timeout {BODY_TIMEOUT:g} s); SIGTERM exit {exit_code} " \
            f"after {exited_after:.1f} s; {closed}/{len(socks)} closed"
    scorecard.add("stalled request bodies", f"{len(socks)} POSTs with stalled bodies (CL, chunked, Expect) on 4 "
                  f"threads; searches meanwhile; then SIGTERM", len(socks) + 1 + len(probe.latencies) +
                  len(probe.failures), len(probe.failures) + len(bad), 0, notes=notes)
    assert probe.failures == [], probe.failures[:5]
    assert bad == [], bad


# --------------------------------------------------------------------------- item 7: smuggling

HIDDEN = b"GET /api/v1/health?smuggled=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def test_request_smuggling_is_refused_and_the_connection_closed(server, scorecard):
    """TE + CL with a request hidden in the body, and `chunked, chunked`
    (also `gzip, chunked`): one 400, the connection closed, the hidden
    request never answered (RFC 9112 6.1)."""
    port = port_of(server)
    body = b"0\r\n\r\n" + HIDDEN
    chunk = b'{"q": "valve"}'
    cases = {
        "TE + CL": (b"POST /api/v1/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n" % len(body)) + body,
        "CL + TE": (b"POST /api/v1/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    b"Transfer-Encoding: chunked\r\nContent-Length: %d\r\n\r\n" % len(body)) + body,
    }
    for encoding in (b"chunked, chunked", b"gzip, chunked", b"chunked, identity"):
        cases[encoding.decode()] = (
            b"POST /api/v1/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: %s\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (encoding, len(chunk), chunk)) + HIDDEN
    failures = []
    for name, data in cases.items():
        codes, out, closed = raw_exchange(port, data)
        if codes != [400] or not closed or b"smuggled" in out or b'"status":"ok"' in out:
            failures.append(f"{name}: statuses {codes}, closed {closed}")
    scorecard.add("request smuggling", "TE+CL, CL+TE, chunked twice, gzip+chunked with a hidden request",
                  len(cases), len(failures), 0, notes="400 and closed; hidden request never answered")
    assert failures == [], failures


# --------------------------------------------------------------------------- item 8: big bodies

def _read_answer(sock: socket.socket, seconds: float = 2.0) -> bytes:
    """What the server sent, until it closes or `seconds` pass."""
    data, deadline = b"", time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not select.select([sock], [], [], 0.1)[0]:
            continue
        try:
            chunk = sock.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def _send_until_answered(port: int, head: bytes, piece: bytes, total: int) -> tuple[int | str, int, float]:
    sock = connect(port, timeout=10)
    sock.sendall(head)
    sock.setblocking(False)
    sent, status, started = 0, "no answer", time.monotonic()
    while sent < total and time.monotonic() - started < 20:
        readable, writable, _ = select.select([sock], [sock], [], 1.0)
        if readable:
            data = _read_answer(sock)
            match = re.match(rb"HTTP/1\.[01] (\d{3})", data)
            status = int(match.group(1)) if match else "closed"
            if match and b"body_too_large" not in data:
                status = f"{status} without body_too_large"
            break
        if writable:
            try:
                sent += sock.send(piece)
            except BlockingIOError:
                continue
            except OSError:
                status = "reset before any answer"
                break
    sock.close()
    return status, sent, time.monotonic() - started


def test_big_bodies_are_refused_before_they_are_read(server, scorecard):
    """A POST announcing 300 MB, and a 1 GiB chunked POST, sent as fast as
    the server takes them: refused with the JSON 413 after little more than
    the socket buffers (a few MB), within seconds, not after buffering."""
    port = port_of(server)
    head = b"POST /api/v1/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    block = b"x" * 65536
    cases = {
        "300 MB Content-Length": (head + b"Content-Length: 300000000\r\n\r\n", block, 300_000_000),
        "1 GiB chunked": (head + b"Transfer-Encoding: chunked\r\n\r\n", b"10000\r\n" + block + b"\r\n", 2 ** 30),
    }
    failures, notes = [], []
    for name, (start, piece, total) in cases.items():
        status, sent, seconds = _send_until_answered(port, start, piece, total)
        notes.append(f"{name}: {status} after {sent / 1e6:.1f} MB, {seconds:.1f} s")
        if status != 413 or sent > 32_000_000 or seconds > 5:
            failures.append(notes[-1])
    scorecard.add("big bodies refused early", "300 MB (Content-Length) and 1 GiB chunked POST", len(cases),
                  len(failures), 0, notes="; ".join(notes))
    assert failures == [], failures


# --------------------------------------------------------------------------- item 9: the readers' page

def test_reader_page_searches_are_rate_limited(seed_index_dir, scorecard):
    """As shipped (both limits at their defaults): `/?q=` from one address
    gets a friendly HTML 429 with Retry-After once its own bucket is empty,
    the query shown escaped; the page without a query and the API (its own
    bucket) still answer."""
    from search_app import config as settings
    DEFAULT_PAGE_RATE_LIMIT = getattr(settings, "DEFAULT_PAGE_RATE_LIMIT", 60)  # 60 when run against older code
    query = '<script>alert("x")</script> valve'
    page = "/?" + urllib.parse.urlencode({"q": query})
    with server_process(seed_index_dir, drop_env=("HEARTSEARCH_RATE_LIMIT", "HEARTSEARCH_PAGE_RATE_LIMIT")) \
            as (base, _):
        sent, status = 0, 200
        while status == 200 and sent < 3 * DEFAULT_PAGE_RATE_LIMIT:
            status, headers, body = fetch(base + page, timeout=30)
            sent += 1
        text = body.decode("utf-8", "replace")
        plain = fetch(base + "/")[0]
        api = fetch(base + SEARCH)[0]
    problems = []
    if status != 429 or not sent > DEFAULT_PAGE_RATE_LIMIT * 0.9:
        problems.append(f"search {sent}: {status} (limit {DEFAULT_PAGE_RATE_LIMIT}/min)")
    else:
        if not headers.get("Content-Type", "").startswith("text/html") or not headers.get("Retry-After", "").isdigit():
            problems.append(f"429 headers {dict(headers)}")
        if "<script>alert" in text or "&lt;script&gt;" not in text or "try again in" not in text.lower():
            problems.append(f"429 page not friendly or not escaped: {text[:300]!r}")
    if plain != 200 or api != 200:
        problems.append(f"page without a query {plain}, API search {api}: must not share the page's bucket")
    scorecard.add("reader page rate limit", f"GET /?q= until refused (limit {DEFAULT_PAGE_RATE_LIMIT}/min)",
                  sent + 2, len(problems), 0, notes=f"HTML 429 at search {sent}; / and API still 200")
    assert problems == [], problems


# --------------------------------------------------------------------------- item 10: encodings, numbers, errors, OPTIONS

def test_odd_encodings_numbers_and_server_errors(server, scorecard):
    """Invalid UTF-8 in q is `invalid_encoding`; only ASCII digits are
    numbers; errors under /api/ are the JSON shape where the app answers
    (413), and never HTML where the HTTP server answers itself (documented
    in docs/reliability.md); OPTIONS is 204 with Allow (and CORS)."""
    port = port_of(server)
    checks: list[tuple[str, bool, str]] = []

    def api_error(path: str, status: int, code: str) -> None:
        got, _, body = fetch(server + path)
        error = json.loads(body).get("error", {}) if body.startswith(b"{") else {}
        checks.append((path, got == status and error.get("code") == code, f"{got} {body[:120]!r}"))

    api_error("/api/v1/search?q=%ff%fe%fd", 400, "invalid_encoding")
    api_error("/api/v1/search?q=valve&author=%c3%28", 400, "invalid_encoding")
    api_error("/api/v1/articles?source=%ff", 400, "invalid_encoding")
    api_error("/api/v1/passages/%D9%A3", 404, "not_found")
    api_error("/api/v1/passages/+3", 404, "not_found")
    api_error("/api/v1/search?q=valve&k=1_0", 400, "invalid_k")
    api_error("/api/v1/search?q=valve&k=%D9%A3", 400, "invalid_k")
    api_error("/api/v1/search?q=valve&offset=1_0", 400, "invalid_offset")
    api_error("/api/v1/articles?limit=1_0", 400, "invalid_limit")
    page_status, _, page_body = fetch(server + "/?q=%ff%fe%fd")
    checks.append(("/?q=%ff%fe%fd", page_status == 400 and b"could not read" in page_body, str(page_status)))
    ok = fetch(server + "/api/v1/passages/1")[0]
    checks.append(("/api/v1/passages/1", ok == 200, str(ok)))

    # The server layer: 413 is the app's (JSON); hyper's own 400/431 have an empty body (never HTML).
    codes, out, closed = raw_exchange(port, b"POST /api/v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                            b"application/json\r\nContent-Length: 999999999\r\n\r\n")
    checks.append(("413 on /api/", codes == [413] and b'"body_too_large"' in out, f"{codes} {out[-120:]!r}"))
    for name, data, want in (
            ("bad Content-Length", b"POST /api/v1/search HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", 400),
            ("huge headers", b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 2_000_000 + b"\r\n\r\n",
             431)):
        codes, out, closed = raw_exchange(port, data)
        body = out.split(b"\r\n\r\n", 1)[-1]
        checks.append((name, codes == [want] and closed and b"<html" not in body.lower(), f"{codes} {body[:80]!r}"))

    for path in ("/api/v1/search", "/api/v1/passages/1", "/api/v1/health"):
        status, headers, body = fetch(server + path, method="OPTIONS", headers={"Origin": "https://clinic.example"})
        allow = {m.strip() for m in headers.get("Allow", "").split(",")}
        good = status == 204 and body == b"" and {"GET", "OPTIONS"} <= allow and \
            headers.get("Access-Control-Allow-Origin") == "https://clinic.example"
        checks.append((f"OPTIONS {path}", good, f"{status} Allow={headers.get('Allow')} {body[:60]!r}"))
    status, _, body = fetch(server + "/api/v1/nope", method="OPTIONS")
    checks.append(("OPTIONS /api/v1/nope", status == 404 and b'"not_found"' in body, f"{status} {body[:80]!r}"))

    failures = [f"{name}: {detail}" for name, good, detail in checks if not good]
    scorecard.add("encodings, numbers, OPTIONS", "bad UTF-8, non-ASCII digits, 1_0, server-layer errors, OPTIONS",
                  len(checks), len(failures), 0)
    assert failures == [], failures


# --------------------------------------------------------------------------- item 1 (server side): ready on empty

def test_ready_is_503_on_an_empty_generation(app, scorecard):
    """A live generation with no passages (a build from a mistyped path) is
    not ready: 503 `empty_index`, so a load balancer keeps readers away;
    HEARTSEARCH_ALLOW_EMPTY_INDEX makes a deliberately empty index ready."""
    from search_app.config import Config
    searcher = app.extensions["live_index"]  # where the views take the live generation from
    generation = searcher.generation
    real_count = generation.passage_count
    problems = []

    class Empty:
        """The live generation as it is, but holding no passages."""
        def __getattr__(self, name):
            return getattr(generation, name)
        passage_count = 0

    config = app.config["HEARTSEARCH"]
    original = type(searcher).generation
    try:
        type(searcher).generation = property(lambda self: Empty())
        client = app.test_client()
        response = client.get("/api/v1/ready")
        if response.status_code != 503 or response.get_json()["error"]["code"] != "empty_index" \
                or not response.headers.get("Retry-After"):
            problems.append(f"empty: {response.status_code} {response.get_data()[:200]!r}")
        config.allow_empty_index = True
        response = client.get("/api/v1/ready")
        if response.status_code != 200 or response.get_json()["passages"] != 0:
            problems.append(f"allowed empty: {response.status_code}")
    finally:
        type(searcher).generation = original
        config.allow_empty_index = False
    response = app.test_client().get("/api/v1/ready")
    if response.status_code != 200 or response.get_json()["passages"] != real_count:
        problems.append(f"seed index: {response.status_code}")
    import os
    os.environ["HEARTSEARCH_ALLOW_EMPTY_INDEX"] = "1"
    try:
        if getattr(Config.from_env(), "allow_empty_index", None) is not True:
            problems.append("HEARTSEARCH_ALLOW_EMPTY_INDEX=1 not read")
    finally:
        del os.environ["HEARTSEARCH_ALLOW_EMPTY_INDEX"]
    scorecard.add("ready on an empty index", "/api/v1/ready on a generation with 0 passages, allowed or not", 3,
                  len(problems), 0, notes="503 empty_index; 200 when HEARTSEARCH_ALLOW_EMPTY_INDEX=1")
    assert problems == [], problems
