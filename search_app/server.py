"""The production server: granian (a Rust HTTP/1.1 stack, hyper), through
its ASGI interface and our bridge to the WSGI app (search_app/asgi_bridge.py:
a request's body is received whole on the event loop, within
HEARTSEARCH_BODY_TIMEOUT and the size cap, before the app runs on one of
HEARTSEARCH_THREADS threads, so a stalled body holds no thread), chosen over hardened waitress and gunicorn's
gthread workers on the scenarios and throughput measured in
docs/reliability.md (benchmarks/bench_servers.py).

Why granian: connections live in Rust (tokio), not in a Python thread or an
asyncore map, so slow or idle clients hold no worker thread and there is no
small connection limit to fill; a request's headers must arrive within
HEARTSEARCH_HEADER_TIMEOUT seconds, which also closes a keep-alive
connection left idle that long (the app hands granian each response whole:
search_app/app.py, RequestLog, says why); a
request with both Transfer-Encoding and Content-Length is refused and its
connection closed; it runs several worker processes on one port; and its
SIGTERM handling is graceful (workers stop accepting, finish what they
have, and are killed only after the drain timeout).

What is ours: the bridge; a refusal to start on an address already in use
(granian binds with SO_REUSEPORT, which would let a second server share the
port silently); the app is built once in this process before the workers are
forked (like gunicorn's --preload: a broken index exits 3 here, with the
message, and the workers share the loaded model and index pages), the log
lines around a shutdown, and raising the open-files limit.

What a fork does not carry over is made again in each worker: the bridge's
thread pool (on the lifespan startup, search_app/asgi_bridge.py) and the
segments' SQLite connections (SQLite forbids using a connection across
fork(); indexer/index/segment.py reopens them in the child). The rest is
safe to inherit because this process runs no request and no thread before
the fork: the ONNX session runs on the calling thread (one intra-op and one
inter-op thread: no pool to lose), FAISS on one OpenMP thread, the vector
files are memory-mapped read-only, and the live generation is re-checked by
each worker on its own requests (search_app/search/live_index.py: no
background thread), so every worker follows a publish.
"""
from __future__ import annotations

import gc
import logging
import math
import resource
import signal
import socket
import time

log = logging.getLogger("heartsearch.server")


def raise_open_files_limit() -> int:
    """Every connection is a file descriptor; the soft limit (often 1024) is
    raised to the hard one so it is not what caps connections."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


def check_address_free(host: str, port: int) -> None:
    """OSError (EADDRINUSE) if something already listens on host:port.
    granian binds with SO_REUSEPORT, so a second server on a port in use
    would start silently and share the traffic; a bind without it fails
    while any socket holds the address."""
    for family, kind, proto, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a TIME_WAIT leftover is no owner
            probe.bind(address)
        return


def _server_class():
    """granian's multi-process server with our shutdown log lines."""
    from granian.server import Server

    class HeartSearchServer(Server):
        def signal_handler_interrupt(self, signum=None, *args, **kwargs):
            self.heartsearch_signal = signal.Signals(signum).name if signum else "signal"
            super().signal_handler_interrupt(signum, *args, **kwargs)

        def _stop_workers(self):
            """granian's graceful stop, timed and reported: each worker stops
            accepting and finishes its requests; one still busy after the
            drain timeout is killed (its connections closed)."""
            reason = getattr(self, "heartsearch_signal", "shutdown")
            workers = list(self.wrks)
            log.info("%s received: no longer accepting connections; waiting up to %g s for requests in "
                     "progress", reason, self.heartsearch_drain)
            started = time.monotonic()
            super()._stop_workers()
            waited = time.monotonic() - started
            killed = sum(1 for w in workers if w.inner.exitcode == -signal.SIGKILL)
            # A worker that ends on its own just as the drain timeout runs out
            # escapes granian's kill (it checks is_alive() once more): the
            # time waited says the timeout was reached all the same.
            if killed or waited >= self.heartsearch_drain - 0.05:
                log.warning("stopping after %.1f s on the drain timeout (%g s): closing the connection(s) still "
                            "in progress (%d worker(s) killed)", waited, self.heartsearch_drain, killed)
                log.info("stopped after %s: connection(s) cut off (%.1f s)", reason, waited)
            else:
                log.info("stopped after %s: every request in progress was answered (%.1f s)", reason, waited)

    return HeartSearchServer


def serve(app, config) -> int:
    """Serve `app` on config.host:config.port until SIGTERM/SIGINT; 0 after a
    graceful stop. The workers are forked from this process with `app`
    already built."""
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    from search_app.asgi_bridge import WSGIOverASGI

    raise_open_files_limit()
    check_address_free(config.host, config.port)
    # granian's ASGI interface, not its WSGI one: a WSGI app's thread blocks in wsgi.input.read() while the
    # body trickles in, so a few stalled bodies held every thread. The bridge receives the whole body on the
    # event loop (HEARTSEARCH_BODY_TIMEOUT, the size cap) and only then runs the app on one of
    # config.threads threads.
    bridge = WSGIOverASGI(app, threads=config.threads,
                          max_body_bytes=config.max_body_bytes, body_timeout=config.body_timeout,
                          multiprocess=config.workers > 1)
    drain_seconds = max(1.0, config.drain_seconds)  # granian's kill timeout is a whole number of seconds >= 1
    header_ms = min(60_000, max(1, round(config.header_timeout * 1000)))  # the range granian accepts
    server = _server_class()(
        "search_app:app",  # only a label: the loader below hands the workers the app built here
        address=config.host, port=config.port, interface=Interfaces.ASGI, http=HTTPModes.http1,
        websockets=False, workers=config.workers, blocking_threads=1,
        backlog=config.backlog,
        http1_settings=HTTP1Settings(header_read_timeout=header_ms),
        workers_kill_timeout=max(1, math.ceil(drain_seconds)), log_level=LogLevels.warning,
        respawn_failed_workers=True,
    )
    server.heartsearch_drain = drain_seconds
    # What the app built so far (the model, the generation's article list,
    # the glossary, ...) is moved out of the garbage collector's view: a
    # collection in a worker would otherwise write to every object's header
    # and so copy the master's pages into each worker.
    gc.collect()
    gc.freeze()
    server.serve(target_loader=lambda *_: bridge, wrap_loader=False)
    return 0
