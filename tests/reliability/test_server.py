"""The production server (`python -m search_app`, granian) on loopback:
security defaults as shipped (rate limit included), SIGTERM with requests in
flight and past the drain timeout, and (long) load while an editor publishes
new generations."""
from __future__ import annotations

import http.client
import json
import math
import random
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from indexer.cli import main
from indexer.index import IndexStore
from tests.servers import get_json, running_server, server_process

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")


# As shipped: unlike running_server, rate limiting keeps its default.
production_server = server_process


def fetch(url: str, timeout: float = 30) -> tuple[int, http.client.HTTPMessage, bytes]:
    """Status, headers (looked up in any case, as HTTP has it) and body."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def test_production_server_security_defaults(seed_index_dir, scorecard):
    """As shipped: debug off, security headers everywhere, oversized requests
    refused, rate limiting on (HEARTSEARCH_RATE_LIMIT unset)."""
    failures, count = [], 0
    with production_server(seed_index_dir, drop_env=("HEARTSEARCH_RATE_LIMIT",)) as (base, _):
        for path in ("/", "/?q=leaky+valve", "/api/v1/search?q=valve", "/api/v1/health", "/nope",
                     "/api/v1/nope", "/static/style.css", "/api/v1/search?q="):
            status, headers, body = fetch(base + path)
            count += 1
            missing = [h for h in SECURITY_HEADERS if h not in headers]
            if missing or status >= 500 or b"Traceback" in body or b"Werkzeug Debugger" in body:
                failures.append(f"{path}: {status} missing {missing}")
        status, _, _ = fetch(base + "/api/v1/search?q=" + "a" * 1_000_000)
        count += 1
        if status not in (400, 413, 414, 431):
            failures.append(f"1 MB URL: {status}")
        request = urllib.request.Request(base + "/api/v1/search", data=b"x" * 10_000_000, method="POST",
                                         headers={"Content-Type": "application/json"})
        count += 1
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                failures.append(f"10 MB body accepted: {response.status}")
        except urllib.error.HTTPError as err:
            if err.code not in (405, 413):
                failures.append(f"10 MB body: {err.code}")
        except (ConnectionError, http.client.HTTPException, urllib.error.URLError) as err:
            if isinstance(err, urllib.error.URLError) and not isinstance(err.reason, ConnectionError):
                failures.append(f"10 MB body: {err}")  # closed on us while sending (a 413 sent first) is fine
        # Rate limiting: a burst beyond the per-minute allowance gets a 429, exactly when the bucket says.
        burst_failures, burst_count, burst_notes = rate_limit_burst(base)
        count += burst_count
    scorecard.add("security defaults (server)", "headers on every route, 1 MB URL, 10 MB body, burst of searches",
                  count, len(failures) + len(burst_failures), 0, notes=burst_notes)
    assert failures == [], failures
    assert burst_failures == [], burst_failures


def rate_limit_burst(base: str, give_up_after: float = 60.0) -> tuple[list[str], int, str]:
    """Searches on one keep-alive connection until the first 429, checked
    against the token bucket (search_app/api/ratelimit.py) rather than a fixed
    count, so the outcome does not depend on how fast the machine is (as
    long as it answers faster than the bucket refills, 2 a second).

    The first answer tells the limit (X-RateLimit-Limit, must be the shipped
    default) and the whole tokens R left after it (X-RateLimit-Remaining), so
    the bucket then held T with R <= T < R + 1. Tokens only come back at
    limit/60 a second, so over the t seconds the burst takes:
      - at least R more requests must be allowed (no 429 before R + 2), and
      - fewer than R + 1 + t * limit/60 can be (a 429 must come by then).
    Returns (failures, requests sent, note for the scorecard)."""
    from search_app.config import DEFAULT_RATE_LIMIT
    host, port = urllib.parse.urlsplit(base).hostname, urllib.parse.urlsplit(base).port
    path = "/api/v1/search?" + urllib.parse.urlencode({"q": "valve", "mode": "lexical", "k": 1})
    conn = http.client.HTTPConnection(host, port, timeout=30)

    def search() -> tuple[int, http.client.HTTPMessage, bytes]:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.headers, response.read()

    failures: list[str] = []
    try:
        started = time.monotonic()
        status, headers, _ = search()
        if status != 200 or "X-RateLimit-Limit" not in headers or "X-RateLimit-Remaining" not in headers:
            return [f"first search: {status}, X-RateLimit headers {dict(headers)}: rate limiting is not on by "
                    f"default"], 1, "rate limit off"
        limit, remaining = int(headers["X-RateLimit-Limit"]), int(headers["X-RateLimit-Remaining"])
        if limit != DEFAULT_RATE_LIMIT:
            failures.append(f"X-RateLimit-Limit {limit}, the shipped default is {DEFAULT_RATE_LIMIT}")
        per_second = limit / 60.0
        sent, allowed_after_first = 1, 0
        while True:
            status, headers, body = search()
            sent += 1
            elapsed = time.monotonic() - started
            most = remaining + 1 + per_second * elapsed
            if status == 429:
                break
            if status != 200:
                failures.append(f"request {sent}: {status} {body[:200]!r}")
                return failures, sent, f"burst stopped by a {status}"
            allowed_after_first += 1
            if allowed_after_first >= most:
                failures.append(f"{allowed_after_first} searches allowed after the first in {elapsed:.1f} s; the "
                                f"bucket ({remaining} left, {limit}/min) allows fewer than {most:.1f}")
                return failures, sent, "no 429 when due"
            if elapsed > give_up_after:
                failures.append(f"no 429 after {sent} searches in {elapsed:.0f} s: the server answered under "
                                f"{sent / elapsed:.1f} searches a second, too slow to outpace the refill "
                                f"({per_second:g}/s); cannot check the limit here")
                return failures, sent, "too slow to empty the bucket"
    finally:
        conn.close()
    if allowed_after_first < remaining:
        failures.append(f"429 after only {allowed_after_first} searches following the first, which said "
                        f"{remaining} remained")
    error = json.loads(body).get("error", {}) if body.startswith(b"{") else {}
    retry_after = headers.get("Retry-After", "")
    if error.get("code") != "rate_limited" or not retry_after.isdigit() or int(retry_after) < 1:
        failures.append(f"429 without the rate_limited error and a Retry-After: {headers} {body[:200]!r}")
    due_by = math.ceil(most + 2) - 1  # the last search the 429 may come at
    return failures, sent, f"429 at search {sent}, due at {remaining + 2}..{due_by}, {elapsed:.1f} s"


# --------------------------------------------------------------------------- SIGTERM

PAGE_QUERY = "what causes a leaky heart valve and how is it treated"
DRAIN_SECONDS = 20.0  # generous: the drain ends as soon as the held requests are answered


def _raw_get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: sigterm-test\r\n\r\n".encode()


def _raw_post(path: str, body: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


class Held:
    """A request sent but for its last `keep` bytes: in flight for as long as
    the test likes, for the server (a request partly received) and for the
    client (sent, no answer yet)."""

    def __init__(self, port: int, name: str, method: str, raw: bytes, keep: int):
        self.name, self.method, self.rest = name, method, raw[-keep:]
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.sock.sendall(raw[:-keep])
        self.status: int | None = None
        self.body = b""
        self.error = ""

    def finish(self) -> None:
        """Send the rest and read the whole answer (http.client holds it to
        its Content-Length)."""
        try:
            self.sock.sendall(self.rest)
            response = http.client.HTTPResponse(self.sock, method=self.method)
            response.begin()
            self.status, self.body = response.status, response.read()
        except (OSError, http.client.HTTPException) as err:
            self.error = f"{type(err).__name__}: {err}"
        finally:
            self.sock.close()


def finish_all_and_wait(held: list[Held], proc: subprocess.Popen, timeout: float) -> int | None:
    """Let every held request send its last bytes at once and read its
    answer, then wait for the server to exit: its exit code, None if it
    did not within `timeout` seconds."""
    threads = [threading.Thread(target=h.finish) for h in held]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def _refused_within(port: int, seconds: float) -> float | None:
    """Seconds until a new connection is refused, or None if none was."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except ConnectionRefusedError:
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def _results(body: bytes) -> list:
    return json.loads(body)["results"]


def _output_of(proc: subprocess.Popen):
    """The server's stdout and stderr (tests.servers sends both to an
    unnamed temporary file), opened again through /proc while the process
    lives, so its log lines can be read after it exits; None off Linux."""
    try:
        return open(f"/proc/{proc.pid}/fd/1", encoding="utf-8", errors="replace")
    except OSError:
        return None


def _log_problems(output, wanted: tuple[str, ...]) -> list[str]:
    if output is None:
        return []
    with output:
        text = output.read()
    return [f"no log line with {w!r}" for w in wanted if w not in text]


def test_sigterm_lets_in_flight_requests_finish(seed_index_dir, scorecard):
    """SIGTERM with 13 requests in flight (12 GETs missing their last byte,
    three times the server's 4 threads, and a POST with half its body sent):
    the server stops accepting connections at once, yet still reads, answers
    and sends every one of them in full after the signal, then exits 0 well
    within the drain timeout."""
    with production_server(seed_index_dir, HEARTSEARCH_RATE_LIMIT="0", HEARTSEARCH_THREADS="4",
                           HEARTSEARCH_DRAIN_SECONDS=str(DRAIN_SECONDS)) as (base, proc):
        output = _output_of(proc)
        port = int(base.rsplit(":", 1)[1])
        page = "/?" + urllib.parse.urlencode({"q": PAGE_QUERY})
        api = "/api/v1/search?" + urllib.parse.urlencode({"q": "leaky heart valve", "k": 50})
        post_body = json.dumps({"q": "chest pain when climbing stairs", "k": 20}).encode()
        expected = {"page": fetch(base + page), "api": fetch(base + api)}
        post = urllib.request.Request(base + "/api/v1/search", data=post_body,
                                      headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(post, timeout=30) as response:
            expected["post"] = (response.status, dict(response.headers), response.read())
        assert all(status == 200 for status, _, _ in expected.values())

        held = [Held(port, "page", "GET", _raw_get(page), keep=1) for _ in range(6)]
        held += [Held(port, "api", "GET", _raw_get(api), keep=1) for _ in range(6)]
        held.append(Held(port, "post", "POST", _raw_post("/api/v1/search", post_body), keep=len(post_body) // 2))
        # A request answered on another connection: by then the server has read what the held ones sent.
        assert fetch(base + "/api/v1/health")[0] == 200

        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        refused_after = _refused_within(port, 10.0)
        still_running = proc.poll() is None  # it must be waiting for the held requests
        exit_code = finish_all_and_wait(held, proc, DRAIN_SECONDS + 10)
        exited_after = time.monotonic() - signalled

    failures = []
    for h in held:
        want = expected[h.name][2]
        if h.error or h.status != 200:
            failures.append(f"{h.name}: {h.status} {h.error}")
        elif h.name == "page" and h.body != want:
            failures.append(f"page: {len(h.body)} bytes, not the {len(want)} answered before the signal")
        elif h.name != "page" and _results(h.body) != _results(want):
            failures.append(f"{h.name}: results differ from those answered before the signal")
    problems = list(failures)
    if refused_after is None:
        problems.append("new connections were still accepted 10 s after SIGTERM")
    if not still_running:
        problems.append(f"the server exited (code {proc.returncode}) before the requests in flight finished")
    if exit_code != 0 or exited_after >= DRAIN_SECONDS:
        problems.append(f"exit code {exit_code} after {exited_after:.1f} s (want 0 within {DRAIN_SECONDS:g} s)")
    problems += _log_problems(output, ("SIGTERM received: no longer accepting connections",
                                       "stopped after SIGTERM: every request in progress was answered"))
    refused = "never" if refused_after is None else f"{refused_after:.2f} s"
    scorecard.add("SIGTERM with requests in flight", f"SIGTERM with {len(held)} half-sent requests, then completed",
                  len(held), len(failures) or int(bool(problems)), 0,
                  notes=f"{len(held) - len(failures)}/{len(held)} answered in full; refused after {refused}; "
                        f"exit {exit_code}, {exited_after:.1f} s")
    assert problems == [], problems


def test_sigterm_does_not_wait_past_the_drain_timeout(seed_index_dir, scorecard):
    """A request that never completes (half its body sent, the rest never)
    holds the server for the drain timeout and no longer: the server then
    closes that connection and exits 0."""
    drain, margin = 2.0, 8.0
    with production_server(seed_index_dir, HEARTSEARCH_RATE_LIMIT="0",
                           HEARTSEARCH_DRAIN_SECONDS=str(drain)) as (base, proc):
        output = _output_of(proc)
        port = int(base.rsplit(":", 1)[1])
        body = json.dumps({"q": "leaky heart valve"}).encode()
        stuck = Held(port, "post", "POST", _raw_post("/api/v1/search", body), keep=len(body) // 2)
        assert fetch(base + "/api/v1/health")[0] == 200
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            exit_code = proc.wait(timeout=drain + margin)
        except subprocess.TimeoutExpired:
            exit_code = None
        exited_after = time.monotonic() - signalled
        try:
            stuck.sock.settimeout(5)
            answer = stuck.sock.recv(1024)
        except OSError as err:
            answer = f"{type(err).__name__}".encode()
        stuck.sock.close()
    closed = answer in (b"", b"ConnectionResetError")
    problems = []
    if exit_code != 0:
        problems.append(f"exit code {exit_code} after {exited_after:.1f} s")
    if not drain - 0.2 <= exited_after <= drain + margin:
        problems.append(f"exited {exited_after:.1f} s after SIGTERM: want the drain timeout ({drain:g} s) "
                        f"and at most {margin:g} s more")
    if not closed:
        problems.append(f"the unfinished request got {answer[:100]!r} instead of its connection being closed")
    problems += _log_problems(output, ("stopping after", "on the drain timeout (2 s): closing the connection(s)"))
    scorecard.add("SIGTERM past the drain timeout", f"one request never completed; SIGTERM with a {drain:g} s drain",
                  1, len(problems) > 0, 0, notes=f"exit {exit_code} after {exited_after:.1f} s; unfinished one "
                                                 f"{'closed' if closed else 'answered'}")
    assert problems == [], problems


# --------------------------------------------------------------------------- long

PROBE = "---\nid: load-probe\ntitle: Probe about the tricuspid valve\n---\n{text}\n"


@pytest.mark.long
def test_load_while_publishing(writable_index, tmp_path, scorecard):
    """32 client threads for 60 s against the production server while the
    editor publishes generations (add, edit, remove); every response must
    come from one generation, and none may fail."""
    probe = tmp_path / "probe.md"
    extra_dir = tmp_path / "extra"
    extra_dir.mkdir()
    versions: dict[str, str | None] = {}
    lock = threading.Lock()

    def record(text):
        with lock:
            versions[IndexStore(writable_index).current_name()] = text

    def publish(step: int):
        kind = ("edit", "add", "edit", "remove", "edit", "add-other", "remove-other")[step % 7]
        if kind == "remove":
            assert main(["remove", "load-probe", "--index-dir", str(writable_index)]) == 0
            record(None)
        elif kind == "add-other":
            (extra_dir / f"other-{step}.md").write_text(
                f"---\nid: other-{step}\ntitle: Other {step}\n---\nAn article number {step} about arteries.\n")
            assert main(["add", str(extra_dir / f"other-{step}.md"), "--index-dir", str(writable_index)]) == 0
            record(versions[max(versions)])
        elif kind == "remove-other":
            others = [p.stem for p in extra_dir.glob("other-*.md")]
            assert main(["remove", *others, "--index-dir", str(writable_index)]) == 0
            for p in extra_dir.glob("other-*.md"):
                p.unlink()
            record(versions[max(versions)])
        else:
            text = f"Version {step}: the tricuspid valve sits between the right atrium and ventricle ({kind})."
            probe.write_text(PROBE.format(text=text))
            assert main(["add", str(probe), "--index-dir", str(writable_index)]) == 0
            record(text)

    seed = IndexStore(writable_index).open_current()
    before = seed.article_hashes()
    seed.close()
    publish(0)
    seconds, clients = 60.0, 32
    queries = ["tricuspid valve probe", "leaky heart valve", "tricuspid valve right atrium", "mitral regurgitation"]
    latencies, failures, mixed, generations_seen = [], [], [], set()
    with running_server(writable_index, HEARTSEARCH_RELOAD_INTERVAL="0.5", HEARTSEARCH_RATE_LIMIT="0",
                        HEARTSEARCH_THREADS="8") as base:
        stop = threading.Event()
        rng = random.Random(7)

        def client(seed):
            local = random.Random(seed)
            while not stop.is_set():
                q = local.choice(queries)
                url = base + "/api/v1/search?" + urllib.parse.urlencode({"q": q, "k": 10})
                started = time.perf_counter()
                try:
                    r = get_json(url, timeout=60)
                except Exception as err:
                    failures.append(repr(err)[:200])
                    continue
                latencies.append(time.perf_counter() - started)
                generations_seen.add(r["generation"])
                with lock:
                    known = r["generation"] in versions
                    expected = versions.get(r["generation"])
                if not known:
                    continue  # published an instant ago, not yet recorded: checked below by retrying
                hits = [h for h in r["results"] if h["article"]["id"] == "load-probe"]
                if expected is None and hits:
                    mixed.append(f"{r['generation']}: probe present but removed there")
                elif expected is not None and hits and hits[0]["text"] != expected:
                    mixed.append(f"{r['generation']}: probe text {hits[0]['text'][:40]!r} != {expected[:40]!r}")
                elif expected is not None and not hits and q.startswith("tricuspid"):
                    mixed.append(f"{r['generation']}: probe missing")

        threads = [threading.Thread(target=client, args=(rng.random(),)) for _ in range(clients)]
        started = time.monotonic()
        for t in threads:
            t.start()
        step = 1
        while time.monotonic() - started < seconds - 5:
            time.sleep(4.0)
            publish(step)
            step += 1
        while time.monotonic() - started < seconds:
            time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join(timeout=120)
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    published = step  # including the first
    final = IndexStore(writable_index).open_current()
    after = final.article_hashes()
    final.close()
    lost = sum(1 for a, h in before.items() if after.get(a) != h)
    scorecard.add("load while publishing", f"{clients} clients x {seconds:.0f} s on granian; {published} generations "
                  f"published (add/edit/remove)", len(latencies) + len(failures), len(failures) + len(mixed), lost,
                  notes=f"p50 {pct(0.5):.0f} ms, p99 {pct(0.99):.0f} ms, max {pct(1.0):.0f} ms, "
                        f"{len(latencies) / seconds:.0f} req/s, {len(generations_seen)} generations seen, "
                        f"{len(mixed)} mixed")
    assert failures == [], failures[:5]
    assert mixed == [], mixed[:5]
    assert lost == 0
    assert published >= 5 and len(generations_seen) >= 5


# --------------------------------------------------------------------------- a second server on the same port

def test_a_second_server_on_a_port_in_use_refuses_to_start(seed_index_dir, scorecard):
    """granian binds with SO_REUSEPORT: a second `python -m search_app` on
    the same port must not start and share the traffic, but exit 1 with
    "address already in use"; the first keeps serving."""
    import os
    import sys
    from indexer.settings import PROJECT_ROOT
    with production_server(seed_index_dir, HEARTSEARCH_RATE_LIMIT="0") as (base, _):
        port = base.rsplit(":", 1)[1]
        env = {**os.environ, "HEARTSEARCH_INDEX_DIR": str(seed_index_dir), "PYTHONPATH": str(PROJECT_ROOT)}
        second = subprocess.Popen([sys.executable, "-m", "search_app", "--host", "127.0.0.1", "--port", port],
                                  cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True)
        try:
            output, _ = second.communicate(timeout=60)
            code = second.returncode
        except subprocess.TimeoutExpired:
            second.terminate()
            output, _ = second.communicate(timeout=30)
            code = None
        still = fetch(base + "/api/v1/health")[0]
    problems = []
    if code != 1 or "already in use" not in output.lower():
        problems.append(f"second server: exit {code} (still running after 60 s if None): {output[-300:]!r}")
    if "serving on" in output.lower():
        problems.append("the second server said it was serving")
    if still != 200:
        problems.append(f"the first server answered {still} afterwards")
    scorecard.add("second server on a port in use", "python -m search_app on a port already served", 1,
                  int(bool(problems)), 0, notes=f"exit {code}; first server still {still}")
    assert problems == [], problems
