"""Per-client-address rate limiting: a token bucket for each address, in
memory, shared by one worker process's threads. With HEARTSEARCH_WORKERS
above 1 each process keeps its own buckets, so an address may get up to
that many times the allowance (connections are spread over the workers);
a deployment that needs one exact limit puts it in the reverse proxy.

Each address may make `per_minute` requests a minute on average and a burst
of up to `per_minute` at once; the bucket refills continuously. A refused
request is told how many whole seconds to wait (Retry-After).
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int          # requests a minute
    remaining: int      # whole requests left right now
    retry_after: int    # seconds until the next request is allowed (0 if allowed)


class RateLimiter:
    def __init__(self, per_minute: int, burst: int | None = None, max_clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic):
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1 (use no limiter to turn limiting off)")
        self.per_minute = per_minute
        self.rate = per_minute / 60.0                    # tokens a second
        self.capacity = float(burst or per_minute)
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # address -> (tokens, when)
        self._lock = threading.Lock()

    def take(self, key: str) -> Decision:
        """Spend one token of `key`'s bucket if it has one."""
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - then) * self.rate)
            if tokens >= 1.0:
                tokens -= 1.0
                allowed, retry_after = True, 0
            else:
                allowed, retry_after = False, max(1, math.ceil((1.0 - tokens) / self.rate))
            if key not in self._buckets and len(self._buckets) >= self.max_clients:
                self._prune(now)
            self._buckets[key] = (tokens, now)
        return Decision(allowed, self.per_minute, int(tokens), retry_after)

    def _prune(self, now: float) -> None:
        """Forget addresses whose buckets have refilled (they are as good as
        new); if that frees nothing, forget everyone rather than grow without
        bound."""
        full_after = self.capacity / self.rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}
        if len(self._buckets) >= self.max_clients:
            self._buckets.clear()

    def __len__(self) -> int:
        return len(self._buckets)
