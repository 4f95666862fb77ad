"""Query vectors kept for questions asked again.

Readers repeat popular questions ("heart attack symptoms"), and the model
call is most of what a search costs, so a bounded least-recently-used map
from (model name, text) to vector answers a repeat without the model. The
model's name is the key's first part because it names the vectors exactly
(indexer/embedding/registry.py: a model whose vectors differ gets its own
name), so one map serves every generation built with that model and a
generation built with another never reads a wrong vector.

Thread-safe (a worker's request threads share one map); the model is
called outside the lock, so a slow encode never holds up a cached answer.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Sequence

import numpy as np


class QueryVectors:
    """`capacity` vectors at most (None: unbounded, for the evaluation; 0: off)."""

    def __init__(self, capacity: int | None):
        self.capacity = capacity
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._vectors)

    def encode(self, embedder, texts: Sequence[str]) -> np.ndarray:
        """The vectors of `texts` by `embedder`, rows in order; the texts not
        kept are encoded in one call."""
        keys = [(embedder.name, text) for text in texts]
        found: dict[tuple[str, str], np.ndarray] = {}
        with self._lock:
            for key in keys:
                vector = self._vectors.get(key)
                if vector is not None:
                    self._vectors.move_to_end(key)
                    found[key] = vector
            self.hits += sum(key in found for key in keys)
        missing = [key for key in dict.fromkeys(keys) if key not in found]
        if missing:
            encoded = embedder.encode([text for _, text in missing])
            found.update(zip(missing, encoded))
            self._keep(missing, encoded)
        return np.stack([found[key] for key in keys])

    def _keep(self, keys: list[tuple[str, str]], vectors: np.ndarray) -> None:
        with self._lock:
            self.misses += len(keys)
            if self.capacity == 0:
                return
            for key, vector in zip(keys, vectors):
                vector = np.array(vector, dtype=np.float32)
                vector.flags.writeable = False  # shared between requests: nobody may change it
                self._vectors[key] = vector
                self._vectors.move_to_end(key)
            while self.capacity is not None and len(self._vectors) > self.capacity:
                self._vectors.popitem(last=False)
