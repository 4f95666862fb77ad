"""The production server (`python -m search_app`, waitress) on loopback:
security defaults as shipped, SIGTERM with requests in flight, and (long)
load while an editor publishes new generations."""
from __future__ import annotations

import http.client
import random
import signal
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from indexer.cli import main
from indexer.store import IndexStore
from tests.servers import get_json, running_server, server_process

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")


# As shipped: unlike running_server, rate limiting keeps its default.
production_server = server_process


def fetch(url: str, timeout: float = 30) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


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
        except (ConnectionError, http.client.HTTPException):
            pass  # closed on us while sending: refused too
        # Rate limiting: a burst beyond the per-minute allowance gets 429s.
        statuses = []
        for _ in range(200):
            statuses.append(fetch(base + "/api/v1/search?mode=lexical&q=valve")[0])
            count += 1
            if statuses[-1] == 429:
                break
        rate_limited = 429 in statuses
    scorecard.add("security defaults (server)", "headers on every route, 1 MB URL, 10 MB body, burst of searches",
                  count, len(failures) + (not rate_limited), 0,
                  notes=f"rate limit hit after {len(statuses)} requests" if rate_limited else "no 429 in 200 requests")
    assert failures == [], failures
    assert rate_limited, "no 429 after 200 rapid searches: rate limiting is not on by default"


def test_sigterm_lets_in_flight_requests_finish(seed_index_dir, scorecard):
    """SIGTERM while requests are being served: those already in flight
    should complete; new ones may be refused."""
    with production_server(seed_index_dir, HEARTSEARCH_RATE_LIMIT="0") as (base, proc):
        port = int(base.rsplit(":", 1)[1])
        completed, dropped, refused = [], [], []
        stop = threading.Event()
        url = base + "/?" + urllib.parse.urlencode({"q": "what causes a leaky heart valve and how is it treated"})

        def client():
            while not stop.is_set():
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                try:
                    conn.connect()
                except OSError:
                    refused.append(1)  # the server had stopped listening: not in flight
                    time.sleep(0.05)
                    continue
                try:
                    conn.request("GET", url[len(base):])
                    response = conn.getresponse()
                    response.read()
                    completed.append(response.status)
                except (OSError, http.client.HTTPException) as err:
                    dropped.append(type(err).__name__)  # connected and sent, then cut off
                finally:
                    conn.close()

        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads:
            t.start()
        time.sleep(2.0)
        before = len(completed)
        proc.send_signal(signal.SIGTERM)
        exit_code = proc.wait(timeout=30)
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(timeout=60)
    scorecard.add("SIGTERM under load", "8 clients on the page, SIGTERM after 2 s",
                  len(completed) + len(dropped), len(dropped), 0,
                  notes=f"{before} done before, exit {exit_code}, {len(dropped)} in-flight cut off "
                        f"({', '.join(sorted(set(dropped)))})")
    assert before > 0 and all(s == 200 for s in completed)
    if dropped:
        pytest.xfail(f"SIGTERM cut off {len(dropped)} in-flight request(s) (waitress installs no SIGTERM handler, "
                     f"exit {exit_code}): search_app/__main__.py needs a graceful shutdown")


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
    scorecard.add("load while publishing", f"{clients} clients x {seconds:.0f} s on waitress; {published} generations "
                  f"published (add/edit/remove)", len(latencies) + len(failures), len(failures) + len(mixed), lost,
                  notes=f"p50 {pct(0.5):.0f} ms, p99 {pct(0.99):.0f} ms, max {pct(1.0):.0f} ms, "
                        f"{len(latencies) / seconds:.0f} req/s, {len(generations_seen)} generations seen, "
                        f"{len(mixed)} mixed")
    assert failures == [], failures[:5]
    assert mixed == [], mixed[:5]
    assert lost == 0
    assert published >= 5 and len(generations_seen) >= 5
