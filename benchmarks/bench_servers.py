"""Which WSGI server should run HeartSearch? The hostile-client scenarios of
issue 13 and throughput, measured against the real app (`create_app` on a
real index, rate limit off) under three servers:

- waitress 3.0.2, hardened: connection_limit, channel_timeout,
  max_request_body_size, cleanup each second, and a header-read deadline
  (a small subclass: waitress's idle timeout is reset by every byte);
- gunicorn 27 with gthread workers and --preload (keep-alive 2 s);
- granian 2.8 (Rust/hyper HTTP/1.1, WSGI interface), 5 s header deadline.

Scenarios (each on a fresh server; all on 127.0.0.1, bounded in time):
  slowloris  150 connections from 127.0.0.2 sending one header byte a second
             for --seconds; a normal search from 127.0.0.1 every 0.5 s must
             be answered within 1 s
  idle       500 keep-alive connections (from 127.0.0.3) that made one
             request and then stay idle; the same probe
  smuggle    TE + CL with a hidden request in the body: the 400 must close
             the connection and the hidden request must not be answered;
             and `Transfer-Encoding: chunked, chunked`
  body       a POST announcing 300 MB (Content-Length) and a 1 GiB chunked
             POST, sent as fast as the server reads: how many bytes it took
             in before refusing (the app's limit is 64 KiB)
  sigterm    SIGTERM with 5 requests in flight (4 GETs without their last
             byte, a POST with half its body), completed after the signal:
             all must be answered, exit 0
  wrk        wrk -t2 -c16 on /api/v1/search (a mix of queries), 1 process,
             and 2 worker processes where the server has them

  python -m benchmarks.bench_servers --index-dir /tmp/srv-index [--servers granian,gunicorn] [--only slowloris,wrk]

`serve_waitress` / `make_app` here are only for this comparison; the
shipped server is `python -m search_app` (search_app/server.py).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.raw_http import closed_by_server, connect, read_for  # noqa: E402  (shared with the hostile tests)

VENV_BIN = Path(sys.executable).parent
QUERIES = ["leaky heart valve", "what causes mitral regurgitation", "heart problems in dialysis patients",
           "can surgery fix a heart valve", "chest pain when climbing stairs", "heart murmur", "palpitations",
           "tricuspid valve", "shortness of breath at night", "heart failure treatment"]
LIMIT = 64 * 1024


# --------------------------------------------------------------------------- the app and the servers

def make_app():
    """The real app on HEARTSEARCH_INDEX_DIR, rate limit off (a WSGI factory)."""
    from search_app import create_app
    from search_app.config import Config
    config = Config.from_env()
    config.rate_limit = 0
    return create_app(config)


def serve_waitress(port: int, threads: int) -> None:
    """Hardened waitress: what configuration and a small subclass can do."""
    from waitress.server import TcpWSGIServer

    header_deadline = 5.0

    class Server(TcpWSGIServer):
        def maintenance(self, now):
            super().maintenance(now)
            for channel in list(self.active_channels.values()):
                request = channel.request  # partly received
                started = getattr(request, "_started", None)
                if request is not None and started is None:
                    request._started = now
                elif started is not None and not request.headers_finished and now - started > header_deadline:
                    channel.will_close = True

    app = make_app()
    server = Server(app, host="127.0.0.1", port=port, threads=threads, connection_limit=1000, channel_timeout=5,
                    cleanup_interval=1, max_request_body_size=LIMIT, max_request_header_size=16 * 1024,
                    ident="HeartSearch")
    signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(SystemExit(0)))
    try:
        server.run()
    except SystemExit:
        server.close()
        sys.exit(0)


def command(server: str, port: int, workers: int, threads: int = 4) -> list[str]:
    py = sys.executable
    if server == "waitress":
        if workers > 1:
            raise ValueError("waitress runs one process")
        return [py, "-c", f"from benchmarks.bench_servers import serve_waitress; serve_waitress({port}, {threads})"]
    if server == "gunicorn":
        return [str(VENV_BIN / "gunicorn"), "-k", "gthread", "--threads", str(threads), "--workers", str(workers),
                "--preload", "--keep-alive", "2", "--graceful-timeout", "10", "--bind", f"127.0.0.1:{port}",
                "--log-level", "warning", "benchmarks.bench_servers:make_app()"]
    if server == "granian":
        return [str(VENV_BIN / "granian"), "--interface", "wsgi", "--factory", "--host", "127.0.0.1", "--port",
                str(port), "--http", "1", "--workers", str(workers), "--blocking-threads", str(threads),
                "--http1-header-read-timeout", "5000", "--workers-kill-timeout", "10", "--no-ws",
                "--log-level", "warning", "benchmarks.bench_servers:make_app"]
    raise ValueError(server)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(server: str, index_dir: Path, workers: int = 1):
    port = free_port()
    env = dict(os.environ, HEARTSEARCH_INDEX_DIR=str(index_dir), PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1",
               HEARTSEARCH_RATE_LIMIT="0")
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(command(server, port, workers), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"{server} exited: {log.read()[-2000:]}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/ready", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{server} did not start")
                time.sleep(0.3)
        yield port, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT if server == "gunicorn" else signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


# --------------------------------------------------------------------------- helpers

def search_path(i: int = 0) -> str:
    return "/api/v1/search?" + urllib.parse.urlencode({"q": QUERIES[i % len(QUERIES)], "k": 10})


class Probe(threading.Thread):
    """A normal reader: a search on a new connection every 0.5 s, 1 s allowed."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port, self.stop, self.latencies, self.failures = port, threading.Event(), [], []

    def run(self):
        i = 0
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{search_path(i)}", timeout=1.0) as r:
                    r.read()
                self.latencies.append(time.monotonic() - started)
            except Exception as err:  # noqa: BLE001 - any failure counts
                self.failures.append(type(err).__name__)
            i += 1
            self.stop.wait(max(0.0, 0.5 - (time.monotonic() - started)))

    def summary(self) -> dict:
        n = len(self.latencies) + len(self.failures)
        return {"probes": n, "probe_failures": len(self.failures),
                "probe_max_ms": round(max(self.latencies) * 1000) if self.latencies else None}


def read_responses(sock, seconds: float = 3.0) -> tuple[list[int], bool]:
    """Status codes of every response read within `seconds`, and whether the
    server closed the connection."""
    codes, _, closed = read_for(sock, seconds)
    return codes, closed


# --------------------------------------------------------------------------- scenarios

def slowloris(port: int, seconds: float, clients: int = 150) -> dict:
    socks, closed = [], 0
    for _ in range(clients):
        try:
            socks.append(connect(port, "127.0.0.2"))
        except OSError:
            closed += 1
    line = f"GET {search_path()} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".encode() + b"x" * 10_000
    probe = Probe(port)
    probe.start()
    started = time.monotonic()
    step = 0
    while time.monotonic() - started < seconds:
        for sock in list(socks):
            try:
                sock.send(line[step:step + 1])
            except OSError:
                socks.remove(sock)
                closed += 1
        step += 1
        time.sleep(1.0)
    closed += sum(1 for s in socks if closed_by_server(s))
    probe.stop.set()
    probe.join()
    for s in socks:
        s.close()
    return {**probe.summary(), "slow_closed_by_server": closed}


def idle_keepalive(port: int, seconds: float, clients: int = 500) -> dict:
    socks, refused = [], 0
    for _ in range(clients):
        try:
            sock = connect(port, "127.0.0.3", timeout=5)
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            socks.append(sock)
        except OSError:
            refused += 1
    for sock in socks:  # read each answer, then stay idle
        try:
            sock.settimeout(5)
            sock.recv(65536)
        except OSError:
            pass
    probe = Probe(port)
    probe.start()
    time.sleep(seconds)
    probe.stop.set()
    probe.join()
    still_open = sum(1 for s in socks if not closed_by_server(s))
    for s in socks:
        s.close()
    return {**probe.summary(), "idle_refused": refused, "idle_still_open": still_open}


def smuggle(port: int) -> dict:
    hidden = b"GET /api/v1/health?smuggled=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    body = b"0\r\n\r\n" + hidden
    tecl = (b"POST /api/v1/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n" % len(body)) + body
    sock = connect(port)
    sock.sendall(tecl)
    tecl_codes, tecl_closed = read_responses(sock)
    sock.close()
    chunk = b'{"q": "valve"}'
    double = (b"POST /api/v1/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              b"Transfer-Encoding: chunked, chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(chunk), chunk))
    sock = connect(port)
    sock.sendall(double + hidden)
    double_codes, double_closed = read_responses(sock)
    sock.close()
    return {"te_cl": tecl_codes, "te_cl_closed": tecl_closed, "te_chunked_chunked": double_codes,
            "chunked_chunked_closed": double_closed}


def big_body(port: int, *, chunked: bool, size: int) -> dict:
    sock = connect(port, timeout=10)
    head = b"POST /api/v1/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += b"Transfer-Encoding: chunked\r\n\r\n" if chunked else b"Content-Length: %d\r\n\r\n" % size
    sock.sendall(head)
    block = b"x" * 65536
    piece = (b"%x\r\n" % len(block)) + block + b"\r\n" if chunked else block
    sent, status, started = 0, None, time.monotonic()
    sock.setblocking(False)
    while sent < size and time.monotonic() - started < 60:
        readable, writable, _ = select.select([sock], [sock], [], 1.0)
        if readable:
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            match = re.match(rb"HTTP/1\.[01] (\d{3})", data)
            status = int(match.group(1)) if match else "closed"
            break
        if writable:
            try:
                sent += sock.send(piece)
            except BlockingIOError:
                continue
            except OSError:
                status = "reset"
                break
    sock.close()
    return {"status": status, "sent_mb": round(sent / 1e6, 1), "seconds": round(time.monotonic() - started, 1)}


class Held:
    def __init__(self, port: int, raw: bytes, keep: int, method: str = "GET"):
        self.rest, self.method = raw[-keep:], method
        self.sock = connect(port, timeout=30)
        self.sock.sendall(raw[:-keep])
        self.status = None

    def finish(self):
        import http.client
        try:
            self.sock.sendall(self.rest)
            response = http.client.HTTPResponse(self.sock, method=self.method)
            response.begin()
            response.read()
            self.status = response.status
        except (OSError, http.client.HTTPException) as err:
            self.status = type(err).__name__
        finally:
            self.sock.close()


def sigterm(port: int, proc: subprocess.Popen) -> dict:
    get = f"GET {search_path()} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    body = json.dumps({"q": "chest pain", "k": 20}).encode()
    post = (b"POST /api/v1/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body
    held = [Held(port, get, 1) for _ in range(4)] + [Held(port, post, len(body) // 2, "POST")]
    try:  # a request answered meanwhile shows the held ones were read; a server out of threads cannot
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=5).close()
        others = "answered"
    except OSError as err:
        others = f"health not answered: {type(err).__name__}"
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    threads = [threading.Thread(target=h.finish) for h in held]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        code = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        code = None
    return {"answered": sum(h.status == 200 for h in held), "of": len(held),
            "statuses": [h.status for h in held], "exit": code, "meanwhile": others, "seconds": round(time.monotonic() - started, 1)}


def wrk(port: int, seconds: int, connections: int = 16) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as paths:
        paths.write("\n".join(search_path(i) for i in range(len(QUERIES))) + "\n")
    for i in range(20):  # warm up
        urllib.request.urlopen(f"http://127.0.0.1:{port}{search_path(i)}", timeout=30).read()
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency",
                          "-s", str(ROOT / "benchmarks" / "wrk_queries.lua"), f"http://127.0.0.1:{port}", "--",
                          paths.name, "2"], capture_output=True, text=True, timeout=seconds + 60).stdout
    os.unlink(paths.name)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"50%\s+([\d.]+)(\w+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(\w+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"req_s": float(rps.group(1)) if rps else None,
            "p50": "".join(p50.groups()) if p50 else None, "p99": "".join(p99.groups()) if p99 else None,
            "non_2xx": int(errors.group(1)) if errors else 0}


SCENARIOS = ("slowloris", "idle", "smuggle", "body", "sigterm", "wrk")


def run_server(server: str, index_dir: Path, only: set[str], seconds: float, wrk_seconds: int) -> dict:
    """Each chosen scenario on a freshly started `server` (nothing carries over)."""
    scenarios = {
        "slowloris": lambda port, proc: {"slowloris": slowloris(port, seconds)},
        "idle": lambda port, proc: {"idle": idle_keepalive(port, seconds)},
        "smuggle": lambda port, proc: {"smuggle": smuggle(port)},
        "body": lambda port, proc: {"body_300mb_cl": big_body(port, chunked=False, size=300_000_000),
                                    "body_1gib_chunked": big_body(port, chunked=True, size=2 ** 30)},
        "sigterm": lambda port, proc: {"sigterm": sigterm(port, proc)},
        "wrk": lambda port, proc: {"wrk_1_process": wrk(port, wrk_seconds)},
    }
    result: dict = {}
    for name in SCENARIOS:
        if name in only:
            with running(server, index_dir) as (port, proc):
                result.update(scenarios[name](port, proc))
    if "wrk" in only and server != "waitress":
        with running(server, index_dir, workers=2) as (port, _):
            result["wrk_2_processes"] = wrk(port, wrk_seconds)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--servers", default="waitress,gunicorn,granian")
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument("--seconds", type=float, default=10.0, help="slowloris / idle duration")
    parser.add_argument("--wrk-seconds", type=int, default=15)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    results = {}
    for server in args.servers.split(","):
        results[server] = run_server(server, args.index_dir, only, args.seconds, args.wrk_seconds)
        print(server, json.dumps(results[server]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
