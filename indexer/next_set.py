"""What the next generation of a build, sync, add or remove holds, said as a
change to the live one: the articles to write (new or edited ones are found
by content hash in indexer.build), the ids to delete and the whole page set.

Why a change and not the complete article set: the complete set means
reading every live article's full text to hand it back unchanged, which a
one-article `add` should never pay for. These functions read ids, hashes
and origins of the live generation only; untouched articles stay in their
segments by reference. Nothing here prints or decides exit codes: the
command-line layer (indexer/cli.py) does that with what is returned.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
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


def _kept_from_broken(corpus, live_origins: dict[str, str], live_pages) -> tuple[set[str], list]:
    """Ids and pages the live index holds from files that failed to read:
    kept as they were, so a typo never deletes. A page read back from an
    index that does not record its file is kept whenever any file failed
    (it may be that one)."""
    from_broken = _broken_test(corpus)
    found = {a.id for a in corpus.articles}
    ids = {i for i, origin in live_origins.items() if i not in found and from_broken(origin)}
    found_pages = {p.id for p in corpus.pages}
    pages = [p for p in live_pages if p.id not in found_pages and corpus.errors
             and (not p.origin or from_broken(p.origin))]
    return ids, pages


@dataclass
class Change:
    """The next generation as a change to the live one. `write`: articles
    to publish (indexer.build skips those whose hash did not change);
    `delete`: live ids to drop; `pages`: the complete page set. `kept`:
    live ids kept only because their file failed to read (for the message)."""

    write: list = field(default_factory=list)
    delete: set[str] = field(default_factory=set)
    pages: list = field(default_factory=list)
    kept: set[str] = field(default_factory=set)


def live_origins(live) -> dict[str, str]:
    """Id -> origin of each live article (none without a live generation)."""
    return live.article_origins() if live is not None else {}


def replacement(corpus, live) -> Change:
    """build and sync: the index becomes what the files say; what the live
    index holds from files that failed to read is kept as it was."""
    origins = live_origins(live)
    kept, kept_pages = _kept_from_broken(corpus, origins, live.pages() if live is not None else [])
    found = {a.id for a in corpus.articles}
    return Change(write=list(corpus.articles), delete=set(origins) - found - kept,
                  pages=list(corpus.pages) + kept_pages, kept=kept)


def too_many_removals(change: Change, live, paths) -> str | None:
    """Why a build or sync of `paths` is refused for removing more than half
    of the indexed articles, or None. rsync's --max-delete for editors:
    such a change is nearly always a wrong PATH, so it needs --allow-removals."""
    indexed = int(live.manifest["articles"]) if live is not None else 0
    removed = len(change.delete)
    if removed * 2 <= indexed:
        return None
    return (f"this would remove {removed} of the {indexed} indexed articles (more than half) "
            f"because they are not under {', '.join(map(str, paths))}; nothing published. "
            f"If that is what you want, run it again with --allow-removals")


def addition(corpus, live) -> Change:
    """add FILE...: the files' articles are written (only new and edited
    ones are embedded); every live article is kept by reference, its text
    never read. An article that has left one of these files stays: taking
    articles away is `remove ID` or `sync FOLDER`, never a side effect of add."""
    pages = {p.id: p for p in (live.pages() if live is not None else [])}
    pages.update({p.id: p for p in corpus.pages})
    return Change(write=list(corpus.articles), pages=list(pages.values()))


@dataclass
class Removal:
    """What `remove ID...` does: the change (publish it only if `removed`
    names something), the ids removed (in the order given) and one error
    line for each id that names neither an article nor a page."""

    change: Change
    removed: list[str]
    errors: list[str]


def removal(ids, live, root) -> Removal:
    """remove ID...: delete these articles and pages; read from the live
    index only its ids and pages."""
    live_ids = set(live.article_hashes()) if live is not None else set()
    live_pages = live.pages() if live is not None else []
    wanted = set(ids)
    unknown = sorted(wanted - live_ids - {p.id for p in live_pages})
    empty = "" if live_ids else f" (the index at {root} holds no articles)"
    return Removal(Change(delete=wanted & live_ids, pages=[p for p in live_pages if p.id not in wanted]),
                   removed=[i for i in ids if i not in unknown],
                   errors=[f"no article with id {i!r} in the index{empty}" for i in unknown])
