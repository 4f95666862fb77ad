"""The indexer's commands, run as an editor would run them."""
import os
import subprocess
import sys

import pytest

from indexer.settings import PROJECT_ROOT


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
    assert "segments:    1" in status and "exact (flat inner product)" in status
    assert "National Kidney Foundation" in status
    assert "ok:" in run("verify", index_dir=writable_index).stdout


def test_verify_reports_a_file_damaged_at_rest(writable_index):
    from tests.index_files import live_segment_file
    path = live_segment_file(writable_index, "passages.sqlite")
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    proc = run("verify", index_dir=writable_index, check=False)
    assert proc.returncode == 3
    assert "checksum does not match" in proc.stderr


@pytest.mark.heavy  # builds an index in a child process: the model
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


# ---------------------------------------------------------------- --model / HEARTSEARCH_MODEL
def _two_articles(folder):
    folder.mkdir()
    (folder / "aorta.md").write_text("---\nid: aorta\ntitle: Aorta\n---\nThe aorta is the main artery.\n")
    (folder / "valve.md").write_text("---\nid: valve\ntitle: Leaky valve\n---\nA leaky heart valve lets "
                                     "blood flow backwards.\n")
    return folder


def _live_model(index_dir):
    from indexer.index import IndexStore
    live = IndexStore(index_dir).open_current()
    try:
        return live.model
    finally:
        live.close()


@pytest.mark.heavy  # builds an index in a child process: the model
def test_new_index_gets_the_build_model_and_edits_keep_the_live_model(tmp_path):
    from indexer.embedding import BUILD_MODEL, FP32_MODEL, MODELS
    other = next(m for m in MODELS if m != BUILD_MODEL)
    corpus, index = _two_articles(tmp_path / "corpus"), tmp_path / "idx"
    assert "--model" in run("build", "--help", index_dir=index).stdout
    built = run("build", str(corpus), index_dir=index)
    assert "2 added" in built.stdout and _live_model(index) == BUILD_MODEL
    assert BUILD_MODEL in run("status", index_dir=index).stdout
    # Without --model an edit keeps the live index's model: only the new text is embedded.
    (corpus / "extra.md").write_text("---\nid: extra\ntitle: Heart murmur\n---\nA whooshing sound.\n")
    synced = run("sync", str(corpus), index_dir=index)
    assert "1 added" in synced.stdout and "2 reused)" in synced.stdout, synced.stdout
    assert _live_model(index) == BUILD_MODEL
    # Another model re-embeds everything although no article changed; then that model is kept.
    switched = run("build", str(corpus), "--model", other, index_dir=index)
    assert "0 added" in switched.stdout and "0 reused); published" in switched.stdout, switched.stdout
    assert _live_model(index) == other
    assert "nothing to publish" in run("build", str(corpus), "--model", other, index_dir=index).stdout
    assert "nothing to publish" in run("build", str(corpus), index_dir=index).stdout
    (corpus / "later.md").write_text("---\nid: later\ntitle: Aortic valve\n---\nIt opens and closes.\n")
    run("add", str(corpus / "later.md"), index_dir=index)
    assert _live_model(index) == other
    assert FP32_MODEL in MODELS


@pytest.mark.heavy  # builds an index in a child process: the model
def test_model_from_the_environment_and_the_flag_wins(tmp_path, monkeypatch):
    from indexer.embedding import BUILD_MODEL, MODELS
    other = next(m for m in MODELS if m != BUILD_MODEL)
    corpus, index = _two_articles(tmp_path / "corpus"), tmp_path / "idx"
    monkeypatch.setenv("HEARTSEARCH_MODEL", other)
    run("add", str(corpus / "aorta.md"), index_dir=index)
    assert _live_model(index) == other
    run("add", str(corpus / "valve.md"), "--model", BUILD_MODEL, index_dir=index)
    assert _live_model(index) == BUILD_MODEL
    monkeypatch.setenv("HEARTSEARCH_MODEL", "all-MiniLM-L12-v2")
    proc = run("build", str(corpus), index_dir=index, check=False)
    assert proc.returncode == 2 and "HEARTSEARCH_MODEL must be one of" in proc.stderr
    assert _live_model(index) == BUILD_MODEL


def test_unknown_model_is_a_usage_error(tmp_path):
    corpus = _two_articles(tmp_path / "corpus")
    proc = run("build", str(corpus), "--model", "all-MiniLM-L12-v2", index_dir=tmp_path / "idx", check=False)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
    assert not (tmp_path / "idx" / "CURRENT").exists()


def test_help_documents_the_refusals_and_their_exit_codes(tmp_path):
    top = run("--help", index_dir=tmp_path).stdout
    assert "--allow-removals" in top and "141" in top and "more than half" in top
    for command in ("build", "sync"):
        assert "--allow-removals" in run(command, "--help", index_dir=tmp_path).stdout
    assert "remove" in run("remove", "--help", index_dir=tmp_path).stdout


def test_remove_on_a_missing_index_creates_nothing(tmp_path):
    proc = run("remove", "mr-answer-1", index_dir=tmp_path / "none", check=False)
    assert proc.returncode == 3 and "no index at" in proc.stderr
    assert not (tmp_path / "none").exists()


# ---------------------------------------------------------------- eval lives in search_app (issue 14)
def test_eval_moved_to_search_app_and_says_so(tmp_path):
    proc = run("eval", "--queries", "q.jsonl", index_dir=tmp_path, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "python -m search_app.evaluation" in proc.stderr
    commands = run("--help", index_dir=tmp_path).stdout.split("positional arguments:")[1].split("options:")[0]
    assert "build" in commands and "eval" not in commands
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    moved = subprocess.run([sys.executable, "-m", "search_app.evaluation", "--index-dir", str(tmp_path),
                            "--queries", str(tmp_path / "none.jsonl")], cwd=PROJECT_ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    assert moved.returncode == 2 and "no query set at" in moved.stderr, moved.stderr


def test_status_counts_what_the_import_repaired(writable_index, tmp_path):
    page = tmp_path / "mvp.md"  # scraping leftovers of NHLBI-0000091-1
    page.write_text("---\nid: mvp-glued\ntitle: Mitral Valve Prolapse\n---\nEspaol\n\n"
                    "This can lead topalpitations.\n\nNormal Mitral Valve\n\nThe mitral valve controls blood flow.\n")
    run("add", str(page), index_dir=writable_index)
    status = run("status", index_dir=writable_index).stdout
    assert "repairs:     1 articles repaired, 1 with their text changed" in status
    for line in ("     1  furniture", "     1  glued", "     1  heading"):
        assert line in status


def test_an_index_of_the_old_format_is_refused_clearly_and_rebuilt_by_build(writable_index):
    import json
    name = (writable_index / "CURRENT").read_text().split()[0]
    manifest = writable_index / "generations" / name / "manifest.json"
    old = json.loads(manifest.read_text())
    old["format_version"] = 4
    manifest.write_text(json.dumps(old))
    refused = run("status", index_dir=writable_index, check=False)
    assert refused.returncode == 3 and "has format 4" in refused.stderr and "python -m indexer build" in refused.stderr
    rebuilt = run("build", str(PROJECT_ROOT / "corpus"), index_dir=writable_index)
    assert "building a complete new generation" in rebuilt.stderr and "10 added" in rebuilt.stdout
    assert "articles:    10" in run("status", index_dir=writable_index).stdout


def test_add_of_an_empty_folder_says_so_and_publishes_nothing(writable_index, tmp_path):
    before = (writable_index / "CURRENT").read_text()
    empty = tmp_path / "new-articles"
    empty.mkdir()
    proc = run("add", str(empty), index_dir=writable_index, check=False)
    assert proc.returncode == 2 and f"{empty}: no article file here" in proc.stderr
    assert (writable_index / "CURRENT").read_text() == before
