"""Editors' workflow through the CLI: add, edit, remove, sync, crashes, locks."""
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import shutil

import pytest

from indexer.cli import main
from indexer.settings import PROJECT_ROOT
from indexer.faults import POINTS
from indexer.index import IndexStore

VALVE = "---\nid: {id}\ntitle: {title}\nauthor: {author}\n---\n{text}\n"


def article_file(folder: Path, article_id: str, text: str, title="About the aortic valve", author=""):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{article_id}.md"
    path.write_text(VALVE.format(id=article_id, title=title, author=author, text=text), "utf-8")
    return path


def cli(*args, index_dir):
    return main([*args, "--index-dir", str(index_dir)])


def texts(index_dir, article_id):
    return [p.text for p in IndexStore(index_dir).open_current().article_passages(article_id)]


def test_add_edit_remove_cycle(writable_index, tmp_path, embedder, capsys):
    new = article_file(tmp_path / "new", "aortic-stenosis",
                       "Aortic stenosis narrows the aortic valve opening and strains the heart.")
    calls = embedder.calls
    assert cli("add", str(new), index_dir=writable_index) == 0
    assert "1 added, 0 updated, 10 unchanged, 0 removed" in capsys.readouterr().out
    assert embedder.calls - calls == 1  # only the new passage was embedded
    assert texts(writable_index, "aortic-stenosis")[0].startswith("Aortic stenosis narrows")

    article_file(tmp_path / "new", "aortic-stenosis", "Edited: a stiff aortic valve limits blood flow.")
    assert cli("add", str(new), index_dir=writable_index) == 0
    assert "0 added, 1 updated" in capsys.readouterr().out
    assert texts(writable_index, "aortic-stenosis") == ["Edited: a stiff aortic valve limits blood flow."]

    assert cli("remove", "aortic-stenosis", index_dir=writable_index) == 0
    assert "1 removed" in capsys.readouterr().out
    assert texts(writable_index, "aortic-stenosis") == []
    assert cli("status", index_dir=writable_index) == 0
    assert "articles:    10" in capsys.readouterr().out


def test_remove_unknown_id_is_reported(writable_index, capsys):
    assert cli("remove", "no-such-article", index_dir=writable_index) == 1
    assert "no article with id 'no-such-article'" in capsys.readouterr().err


def test_sync_adds_updates_and_removes(writable_index, tmp_path, capsys):
    folder = tmp_path / "folder"
    article_file(folder, "one", "The first article is about heart murmurs.")
    article_file(folder, "two", "The second article is about palpitations.")
    assert cli("sync", str(folder), "--allow-removals", index_dir=writable_index) == 0  # 10 of 10 go
    assert "2 added, 0 updated, 0 unchanged, 10 removed" in capsys.readouterr().out
    article_file(folder, "two", "The second article now talks about fainting.")
    (folder / "one.md").unlink()
    assert cli("sync", str(folder), index_dir=writable_index) == 0
    assert "0 added, 1 updated, 0 unchanged, 1 removed" in capsys.readouterr().out


def test_a_broken_file_never_deletes_its_indexed_article(writable_index, tmp_path, capsys):
    folder = tmp_path / "folder"
    article_file(folder, "keep-me", "This article must survive a typo in its file.")
    article_file(folder, "other", "Another article.")
    assert cli("sync", str(folder), "--allow-removals", index_dir=writable_index) == 0
    capsys.readouterr()
    (folder / "keep-me.md").write_text("---\nid: keep-me\ntitle without colon\n---\ntext\n")
    assert cli("sync", str(folder), index_dir=writable_index) == 1
    captured = capsys.readouterr()
    assert "keep-me.md:3: expected 'key: value'" in captured.err
    assert "kept 1 indexed article" in captured.err
    assert texts(writable_index, "keep-me") == ["This article must survive a typo in its file."]


def test_unchanged_sync_publishes_nothing(writable_index, capsys):
    before = IndexStore(writable_index).current_name()
    assert cli("build", str(PROJECT_ROOT / "corpus"), index_dir=writable_index) == 0
    assert "nothing to publish" in capsys.readouterr().out
    assert IndexStore(writable_index).current_name() == before


def test_second_writer_fails_fast_or_waits(writable_index, tmp_path, capsys):
    new = article_file(tmp_path / "new", "pericarditis", "Pericarditis is swelling of the sac around the heart.")
    store = IndexStore(writable_index)
    with store.lock():
        assert cli("add", str(new), index_dir=writable_index) == 3
        assert "another indexer is writing" in capsys.readouterr().err

    holding = threading.Event()

    def hold_lock_for_a_second():
        with store.lock():
            holding.set()
            time.sleep(1.0)

    holder = threading.Thread(target=hold_lock_for_a_second)
    holder.start()
    holding.wait()
    assert cli("add", "--wait", "30", str(new), index_dir=writable_index) == 0
    holder.join()
    assert texts(writable_index, "pericarditis")


@pytest.mark.parametrize("point", POINTS)
def test_build_killed_at_any_point_leaves_the_live_index(writable_index, tmp_path, point):
    store = IndexStore(writable_index)
    before = store.current_name()
    folder = tmp_path / "many"
    for i in range(70):  # more than one embedding batch, so "embedding" dies mid-way
        article_file(folder, f"bulk-{i}", f"Bulk article number {i} about blood vessels and arteries.")
    env = dict(os.environ, HEARTSEARCH_KILL_AT=point, PYTHONPATH=str(PROJECT_ROOT))
    proc = subprocess.run([sys.executable, "-m", "indexer", "add", str(folder),
                           "--index-dir", str(writable_index)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr  # really killed by SIGKILL

    assert store.current_name() == before
    live = store.open_current()
    assert live.manifest["articles"] == 10
    from indexer.index.verify import verify_generation
    assert verify_generation(live) == []

    # The next writer cleans the leftovers and succeeds, reusing cached vectors.
    assert main(["add", str(folder), "--index-dir", str(writable_index)]) == 0
    assert store.open_current().manifest["articles"] == 80
    assert not [p for p in (writable_index / "generations").iterdir() if p.name.startswith(".")]


# ---------------------------------------------------------------- one-way write path (issue 14)
@pytest.fixture
def reads(monkeypatch):
    """Counts what a command reads of the live index: generations opened
    (open_current / open_generation) and full-text article reads."""
    from indexer.index import Generation
    counts = {"opened": 0, "articles": 0}
    real_current, real_named, real_articles = IndexStore.open_current, IndexStore.open_generation, \
        Generation.articles

    def open_current(self):
        counts["opened"] += 1
        return real_current(self)

    def open_generation(self, *args, **kwargs):
        counts["opened"] += 1
        return real_named(self, *args, **kwargs)

    def articles(self):
        counts["articles"] += 1
        return real_articles(self)

    monkeypatch.setattr(IndexStore, "open_current", open_current)
    monkeypatch.setattr(IndexStore, "open_generation", open_generation)
    monkeypatch.setattr(Generation, "articles", articles)
    return counts


def test_add_reads_only_what_it_changes_and_opens_the_live_generation_once(writable_index, tmp_path,
                                                                              reads, capsys):
    new = article_file(tmp_path / "new", "aortic-stenosis", "Aortic stenosis narrows the aortic valve opening.")
    assert cli("add", str(new), index_dir=writable_index) == 0
    assert "1 added, 0 updated, 10 unchanged, 0 removed" in capsys.readouterr().out
    assert reads == {"opened": 1, "articles": 0}
    live = IndexStore(writable_index).open_current()
    assert live.manifest["articles"] == 11 and len(live.manifest["segments"]) == 2  # the rest kept by reference


@pytest.mark.parametrize("command", ["remove", "sync"])
def test_remove_and_sync_open_the_live_generation_once_and_read_no_text(writable_index, tmp_path, reads,
                                                                        command, capsys):
    if command == "remove":
        argv = ["remove", "mr-answer-1"]
    else:  # a real change, so the sync publishes (an unchanged corpus would stop before any reading)
        corpus = tmp_path / "corpus"
        shutil.copytree(PROJECT_ROOT / "corpus", corpus)
        edited = next(p for p in sorted(corpus.rglob("*.md")) if p.name != "README.md")
        edited.write_text(edited.read_text("utf-8") + "\nOne more sentence about the aortic valve.\n", "utf-8")
        argv = ["sync", str(corpus)]
    assert cli(*argv, index_dir=writable_index) == 0
    out = capsys.readouterr().out
    assert ("1 removed" if command == "remove" else "1 updated") in out, out
    assert reads == {"opened": 1, "articles": 0}, out


def test_add_never_removes_even_what_left_that_file(writable_index, tmp_path, capsys):
    seed = set(IndexStore(writable_index).open_current().article_hashes())
    folder = tmp_path / "jsonl"
    folder.mkdir()
    batch = folder / "batch.jsonl"
    line = '{{"id": "{0}", "title": "About {0}", "text": "The {0} article is about heart valves."}}'
    batch.write_text("\n".join(line.format(i) for i in ("one", "two", "three")) + "\n", "utf-8")
    assert cli("add", str(batch), index_dir=writable_index) == 0
    assert "3 added, 0 updated, 10 unchanged, 0 removed" in capsys.readouterr().out
    # A file that fails to read deletes nothing of its articles.
    batch.write_text(line.format("one") + "\n{not json\n", "utf-8")
    assert cli("add", str(batch), index_dir=writable_index) == 1
    assert "0 added, 0 updated, 13 unchanged, 0 removed" in capsys.readouterr().out
    # Read cleanly without "two": add keeps it (taking away is remove or sync).
    batch.write_text(line.format("one") + "\n" + line.format("three") + "\n", "utf-8")
    assert cli("add", str(batch), index_dir=writable_index) == 0
    assert "0 added, 0 updated, 13 unchanged, 0 removed" in capsys.readouterr().out
    live = IndexStore(writable_index).open_current()
    assert sorted(set(live.article_hashes()) - seed) == ["one", "three", "two"]
