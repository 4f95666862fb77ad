"""Hostile articles through the importers and the CLI: markup is kept as
text (and escaped on the page), dangerous or broken records are refused with
`path:line: what is wrong`, and no indexed article is ever lost."""
from __future__ import annotations

import json

from indexer.cli import main
from indexer.sources import load_corpus
from indexer.index import IndexStore
from tests.reliability.htmlcheck import active_markup

MD = "---\nid: {id}\ntitle: {title}\n{extra}---\n{text}\n"


def md(folder, name, article_id, title, text, extra=""):
    path = folder / name
    path.write_text(MD.format(id=article_id, title=title, text=text, extra=extra), "utf-8")
    return path


def snapshot(index_dir) -> dict:
    return IndexStore(index_dir).open_current().article_hashes()


def lost(before: dict, index_dir) -> int:
    after = snapshot(index_dir)
    return sum(1 for a in before if a not in after)


def test_hostile_article_catalogue(writable_index, tmp_path, embedder, scorecard, capsys):
    folder = tmp_path / "hostile"
    folder.mkdir()
    # Accepted: markup is just text to the index.
    md(folder, "script.md", "hostile-script", "<script>alert('t')</script> Leaky mitral valve",
       "A leaky mitral valve <script>alert(document.cookie)</script> lets blood flow backwards "
       "into the left atrium.")
    md(folder, "onerror.md", "hostile-onerror", "Heart valve <img src=x onerror=alert(1)>",
       'Mitral regurgitation <img src=x onerror="alert(1)"> <a href="javascript:alert(2)" '
       'onclick="alert(3)">click</a> strains the heart valve.', extra="author: <b onmouseover=alert(4)>Mallory</b>\n")
    # Refused, each with its own clear message.
    refused = {
        "jsurl.md": (md(folder, "jsurl.md", "hostile-jsurl", "Valve", "Text about valves.",
                        extra="url: javascript:alert(1)\n"), "must start with http:// or https://"),
        "datau.md": (md(folder, "datau.md", "hostile-data", "Valve", "Text about valves.",
                        extra="url: data:text/html,<script>alert(1)</script>\n"), "must start with http"),
        "huge.md": (md(folder, "huge.md", "hostile-huge", "Valve", "valve " * 60_000), "the limit is"),
        "hugetitle.md": (md(folder, "hugetitle.md", "hostile-title", "T" * 5000, "Text."), "longer than 500"),
        "empty-text.md": (md(folder, "empty-text.md", "hostile-empty", "Valve", "   "), "has no text"),
        "empty-title.md": (md(folder, "empty-title.md", "hostile-notitle", "", "Text."), "has no 'title'"),
        "bad-id.md": (md(folder, "bad-id.md", "../../etc/passwd", "Valve", "Text."), "bad id"),
        # One id in three places (two files and a JSONL line): all reported, none used.
        "zz-dup.md": (md(folder, "zz-dup.md", "hostile-dup", "Other", "Same id again."), "duplicate id"),
        "zz-dup2.md": (md(folder, "zz-dup2.md", "hostile-dup", "Third", "Again."), "duplicate id"),
    }
    latin1 = folder / "latin1.md"
    latin1.write_bytes(MD.format(id="hostile-latin1", title="Café", text="Caf\u00e9 cr\u00e8me valve",
                                 extra="").encode("latin-1"))
    refused["latin1.md"] = (latin1, "latin1.md:3: not valid UTF-8")
    utf16 = folder / "utf16.md"
    utf16.write_bytes(MD.format(id="hostile-utf16", title="Valve", text="Valve.", extra="").encode("utf-16"))
    refused["utf16.md"] = (utf16, "not valid UTF-8")
    nul = folder / "nul.md"
    nul.write_bytes(b"---\nid: hostile-nul\ntitle: Valve\n---\nvalve\x00text\n")
    refused["nul.md"] = (nul, "nul.md:5: contains a NUL byte")
    empty = folder / "empty.md"
    empty.write_bytes(b"")
    refused["empty.md"] = (empty, "file is empty")
    jsonl = folder / "records.jsonl"
    jsonl.write_text("\n".join([
        json.dumps({"id": "hostile-json-ok", "title": "Valve <svg onload=alert(1)>", "text": "Valve text."}),
        json.dumps({"id": "hostile-json-js", "title": "V", "text": "T", "url": "JavaScript:alert(1)"}),
        json.dumps({"id": "hostile-json-type", "title": ["not", "a", "string"], "text": "T"}),
        json.dumps({"id": "hostile-dup", "title": "Duplicate", "text": "T"}),
        '{"id": "hostile-json-twice", "id": "again", "title": "V", "text": "T"}',
        "[" * 100_000,
        json.dumps({"id": "hostile-json-unknown", "title": "V", "text": "T", "autor": "typo"}),
    ]) + "\n", "utf-8")
    jsonl_expected = [":2: article 'hostile-json-js' url", ":3: field 'title' must be a string",
                      ":4: duplicate id 'hostile-dup'", ":5: field 'id' given twice",
                      ":6: not valid JSON", ":7: unknown field 'autor'"]

    before = snapshot(writable_index)
    corpus = load_corpus([folder])
    messages = [str(e) for e in corpus.errors]
    failures = []
    for name, (path, expected) in refused.items():
        if not any(m.startswith(str(path) + ":") and expected in m for m in messages):
            failures.append(f"{name}: expected {expected!r} in {[m for m in messages if name in m]}")
    for expected in jsonl_expected:
        if not any(str(jsonl) + expected in m for m in messages):
            failures.append(f"records.jsonl{expected} not reported")
    accepted = {a.id for a in corpus.articles}
    if accepted != {"hostile-script", "hostile-onerror", "hostile-json-ok"}:
        failures.append(f"accepted {sorted(accepted)}")

    # Publish through the CLI: the good ones go in, the exit status says 1, nothing is lost.
    status = main(["add", str(folder), "--index-dir", str(writable_index)])
    capsys.readouterr()
    if status != 1:
        failures.append(f"add exited {status}, expected 1")
    after = snapshot(writable_index)
    if not {"hostile-script", "hostile-onerror", "hostile-json-ok"} <= set(after):
        failures.append("accepted hostile articles were not published")
    if any(a.startswith("hostile-") and a not in accepted for a in after):
        failures.append("a refused article was published")
    n_lost = lost(before, writable_index)
    if [a for a in before if after.get(a) != before[a]]:
        failures.append("an existing article was changed")

    # On the page every bit of markup is text.
    from search_app import create_app
    from search_app.config import Config
    client = create_app(Config(index_dir=writable_index), embedder=embedder).test_client()
    html = client.get("/?q=leaky mitral valve script onerror").get_data(as_text=True)
    if "&lt;script&gt;" not in html:
        failures.append("hostile article not shown (escaped) on the page")
    if active_markup(html):
        failures.append(f"active markup on the page: {active_markup(html)}")
    api = client.get("/api/v1/search?q=leaky mitral valve script").get_json()
    if not any("<script>" in r["text"] for r in api["results"]):
        failures.append("the API does not return the text as written")

    scorecard.add("hostile articles", "script/onerror/javascript:/data: URLs, huge, empty, latin-1, UTF-16, NUL, "
                  "dup ids, bad JSON -> load_corpus + add + page", len(refused) + 3 + len(jsonl_expected),
                  len(failures), n_lost)
    assert failures == [] and n_lost == 0, failures


def test_broken_files_in_sync_keep_their_indexed_articles(writable_index, tmp_path, scorecard, capsys):
    """An editor's file going bad (encoding, truncation, junk) never deletes
    what was indexed from it."""
    folder = tmp_path / "synced"
    folder.mkdir()
    paths = [md(folder, f"a{i}.md", f"keep-{i}", f"Valve article {i}", f"Article {i} about heart valves.")
             for i in range(4)]
    assert main(["sync", str(folder), "--allow-removals", "--index-dir", str(writable_index)]) == 0
    before = snapshot(writable_index)
    paths[0].write_bytes("---\nid: keep-0\ntitle: Caf\u00e9\n---\nx\n".encode("latin-1"))
    paths[1].write_bytes(paths[1].read_bytes()[:20])  # truncated mid front matter
    paths[2].write_bytes(b"\x00\x01\x02binary junk")
    status = main(["sync", str(folder), "--index-dir", str(writable_index)])
    err = capsys.readouterr().err
    failures = []
    if status != 1:
        failures.append(f"sync exited {status}")
    for name in ("a0.md:3: not valid UTF-8", "a1.md", "a2.md"):
        if name not in err:
            failures.append(f"{name} not reported")
    n_lost = lost(before, writable_index)
    scorecard.add("broken files in sync", "latin-1, truncated, binary replacing indexed files", 3, len(failures),
                  n_lost)
    assert failures == [] and n_lost == 0, (failures, err)
