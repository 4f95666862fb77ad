"""Raw-socket HTTP for hostile-client tests and the server benchmark
(benchmarks/bench_servers.py imports it too): a connection from a chosen
loopback address, reading whatever the server sends, and whether it has
closed a connection."""
from __future__ import annotations

import re
import select
import socket
import time

STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3})")


def connect(port: int, source: str = "127.0.0.1", timeout: float = 5.0) -> socket.socket:
    sock = socket.socket()
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def read_for(sock: socket.socket, seconds: float = 3.0) -> tuple[list[int], bytes, bool]:
    """Everything the server sends within `seconds`: the status codes seen,
    the bytes, and whether it closed the connection."""
    out, closed, deadline = b"", False, time.monotonic() + seconds
    sock.settimeout(0.2)
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        out += chunk
    return [int(code) for code in STATUS_LINE.findall(out)], out, closed


def closed_by_server(sock: socket.socket) -> bool:
    try:
        ready, _, _ = select.select([sock], [], [], 0)
        return bool(ready) and sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True
