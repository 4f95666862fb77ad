"""Distributed embedding (`--dask`): a build on a 2-worker local Dask cluster
publishes what a local build publishes, survives a worker killed mid-build,
and without --dask nothing imports Dask."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from indexer.build import publish_articles
from indexer.cli import main
from indexer.settings import DEFAULT_CORPUS_DIR, PROJECT_ROOT
from indexer.embedding import BUILD_MODEL
from indexer.sources import load_corpus
from indexer.index import IndexStore

TOPICS = ["the mitral valve", "atrial fibrillation", "high blood pressure", "heart failure",
          "a heart attack", "cholesterol", "an irregular heartbeat", "the aortic valve",
          "cardiac rehabilitation", "a stroke"]
SENTENCES = [
    "Doctors look at {t} with an ultrasound scan called an echocardiogram.",
    "Many people with {t} have no symptoms for years.",
    "Shortness of breath, tiredness and swollen ankles can be signs linked to {t}.",
    "Treatment for {t} may include medicines, a procedure or surgery.",
    "Regular exercise, not smoking and a healthy diet lower the risk from {t}.",
    "Your doctor may ask about family history when checking for {t}.",
    "Some patients with {t} need blood thinners to prevent clots.",
    "Follow-up visits help to see whether {t} is getting worse.",
]


@pytest.fixture(scope="module")
def extra_corpus(tmp_path_factory) -> Path:
    """30 generated articles of 2-3 passages each, beside the shipped corpus."""
    folder = tmp_path_factory.mktemp("extra-corpus")
    for n in range(30):
        topic = TOPICS[n % len(TOPICS)]
        body = " ".join(SENTENCES[(n + i) % len(SENTENCES)].format(t=topic) for i in range(6 + n % 9))
        (folder / f"generated-{n:02d}.md").write_text(
            f"---\nid: generated-{n:02d}\ntitle: Note {n} about {topic}\nauthor: Test Writer {n}\n---\n"
            f"{body}\n\nThis is note number {n}.\n", "utf-8")
    return folder


@pytest.fixture(scope="module")
def local_index(tmp_path_factory, extra_corpus, embedder) -> Path:
    """The reference: a plain local build of the same corpus, own cache."""
    root = tmp_path_factory.mktemp("local-index")
    assert main(["build", str(DEFAULT_CORPUS_DIR), str(extra_corpus), "--index-dir", str(root)]) == 0
    return root


def _rows(root: Path) -> dict:
    store = IndexStore(root)
    generation = store.open_current()
    (segment,) = generation.segments  # a full build writes one segment
    path = segment.path / "passages.sqlite"
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {table: db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
                for table in ("articles", "passages", "vocabulary")} | {"pages": generation.manifest["pages"]}
    finally:
        db.close()


def assert_same_index(expected_root: Path, actual_root: Path) -> None:
    """Identical ids, texts and rows; vectors equal within float noise."""
    expected, actual = IndexStore(expected_root).open_current(), IndexStore(actual_root).open_current()
    try:
        for key in ("model", "dimension", "articles", "passages", "corpus_hash", "chunking", "segments"):
            assert expected.manifest[key] == actual.manifest[key], key
        assert expected.name == actual.name
        assert _rows(expected_root) == _rows(actual_root)
        np.testing.assert_allclose(actual.vectors(), expected.vectors(), atol=1e-5, rtol=0)
        actual_articles, expected_articles = actual.segments[0].article_index, expected.segments[0].article_index
        np.testing.assert_allclose(actual_articles.reconstruct_n(0, actual_articles.ntotal),
                                   expected_articles.reconstruct_n(0, expected_articles.ntotal),
                                   atol=1e-5, rtol=0)
    finally:
        expected.close()
        actual.close()


def test_dask_local_cluster_build_equals_local_build(local_index, extra_corpus, tmp_path, capsys):
    root = tmp_path / "dask-index"
    assert main(["build", str(DEFAULT_CORPUS_DIR), str(extra_corpus), "--dask", "local:2",
                 "--index-dir", str(root)]) == 0
    err = capsys.readouterr().err
    assert "Dask cluster local:2 (2 workers" in err
    assert_same_index(local_index, root)
    assert IndexStore(local_index).current_name() == "gen-000001"
    assert len(_rows(root)["passages"]) > 60  # a real corpus, many batches' worth of work


def test_build_completes_when_a_worker_is_killed_mid_build(local_index, extra_corpus, tmp_path):
    from distributed import Client

    from indexer.distributed import DaskEmbedder, local_cluster

    corpus = load_corpus([DEFAULT_CORPUS_DIR, extra_corpus])
    assert not corpus.errors
    cluster = local_cluster(2)
    try:
        with Client(cluster) as client:
            client.wait_for_workers(2, timeout=120)
            assert client.scheduler.address.startswith("tcp://127.0.0.1:")  # loopback only
            assert all(address.startswith("tcp://127.0.0.1:") for address in client.nthreads())
            # Tiny tasks, few in flight: the build is many tasks long.
            # The model the CLI built local_index with (a new index: BUILD_MODEL).
            remote = DaskEmbedder(client, model=BUILD_MODEL, task_size=4, max_in_flight=4, stall_seconds=180)
            pids = client.run(os.getpid)
            killed = []

            class KillAWorkerOnFirstResult:
                name, dimension, max_tokens = remote.name, remote.dimension, remote.max_tokens

                def encode(self, texts, batch_size=32, show_progress=False):
                    return remote.encode(texts, batch_size)

                def encode_batches(self, batches, batch_size=64):
                    for item in remote.encode_batches(batches, batch_size):
                        if not killed:  # results are streaming in: kill a worker now
                            address, pid = sorted(pids.items())[0]
                            os.kill(pid, signal.SIGKILL)
                            killed.append((address, pid, remote.tasks))
                        yield item

            store = IndexStore(tmp_path / "killed-index")
            with store.lock():
                report = publish_articles(store, corpus.articles, corpus.pages, KillAWorkerOnFirstResult())
            assert report.published
            assert killed, "no worker was killed"
            tasks_when_killed = killed[0][2]
            assert tasks_when_killed < remote.tasks  # the kill came mid-build, not after it
            assert killed[0][1] not in client.run(os.getpid).values()  # that process is gone
    finally:
        cluster.close()
    assert_same_index(local_index, tmp_path / "killed-index")


def test_without_dask_nothing_imports_dask(writable_index, tmp_path):
    probe = tmp_path / "probe.md"
    probe.write_text("---\nid: no-dask-probe\ntitle: Probe\n---\nThe pulmonary valve opens to the lungs.\n")
    code = (
        "import sys, json\n"
        "from indexer.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "after_help = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
        f"rc = main(['add', {str(probe)!r}, '--index-dir', {str(writable_index)!r}])\n"
        "after_build = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
        "print(json.dumps([rc, after_help, after_build]))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            timeout=300, env=dict(os.environ, PYTHONPATH=str(PROJECT_ROOT)))
    assert result.returncode == 0, result.stderr
    rc, after_help, after_build = json.loads(result.stdout.strip().splitlines()[-1])
    assert (rc, after_help, after_build) == (0, [], [])
    assert "1 added" in result.stdout  # the build really embedded something


@pytest.mark.parametrize("value", ["local:0", "local:x", "not an address", "tcp://"])
def test_bad_dask_target_is_a_usage_error(value, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["build", str(DEFAULT_CORPUS_DIR), "--dask", value, "--index-dir", str(tmp_path)])
    assert exit_.value.code == 2
    assert "--dask" in capsys.readouterr().err
