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
from indexer.settings import DEFAULT_CORPUS_DIR, PROJECT_ROOT
from indexer.index import IndexStore

PAGE_ID = "what-is-mitral-regurgitation"


def cli(*args, index_dir) -> int:
    return main([*args, "--index-dir", str(index_dir)])


def read_live(index_dir, read):
    """`read(generation)` on the live generation of `index_dir`."""
    live = IndexStore(index_dir).open_current()
    try:
        return read(live)
    finally:
        live.close()


def snapshot(index_dir) -> dict:
    return read_live(index_dir, lambda live: live.article_hashes())


def live_pages(index_dir) -> dict:
    return read_live(index_dir, lambda live: {p.id: p for p in live.pages()})


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
    try:
        status = cli(*argv, index_dir=index_dir)
    except SystemExit as exc:  # a usage error found by argparse
        status = exc.code
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


# ------------------------------------------------------------------ outside tester's findings
def live_articles(index_dir) -> dict:
    return read_live(index_dir, lambda live: {a.id: a for a in live.articles()})


def answer_md(article_id, author, text="An impostor's text about the mitral valve."):
    return (f"---\nid: {article_id}\nkind: answer\npage: {PAGE_ID}\ntitle: What is mitral regurgitation (MR)?\n"
            f"author: {author}\ncredentials: MD\n---\n{text}\n")


def faq_page(question, answers):
    return question + "\n\n" + "\n\n".join(answers) + "\n"


def test_duplicate_ids_are_refused_at_every_file_and_keep_the_indexed_article(writable_index, tmp_path,
                                                                              scorecard, capsys):
    corpus = corpus_copy(tmp_path)
    assert cli("build", str(corpus), "--force", index_dir=writable_index) == 0  # origins: the copy
    capsys.readouterr()
    before = snapshot(writable_index)
    adams = live_articles(writable_index)["mr-answer-5"]
    failures: list[str] = []
    folder = corpus / PAGE_ID

    def check(label, status, err, paths, article_id, want_status=1):
        if status != want_status:
            failures.append(f"{label}: exit {status}, expected {want_status} ({err.strip()[-300:]})")
        for path in paths:
            if not any(line.startswith(f"{path}:") and f"duplicate id {article_id!r}" in line
                       for line in err.splitlines()):
                failures.append(f"{label}: duplicate {article_id!r} not reported at {path}:line")
        live = live_articles(writable_index).get("mr-answer-5")
        if live is None or live.author != adams.author or live.text != adams.text:
            failures.append(f"{label}: mr-answer-5 is now {live and (live.author, live.text[:40])}")

    # A stray notes file that sorts first, in build and sync.
    stray = folder / "aaa-notes.md"
    stray.write_text(answer_md("mr-answer-5", "Mallory Impostor"), "utf-8")
    for command in ("build", "sync"):
        status = cli(command, str(corpus), index_dir=writable_index)
        check(f"{command} with aaa-notes.md", status, capsys.readouterr().err,
              [stray, folder / "answer-5.md"], "mr-answer-5")
    stray.unlink()
    # A draft copy beside the real file.
    draft = folder / "answer-5 (draft).md"
    draft.write_text(answer_md("mr-answer-5", "Mallory Impostor"), "utf-8")
    status = cli("build", str(corpus), index_dir=writable_index)
    check("build with answer-5 (draft).md", status, capsys.readouterr().err, [draft, folder / "answer-5.md"],
          "mr-answer-5")
    # add of a folder holding two definitions: neither replaces the indexed one.
    drafts = tmp_path / "drafts"
    drafts.mkdir()
    (drafts / "a.md").write_text(answer_md("mr-answer-5", "Mallory Impostor"), "utf-8")
    (drafts / "b.md").write_text(answer_md("mr-answer-5", "Eve Impostor"), "utf-8")
    status = cli("add", str(drafts), index_dir=writable_index)
    check("add of two definitions", status, capsys.readouterr().err, [drafts / "a.md", drafts / "b.md"],
          "mr-answer-5")
    draft.unlink()
    # Two faq.txt pages in different folders: the same page and answer ids.
    for sub, who in (("cardiology", "valves"), ("nephrology", "kidneys")):
        (corpus / sub).mkdir()
        (corpus / sub / "faq.txt").write_text(faq_page("What is a heart murmur?", [
            f"A heart murmur is an extra sound heard by the {who} team.",
            f"Most heart murmurs are harmless, says the {who} team."]), "utf-8")
    status = cli("build", str(corpus), index_dir=writable_index)
    err = capsys.readouterr().err
    check("two faq.txt", status, err, [corpus / "cardiology" / "faq.txt", corpus / "nephrology" / "faq.txt"],
          "faq-answer-1")
    if any(i.startswith("faq-") for i in live_articles(writable_index)) or "faq" in live_pages(writable_index):
        failures.append("two faq.txt: a duplicated faq id was published")
    if "duplicate page id 'faq'" not in err:
        failures.append("two faq.txt: the duplicated page id 'faq' was not reported")
    for sub in ("cardiology", "nephrology"):
        shutil.rmtree(corpus / sub)
    # Two page files with one page id: the indexed page is kept.
    disclaimer = live_pages(writable_index)[PAGE_ID].disclaimer
    (folder / "page-copy.md").write_text(f"---\nid: {PAGE_ID}\nkind: page\ntitle: Hijacked\n---\n"
                                         "No disclaimer needed.\n", "utf-8")
    status = cli("build", str(corpus), index_dir=writable_index)
    err = capsys.readouterr().err
    if status != 1 or f"duplicate page id {PAGE_ID!r}" not in err or str(folder / "page.md") not in err:
        failures.append(f"duplicate page id: exit {status}, {err.strip()[-300:]!r}")
    if live_pages(writable_index)[PAGE_ID].disclaimer != disclaimer:
        failures.append("duplicate page id: the indexed page was replaced")
    (folder / "page-copy.md").unlink()
    # The same folder given twice is not a duplicate.
    status = cli("build", str(corpus), f"{corpus}/", index_dir=writable_index)
    err = capsys.readouterr().err
    if status != 0 or "duplicate" in err:
        failures.append(f"build corpus corpus/: exit {status}, {err.strip()[-300:]!r}")
    n_lost = lost(before, writable_index)
    scorecard.add("duplicate ids", "aaa-notes.md / 'answer-5 (draft).md' redefining mr-answer-5 (build, sync), "
                  "add of two definitions, two faq.txt, two page files, `build corpus corpus/`", 7, len(failures),
                  n_lost, "each defining file reported, none used, the indexed version kept")
    assert failures == [] and n_lost == 0, failures


def test_broken_files_keep_their_articles_when_the_corpus_was_copied(writable_index, tmp_path, scorecard, capsys):
    """The seed index was built from corpus/; the editor now builds a copy."""
    before = snapshot(writable_index)
    corpus = corpus_copy(tmp_path)
    answer = corpus / PAGE_ID / "answer-1.md"
    answer.write_text("<<<<<<< HEAD\n" + answer.read_text("utf-8"), "utf-8")
    failures: list[str] = []
    status = cli("build", str(corpus), index_dir=writable_index)
    err = capsys.readouterr().err
    if status != 1 or f"{answer}:1:" not in err:
        failures.append(f"merge-conflict marker: exit {status}, {err.strip()[-300:]!r}")
    if "mr-answer-1" not in snapshot(writable_index):
        failures.append("merge-conflict marker in a copied corpus removed mr-answer-1")
    answer.write_text((DEFAULT_CORPUS_DIR / PAGE_ID / "answer-1.md").read_text("utf-8"), "utf-8")
    # `kind: Page` (capitalised) is still a page file; an unknown kind names `page` among the choices.
    page_file = corpus / PAGE_ID / "page.md"
    head, _, _ = page_file.read_text("utf-8").partition("\n---\n")
    page_file.write_text(head.replace("kind: page", "kind: Page") + "\n---\nImportant: a corrected disclaimer.\n",
                         "utf-8")
    status = cli("build", str(corpus), index_dir=writable_index)
    err = capsys.readouterr().err
    if status != 0 or live_pages(writable_index)[PAGE_ID].disclaimer != "Important: a corrected disclaimer.":
        failures.append(f"kind: Page: exit {status}, {err.strip()[-300:]!r}")
    bad_kind = md(tmp_path / "kinds", "k.md", "kind-typo", "Text.", extra="kind: pgae\n")
    status = cli("add", str(bad_kind), index_dir=writable_index)
    err = capsys.readouterr().err
    if status != 1 or "page" not in err.partition("unknown kind")[2]:
        failures.append(f"unknown kind: the allowed kinds do not include page: {err.strip()!r}")
    n_lost = lost(before, writable_index)
    scorecard.add("broken file in a copied corpus", "merge-conflict marker in answer-1.md of a copy of the "
                  "indexed corpus; `kind: Page`; `kind: pgae`", 3, len(failures), n_lost,
                  "kept by the path relative to the build root; kind case-insensitive")
    assert failures == [] and n_lost == 0, failures


def test_stray_paths_empty_arguments_and_symlinks(writable_index, tmp_path, scorecard, capsys, monkeypatch):
    failures: list[str] = []
    # An unset $CORPUS or $INDEX: never the current folder.
    cwd = tmp_path / "project"
    cwd.mkdir()
    (cwd / "requirements.txt").write_text("flask==3.0\n\nnumpy==2.0\n", "utf-8")
    (cwd / "template.md").write_text("---\nid: template\ntitle: TITLE\n---\nWrite the article here.\n", "utf-8")
    monkeypatch.chdir(cwd)
    before = snapshot(writable_index)
    for argv in (["build", ""], ["add", ""], ["sync", ""], ["build", str(DEFAULT_CORPUS_DIR), ""]):
        _refused(argv, writable_index, capsys, ["empty"], failures, f"{' '.join(map(repr, argv))}")
    for argv in (["status", "--index-dir", ""], ["build", str(DEFAULT_CORPUS_DIR), "--index-dir", ""]):
        try:
            status = main(argv)
        except SystemExit as exc:
            status = exc.code
        err = capsys.readouterr().err
        if status != 2 or "--index-dir" not in err or "empty" not in err:
            failures.append(f"{argv}: exit {status}, {err.strip()[-200:]!r}")
    if any(cwd.iterdir()) and sorted(p.name for p in cwd.iterdir()) != ["requirements.txt", "template.md"]:
        failures.append(f"files created in the current folder: {sorted(p.name for p in cwd.iterdir())}")
    # Folder symlinks are not followed out of the corpus, nor round a loop.
    corpus = corpus_copy(tmp_path)
    assert cli("build", str(corpus), "--force", index_dir=writable_index) == 0  # origins: the copy
    capsys.readouterr()
    outside = tmp_path / "system-docs"
    md(outside / "deep", "stray.md", "system-doc", "A system file about heart pumps.")
    (corpus / "docs-link").symlink_to(outside, target_is_directory=True)
    (corpus / PAGE_ID / "loop").symlink_to(corpus, target_is_directory=True)
    status = cli("build", str(corpus), index_dir=writable_index)
    err = capsys.readouterr().err
    if "system-doc" in snapshot(writable_index):
        failures.append("a symlinked folder outside the corpus was indexed")
    for link in (corpus / "docs-link", corpus / PAGE_ID / "loop"):
        if err.count(f"{link}:") != 1 or "symbolic link" not in err:
            failures.append(f"{link} not reported once as a skipped symbolic link: {err.strip()[-300:]!r}")
    if status != 0:
        failures.append(f"build with skipped symlinks: exit {status}")
    # A dangling symlink to a file is a file that cannot be read: its article is kept.
    answer = corpus / PAGE_ID / "answer-2.md"
    answer.unlink()
    answer.symlink_to(tmp_path / "moved-away" / "answer-2.md")
    status = cli("build", str(corpus), index_dir=writable_index)
    err = capsys.readouterr().err
    if status != 1 or f"{answer}:" not in err:
        failures.append(f"dangling symlink: exit {status}, {err.strip()[-300:]!r}")
    n_lost = lost(before, writable_index)
    scorecard.add("stray paths", "build/add/sync '' and --index-dir ''; folder symlink out of the corpus and a "
                  "symlink loop; a dangling file symlink", 9, len(failures), n_lost,
                  "empty: exit 2; folder links skipped and reported; dangling: reported, article kept")
    assert failures == [] and n_lost == 0, failures


def test_lone_surrogates_and_format_characters(writable_index, tmp_path, scorecard, capsys):
    before = snapshot(writable_index)
    folder = tmp_path / "unicode"
    folder.mkdir()
    lines = ['{"id": "sur-author", "title": "Valve", "text": "About valves.", "author": "Jane \\ud800"}',
             '{"id": "sur-title", "title": "Valve \\udfff", "text": "About valves."}']
    cases = [(1, "author"), (2, "title")]
    for n, char in enumerate(["\u200b", "\u200d", "\u200f", "\u061c", "\u2060", "\u2064", "\ufeff"]):
        for field in ("author", "source"):
            record = {"id": f"fmt-{n}-{field}", "title": "Valve", "text": "About valves."}
            record[field] = f"Jane{char} Roe"
            lines.append(json.dumps(record))
            cases.append((len(lines), field))
    lines.append('{"id": "sur-text", "title": "Leaky valve", "text": "A leaky\\ud800 val\\u200bve\\ufeff lets '
                 'blood flow back.", "synonyms": ["mitral\\udc00 insufficiency"]}')
    (folder / "u.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    failures: list[str] = []
    n_lost = 0
    for command in ("add", "build"):
        argv = [command, str(folder)] + (["--allow-removals"] if command == "build" else [])
        try:
            status = cli(*argv, index_dir=writable_index)
        except Exception as exc:  # noqa: BLE001 - the crash being tested
            failures.append(f"{command}: {type(exc).__name__}: {exc}")
            continue
        err = capsys.readouterr().err
        if status != 1:
            failures.append(f"{command}: exit {status}")
        for line, field in cases:
            if not any(f"u.jsonl:{line}:" in e and repr(field) in e for e in err.splitlines()):
                failures.append(f"{command}: line {line} ({field}) not refused with path:line")
        indexed = live_articles(writable_index)
        wrongly = sorted(i for i in indexed if i.startswith(("sur-", "fmt-")) and i != "sur-text")
        if wrongly:
            failures.append(f"{command}: indexed despite a bad attribution: {wrongly}")
        text = indexed.get("sur-text")
        if text is None or text.text != "A leaky valve lets blood flow back." \
                or text.synonyms != ("mitral insufficiency",):
            failures.append(f"{command}: text not stripped: {text and (text.text, text.synonyms)}")
        if command == "add":
            n_lost = lost(before, writable_index)
    scorecard.add("lone surrogates and format characters", "\\ud800 in author/title, U+200B-U+200F, U+061C, "
                  "U+2060-U+2064, U+FEFF in author/source; in text and synonyms (add, build)", 2 * len(cases) + 2,
                  len(failures), n_lost, "attribution refused at path:line, text stripped, no traceback")
    assert failures == [] and n_lost == 0, failures


def test_closed_stdout_unknown_format_and_partial_remove(writable_index, tmp_path, scorecard, capsys):
    failures: list[str] = []
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    proc = subprocess.run(f"{sys.executable} -m indexer status --index-dir {writable_index} >&-", shell=True,
                          cwd=PROJECT_ROOT, capture_output=False, stderr=subprocess.PIPE, text=True, env=env)
    if proc.returncode == 0 or "Traceback" in proc.stderr or len(proc.stderr.strip().splitlines()) > 1:
        failures.append(f"status >&-: exit {proc.returncode}, {proc.stderr.strip()[-300:]!r}")
    before = IndexStore(writable_index).current_name()
    try:
        status = cli("add", str(DEFAULT_CORPUS_DIR), "--format", "markdwn", index_dir=writable_index)
    except SystemExit as exc:
        status = exc.code
    err = capsys.readouterr().err
    if status != 2 or err.count("markdwn") != 1 or "markdown" not in err:
        failures.append(f"--format markdwn: exit {status}, {err.strip()[-300:]!r}")
    if IndexStore(writable_index).current_name() != before:
        failures.append("--format markdwn published")
    status = cli("remove", "mr-answer-1", "mr-answer-typo", index_dir=writable_index)
    err = capsys.readouterr().err
    if status != 1 or "mr-answer-1" in snapshot(writable_index):
        failures.append(f"remove good typo: exit {status}, mr-answer-1 still indexed")
    if "mr-answer-typo" not in err or "removed" not in err or "mr-answer-1" not in err:
        failures.append(f"remove good typo: does not say the others were removed: {err.strip()!r}")
    scorecard.add("CLI edges (tester)", "status >&-; --format markdwn; remove good-id typo-id", 3, len(failures),
                  0, "no traceback; usage error before reading; says what was removed")
    assert failures == [], failures
