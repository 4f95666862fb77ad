"""Per-client-address rate limiting: a token bucket for each address, shared
by every worker process and thread of the server.

The server forks its workers after the app is built (search_app/server.py),
so the buckets live in an anonymous shared memory mapping made here, before
the fork, and one process-shared lock guards them: an address gets the
same allowance however its connections are spread over the workers (a
per-process table gave it up to workers times the limit). The table is
fixed in size (bounded memory): open addressing over twice `max_clients`
slots, keyed by a hash of the address; when `max_clients` addresses are
kept, those whose buckets have refilled are forgotten (they are as good as
new), and if that frees nothing, everyone is.

Each address may make `per_minute` requests a minute on average and a burst
of up to `per_minute` at once; the bucket refills continuously. A refused
request is told how many whole seconds to wait (Retry-After). If the lock
cannot be had within a second (a worker killed while holding it), the
request is let through and the fact logged: a broken limiter must never
lock every reader out.
"""
from __future__ import annotations

import hashlib
import logging
import math
import mmap
import multiprocessing
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

log = logging.getLogger(__name__)

_SLOT = np.dtype([("key", "<u8"), ("tokens", "<f8"), ("when", "<f8")])
LOCK_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int          # requests a minute
    remaining: int      # whole requests left right now
    retry_after: int    # seconds until the next request is allowed (0 if allowed)


def _key(address: str) -> int:
    """A stable 64-bit key (the same in every process; never 0, the empty slot)."""
    return int.from_bytes(hashlib.blake2b(address.encode("utf-8", "replace"), digest_size=8).digest(), "little") | 1


class RateLimiter:
    def __init__(self, per_minute: int, burst: int | None = None, max_clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic):
        """`clock`: seconds, the same in every process (CLOCK_MONOTONIC is
        system-wide)."""
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1 (use no limiter to turn limiting off)")
        self.per_minute = per_minute
        self.rate = per_minute / 60.0                    # tokens a second
        self.capacity = float(burst or per_minute)
        self.max_clients = max_clients
        self._clock = clock
        slots = 2 * max_clients + 1                      # row 0 holds the count of addresses kept
        self._memory = mmap.mmap(-1, slots * _SLOT.itemsize)  # anonymous and shared: survives fork()
        self._table = np.frombuffer(self._memory, dtype=_SLOT)
        self._lock = multiprocessing.Lock()

    def take(self, key: str) -> Decision:
        """Spend one token of `key`'s bucket if it has one."""
        now = self._clock()
        if not self._lock.acquire(timeout=LOCK_TIMEOUT_S):
            log.error("rate limiter lock not acquired in %.0f s; request let through", LOCK_TIMEOUT_S)
            return Decision(True, self.per_minute, 0, 0)
        try:
            address = _key(key)
            slot = self._slot(address, now)
            known = bool(self._table["key"][slot])
            tokens, then = (float(self._table["tokens"][slot]), float(self._table["when"][slot])) if known \
                else (self.capacity, now)
            tokens = min(self.capacity, tokens + max(0.0, now - then) * self.rate)
            if tokens >= 1.0:
                tokens -= 1.0
                allowed, retry_after = True, 0
            else:
                allowed, retry_after = False, max(1, math.ceil((1.0 - tokens) / self.rate))
            if not known:
                self._table["key"][0] += 1
            self._table[slot] = (address, tokens, now)
        finally:
            self._lock.release()
        return Decision(allowed, self.per_minute, int(tokens), retry_after)

    def _probe(self, key: int) -> int:
        """The slot holding `key`, or the empty slot where it would go."""
        slots = len(self._table) - 1
        slot = key % slots
        while True:
            found = int(self._table["key"][slot + 1])
            if found == key or found == 0:
                return slot + 1
            slot = (slot + 1) % slots

    def _slot(self, key: int, now: float) -> int:
        slot = self._probe(key)
        if not self._table["key"][slot] and len(self) >= self.max_clients:
            self._prune(now)
            slot = self._probe(key)
        return slot

    def _prune(self, now: float) -> None:
        """Forget addresses whose buckets have refilled; if that frees
        nothing, forget everyone rather than grow without bound. The table
        is rebuilt, since open addressing cannot simply empty a slot."""
        rows = self._table[1:]
        full_after = self.capacity / self.rate
        kept = rows[(rows["key"] != 0) & (now - rows["when"] < full_after)].copy()
        if len(kept) >= self.max_clients:
            kept = kept[:0]
        self._table[:] = 0
        for row in kept:
            self._table[self._probe(int(row["key"]))] = row
        self._table["key"][0] = len(kept)

    def __len__(self) -> int:
        return int(self._table["key"][0])
