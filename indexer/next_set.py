"""What a `build` or `sync` may make of the files it read: whether they can
be the whole corpus at all, and which live articles and pages to keep
because the file they came from failed to read (a typo never deletes).
The command-line layer (indexer/cli.py) prints and decides exit codes."""
from __future__ import annotations

import os
from pathlib import Path


def unusable_sources(paths, corpus) -> str | None:
    """Why `paths` cannot be the whole corpus, or None. build and sync make
    the index match the paths, so a mistyped, empty or unmounted folder
    would otherwise publish a site with every article removed."""
    if corpus.empty_sources:
        path = corpus.empty_sources[0]
        if not path.exists():
            return f"{path}: no such file or directory"
        return f"{path}: no article file here (an empty, unmounted or unreadable folder?)"
    if not corpus.articles:
        return f"no article could be read from {', '.join(map(str, paths))}"
    return None


def _below_roots(path: str, roots) -> list[str]:
    """`path` relative to each given folder that holds it."""
    below = []
    for root in roots:
        try:
            rel = Path(path).relative_to(root)
        except ValueError:
            continue
        if rel.parts:
            below.append(str(rel))
    return below


def _broken_test(corpus):
    """A test of whether an origin (a file, or file:line) is a file that
    failed to read or lies in a folder that could not be listed. The index
    records the path an article was read from, which is another one once
    the corpus was copied or moved (a checkout elsewhere, a CI workspace),
    so a broken file also matches by its path below the folder built from
    (`what-is-mitral-regurgitation/answer-1.md`)."""
    broken = {str(err.path) for err in corpus.errors}
    folders = tuple(b.rstrip(os.sep) + os.sep for b in broken if os.path.isdir(b))
    roots = getattr(corpus, "roots", ())
    relative = {os.sep + r for b in broken if not os.path.isdir(b) for r in _below_roots(b, roots)}
    relative_folders = {os.sep + r + os.sep for b in broken if os.path.isdir(b) for r in _below_roots(b, roots)}
    relative_ends = tuple(relative)

    def from_broken(origin: str) -> bool:
        path, _, line = origin.rpartition(":")
        path = path if line.isdigit() else origin
        if path in broken or (bool(folders) and path.startswith(folders)):
            return True
        anchored = path if path.startswith(os.sep) else os.sep + path
        return (bool(relative_ends) and anchored.endswith(relative_ends)) or \
            any(f in anchored for f in relative_folders)
    return from_broken


def kept_from_broken(corpus, live_articles, live_pages) -> tuple[list, list]:
    """What the live index holds from files that failed to read: kept as it
    was, so a typo never deletes. A page read back from an index that does
    not record its file is kept whenever any file failed (it may be that one)."""
    from_broken = _broken_test(corpus)
    found = {a.id for a in corpus.articles}
    articles = [a for a in live_articles if a.id not in found and from_broken(a.origin)]
    found_pages = {p.id for p in corpus.pages}
    pages = [p for p in live_pages if p.id not in found_pages and corpus.errors
             and (not p.origin or from_broken(p.origin))]
    return articles, pages
