"""The WSGI app behind granian's ASGI interface, so no client holds a Python
thread while its request body arrives.

granian's own WSGI interface runs the app on one of its blocking threads as
soon as the headers are in, and `wsgi.input.read()` then blocks that thread
for as long as the body trickles in: a few connections announcing a body and
sending one byte of it (or `Expect: 100-continue` and nothing) locked every
reader out, with no time limit, and SIGTERM could not drain. Here the body is
received on the event loop, with

- a total deadline (Config.body_timeout, HEARTSEARCH_BODY_TIMEOUT): a body
  not complete by then gets a 408 and its connection is closed;
- the size cap (Config.max_body_bytes): a Content-Length above it, or more
  bytes than it received, goes to the app at once (its 413 `body_too_large`,
  werkzeug's MAX_CONTENT_LENGTH), the rest never read, and the connection
  is closed.

Only a complete request reaches a thread: the Flask (WSGI) app then runs in a
ThreadPoolExecutor of Config.threads workers, with the body in a BytesIO,
and its response (always small here) is sent whole. Nothing is streamed.

The pool is made on the lifespan startup (or the first request), in the
worker process: workers are forked after the app is built (server.py), and
threads do not survive a fork.
"""
from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote_to_bytes

from search_app.app import REQUEST_ID, SECURITY_HEADERS, RequestLog

log = logging.getLogger("heartsearch.server")
SECURITY = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in SECURITY_HEADERS.items()]


class WSGIOverASGI:
    """An ASGI 3 app serving `wsgi_app` (see the module's docstring)."""

    def __init__(self, wsgi_app, *, threads: int, max_body_bytes: int, body_timeout: float,
                 multiprocess: bool = False):
        self.wsgi_app = wsgi_app
        self.threads = max(1, threads)
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.multiprocess = multiprocess
        self._pool: ThreadPoolExecutor | None = None

    # ------------------------------------------------------------------ ASGI

    async def __call__(self, scope, receive, send):
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        # websockets are off in the server (websockets=False): nothing else comes here

    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="heartsearch-wsgi")
        return self._pool

    async def _lifespan(self, receive, send):
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.pool()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                pool, self._pool = self._pool, None
                if pool is not None:  # every request has been answered by now (granian drained first)
                    await asyncio.get_running_loop().run_in_executor(None, pool.shutdown)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope, receive, send):
        started = time.perf_counter()
        environ = self.environ(scope)
        close = False
        framing = environ.get("HTTP_TRANSFER_ENCODING")
        declared = environ.get("CONTENT_LENGTH")
        if framing is not None and (framing.strip().lower() != "chunked" or declared):
            # Ambiguous framing: the app refuses it (RefuseAmbiguousFraming, 400 and the connection closed)
            # without the body being read, since the body cannot be told from the request after it.
            body, close = b"", True
        elif framing is None and not declared:
            body = b""  # no body (GET, HEAD, ...): nothing to wait for
        else:
            too_large = declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes
            body = b"" if too_large else await self._receive_body(receive)
            if isinstance(body, int):
                if body != 408:
                    return  # the client went away; nobody to answer
                return await self._refuse(send, environ, started, body)
            if too_large or len(body) > self.max_body_bytes:
                # The app answers it (its JSON 413 `body_too_large`, counted by the rate limit like any
                # request): werkzeug refuses the Content-Length (MAX_CONTENT_LENGTH), and the API refuses the
                # cap + 1 bytes of a chunked body it is given. The rest is never read: the connection is closed.
                close = True
        environ["wsgi.input"] = io.BytesIO(body)
        loop = asyncio.get_running_loop()
        try:
            status, headers, content = await loop.run_in_executor(self.pool(), self._run, environ)
        except Exception:  # the app (Flask) answers its own errors; this is a bug in the middleware chain
            log.exception("unhandled error serving %s", environ.get("PATH_INFO"))
            status, headers, content = 500, [(b"content-type", b"text/plain; charset=utf-8")], \
                b"Internal server error\n"
            close = True
        if close:
            headers = [(k, v) for k, v in headers if k != b"connection"] + [(b"connection", b"close")]
        await self._send(send, status, headers, content)

    async def _receive_body(self, receive) -> bytes | int:
        """The whole body; its first cap + 1 bytes once it is larger than the
        cap (the rest is never read); or 408 (not complete within the
        deadline) or 0 (the client disconnected)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout
        chunks, size = [], 0
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return 408
            try:
                message = await asyncio.wait_for(receive(), remaining)
            except asyncio.TimeoutError:
                return 408
            if message["type"] == "http.disconnect":
                return 0
            piece = message.get("body") or b""
            if piece:
                chunks.append(piece)
            size += len(piece)
            if size > self.max_body_bytes:
                return b"".join(chunks)[:self.max_body_bytes + 1]
            if not message.get("more_body", False):
                return b"".join(chunks)

    # ------------------------------------------------------------------ WSGI

    def environ(self, scope) -> dict:
        """The PEP 3333 environ of an ASGI HTTP scope (wsgi.input added later)."""
        raw_path = scope.get("raw_path")
        if raw_path is None:
            raw_path = scope["path"].encode("utf-8")
        elif b"?" in raw_path:  # some servers leave the query string on raw_path
            raw_path = raw_path.split(b"?", 1)[0]
        server = scope.get("server") or ("127.0.0.1", 80)
        client = scope.get("client")
        environ = {
            "REQUEST_METHOD": scope["method"],
            "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
            # Percent-decoded bytes as latin-1 (PEP 3333), as WSGI servers give it and werkzeug expects.
            "PATH_INFO": unquote_to_bytes(raw_path).decode("latin-1"),
            "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
            "SERVER_NAME": str(server[0]),
            "SERVER_PORT": str(server[1]) if server[1] is not None else "",
            "SERVER_PROTOCOL": "HTTP/" + scope.get("http_version", "1.1"),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scope.get("scheme", "http"),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": self.multiprocess,
            "wsgi.run_once": False,
            "wsgi.input_terminated": True,  # the whole body is in wsgi.input (chunked bodies too)
        }
        if client:
            environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = str(client[0]), str(client[1])
        for raw_name, raw_value in scope.get("headers", ()):
            name = raw_name.decode("latin-1").lower()
            if "_" in name:
                # `X_Forwarded_For` would land on the same key as `X-Forwarded-For` (gunicorn drops these too)
                continue
            value = raw_value.decode("latin-1")
            if name == "content-type":
                key = "CONTENT_TYPE"
            elif name == "content-length":
                key = "CONTENT_LENGTH"
            else:
                key = "HTTP_" + name.upper().replace("-", "_")
            if key in environ:
                environ[key] += ("; " if key == "HTTP_COOKIE" else ", ") + value
            else:
                environ[key] = value
        return environ

    def _run(self, environ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Call the WSGI app (on a pool thread); its whole response."""
        response: list = []
        written: list[bytes] = []

        def start_response(status, headers, exc_info=None):
            if exc_info is not None and response:
                raise exc_info[1].with_traceback(exc_info[2])
            response[:] = [status, headers]
            return written.append

        result = self.wsgi_app(environ, start_response)
        try:
            content = b"".join(written) + b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        status, headers = response
        return int(status.split(" ", 1)[0]), [(k.lower().encode("latin-1"), v.encode("latin-1"))
                                              for k, v in headers], content

    # ------------------------------------------------------------------ answers

    @staticmethod
    async def _send(send, status: int, headers, content: bytes) -> None:
        try:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": content, "more_body": False})
        except Exception:  # the client has gone; nothing to tell it
            pass

    async def _refuse(self, send, environ, started: float, status: int) -> None:
        """The 408 for a body not complete within the deadline, in the app's
        error shape under /api/, and the connection closed."""
        code, message = "request_timeout", f"The request body did not arrive within {self.body_timeout:g} seconds."
        if environ.get("PATH_INFO", "").startswith("/api/"):
            content = json.dumps({"error": {"code": code, "message": message, "field": None}}).encode()
            kind = b"application/json"
        else:
            content, kind = (message + "\n").encode(), b"text/plain; charset=utf-8"
        offered = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = offered if REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        headers = [(b"content-type", kind), (b"content-length", str(len(content)).encode()),
                   (b"connection", b"close"), (b"x-request-id", request_id.encode()), *SECURITY]
        await self._send(send, status, headers, content)
        RequestLog._log(environ, str(status), started, request_id)
