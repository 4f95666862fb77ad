"""Several worker processes behind one port (`python -m search_app` with
HEARTSEARCH_WORKERS=2): the app is built once and forked, and each worker
must really serve on its own: connections spread over both, each answers
ready, each follows a newly published generation (a reload is checked per
process, on its requests: nothing started before the fork is relied on),
and SIGTERM drains the requests in flight in every one of them.

Which worker answered is read from the access log, whose lines carry the
process id: a request sends its own X-Request-ID and the log names it."""
from __future__ import annotations

import gc
import json
import os
import re
import signal
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from indexer.cli import main
from indexer.index import IndexStore
from tests.reliability.test_server import Held, _output_of, _raw_get, finish_all_and_wait
from tests.servers import server_process

ACCESS = re.compile(r"\[(\d+)\] heartsearch\.access: (\w+) (\S+) (\d{3}) [\d.]+ms id=(\w+)")
PROBE = "---\nid: worker-probe\ntitle: Probe about the aortic arch\n---\n{text}\n"
PROBE_QUERY = "aortic arch probe"


def _workers(master: int) -> set[int]:
    """The master's child processes: granian's workers."""
    return {int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()}


def _get(url: str, timeout: float = 30) -> tuple[int, str, bytes]:
    """Status, the request id sent, and the body; a new connection each time,
    so the kernel (SO_REUSEPORT) picks a worker each time."""
    request_id = uuid.uuid4().hex
    request = urllib.request.Request(url, headers={"X-Request-ID": request_id})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, request_id, response.read()
    except urllib.error.HTTPError as err:
        return err.code, request_id, err.read()


def _answered_by(output) -> dict[str, int]:
    """Request id -> the pid that logged its access line, over the whole log."""
    output.seek(0)
    return {match[5]: int(match[1]) for match in ACCESS.finditer(output.read())}


def _pids_of(output, request_ids, deadline_s: float = 10) -> dict[str, int]:
    """The pid of each request id, waiting (bounded) for lines still being written."""
    deadline = time.monotonic() + deadline_s
    while True:
        answered = _answered_by(output)
        if all(r in answered for r in request_ids) or time.monotonic() > deadline:
            return {r: answered.get(r) for r in request_ids}
        time.sleep(0.1)


def test_requests_spread_over_both_workers_and_each_is_ready(seed_index_dir):
    with server_process(seed_index_dir, HEARTSEARCH_WORKERS="2", HEARTSEARCH_RATE_LIMIT="0") as (base, proc):
        output = _output_of(proc)
        workers = _workers(proc.pid)
        assert len(workers) == 2, workers
        ready, searches = [], []
        query = "/api/v1/search?" + urllib.parse.urlencode({"q": "leaky heart valve", "k": 3})
        for _ in range(20):
            ready.append(_get(base + "/api/v1/ready"))
            searches.append(_get(base + query))
        pids = _pids_of(output, [r for _, r, _ in ready + searches])
        output.close()

    assert [status for status, _, _ in ready + searches] == [200] * 40
    ready_by = {pids[r] for _, r, _ in ready}
    search_by = {pids[r] for _, r, _ in searches}
    assert ready_by == workers, f"ready answered by {ready_by}, workers {workers}"  # the master serves nothing
    assert search_by == workers, f"searches answered by {search_by}, workers {workers}"
    generations = {json.loads(body)["generation"] for _, _, body in ready}
    assert len(generations) == 1  # every worker serves the one live generation


def test_every_worker_serves_a_freshly_published_article(writable_index, tmp_path):
    probe = tmp_path / "probe.md"
    with server_process(writable_index, HEARTSEARCH_WORKERS="2", HEARTSEARCH_RATE_LIMIT="0",
                        HEARTSEARCH_RELOAD_INTERVAL="0.3") as (base, proc):
        output = _output_of(proc)
        workers = _workers(proc.pid)
        url = base + "/api/v1/search?" + urllib.parse.urlencode({"q": PROBE_QUERY, "k": 5})
        before = [_get(url) for _ in range(10)]  # both workers have served the old generation
        old = {json.loads(body)["generation"] for _, _, body in before}

        probe.write_text(PROBE.format(text="The aortic arch curves over the heart and sends blood to the head "
                                           "and arms; this probe was published while the server ran."))
        assert main(["add", str(probe), "--index-dir", str(writable_index)]) == 0
        new = IndexStore(writable_index).current_name()

        seen: dict[int, list[tuple[str, bool]]] = {pid: [] for pid in workers}  # pid -> (generation, has probe)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(
                any(g == new and found for g, found in answers) for answers in seen.values()):
            status, request_id, body = _get(url)
            assert status == 200, body[:300]
            pid = _pids_of(output, [request_id])[request_id]
            answer = json.loads(body)
            found = any(r["article"]["id"] == "worker-probe" for r in answer["results"])
            seen.setdefault(pid, []).append((answer["generation"], found))
        output.close()

    assert old != {new} and len(old) == 1
    assert set(seen) == workers, f"answers from {set(seen)}, workers {workers}"
    for pid, answers in seen.items():
        assert any(g == new and found for g, found in answers), f"worker {pid} never served the probe: {answers}"
        first_new = next(i for i, (g, _) in enumerate(answers) if g == new)
        assert all(g == new and found for g, found in answers[first_new:]), \
            f"worker {pid} went back to the old generation or lost the probe: {answers}"


def test_sigterm_drains_requests_in_flight_in_every_worker(seed_index_dir):
    """24 requests held with their last byte unsent across the two workers
    (the kernel spreads connections; 24 all landing on one worker would be
    a 1 in 8 million chance): after SIGTERM every one is answered in full,
    both workers answered some, and the server exits 0."""
    drain = 20.0
    with server_process(seed_index_dir, HEARTSEARCH_WORKERS="2", HEARTSEARCH_RATE_LIMIT="0",
                        HEARTSEARCH_DRAIN_SECONDS=str(drain)) as (base, proc):
        output = _output_of(proc)
        workers = _workers(proc.pid)
        port = int(base.rsplit(":", 1)[1])
        path = "/api/v1/search?" + urllib.parse.urlencode({"q": "chest pain when climbing stairs", "k": 10})
        ids = [uuid.uuid4().hex for _ in range(24)]
        raw = _raw_get(path)  # ends with the blank line; each gets its own request id before it
        held = [Held(port, "api", "GET", raw[:-2] + f"X-Request-ID: {i}\r\n\r\n".encode(), keep=1) for i in ids]
        assert _get(base + "/api/v1/health")[0] == 200  # the held ones have been read by now

        proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        still_running = proc.poll() is None
        exit_code = finish_all_and_wait(held, proc, drain + 10)
        pids = _pids_of(output, ids, deadline_s=2)
        output.seek(0)
        log = output.read()
        output.close()

    assert still_running, "the server exited before the requests in flight were finished"
    assert [(h.status, h.error) for h in held] == [(200, "")] * len(held)
    assert all(json.loads(h.body)["results"] for h in held)
    assert set(pids.values()) == workers, f"held requests answered by {set(pids.values())}, workers {workers}"
    assert exit_code == 0
    assert "stopped after SIGTERM: every request in progress was answered" in log


def _sqlite_fds(under: Path) -> dict[str, str]:
    """This process's open SQLite files below `under`: fd number -> path
    (other tests' segments, their folders since removed, may be open too)."""
    found = {}
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:
            continue
        if target.endswith(".sqlite") and target.startswith(str(under.resolve())):
            found[fd.name] = target
    return found


def test_a_forked_worker_reads_through_sqlite_connections_of_its_own(seed_index_dir):
    """SQLite forbids using a connection across fork(): the child must open
    its own connections (new file descriptors), close the inherited ones
    (not one more file per segment in every worker) and read through them."""
    generation = IndexStore(seed_index_dir).open_current()
    try:
        gc.collect()  # connections of segments no longer open (the fixture's publish) wait for a collection
        parent_files = _sqlite_fds(seed_index_dir)
        ids = [1, 2, 3]
        expected = {pid: record.text for pid, record in generation.passages(ids).items()}
        read_end, write_end = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - the child reports through the pipe and never returns
            try:
                report = {"files": _sqlite_fds(seed_index_dir),
                          "texts": {str(k): v.text for k, v in generation.passages(ids).items()}}
            except BaseException as err:
                report = {"error": repr(err)}
            os.write(write_end, json.dumps(report).encode())
            os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            report = json.loads(pipe.read())
        os.waitpid(child, 0)
    finally:
        generation.close()
    assert "error" not in report, report
    assert parent_files
    assert sorted(report["files"].values()) == sorted(parent_files.values())  # the same files, once each
    assert not set(report["files"]) & set(parent_files), (report["files"], parent_files)  # on descriptors of its own
    assert report["texts"] == {str(k): v for k, v in expected.items()}
