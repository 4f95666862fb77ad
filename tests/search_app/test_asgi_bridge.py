"""search_app/asgi_bridge.py: the WSGI app behind granian's ASGI interface.
The environ it builds (PEP 3333), the body received whole before the app
runs (size cap 413, deadline 408, both closing the connection), framing the
app refuses passed on unread, and the response sent whole. Driven directly
with ASGI messages, no server; the server itself is in tests/reliability/."""
from __future__ import annotations

import asyncio
import json

import pytest

from search_app.asgi_bridge import WSGIOverASGI


def scope(method="GET", raw_path=b"/api/v1/search", query=b"", headers=(), client=("127.0.0.5", 40000)):
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": raw_path.decode("latin-1"), "raw_path": raw_path, "query_string": query, "root_path": "",
            "headers": list(headers), "client": client, "server": ("127.0.0.1", 8123)}


def run(bridge, the_scope, messages=(), stall_after=None):
    """Drive one request: `messages` are the body messages the client sends;
    after them receive() waits forever (a stalled client) if `stall_after`,
    else the body is complete. Returns (status, headers dict, body)."""
    queue = list(messages)
    sent = []

    async def receive():
        if queue:
            return queue.pop(0)
        await asyncio.sleep(3600)  # a client that sends nothing more

    async def send(message):
        sent.append(message)

    async def main():
        await bridge(the_scope, receive, send)
        if bridge._pool is not None:
            bridge._pool.shutdown()
            bridge._pool = None

    asyncio.run(asyncio.wait_for(main(), 30))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    headers = {}
    for k, v in start["headers"]:
        headers.setdefault(k.decode("latin-1").lower(), []).append(v.decode("latin-1"))
    return start["status"], headers, body


class Echo:
    """A WSGI app answering with what it got."""

    def __init__(self):
        self.environ = None

    def __call__(self, environ, start_response):
        self.environ = dict(environ)
        body = environ["wsgi.input"].read()
        self.environ["body"] = body
        start_response("201 Created", [("Content-Type", "text/plain"), ("X-Two", "a"), ("X-Two", "b")])
        return iter([b"got ", body])


def bridge_for(app, **kw):
    return WSGIOverASGI(app, **{"threads": 2, "max_body_bytes": 100, "body_timeout": 0.5, **kw})


def test_environ_is_pep_3333():
    app = Echo()
    status, headers, body = run(bridge_for(app), scope(
        "POST", raw_path=b"/api/v1/caf%C3%A9/a%2Fb", query=b"q=caf%C3%A9&x=\xe9",
        headers=[(b"host", b"example.org:8123"), (b"content-type", b"application/json"),
                 (b"content-length", b"7"), (b"accept", b"a"), (b"Accept", b"b"), (b"x-caf\xe9", b"\xe9t\xe9"),
                 (b"x_forwarded_for", b"6.6.6.6")]),
        [{"type": "http.request", "body": b'{"q":', "more_body": True},
         {"type": "http.request", "body": b'1}', "more_body": False}])
    env = app.environ
    assert (status, body) == (201, b'got {"q":1}')
    assert headers["x-two"] == ["a", "b"]  # repeated response headers kept
    assert env["REQUEST_METHOD"] == "POST"
    assert env["PATH_INFO"] == "/api/v1/caf\xc3\xa9/a/b"  # percent-decoded bytes as latin-1
    assert env["QUERY_STRING"] == "q=caf%C3%A9&x=\xe9"
    assert env["SCRIPT_NAME"] == ""
    assert (env["SERVER_NAME"], env["SERVER_PORT"], env["SERVER_PROTOCOL"]) == ("127.0.0.1", "8123", "HTTP/1.1")
    assert (env["REMOTE_ADDR"], env["REMOTE_PORT"]) == ("127.0.0.5", "40000")
    assert env["HTTP_HOST"] == "example.org:8123"
    assert env["HTTP_ACCEPT"] == "a, b"  # repeats joined
    assert env["HTTP_X_CAF\xc9"] == "\xe9t\xe9"
    assert (env["CONTENT_TYPE"], env["CONTENT_LENGTH"]) == ("application/json", "7")
    assert "HTTP_CONTENT_TYPE" not in env and "HTTP_CONTENT_LENGTH" not in env
    assert "HTTP_X_FORWARDED_FOR" not in env  # `X_Forwarded_For` must not pass for `X-Forwarded-For`
    assert env["wsgi.url_scheme"] == "http" and env["wsgi.version"] == (1, 0)
    assert env["wsgi.input_terminated"] is True and hasattr(env["wsgi.errors"], "write")
    assert env["body"] == b'{"q":1}'


def test_a_get_is_not_kept_waiting_for_a_body():
    app = Echo()
    status, _, body = run(bridge_for(app), scope(), stall_after=0)
    assert (status, body) == (201, b"got ")


def test_chunked_body_is_received_whole():
    app = Echo()
    status, _, body = run(bridge_for(app), scope("POST", headers=[(b"transfer-encoding", b"chunked")]),
                          [{"type": "http.request", "body": b"ab", "more_body": True},
                           {"type": "http.request", "body": b"cd", "more_body": False}])
    assert (status, body) == (201, b"got abcd")
    assert "CONTENT_LENGTH" not in app.environ  # RefuseAmbiguousFraming sees the framing as sent


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_too_large_is_the_apps_413_and_closes(app, framing):
    """Refused as soon as the Content-Length (announced too large: no byte
    read) or the bytes received (chunked) pass the cap, by the app (its JSON
    413, counted by its rate limit), the rest of the body never read, the
    connection closed."""
    cap = app.config["HEARTSEARCH"].max_body_bytes
    if framing == "content-length":
        headers, messages = [(b"content-length", str(cap + 1).encode())], []
    else:
        half = {"type": "http.request", "body": b"x" * (cap // 2 + 1), "more_body": True}
        headers, messages = [(b"transfer-encoding", b"chunked")], [half, dict(half)]
    status, got, body = run(bridge_for(app, max_body_bytes=cap),
                            scope("POST", headers=[(b"content-type", b"application/json"), *headers]),
                            messages + [{"type": "http.request", "body": b"never read", "more_body": True}])
    assert status == 413 and got["connection"] == ["close"]
    assert json.loads(body)["error"]["code"] == "body_too_large"


@pytest.mark.parametrize("headers, messages", [
    ([(b"content-length", b"100")], [{"type": "http.request", "body": b"x", "more_body": True}]),
    ([(b"content-length", b"10"), (b"expect", b"100-continue")], []),
    ([(b"transfer-encoding", b"chunked")], [{"type": "http.request", "body": b"x", "more_body": True}]),
])
def test_a_stalled_body_is_a_408_within_the_deadline(headers, messages):
    import time
    app = Echo()
    started = time.monotonic()
    status, got, body = run(bridge_for(app, body_timeout=0.3), scope("POST", headers=headers), messages)
    assert status == 408 and got["connection"] == ["close"]
    assert json.loads(body)["error"]["code"] == "request_timeout"
    assert time.monotonic() - started < 2
    assert app.environ is None


def test_ambiguous_framing_reaches_the_app_unread(app):
    """`chunked, chunked` is the app's 400 (RefuseAmbiguousFraming), without
    waiting for a body that cannot be framed."""
    bridge = bridge_for(app, body_timeout=5)
    status, got, body = run(bridge, scope("POST", headers=[(b"transfer-encoding", b"chunked, chunked"),
                                                           (b"content-type", b"application/json")]))
    assert status == 400 and got["connection"] == ["close"]
    assert json.loads(body)["error"]["code"] == "invalid_framing"


def test_the_flask_app_answers_through_the_bridge(app):
    bridge = bridge_for(app, max_body_bytes=app.config["HEARTSEARCH"].max_body_bytes)
    payload = json.dumps({"q": "leaky heart valve", "k": 3}).encode()
    status, got, body = run(bridge, scope("POST", headers=[(b"content-type", b"application/json"),
                                                           (b"content-length", str(len(payload)).encode())]),
                            [{"type": "http.request", "body": payload, "more_body": False}])
    assert status == 200 and len(json.loads(body)["results"]) == 3
    assert got["x-request-id"] and got["x-content-type-options"] == ["nosniff"]
    status, _, body = run(bridge, scope("GET", raw_path=b"/api/v1/search", query=b"q=leaky+heart+valve&k=2"))
    assert status == 200 and len(json.loads(body)["results"]) == 2
