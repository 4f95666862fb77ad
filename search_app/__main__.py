"""`python -m search_app`: serve the app with waitress, a production WSGI
server (never Flask's dev server). One process with HEARTSEARCH_THREADS worker
threads, so every thread shares the one memory-mapped index and the model.

SIGTERM or SIGINT stops it gracefully: the listening socket is closed at once
(new connections are refused), requests already received or being received
are answered and their responses sent, idle keep-alive connections are
closed, and the process exits 0. The wait is bounded by
HEARTSEARCH_DRAIN_SECONDS (default 10, `--drain-seconds`); connections still
busy then are closed. A second signal during the wait ends it at once."""
from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import sys
import time

from indexer.store import IndexError_
from search_app.config import Config

DEFAULT_DRAIN_SECONDS = 10.0
# A connection accepted just before the listening socket closed may not have
# sent its request yet: it gets this long to start one before it counts as idle.
IDLE_GRACE_SECONDS = 1.0
# How long worker threads still inside the app after a forced stop are waited for.
THREAD_STOP_SECONDS = 1.0

log = logging.getLogger("heartsearch.server")


def drain_seconds_from_env() -> float:
    value = os.environ.get("HEARTSEARCH_DRAIN_SECONDS")
    if value is None or value.strip() == "":
        return DEFAULT_DRAIN_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"HEARTSEARCH_DRAIN_SECONDS must be a number of seconds, got {value!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"HEARTSEARCH_DRAIN_SECONDS must be 0 or more seconds, got {value!r}")
    return seconds


class GracefulServer:
    """A waitress server (`waitress.create_server`) whose main loop we run
    ourselves, one `wasyncore` poll at a time, so a signal can end it between
    two polls and the same loop can then drain the open connections.

    Why not `server.run()` + `task_dispatcher.shutdown()`: waitress installs no
    SIGTERM handler (the default action kills the process), and on SIGINT
    `run()` stops the loop that writes responses out and calls
    `shutdown(cancel_pending=True)`. Even `shutdown(cancel_pending=False)`
    does not drain: it stops the worker threads after their current task and
    leaves queued requests unanswered. So the loop and the threads keep
    running until every connection is done, and the threads are stopped last.
    """

    def __init__(self, app, *, host: str, port: int, threads: int, drain_seconds: float,
                 ident: str = "HeartSearch"):
        import waitress
        self._map: dict = {}  # our own socket map: the listener, waitress's trigger, the connections
        self.server = waitress.create_server(app, map=self._map, host=host, port=port, threads=threads,
                                             ident=ident)
        self.drain_seconds = drain_seconds
        self._signals: list[str] = []

    def _on_signal(self, signum, frame) -> None:
        # Only note it: the loop acts between two polls, never halfway through
        # reading or writing a connection. Pulling waitress's trigger (a write
        # to its pipe, no lock) wakes the poll now rather than within a second.
        self._signals.append(signal.Signals(signum).name)
        try:
            self.server.pull_trigger()
        except OSError:
            pass

    def _poll(self, timeout: float) -> None:
        from waitress import wasyncore
        wasyncore.loop(timeout=timeout, map=self._map, use_poll=self.server.adj.asyncore_use_poll, count=1)

    def serve(self) -> int:
        handled = (signal.SIGTERM, signal.SIGINT)
        previous = {signum: signal.signal(signum, self._on_signal) for signum in handled}
        try:
            while not self._signals:
                self._poll(self.server.adj.asyncore_loop_timeout)
            return self._drain()
        finally:
            for signum, handler in previous.items():
                if handler is not None:
                    signal.signal(signum, handler)

    def _stop_listening(self) -> None:
        """Accept what the kernel has already queued (those clients are
        connected and may have sent a request), then close the listening
        socket so further connections are refused. waitress's trigger stays
        open: worker threads still use it to wake this loop."""
        from waitress import wasyncore
        server = self.server
        for _ in range(max(1, server.adj.backlog)):
            before = len(server.active_channels)
            server.handle_accept()  # non-blocking: accepts nothing when the queue is empty
            if len(server.active_channels) == before:
                break
        wasyncore.dispatcher.close(server)

    @staticmethod
    def _busy(channel) -> bool:
        """A request is queued or running, partly received, or its response not yet sent."""
        return bool(channel.requests) or channel.request is not None or bool(channel.total_outbufs_len)

    def _drain(self) -> int:
        started = time.monotonic()
        deadline = started + self.drain_seconds
        reason = self._signals[0]
        self._stop_listening()
        self._poll(0)  # read what has already arrived, so a request just sent is seen before idleness is judged
        channels = self.server.active_channels
        busy_at_start = sum(1 for channel in channels.values() if self._busy(channel))
        log.info("%s received: no longer accepting connections; waiting up to %g s for %d connection(s) "
                 "(%d with a request in progress)", reason, self.drain_seconds, len(channels), busy_at_start)
        activity_at_start = {id(channel): channel.last_activity for channel in channels.values()}
        while channels and time.monotonic() < deadline and len(self._signals) == 1:
            now = time.time()
            for channel in list(channels.values()):
                if channel.will_close or self._busy(channel):
                    continue
                # Idle: close it if it has finished something since the signal
                # (its request was answered) or has been idle for the grace.
                if channel.last_activity != activity_at_start.get(id(channel)) \
                        or now - channel.last_activity >= IDLE_GRACE_SECONDS:
                    channel.will_close = True  # the loop closes it (as waitress's own idle clean-up does)
            self._poll(max(0.0, min(0.1, deadline - time.monotonic())))
        waited = time.monotonic() - started
        cut_off = len(channels)
        if cut_off:
            why = f"a second signal ({self._signals[1]})" if len(self._signals) > 1 \
                else f"the drain timeout ({self.drain_seconds:g} s)"
            log.warning("stopping after %.1f s on %s: closing %d connection(s) still in progress", waited, why,
                        cut_off)
            for channel in list(channels.values()):
                channel.handle_close()
        dispatcher = self.server.task_dispatcher
        # Idle threads stop at once; one still inside the app (its client gone) gets what is left of the
        # drain time, and at least THREAD_STOP_SECONDS.
        dispatcher.shutdown(cancel_pending=True, timeout=max(THREAD_STOP_SECONDS, deadline - time.monotonic()))
        if dispatcher.threads:
            log.warning("%d worker thread(s) still inside the app; exiting without them", len(dispatcher.threads))
        else:
            self.server.close()  # waitress's trigger; the listening socket is closed already
        if cut_off:
            log.info("stopped after %s: %d connection(s) cut off (%.1f s)", reason, cut_off, waited)
        else:
            log.info("stopped after %s: every request in progress was answered (%.1f s)", reason, waited)
        return 0


def main(argv: list[str] | None = None) -> int:
    try:
        config = Config.from_env()
        drain_seconds = drain_seconds_from_env()
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(prog="python -m search_app",
                                     description="Serve HeartSearch (page, /api/v1, /openapi.json, /api/docs) "
                                                 "on HOST:PORT with waitress. SIGTERM or SIGINT stops it "
                                                 "gracefully: new connections are refused, requests in progress "
                                                 "are answered (for at most --drain-seconds), then it exits 0.")
    parser.add_argument("--host", default=config.host, help=f"address to bind (default {config.host})")
    parser.add_argument("--port", type=int, default=config.port, help=f"port (default {config.port})")
    parser.add_argument("--threads", type=int, default=config.threads,
                        help=f"worker threads (default $HEARTSEARCH_THREADS or 4; now {config.threads})")
    parser.add_argument("--rate-limit", type=int, default=config.rate_limit, metavar="N",
                        help=f"requests a minute per client address on /api/v1, 0 = off "
                             f"(default $HEARTSEARCH_RATE_LIMIT or 120; now {config.rate_limit})")
    parser.add_argument("--drain-seconds", type=float, default=drain_seconds, metavar="S",
                        help=f"on SIGTERM/SIGINT, how long requests in progress may take to finish "
                             f"(default $HEARTSEARCH_DRAIN_SECONDS or {DEFAULT_DRAIN_SECONDS:g}; now {drain_seconds:g})")
    parser.add_argument("--index-dir", default=None, help="index folder (default $HEARTSEARCH_INDEX_DIR)")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.rate_limit < 0:
        parser.error("--threads must be at least 1 and --rate-limit at least 0")
    if not math.isfinite(args.drain_seconds) or args.drain_seconds < 0:
        parser.error("--drain-seconds must be 0 or more")
    config.host, config.port, config.threads, config.rate_limit = args.host, args.port, args.threads, \
        args.rate_limit
    if args.index_dir:
        from pathlib import Path
        config.index_dir = Path(args.index_dir)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from search_app import create_app
    try:
        app = create_app(config)
    except IndexError_ as err:
        print(f"error: cannot start: {err}", file=sys.stderr)
        return 3
    try:
        server = GracefulServer(app, host=config.host, port=config.port, threads=config.threads,
                                drain_seconds=args.drain_seconds)
    except OSError as err:
        print(f"error: cannot listen on {config.host}:{config.port}: {err}", file=sys.stderr)
        return 1
    limit = f"{config.rate_limit}/min per address" if config.rate_limit else "off"
    print(f"HeartSearch serving on http://{config.host}:{config.port}/ "
          f"(generation {app.extensions['searcher'].generation.name}; waitress, {config.threads} threads; "
          f"rate limit {limit}; API docs at /api/docs)", flush=True)
    return server.serve()


if __name__ == "__main__":
    sys.exit(main())
