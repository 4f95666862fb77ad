"""Embedding on a Dask cluster (`python -m indexer build ... --dask ADDRESS|local:N`).

Only the model calls leave this process. `DaskEmbedder` has the interface
of the local embedders, so `indexer.build.publish_articles` runs unchanged:
the diff by content hash, chunking, the embedding-cache lookup, writing the
generation and the atomic switch all happen here, in the one writer. What is
missing from the cache goes to the cluster as tasks of at most `task_size`
texts; each worker process loads the model once (`worker_embedder`, cached
per process) with one thread, so N single-threaded workers on N cores do
not oversubscribe. Results stream back as they finish and are cached batch
by batch, so an interrupted build keeps its work exactly as a local one.

Chunking stays in the writer: it is deterministic, a few hundred times
faster than the model on one core, and the writer needs every passage
anyway to write SQLite; shipping articles out and passages back would cost
more than it saves (figures: docs/performance.md, "Chunking stays in the
writer"; docs/scaling.md has the arithmetic).

Each worker's model uses one thread ($HEARTSEARCH_MODEL_THREADS, if set on
the workers, wins), whatever the runtime (ONNX or torch).

A task that raises is retried (`retries`, default 2); a task on a worker
that dies is rescheduled by the scheduler on another worker (a nanny
restarts the dead one). The vectors are the same model's on the same
batches, so the result equals a local build within float noise.

Nothing here imports dask or distributed at module level: without --dask,
neither is ever imported.
"""
from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
import uuid
from typing import Callable, Iterator, Sequence

import numpy as np

LOCAL_PREFIX = "local:"
DEFAULT_TASK_SIZE = 64        # texts per task: the local build's model batch
DEFAULT_RETRIES = 2           # extra tries of a batch whose task raised
DEFAULT_STALL_SECONDS = 600.0  # no batch finished for this long: give up
CONNECT_TIMEOUT = "30s"
WORKERS_TIMEOUT = 120.0       # wait this long for the first worker
MAX_LOCAL_WORKERS = 256


class ClusterError(OSError):
    """The cluster could not be reached or could not finish the work. The
    live index is unchanged; batches that finished are in the cache."""


def parse_target(value: str) -> str:
    """Check a --dask value: `local:N` or a scheduler address
    (`tcp://host:port`, `host:port`, `tls://...`)."""
    value = value.strip()
    if value.startswith(LOCAL_PREFIX):
        count = value[len(LOCAL_PREFIX):]
        if not count.isdigit() or not 1 <= int(count) <= MAX_LOCAL_WORKERS:
            raise ValueError(f"{value!r}: local:N needs a worker count N from 1 to {MAX_LOCAL_WORKERS}")
        return f"{LOCAL_PREFIX}{int(count)}"
    if not re.fullmatch(r"([a-z][a-z0-9+]*://)?[^\s/:]+(:\d+)?", value):
        raise ValueError(f"{value!r} is neither local:N nor a scheduler address such as tcp://10.0.0.5:8786")
    return value


# ------------------------------------------------------------------ worker side

@functools.lru_cache(maxsize=None)
def worker_embedder(model: str, threads: int):
    """The model in this worker process, loaded on its first task and kept."""
    if threads:
        os.environ.setdefault("HEARTSEARCH_MODEL_THREADS", str(threads))
    from indexer.embedding import load_embedder
    embedder = load_embedder(model)
    if threads and "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    return embedder


def describe_task(model: str, threads: int) -> tuple[str, int, int]:
    embedder = worker_embedder(model, threads)
    return embedder.name, int(embedder.dimension), int(embedder.max_tokens)


def encode_task(texts: list[str], model: str, threads: int) -> np.ndarray:
    """One batch, one model call, exactly as a local build makes it."""
    vectors = worker_embedder(model, threads).encode(texts, batch_size=max(1, len(texts)))
    return np.ascontiguousarray(vectors, dtype=np.float32)


# ------------------------------------------------------------------ writer side

class DaskEmbedder:
    """An `Embedder` whose model runs on a Dask cluster.

    `encode_batches` is what a build uses: it takes all batches at once,
    keeps a bounded number of tasks in flight (so a 10M-passage build does
    not put every text on the scheduler at once) and yields
    `(batch number, vectors)` as batches finish, in any order.
    """

    def __init__(self, client, model: str | None = None, task_size: int = DEFAULT_TASK_SIZE,
                 retries: int = DEFAULT_RETRIES, threads: int = 1, max_in_flight: int | None = None,
                 stall_seconds: float = DEFAULT_STALL_SECONDS):
        if model is None:
            from indexer.embedding import DEFAULT_MODEL
            model = DEFAULT_MODEL
        self.client, self.model = client, model
        self.task_size, self.retries, self.threads = max(1, int(task_size)), int(retries), int(threads)
        self.max_in_flight, self.stall_seconds = max_in_flight, float(stall_seconds)
        self.calls = 0   # texts sent to the cluster
        self.tasks = 0   # tasks submitted
        future = client.submit(describe_task, model, self.threads, retries=self.retries, pure=False,
                               key=f"heartsearch-describe-{uuid.uuid4().hex}")
        self.name, self.dimension, self.max_tokens = self._results([future])[0]

    def _results(self, futures) -> list:
        from distributed import wait
        try:
            wait(futures, timeout=self.stall_seconds)
            return [f.result() for f in futures]
        except Exception as err:  # a timeout, an unreachable or failing cluster
            raise ClusterError(f"the Dask cluster did not answer: {err!r}") from err

    def _limit(self) -> int:
        if self.max_in_flight:
            return max(1, int(self.max_in_flight))
        return max(4, 4 * sum(self.client.nthreads().values()))

    def encode_batches(self, batches: Sequence[Sequence[str]],
                       batch_size: int = DEFAULT_TASK_SIZE) -> Iterator[tuple[int, np.ndarray]]:
        from distributed import wait

        out: dict[int, np.ndarray] = {}
        left: dict[int, int] = {}
        pieces: list[tuple[int, int, list[str]]] = []
        for i, texts in enumerate(batches):
            out[i] = np.empty((len(texts), self.dimension), dtype=np.float32)
            left[i] = 0
            for offset in range(0, len(texts), self.task_size):
                pieces.append((i, offset, list(texts[offset:offset + self.task_size])))
                left[i] += 1
        for i in [i for i, n in left.items() if n == 0]:  # empty batches
            yield i, out.pop(i)
        run = uuid.uuid4().hex[:12]
        queue = iter(range(len(pieces)))
        pending: dict = {}  # future -> piece number
        limit = self._limit()

        def submit_more() -> None:
            while len(pending) < limit:
                n = next(queue, None)
                if n is None:
                    return
                texts = pieces[n][2]
                future = self.client.submit(encode_task, texts, self.name, self.threads,
                                            retries=self.retries, pure=False, priority=-n,
                                            key=f"heartsearch-embed-{run}-{n}")
                pending[future] = n
                self.calls += len(texts)
                self.tasks += 1

        try:
            submit_more()
            while pending:
                try:
                    done, _ = wait(list(pending), timeout=self.stall_seconds, return_when="FIRST_COMPLETED")
                except TimeoutError as err:
                    raise ClusterError(f"no embedding batch finished on the Dask cluster in "
                                       f"{self.stall_seconds:.0f} s (are any workers left?)") from err
                for future in done:
                    n = pending.pop(future)
                    i, offset, texts = pieces[n]
                    try:
                        vectors = future.result()
                    except Exception as err:
                        raise ClusterError(f"an embedding batch failed on the Dask cluster after "
                                           f"{self.retries} retries: {err!r}") from err
                    if vectors.shape != (len(texts), self.dimension):
                        raise ClusterError(f"a worker returned vectors of shape {vectors.shape} for "
                                           f"{len(texts)} texts of dimension {self.dimension}")
                    out[i][offset:offset + len(texts)] = vectors
                    left[i] -= 1
                    if left[i] == 0:
                        yield i, out.pop(i)
                submit_more()
        finally:
            if pending:  # stopped early (an error, Ctrl-C): leave nothing running
                with contextlib.suppress(Exception):
                    self.client.cancel(list(pending))

    def encode(self, texts: Sequence[str], batch_size: int = DEFAULT_TASK_SIZE,
               show_progress: bool = False) -> np.ndarray:
        texts = list(texts)
        result = np.zeros((len(texts), self.dimension), dtype=np.float32)
        step = self.task_size
        batches = [texts[start:start + step] for start in range(0, len(texts), step)]
        for i, vectors in self.encode_batches(batches):
            result[i * step:i * step + len(vectors)] = vectors
        return result


# ------------------------------------------------------------------ clusters

def local_cluster(workers: int, **options):
    """A cluster of `workers` single-threaded worker processes on this
    machine, reachable on the loopback interface only."""
    from distributed import LocalCluster
    # No dashboard. The scheduler still serves a few HTTP routes (health,
    # metrics); they go on a free loopback port rather than 8787, which may
    # be taken (two clusters at once would each warn about it).
    settings = dict(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                    dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    settings.update(options)
    return LocalCluster(**settings)


@contextlib.contextmanager
def dask_client(target: str) -> Iterator:
    """A client for `target` (an address or local:N), closed afterwards
    together with any local cluster started for it."""
    from distributed import Client
    target = parse_target(target)
    cluster = client = None
    try:
        try:
            if target.startswith(LOCAL_PREFIX):
                cluster = local_cluster(int(target[len(LOCAL_PREFIX):]))
                client = Client(cluster)
            else:
                client = Client(target, timeout=CONNECT_TIMEOUT)
            client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
        except (OSError, TimeoutError) as err:
            raise ClusterError(f"cannot use the Dask cluster {target}: {err}") from err
        yield client
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()


@contextlib.contextmanager
def cluster_embedder(target: str, **options) -> Iterator[Callable[[], DaskEmbedder]]:
    """A loader for a LazyEmbedder (`build.embedder_for`): the cluster is reached (or started)
    only if something needs embedding, and closed when the block ends."""
    stack = contextlib.ExitStack()
    made: list[DaskEmbedder] = []

    def load() -> DaskEmbedder:
        if not made:
            client = stack.enter_context(dask_client(target))
            workers = client.nthreads()
            print(f"embedding on the Dask cluster {target} ({len(workers)} workers, "
                  f"{sum(workers.values())} threads)", file=sys.stderr)
            made.append(DaskEmbedder(client, **options))
        return made[0]

    with stack:
        yield load
