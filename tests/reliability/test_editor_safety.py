"""A careless editor cannot hurt readers (issue 13, items 1, 2 and 5): a
mistyped or empty source publishes nothing, a build that would remove most of
the site needs an explicit flag, page files (disclaimers) follow the ordinary
commands, and attribution cannot be visually falsified with control or
bidirectional characters. Every scenario runs the real CLI on a real index."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from indexer.cli import main
from indexer.config import DEFAULT_CORPUS_DIR, PROJECT_ROOT
from indexer.store import IndexStore

PAGE_ID = "what-is-mitral-regurgitation"


def cli(*args, index_dir) -> int:
    return main([*args, "--index-dir", str(index_dir)])


def snapshot(index_dir) -> dict:
    live = IndexStore(index_dir).open_current()
    try:
        return live.article_hashes()
    finally:
        live.close()


def live_pages(index_dir) -> dict:
    live = IndexStore(index_dir).open_current()
    try:
        return {p.id: p for p in live.pages()}
    finally:
        live.close()


def segment_names(index_dir) -> list[str]:
    live = IndexStore(index_dir).open_current()
    try:
        return [s["name"] for s in live.manifest["segments"]]
    finally:
        live.close()


def lost(before: dict, index_dir) -> int:
    after = snapshot(index_dir)
    return sum(1 for a in before if a not in after)


def corpus_copy(tmp_path):
    target = tmp_path / "corpus"
    shutil.copytree(DEFAULT_CORPUS_DIR, target)
    return target


def md(folder, name, article_id, text, extra=""):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"---\nid: {article_id}\ntitle: About {article_id}\n{extra}---\n{text}\n", "utf-8")
    return path


# ------------------------------------------------------------------ item 1
def _refused(argv, index_dir, capsys, must_say, failures, label):
    """Run a command that must publish nothing and exit 2 naming `must_say`."""
    before = IndexStore(index_dir).current_name()
    status = cli(*argv, index_dir=index_dir)
    err = capsys.readouterr().err
    if status != 2:
        failures.append(f"{label}: exit {status}, expected 2 ({err.strip()[-200:]})")
    for words in must_say:
        if words not in err:
            failures.append(f"{label}: {words!r} not in the message {err.strip()[-300:]!r}")
    if IndexStore(index_dir).current_name() != before:
        failures.append(f"{label}: a generation was published")


def test_missing_empty_or_articleless_sources_publish_nothing(writable_index, tmp_path, scorecard, capsys):
    before = snapshot(writable_index)
    empty = tmp_path / "empty"
    empty.mkdir()
    docs_only = tmp_path / "docs-only"
    docs_only.mkdir()
    (docs_only / "README.md").write_text("# not an article\n")
    (docs_only / ".hidden.md").write_text("---\nid: h\ntitle: h\n---\nhidden\n")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "bad.md").write_text("---\nid: bad\n---\nno title\n")
    missing = tmp_path / "corpsu"
    cases = [
        ("build of a missing folder", ["build", str(missing)], [str(missing)]),
        ("sync of a missing folder", ["sync", str(missing)], [str(missing)]),
        ("build of an empty folder", ["build", str(empty)], [str(empty)]),
        ("sync of an empty folder", ["sync", str(empty)], [str(empty)]),
        ("build of README and hidden files only", ["build", str(docs_only)], [str(docs_only)]),
        ("build where no file yields an article", ["build", str(broken)], [str(broken)]),
        ("build of a good and a missing folder", ["build", str(DEFAULT_CORPUS_DIR), str(missing)],
         [str(missing)]),
    ]
    failures: list[str] = []
    for label, argv, must_say in cases:
        _refused(argv, writable_index, capsys, must_say, failures, label)
    n_lost = lost(before, writable_index)
    scorecard.add("mistyped or empty source", "build/sync of missing, empty, README-only, all-broken "
                  "and good+missing paths", len(cases), len(failures), n_lost, "each: exit 2 naming the path")
    assert failures == [] and n_lost == 0, failures


def test_removing_more_than_half_needs_an_explicit_flag(writable_index, tmp_path, scorecard, capsys):
    before = snapshot(writable_index)
    other = tmp_path / "other"
    md(other, "one.md", "one", "An article about heart murmurs.")
    md(other, "two.md", "two", "An article about palpitations.")
    failures: list[str] = []
    for command in ("build", "sync"):
        _refused([command, str(other)], writable_index, capsys,
                 ["10 of the 10", "--allow-removals"], failures, f"{command} removing 10 of 10")
    n_lost = lost(before, writable_index)
    # Half or fewer is an ordinary edit: five of ten answers go.
    half = corpus_copy(tmp_path)
    for path in sorted((half / PAGE_ID).glob("answer-*.md"))[:5]:
        path.unlink()
    if cli("build", str(half), index_dir=writable_index) != 0:
        failures.append(f"removing 5 of 10 refused: {capsys.readouterr().err}")
    elif "5 removed" not in capsys.readouterr().out:
        failures.append("removing 5 of 10 did not remove 5")
    # The flag lets the editor mean it.
    if cli("sync", str(other), "--allow-removals", index_dir=writable_index) != 0:
        failures.append(f"--allow-removals refused: {capsys.readouterr().err}")
    elif sorted(snapshot(writable_index)) != ["one", "two"]:
        failures.append(f"--allow-removals published {sorted(snapshot(writable_index))}")
    capsys.readouterr()
    help_text = subprocess.run([sys.executable, "-m", "indexer", "build", "--help"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(PROJECT_ROOT)))
    if "--allow-removals" not in help_text.stdout:
        failures.append("--allow-removals not in build --help")
    scorecard.add("removal guard", "build/sync removing 10 of 10 without and with --allow-removals; "
                  "5 of 10 allowed", 5, len(failures), n_lost, "refused: exit 2 with the count and the flag")
    assert failures == [] and n_lost == 0, failures


def test_unreadable_source_publishes_nothing(seed_index_dir):
    """A folder the editor may not read. Root reads everything, so the
    command runs as an unprivileged user (setpriv) on an index it owns."""
    import tempfile

    import pytest
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run the indexer as another user")
    work = tempfile.mkdtemp(prefix="heartsearch-unreadable-")
    try:
        os.chmod(work, 0o755)
        index = os.path.join(work, "index")
        shutil.copytree(seed_index_dir, index)
        for folder, dirs, files in os.walk(index):
            for name in [folder, *(os.path.join(folder, f) for f in files)]:
                os.chown(name, 65534, 65534)
        locked = os.path.join(work, "locked")
        os.mkdir(locked, 0o700)  # root's, unreadable by the editor
        with open(os.path.join(locked, "a.md"), "w") as fh:
            fh.write("---\nid: a\ntitle: A\n---\nAn article about arteries.\n")
        before = IndexStore(index).current_entry()
        result = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable,
                                 "-m", "indexer", "build", locked, "--index-dir", index],
                                env=dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), HOME="/tmp"),
                                capture_output=True, text=True, timeout=300, cwd="/")
        assert result.returncode == 2, result.stderr
        assert locked in result.stderr and "Traceback" not in result.stderr
        assert IndexStore(index).current_entry() == before
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_a_folder_that_cannot_be_listed_keeps_its_articles(writable_index, tmp_path, monkeypatch, capsys):
    """An unreadable subfolder (permissions, a dropped network mount) is an
    error, not an empty folder. Listing is refused through os.scandir, as
    the kernel would for a non-root user, so this runs as root too."""
    corpus = corpus_copy(tmp_path)
    md(corpus / "extra", "extra.md", "extra", "An extra article about arteries.")
    assert cli("build", str(corpus), "--force", index_dir=writable_index) == 0  # origins: the copy
    before = snapshot(writable_index)
    locked = corpus / PAGE_ID
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(locked))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    capsys.readouterr()
    assert cli("build", str(corpus), index_dir=writable_index) == 1
    assert f"{locked}:0: cannot read this folder: Permission denied" in capsys.readouterr().err
    assert lost(before, writable_index) == 0
    failures: list[str] = []
    _refused(["build", str(locked)], writable_index, capsys, [str(locked)], failures, "unreadable PATH")
    assert failures == []


# ------------------------------------------------------------------ item 2
def test_page_files_follow_the_ordinary_commands(writable_index, tmp_path, scorecard, capsys, embedder):
    before = snapshot(writable_index)
    corpus = corpus_copy(tmp_path)
    page_file = corpus / PAGE_ID / "page.md"
    failures: list[str] = []

    def check(step, status, want_disclaimer=None, gone=False):
        out = capsys.readouterr()
        pages = live_pages(writable_index)
        if status != 0:
            failures.append(f"{step}: exit {status} {out.err.strip()[-200:]}")
        elif gone and PAGE_ID in pages:
            failures.append(f"{step}: page still in the index")
        elif want_disclaimer and (PAGE_ID not in pages or pages[PAGE_ID].disclaimer != want_disclaimer):
            failures.append(f"{step}: disclaimer not published ({out.out.strip()})")
        return out.out

    segments = segment_names(writable_index)
    original = page_file.read_text("utf-8")
    for n, command in enumerate(("build", "sync", "add")):
        disclaimer = f"Corrected disclaimer number {n}: ask your doctor."
        head, _, _ = original.partition("\n---\n")
        page_file.write_text(f"{head}\n---\n{disclaimer}\n", "utf-8")
        out = check(f"{command} of an edited page.md", cli(command, str(corpus), index_dir=writable_index),
                    want_disclaimer=disclaimer)
        if "0 embedded" not in out or "published" not in out:
            failures.append(f"{command}: a page-only change should publish without embedding: {out.strip()}")
    if segment_names(writable_index) != segments:
        failures.append(f"page-only publishes rewrote segments: {segments} -> {segment_names(writable_index)}")
    # A page file that fails to read keeps its page; a deleted one is dropped.
    page_file.write_text("---\nid: what-is-mitral-regurgitation\nkind page\n---\nbroken\n", "utf-8")
    status = cli("build", str(corpus), index_dir=writable_index)
    capsys.readouterr()
    if status != 1 or PAGE_ID not in live_pages(writable_index):
        failures.append(f"a page file that failed to read lost its page (exit {status})")
    page_file.unlink()
    check("build after page.md was deleted", cli("build", str(corpus), index_dir=writable_index), gone=True)
    # remove takes a page id.
    shutil.copy(DEFAULT_CORPUS_DIR / PAGE_ID / "page.md", page_file)
    check("add of page.md again", cli("add", str(page_file), index_dir=writable_index),
          want_disclaimer=live_pages_disclaimer(page_file))
    check("remove PAGE-ID", cli("remove", PAGE_ID, index_dir=writable_index), gone=True)
    n_lost = lost(before, writable_index)
    scorecard.add("page files", "page.md edited (build, sync, add), broken, deleted, re-added, "
                  "removed by id", 7, len(failures), n_lost, "page-only publishes reuse every segment")
    assert failures == [] and n_lost == 0, failures


def live_pages_disclaimer(page_file) -> str:
    from indexer.sources import load_corpus
    return load_corpus([page_file]).pages[0].disclaimer


# ------------------------------------------------------------------ item 5
HOSTILE = {"NUL": "\u0000", "BEL": "\u0007", "RLO": "\u202e", "LRE": "\u202a", "PDI": "\u2069",
           "RLI": "\u2067"}


def test_control_and_bidi_characters_cannot_falsify_attribution(writable_index, tmp_path, scorecard, capsys):
    before = snapshot(writable_index)
    folder = tmp_path / "hostile"
    folder.mkdir()
    lines, expected_errors = [], []
    for name, char in HOSTILE.items():
        for field in ("title", "author", "credentials", "source"):
            record = {"id": f"{name}-{field}".lower(), "title": "Valve", "text": "About valves.",
                      "author": "Jane Roe", "credentials": "MD"}
            record[field] = f"Dr{char}evil" if field != "title" else f"Valve{char} title"
            lines.append(json.dumps(record))
            expected_errors.append((len(lines), field))
    lines.append(json.dumps({"id": "clean-text", "title": "Leaky valve", "author": "Jane Roe",
                             "text": "A leaky\u202e valve\u0007 lets\u0000 blood flow back\u2066wards."}))
    (folder / "hostile.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    md(folder, "bidi.md", "bidi-md", "Text.", extra="author: Jane \u202eRoe\n")
    status = cli("add", str(folder), index_dir=writable_index)
    err = capsys.readouterr().err
    failures: list[str] = []
    if status != 1:
        failures.append(f"add exited {status}")
    for line, field in expected_errors:
        if not any(f"hostile.jsonl:{line}:" in e and field in e for e in err.splitlines()):
            failures.append(f"line {line} ({field}) not refused with path:line")
    if f"{folder / 'bidi.md'}:4:" not in err:
        failures.append("bidi.md author not refused at its own line 4")
    indexed = snapshot(writable_index)
    wrongly = sorted(set(indexed) - set(before) - {"clean-text"})
    if wrongly:
        failures.append(f"indexed despite hostile attribution: {wrongly}")
    live = IndexStore(writable_index).open_current()
    try:
        text = " ".join(p.text for p in live.article_passages("clean-text"))
    finally:
        live.close()
    if text != "A leaky valve lets blood flow backwards.":
        failures.append(f"text not stripped: {text!r}")
    n_lost = lost(before, writable_index)
    scorecard.add("hostile attribution characters", "NUL, BEL, bidi overrides/isolates in title, author, "
                  "credentials, source (JSONL, Markdown); in text", len(expected_errors) + 2, len(failures),
                  n_lost, "fields refused at path:line, text stripped")
    assert failures == [] and n_lost == 0, (failures, err)


def test_small_cli_edges(writable_index, tmp_path, scorecard, capsys):
    """--wait must be a finite number; a closed output pipe ends quietly;
    remove on an index with no articles says so; errors name the field's line."""
    failures: list[str] = []
    for value in ("nan", "inf", "-inf", "-1"):
        proc = subprocess.run([sys.executable, "-m", "indexer", "remove", "x", "--wait", value,
                               "--index-dir", str(writable_index)], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, env=dict(os.environ, PYTHONPATH=str(PROJECT_ROOT)))
        if proc.returncode != 2 or "--wait" not in proc.stderr:
            failures.append(f"--wait {value}: exit {proc.returncode} {proc.stderr.strip()[-200:]}")
    # status | head: the reader is gone before status writes.
    read_end, write_end = os.pipe()
    os.close(read_end)
    proc = subprocess.run([sys.executable, "-m", "indexer", "status", "--index-dir", str(writable_index)],
                          cwd=PROJECT_ROOT, stdout=write_end, stderr=subprocess.PIPE, text=True,
                          env=dict(os.environ, PYTHONPATH=str(PROJECT_ROOT)))
    os.close(write_end)
    if proc.returncode not in (0, 141) or proc.stderr.strip():
        failures.append(f"status into a closed pipe: exit {proc.returncode}, stderr {proc.stderr.strip()[-300:]!r}")
    # An index whose articles were all removed is empty, not missing.
    ids = sorted(snapshot(writable_index))
    assert cli("remove", *ids, index_dir=writable_index) == 0
    capsys.readouterr()
    status = cli("remove", ids[0], index_dir=writable_index)
    err = capsys.readouterr().err
    if status != 1 or "no index" in err or "no articles" not in err:
        failures.append(f"remove on an empty index: exit {status}, {err.strip()!r}")
    scorecard.add("editor CLI edges", "--wait nan/inf/-inf/-1, status into a closed pipe, remove on an "
                  "empty index", 6, len(failures), 0)
    assert failures == [], failures
