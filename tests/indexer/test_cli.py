"""The indexer's commands, run as an editor would run them."""
import os
import subprocess
import sys

from indexer.config import PROJECT_ROOT


def run(*args, index_dir, check=True):
    env = dict(os.environ, HEARTSEARCH_INDEX_DIR=str(index_dir), PYTHONPATH=str(PROJECT_ROOT))
    proc = subprocess.run([sys.executable, "-m", "indexer", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_help_reads_like_a_man_page(tmp_path):
    out = run("--help", index_dir=tmp_path).stdout
    for word in ("build", "add", "remove", "sync", "status", "verify", "rollback", "exit status",
                 "HEARTSEARCH_INDEX_DIR"):
        assert word in out


def test_status_and_verify_on_a_real_index(writable_index):
    status = run("status", index_dir=writable_index).stdout
    assert "all-MiniLM-L6-v2" in status and "articles:    10" in status
    assert "National Kidney Foundation" in status
    assert "ok:" in run("verify", index_dir=writable_index).stdout


def test_verify_reports_a_file_damaged_at_rest(writable_index):
    from indexer.store import IndexStore
    name = IndexStore(writable_index).current_name()
    path = writable_index / "generations" / name / "passages.sqlite"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    proc = run("verify", index_dir=writable_index, check=False)
    assert proc.returncode == 3
    assert "checksum does not match" in proc.stderr


def test_build_reports_malformed_file_and_still_publishes_the_rest(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.md").write_text("---\nid: good\ntitle: Aorta\n---\nThe aorta is the main artery.\n")
    (corpus / "bad.md").write_text("---\nid: bad\n---\nNo title here.\n")
    proc = run("build", str(corpus), index_dir=tmp_path / "idx", check=False)
    assert proc.returncode == 1
    assert f"{corpus / 'bad.md'}:1: article 'bad' has no 'title'" in proc.stderr
    assert "1 added" in proc.stdout
    strict = run("build", "--strict", str(corpus), index_dir=tmp_path / "idx2", check=False)
    assert strict.returncode == 1 and "nothing published" in strict.stderr
    assert not (tmp_path / "idx2" / "CURRENT").exists()


def test_missing_index_is_a_clear_error(tmp_path):
    proc = run("status", index_dir=tmp_path / "none", check=False)
    assert proc.returncode == 3
    assert "python -m indexer build" in proc.stderr
