"""Rollback by publication history, pruning that keeps what a rollback
needs, a server that follows the same history when a generation is damaged,
and a generation identity that survives an index folder rebuilt in place
(issue 13, items 3 and 4)."""
from __future__ import annotations

import shutil
import time

from indexer.build import publish_articles
from indexer.cli import main
from indexer.models import Article
from indexer.index import IndexStore
from search_app import create_app
from search_app.config import Config
from tests.index_files import live_segment_file
from tests.servers import get_json, running_server

A, B = "mr-answer-2", "mr-answer-3"


def cli(*args, index_dir) -> int:
    return main([*args, "--index-dir", str(index_dir)])


def article_ids(index_dir, name: str | None = None) -> set[str]:
    store = IndexStore(index_dir)
    generation = store.open_generation(name) if name else store.open_current()
    try:
        return {a.id for a in generation.articles()}
    finally:
        generation.close()


def new_article_file(folder, article_id="mr-extra-c"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{article_id}.md"
    path.write_text(f"---\nid: {article_id}\ntitle: Varicose veins\n---\n"
                    "Varicose veins are swollen, twisted veins just under the skin of the legs.\n", "utf-8")
    return path


def undo_two_removals_then_add(index_dir, tmp_path) -> dict[str, set[str]]:
    """The issue's sequence: build (gen-1) -> remove A -> remove B ->
    rollback, rollback -> add C. Returns the article sets seen on the way."""
    seen = {"built": article_ids(index_dir)}
    assert cli("remove", A, index_dir=index_dir) == 0
    assert cli("remove", B, index_dir=index_dir) == 0
    assert cli("rollback", index_dir=index_dir) == 0
    seen["one rollback"] = article_ids(index_dir)
    assert cli("rollback", index_dir=index_dir) == 0
    seen["two rollbacks"] = article_ids(index_dir)
    assert cli("add", str(new_article_file(tmp_path / "new")), index_dir=index_dir) == 0
    seen["added C"] = article_ids(index_dir)
    return seen


def test_rollback_follows_the_history_not_generation_numbers(writable_index, tmp_path, capsys, scorecard):
    seen = undo_two_removals_then_add(writable_index, tmp_path)
    built = seen["built"]
    problems = []
    if seen["one rollback"] != built - {A}:
        problems.append("first rollback did not undo the removal of B")
    if seen["two rollbacks"] != built:
        problems.append("second rollback did not undo the removal of A")
    if seen["added C"] != built | {"mr-extra-c"}:
        problems.append("add after rollbacks did not start from the state rolled back to")
    # Undo the add: the state the editor chose (A and B present, no C), not the removals they undid.
    rolled = cli("rollback", index_dir=writable_index)
    after = article_ids(writable_index) if rolled == 0 else set()
    if after != built:
        problems.append(f"rollback after the add went to a state with {sorted(built - after)} missing "
                        f"and {sorted(after - built)} extra")
    # Nothing further back exists: a clear refusal, nothing changed.
    capsys.readouterr()
    refused = cli("rollback", index_dir=writable_index)
    message = capsys.readouterr().err
    if refused != 3 or "nothing to roll back to" not in message or article_ids(writable_index) != built:
        problems.append(f"rollback past the oldest state: exit {refused}, {message!r}")
    scorecard.add("rollback by history", "build, remove A, remove B, rollback x2, add C, rollback x2",
                  7, len(problems), len(built - after), notes="; ".join(problems))
    assert problems == []


def test_status_shows_the_history(writable_index, tmp_path, capsys):
    undo_two_removals_then_add(writable_index, tmp_path)
    capsys.readouterr()
    assert cli("status", index_dir=writable_index) == 0
    out = capsys.readouterr().out
    assert "history:" in out
    live = IndexStore(writable_index).current_name()
    assert f"{live} (live)" in out
    for action in ("publish", "rollback"):
        assert action in out


def damage(index_dir, name):
    path = live_segment_file(index_dir, "passages.sqlite", name)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_server_fallback_follows_the_history(writable_index, tmp_path, embedder, scorecard):
    """The live state (after add C) is damaged: the server serves the state
    before it in the history (A and B present), never a state the editor
    rolled back from (A or B removed)."""
    seen = undo_two_removals_then_add(writable_index, tmp_path)
    store = IndexStore(writable_index)
    damage(writable_index, store.current_name())
    app = create_app(Config(index_dir=writable_index), embedder=embedder)
    served = {a.id for a in app.extensions["searcher"].generation.articles()}
    lost = len(seen["built"] - served)
    scorecard.add("fallback by history", "live generation damaged after rollbacks and a new publish; app start",
                  1, int(served != seen["built"]), lost, notes=f"served {app.extensions['searcher'].generation.name}")
    assert served == seen["built"]


def test_pruning_keeps_the_state_before_the_live_one(writable_index, tmp_path):
    store = IndexStore(writable_index)
    undo_two_removals_then_add(writable_index, tmp_path)
    earlier = store.earlier_generations()
    assert earlier and (writable_index / "generations" / earlier[0]).is_dir()
    for name in range(3):  # many more publishes: the previous live state always survives
        assert cli("remove", f"mr-answer-{4 + name}", index_dir=writable_index) == 0
        previous = store.earlier_generations()[0]
        assert (writable_index / "generations" / previous).is_dir()
    assert len(store.generation_names()) <= 3


def test_generation_names_are_never_reused(writable_index, tmp_path):
    """After rollbacks drop a branch, the next publish gets a new number, so a
    name in a log always means one state."""
    store = IndexStore(writable_index)
    used = {store.current_name()}
    assert cli("remove", A, index_dir=writable_index) == 0
    used.add(store.current_name())
    assert cli("rollback", index_dir=writable_index) == 0
    assert cli("remove", B, index_dir=writable_index) == 0
    assert store.current_name() not in used


def test_rollback_on_a_missing_folder_creates_nothing(tmp_path, capsys):
    missing = tmp_path / "no-such-index"
    assert cli("rollback", index_dir=missing) == 3
    assert "no index at" in capsys.readouterr().err
    assert not missing.exists()


def test_server_picks_up_an_index_folder_rebuilt_in_place(writable_index, embedder, scorecard):
    """`rm -rf IDX` and a new build make a new gen-000001: a running server
    must serve it (it used to compare names only, and cache segments by path)."""
    with running_server(writable_index, HEARTSEARCH_RELOAD_INTERVAL="0.2") as base:
        before = get_json(base + "/api/v1/ready")
        shutil.rmtree(writable_index)
        store = IndexStore(writable_index)
        rebuilt = [Article(id="only-article", title="Swollen ankles",
                           text="Swollen ankles can be a sign that the heart is not pumping well.")]
        with store.lock():
            publish_articles(store, rebuilt, [], embedder)
        deadline, ids = time.monotonic() + 20, []
        while time.monotonic() < deadline:
            ids = [a["id"] for a in get_json(base + "/api/v1/articles")["articles"]]
            if ids == ["only-article"]:
                break
            time.sleep(0.2)
        after = get_json(base + "/api/v1/ready")
        hits = get_json(base + "/api/v1/search?q=swollen+ankles")["results"]
    ok = ids == ["only-article"] and hits and hits[0]["article"]["id"] == "only-article"
    scorecard.add("index folder rebuilt in place", "rm -rf IDX, build again while the server runs", 1,
                  int(not ok), 0, notes=f"{before['generation']} -> {after['generation']}, {after['passages']} "
                                        f"passages")
    assert ok, (ids, hits[:1])
    assert after["passages"] == 1 and before["passages"] != 1


# ------------------------------------------------------------------ CURRENT lost or wrong

def generation_count(index_dir) -> int:
    return len(IndexStore(index_dir).generation_names())


def test_a_lost_current_is_not_a_new_index(writable_index, tmp_path, capsys, embedder, scorecard):
    """CURRENT deleted, emptied or pointed at nothing: `add` must not start a
    one-article index beside the real one; `rollback` restores the last
    live state; a server starting meanwhile serves it."""
    built = article_ids(writable_index)
    store = IndexStore(writable_index)
    live = store.current_entry()
    problems = []
    for slip, make in (("deleted", lambda p: p.unlink()), ("emptied", lambda p: p.write_text("")),
                       ("fake name", lambda p: p.write_text("gen-000099\n"))):
        make(writable_index / "CURRENT")
        generations = generation_count(writable_index)
        status = cli("add", str(new_article_file(tmp_path / slip)), index_dir=writable_index)
        err = capsys.readouterr().err
        if status != 3 or "rollback" not in err or generation_count(writable_index) != generations:
            problems.append(f"CURRENT {slip}: add exit {status}, {err.strip()[:200]!r}")
        if slip == "deleted":
            served = create_app(Config(index_dir=writable_index), embedder=embedder).extensions["searcher"]
            if served.generation.identity != live:
                problems.append(f"CURRENT {slip}: the app served {served.generation.name}")
        if cli("rollback", index_dir=writable_index) != 0 or store.current_entry() != live:
            problems.append(f"CURRENT {slip}: rollback did not restore {live.name}: {capsys.readouterr().err!r}")
        if any(e.name == "gen-000099" for e in store.history().chain):
            problems.append("a name CURRENT gave but no generation has entered the history")
    after = article_ids(writable_index)
    scorecard.add("CURRENT lost or wrong", "CURRENT deleted / emptied / naming nothing; add; app start; rollback",
                  7, len(problems), len(built - after), notes="; ".join(problems))
    assert problems == [] and after == built


def test_readiness_and_page_when_the_index_folder_is_gone(writable_index, tmp_path, embedder, scorecard):
    """The folder of the live index deleted or moved while the app runs:
    /ready says 503 (a load balancer then sends readers elsewhere), and the
    readers' page says the search is unavailable with a 503, not a 500."""
    app = create_app(Config(index_dir=writable_index), embedder=embedder)
    client = app.test_client()
    assert client.get("/api/v1/ready").status_code == 200
    shutil.move(writable_index, tmp_path / "moved-away")
    ready = client.get("/api/v1/ready")
    page = client.get("/?q=leaky+valve")
    search = client.get("/api/v1/search?q=leaky+valve")
    problems = []
    if ready.status_code != 503 or ready.get_json()["error"]["code"] != "index_unavailable":
        problems.append(f"ready {ready.status_code}")
    if page.status_code not in (200, 503) or b"Traceback" in page.data:
        problems.append(f"page {page.status_code}")
    if page.status_code == 503 and b"not available" not in page.data:
        problems.append("the 503 page does not say the search is unavailable")
    if search.status_code not in (200, 503):
        problems.append(f"search {search.status_code}")
    scorecard.add("index folder moved away", "live folder moved while serving; ready, page, API search", 3,
                  len(problems), 0, notes=f"ready {ready.status_code}, page {page.status_code}, "
                                          f"search {search.status_code}")
    assert problems == []


def test_a_running_app_follows_an_index_rebuilt_with_another_model(writable_index, scorecard):
    """`build --model OTHER` while the app serves: the app loads that model
    and switches (it used to log "still serving" until a restart while
    /ready said all was well)."""
    from indexer.settings import DEFAULT_CORPUS_DIR
    from indexer.embedding import INT8_MODEL
    from search_app.search.searcher import make_searcher
    searcher = make_searcher(Config(index_dir=writable_index, reload_interval=0))
    before = searcher.generation.model
    other = INT8_MODEL if before != INT8_MODEL else "all-MiniLM-L6-v2"
    assert cli("build", str(DEFAULT_CORPUS_DIR), "--force", "--model", other, index_dir=writable_index) == 0
    served = searcher.generation
    hits = searcher.search("leaky heart valve").hits
    ok = served.model == other == searcher.embedder.name and bool(hits)
    scorecard.add("index rebuilt with another model", f"build --model {other} while serving {before}", 1,
                  int(not ok), 0, notes=f"serving {served.name} built with {served.model}")
    assert ok
