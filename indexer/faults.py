"""Named points in a build where tests can kill the process (SIGKILL), to
prove that a crash at any of them leaves the live index serving.

Set HEARTSEARCH_KILL_AT=<point> in a build's environment; nothing happens
otherwise. The points: embedding (after the first batch is cached),
faiss-written, sqlite-written, before-switch.
"""
from __future__ import annotations

import os
import signal

from indexer import settings

POINTS = ("embedding", "faiss-written", "sqlite-written", "before-switch")


def checkpoint(point: str) -> None:
    if settings.KILL_AT.read() == point:
        os.kill(os.getpid(), signal.SIGKILL)
