"""Faults around the index folder: read-only, full disk, files damaged
before the switch or at rest. The live generation always keeps serving, the
errors say what happened, and no article is lost."""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from indexer.cli import main
from indexer.settings import PROJECT_ROOT
from indexer.index import GenerationWriter, IndexCorrupt, IndexStore
from tests.index_files import live_segment_file

ARTICLE = "---\nid: {id}\ntitle: {title}\n---\n{text}\n"


def write_article(folder: Path, article_id: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{article_id}.md"
    path.write_text(ARTICLE.format(id=article_id, title=f"About {article_id}", text=text), "utf-8")
    return path


def indexer_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    env.pop("HEARTSEARCH_KILL_AT", None)
    return subprocess.run([sys.executable, "-m", "indexer", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=PROJECT_ROOT)


def hashes(index_dir: Path) -> dict:
    generation = IndexStore(index_dir).open_current()
    try:
        return generation.article_hashes()
    finally:
        generation.close()  # an open file would keep a test mount busy


def lost(before: dict, index_dir: Path) -> int:
    after = hashes(index_dir)
    return sum(1 for a, h in before.items() if after.get(a) != h)


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=30)


@contextlib.contextmanager
def read_only_bind(path: Path):
    """`path` made read-only by a read-only bind mount onto itself (root
    ignores file modes, so chmod would not stop writes)."""
    try:
        _run("mount", "--bind", str(path), str(path))
    except (subprocess.CalledProcessError, FileNotFoundError, OSError) as err:
        pytest.skip(f"cannot bind-mount here ({getattr(err, 'stderr', err)}); read-only scenario skipped")
    try:
        try:
            _run("mount", "-o", "remount,ro,bind", str(path))
        except subprocess.CalledProcessError as err:
            pytest.skip(f"cannot remount read-only ({err.stderr.strip()}); read-only scenario skipped")
        yield path
    finally:
        if subprocess.run(["umount", str(path)], capture_output=True, timeout=30).returncode:
            subprocess.run(["umount", "--lazy", str(path)], capture_output=True, timeout=30)


@contextlib.contextmanager
def small_tmpfs(size: str = "64m"):
    mount_point = Path(tempfile.mkdtemp(prefix="heartsearch-tmpfs-"))
    try:
        try:
            _run("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point))
        except (subprocess.CalledProcessError, FileNotFoundError, OSError) as err:
            pytest.skip(f"cannot mount a tmpfs here ({getattr(err, 'stderr', err)}); full-disk scenario skipped")
        try:
            yield mount_point
        finally:
            if subprocess.run(["umount", str(mount_point)], capture_output=True, timeout=30).returncode:
                subprocess.run(["umount", "--lazy", str(mount_point)], capture_output=True, timeout=30)
    finally:
        with contextlib.suppress(OSError):
            mount_point.rmdir()


def fill(folder: Path, leave_free: int) -> Path:
    """Take all but `leave_free` bytes of the file system holding `folder`."""
    filler = folder / "filler.bin"
    with contextlib.suppress(FileNotFoundError):
        filler.unlink()
    free = shutil.disk_usage(folder).free
    with open(filler, "wb") as fh:
        os.posix_fallocate(fh.fileno(), 0, max(0, free - leave_free))
    return filler


def test_read_only_index_folder(writable_index, tmp_path, scorecard, capsys):
    new = write_article(tmp_path / "new", "ro-probe", "An article about the pulmonary valve.")
    before_current = IndexStore(writable_index).current_name()
    before = hashes(writable_index)
    failures = []
    commands = [["add", str(new)], ["remove", "mr-answer-2"], ["build", str(PROJECT_ROOT / "corpus"), "--force"],
                ["rollback"]]
    with read_only_bind(writable_index):
        for command in commands:
            status = main([*command, "--index-dir", str(writable_index)])
            err = capsys.readouterr().err
            if status != 3 or "Read-only file system" not in err or "unchanged" not in err or "Traceback" in err:
                failures.append(f"{command[0]}: exit {status}, {err.strip()[:200]!r}")
        if IndexStore(writable_index).current_name() != before_current:
            failures.append("CURRENT changed")
        if main(["verify", "--index-dir", str(writable_index)]) != 0:
            failures.append("verify not clean on the read-only index")
        capsys.readouterr()
        from search_app import create_app  # readers need no write access
        from search_app.config import Config
        from indexer.embedding import load_embedder
        client = create_app(Config(index_dir=writable_index), embedder=load_embedder()).test_client()
        if client.get("/api/v1/search?q=leaky+valve").status_code != 200:
            failures.append("the app cannot serve a read-only index")
    n_lost = lost(before, writable_index)
    scorecard.add("read-only index dir", "add/remove/build/rollback on a read-only bind mount; verify; serve",
                  len(commands) + 2, len(failures), n_lost)
    assert failures == [] and n_lost == 0, failures


def _long_article_primed(folder: Path, index: Path, embedder) -> Path:
    """An article of ~60 passages whose vectors are already in the index's
    embedding cache: adding it needs no cache growth, only a new segment
    (~0.3 MB), which 100 KB of free space cannot hold."""
    from indexer.build import embed_texts
    from indexer.chunking import chunk_article
    from indexer.models import article_embed_text
    from indexer.sources import load_corpus
    sentences = [f"Finding {n} in this long review concerns the aortic valve, stenosis grade {n % 4} and "
                 f"the follow-up interval of {n % 12 + 1} months." for n in range(300)]
    path = write_article(folder, "disk-probe-long", " ".join(sentences))
    (article,) = load_corpus([path]).articles
    texts = [p.embed_text for p in chunk_article(article)] + [article_embed_text(article)]
    embed_texts(texts, embedder, IndexStore(index))
    return path


def test_full_disk(seed_index_dir, tmp_path, scorecard, embedder):
    new = write_article(tmp_path / "new", "disk-probe", "A new article about aortic stenosis and the aortic valve.")
    failures, attempts = [], 0
    with small_tmpfs("64m") as disk:
        index = disk / "index"
        shutil.copytree(seed_index_dir, index)
        long_article = _long_article_primed(tmp_path / "long", index, embedder)
        before, before_current = hashes(index), IndexStore(index).current_name()
        # 0 bytes: the embedding cache cannot grow; 100 KB: the new segment cannot be written.
        for leave, article in ((0, new), (100_000, long_article)):
            filler = fill(disk, leave)
            attempts += 1
            proc = indexer_cli("add", str(article), "--index-dir", str(index))
            if proc.returncode != 3 or "No space left on device" not in proc.stderr or "Traceback" in proc.stderr:
                failures.append(f"{leave} bytes free: exit {proc.returncode}: {proc.stderr.strip()[-300:]!r}")
            if IndexStore(index).current_name() != before_current:
                failures.append(f"{leave} bytes free: CURRENT changed")
            verify = indexer_cli("verify", "--index-dir", str(index))
            if verify.returncode != 0:
                failures.append(f"{leave} bytes free: verify {verify.returncode}: {verify.stderr.strip()[-200:]}")
            filler.unlink()
        # Space back: the next run cleans up and succeeds.
        attempts += 1
        proc = indexer_cli("add", str(new), "--index-dir", str(index))
        if proc.returncode != 0 or "disk-probe" not in hashes(index):
            failures.append(f"after freeing space: exit {proc.returncode}: {proc.stderr.strip()[-300:]!r}")
        if [p.name for p in (index / "generations").iterdir() if p.name.startswith(".")]:
            failures.append("staging leftovers after the successful run")
        n_lost = lost(before, index)
    scorecard.add("full disk", "64 MB tmpfs filled to 0 B / 100 KB free; add; verify; free; add again",
                  attempts, len(failures), n_lost)
    assert failures == [] and n_lost == 0, failures


@pytest.mark.parametrize("filename", ["vectors.faiss", "articles.faiss", "passages.sqlite", "lexical.npz"])
def test_damaged_new_generation_is_refused_before_the_switch(writable_index, embedder, monkeypatch, filename,
                                                             scorecard):
    from indexer.build import publish_articles
    from indexer.models import Article
    store = IndexStore(writable_index)
    before_current, before = store.current_name(), hashes(writable_index)
    original = GenerationWriter.finish

    def write_then_damage(self, *args, **kwargs):
        manifest = original(self, *args, **kwargs)
        path = self.new_segments[-1] / filename
        data = bytearray(path.read_bytes())
        data[len(data) * 2 // 3] ^= 0x55  # one flipped byte, as a bad disk or a stray write would do
        path.write_bytes(bytes(data))
        return manifest

    monkeypatch.setattr(GenerationWriter, "finish", write_then_damage)
    live = store.open_current()
    extra = Article(id="damage-probe", title="Probe", text="An article about the tricuspid valve.")
    failures = []
    with store.lock():
        try:
            publish_articles(store, live.articles() + [extra], live.pages(), embedder)
            failures.append("damaged generation was published")
        except IndexCorrupt as err:
            if "refused" not in str(err) or filename not in str(err):
                failures.append(f"unclear message: {err}")
    if store.current_name() != before_current:
        failures.append("CURRENT changed")
    if [p for p in (writable_index / "generations").iterdir() if p.name.startswith(".")]:
        failures.append("staging folder left behind")
    if main(["verify", "--index-dir", str(writable_index)]) != 0:
        failures.append("verify not clean")
    n_lost = lost(before, writable_index)
    scorecard.add(f"damaged new {filename}", "one byte flipped after writing, before the switch", 1,
                  len(failures), n_lost)
    assert failures == [] and n_lost == 0, failures


@pytest.mark.parametrize("filename", ["vectors.faiss", "passages.sqlite", "manifest.json"])
def test_damaged_at_rest(writable_index, embedder, tmp_path, filename, scorecard, capsys):
    """verify names the damage; the app serves the last good generation, or
    refuses to start with a clear message when none is good."""
    from search_app import create_app
    from search_app.config import Config
    store = IndexStore(writable_index)
    first = store.current_name()
    new = write_article(tmp_path / "new", "rest-probe", "An article about the aortic root.")
    assert main(["add", str(new), "--index-dir", str(writable_index)]) == 0
    second = store.current_name()
    failures = []

    def damage(name):
        path = writable_index / "generations" / name / filename if filename == "manifest.json" \
            else live_segment_file(writable_index, filename, name)
        data = bytearray(path.read_bytes())
        if filename == "manifest.json":  # cut short, as a crash mid-copy would leave it
            data = data[:len(data) // 2]
        else:
            data[len(data) // 2] ^= 0x55
        path.write_bytes(bytes(data))

    damage(second)
    capsys.readouterr()
    status = main(["verify", "--index-dir", str(writable_index)])
    err = capsys.readouterr().err
    if status != 3 or (filename not in err and "manifest" not in err):
        failures.append(f"verify exit {status}: {err.strip()[:200]!r}")
    app = create_app(Config(index_dir=writable_index), embedder=embedder)
    response = app.test_client().get("/api/v1/search?q=leaky+valve")
    if response.status_code != 200 or response.get_json()["generation"] != first:
        failures.append(f"not serving the last good generation: {response.status_code}")
    damage(first)
    try:
        create_app(Config(index_dir=writable_index), embedder=embedder)
        failures.append("started with no intact generation")
    except IndexCorrupt as err:
        if "no earlier generation is intact" not in str(err):
            failures.append(f"unclear refusal: {err}")
    scorecard.add(f"damaged at rest: {filename}", ("cut short" if filename == "manifest.json" else "byte flipped") + " in live gen: verify, fallback serving, "
                  "refusal with none intact", 3, len(failures), 0,
                  notes="damage is on disk by design; nothing lost by the software")
    assert failures == [], failures


def test_server_refuses_to_start_with_no_intact_generation(writable_index, scorecard):
    """`python -m search_app` exits 3 with a message naming the fix, no traceback."""
    path = live_segment_file(writable_index, "vectors.faiss")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x55
    path.write_bytes(bytes(data))
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), HEARTSEARCH_INDEX_DIR=str(writable_index))
    proc = subprocess.run([sys.executable, "-m", "search_app", "--host", "127.0.0.1", "--port", "1"], env=env,
                          capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT)
    ok = proc.returncode == 3 and "cannot start" in proc.stderr and "python -m indexer build" in proc.stderr \
        and "Traceback" not in proc.stderr
    scorecard.add("start with no good generation", "python -m search_app on a damaged-only index", 1, int(not ok), 0)
    assert ok, (proc.returncode, proc.stderr[-500:])


def as_nobody(*args: str) -> subprocess.CompletedProcess:
    """The indexer run as an unprivileged user (root ignores file modes)."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv not found; permissions scenario skipped")
    from indexer.embedding.export import default_cache_dir  # the model export the session already made
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), HOME="/tmp",
               HEARTSEARCH_MODEL_CACHE=str(default_cache_dir()))
    env.pop("HEARTSEARCH_KILL_AT", None)
    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           sys.executable, "-m", "indexer", *args], env=env, capture_output=True, text=True,
                          timeout=300, cwd="/")


def test_folder_not_writable_by_permissions(seed_index_dir, scorecard):
    """A folder the user may not write is reported as a permissions problem
    with that fix, not as a read-only file system or a full disk."""
    if os.getuid() != 0:
        pytest.skip("needs root to run a command as another user")
    shared = Path(tempfile.mkdtemp(prefix="heartsearch-perm-"))
    try:
        os.chmod(shared, 0o755)
        index = shared / "index"
        shutil.copytree(seed_index_dir, index)
        for folder, _, _ in os.walk(index):  # readable by anyone (pytest's folders are private), writable by root
            os.chmod(folder, 0o755)
        before = hashes(index)
        failures = []
        new = write_article(shared / "new", "perm-probe", "An article about the tricuspid valve.")
        commands = {"lock refused": ("remove", "mr-answer-2"),  # the lock file itself is not writable
                    "folder refused": ("add", str(new))}         # lock taken; the embedding cache is refused
        for what, command in commands.items():
            if what == "folder refused":
                (index / ".lock").touch()
                os.chown(index / ".lock", 65534, 65534)
            result = as_nobody(*command, "--index-dir", str(index))
            err = result.stderr
            if result.returncode != 3 or "Permission denied" not in err or "unchanged" not in err \
                    or "Read-only file system" in err or "free some space" in err.lower() or "Traceback" in err:
                failures.append(f"{what}: exit {result.returncode}, {err.strip()[:300]!r}")
        n_lost = lost(before, index)
    finally:
        shutil.rmtree(shared, ignore_errors=True)
    scorecard.add("folder not writable (permissions)", "remove/add as another user: lock refused; folder refused",
                  len(commands), len(failures), n_lost)
    assert failures == [] and n_lost == 0, failures
