"""The shape docs/architecture.md promises, checked on the source itself:
imports run one way, no cycles, the web areas stay apart, modules stay
small enough to read. Every import counts, also those inside functions."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from indexer.settings import PROJECT_ROOT

MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for package in ("indexer", "search_app") for p in (PROJECT_ROOT / package).rglob("*.py")}


def imports_of(name: str) -> set[str]:
    """The project modules `name` imports (`from pkg import module` counts as the module)."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text("utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {t for t in targets if t in MODULES and t != name}
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def edges(source_prefix: str, target_prefix: str, *, allowed: tuple[str, ...] = ()) -> list[str]:
    return sorted(f"{a} -> {b}" for a, targets in GRAPH.items() for b in targets
                  if a.startswith(source_prefix) and b.startswith(target_prefix) and a not in allowed)


def test_the_scan_sees_the_packages():
    assert {"indexer.index.store", "search_app.search.searcher", "search_app.app"} <= set(GRAPH)
    assert "indexer.index.generation" in GRAPH["indexer.index.store"]


def test_the_indexer_never_imports_the_web_app():
    assert edges("indexer", "search_app") == []


def test_no_import_cycles():
    def cycle_from(start):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in GRAPH[node]:
                if nxt == start:
                    return path
                if nxt not in path:
                    stack.append((nxt, path + [nxt]))
        return None
    # A package's __init__ naming its own modules is how a package exports;
    # a module importing back its own package's __init__ would close a loop.
    cycles = {" -> ".join(c) for c in map(cycle_from, GRAPH) if c}
    assert cycles == set()


def test_the_web_app_reads_the_index_through_its_public_names():
    assert edges("search_app", "indexer.index.") == []


def test_the_embedding_and_the_index_stay_apart():
    assert edges("indexer.embedding", "indexer.index") == []
    assert edges("indexer.index", "indexer.embedding", allowed=("indexer.index.store",)) == []
    assert GRAPH["indexer.index.store"] & {m for m in GRAPH if m.startswith("indexer.embedding")} <= \
        {"indexer.embedding.cache"}


def test_sources_know_nothing_of_the_index_or_the_model():
    for source in ("indexer.sources", "indexer.text", "indexer.models"):
        assert edges(source, "indexer.index") == edges(source, "indexer.embedding") == []


def test_the_text_repair_reads_the_model_only_to_remake_its_lexicon():
    assert edges("indexer.repair", "indexer.index") == []
    assert edges("indexer.repair", "indexer.embedding", allowed=("indexer.repair.__main__",)) == []


def test_settings_import_nothing_of_the_project():
    assert GRAPH["indexer.settings"] == set()


def test_the_api_the_page_and_the_editors_pages_are_imported_only_by_the_app_factory():
    for area in ("search_app.api", "search_app.pages", "search_app.editors"):
        outside = [e for e in edges("search_app", area) if not e.startswith(area) and
                   not e.startswith("search_app.app ->")]
        assert outside == []


def test_the_search_imports_nothing_of_the_web_areas():
    assert [e for e in edges("search_app.search", "search_app") if "-> search_app.search" not in e] == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_longer_than_a_newcomer_can_read(name):
    lines = len(MODULES[name].read_text("utf-8").splitlines())
    assert lines <= MAX_LINES, f"{MODULES[name].relative_to(PROJECT_ROOT)} has {lines} lines"
