"""Importers: each turns one file format into `Article`s (and `Page`s).

`load_corpus` walks the given paths, picks an importer per file and returns
what it could read plus every problem found as `path:line: what is wrong`,
so an editor sees all mistakes at once and a bad file never blocks the rest
unless the caller asks for strictness.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from indexer.models import Article, Page
from indexer.sources.base import CorpusError, Importer
from indexer.sources.jsonl import JsonlImporter
from indexer.sources.markdown import MarkdownImporter
from indexer.sources.qa_xml import MedquadXmlImporter
from indexer.sources.qa_page import QaPageImporter

IMPORTERS: dict[str, Importer] = {
    imp.name: imp for imp in (MarkdownImporter(), JsonlImporter(), MedquadXmlImporter(), QaPageImporter())
}

# Files in a corpus folder that are documentation, not articles.
IGNORED_NAMES = {"README.md", "readme.md", "LICENSE", "LICENSE.md"}


@dataclass
class LoadedCorpus:
    articles: list[Article] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    errors: list[CorpusError] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    # Given paths that held no file to read (missing, empty, unreadable):
    # a build from them must not be mistaken for "the corpus is now empty".
    empty_sources: list[Path] = field(default_factory=list)
    # Given folders: a broken file is also matched by its path below one of
    # them, so an index built from a copy of the corpus keeps its articles.
    roots: list[Path] = field(default_factory=list)
    # `path: why` notes on what was skipped on purpose (folder symlinks);
    # not errors: the exit status does not change.
    skipped: list[str] = field(default_factory=list)


def importer_for(path: Path, fmt: str | None = None) -> Importer:
    if fmt:
        try:
            return IMPORTERS[fmt]
        except KeyError:
            known = ", ".join(sorted(IMPORTERS))
            raise CorpusError(str(path), 0, f"unknown format {fmt!r} (known: {known})")
    for imp in IMPORTERS.values():
        if path.suffix.lower() in imp.suffixes:
            return imp
    raise CorpusError(str(path), 0, f"unknown file type {path.suffix or '(none)'!r}")


def _wanted(folder: Path, path: Path) -> bool:
    rel = path.relative_to(folder)
    return path.is_file() and not any(p.startswith(".") for p in rel.parts) and path.name not in IGNORED_NAMES


def _dangling(path: Path) -> bool:
    return path.is_symlink() and not path.exists()


def folder_files(folder: Path, errors: list[CorpusError] | None = None,
                 skipped: list[str] | None = None) -> list[Path]:
    """The corpus files below `folder` (recursively, sorted, hidden files
    and README/LICENSE skipped). A folder that cannot be listed goes into
    `errors`: skipping it silently would make its articles look deleted.
    So does a symbolic link to a file that is gone (its target moved away).
    Symbolic links to folders are not followed (a link to /usr/share/doc
    would publish system files, a link to a parent loops): each is noted
    once in `skipped`."""
    found: list[Path] = []

    def unreadable(err: OSError) -> None:
        if errors is not None:
            errors.append(CorpusError(err.filename or str(folder), 0,
                                      f"cannot read this folder: {err.strerror or err}"))

    for root, dirs, names in os.walk(folder, onerror=unreadable, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for d in [d for d in dirs if (Path(root) / d).is_symlink()]:
            dirs.remove(d)
            if skipped is not None:
                link = Path(root) / d
                skipped.append(f"{link}: skipped: a symbolic link to a folder ({os.readlink(link)}) is not "
                               f"followed; copy or move the articles into the corpus instead")
        for name in names:
            path = Path(root) / name
            if _dangling(path) and not any(p.startswith(".") for p in path.relative_to(folder).parts):
                if errors is not None:
                    errors.append(CorpusError(str(path), 0, f"cannot read this file: it is a symbolic link to "
                                                            f"{os.readlink(path)}, which does not exist"))
            elif _wanted(folder, path):
                found.append(path)
    return sorted(found)


def iter_corpus_files(paths: list[Path]) -> list[Path]:
    """Expand directories (recursively, sorted, hidden files skipped)."""
    files: list[Path] = []
    for path in paths:
        files += folder_files(path) if path.is_dir() else [path]
    return files


def _source_files(path: Path, corpus: LoadedCorpus) -> list[Path]:
    """The files of one given path; a path with none is noted as empty."""
    if not path.exists():
        corpus.errors.append(CorpusError(str(path), 0, "no such file or directory"))
        corpus.empty_sources.append(path)
        return []
    if path.is_dir():
        corpus.roots.append(path)
        files = folder_files(path, corpus.errors, corpus.skipped)
    else:
        files = [path]
    if not files:
        corpus.empty_sources.append(path)
    return files


def _read_file(path: Path, fmt: str | None) -> list:
    """Every record of one file; a file the system cannot read is a CorpusError like any other."""
    try:
        return list(importer_for(path, fmt).read(path))
    except OSError as err:
        raise CorpusError(str(path), 0, f"cannot read this file: {err.strerror or err}") from None


def _unique_files(files: list[Path]) -> list[Path]:
    """Each file (or given path) once, however often it was named (`build
    corpus corpus/`, a folder and a file inside it): the same file is not a
    duplicate."""
    seen: set[str] = set()
    unique = []
    for path in files:
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def _page_origin(record: Page) -> str:
    return record.__dict__.get("_line_origin") or record.origin


def _refuse_duplicates(records: list, what: str, corpus: LoadedCorpus, origin_of=lambda r: r.origin) -> list:
    """The records whose id only one of them defines. An id defined twice
    (a stray notes file, a draft copy, two Q&A pages with the same file
    name) is reported at every definition and none is used, so the indexed
    version stays as it was: taking the first in sort order would publish
    whichever file happens to sort first, wrong attribution and all."""
    by_id: dict[str, list] = {}
    for record in records:
        by_id.setdefault(record.id, []).append(record)
    kept = []
    for record in records:
        same = by_id[record.id]
        if len(same) == 1:
            kept.append(record)
            continue
        others = ", ".join(origin_of(r) for r in same if r is not record)
        hint = ("; a Q&A page's ids come from its file name, so rename one of the files"
                if any(Path(origin_of(r).rpartition(":")[0] or origin_of(r)).suffix.lower() in
                       QaPageImporter.suffixes for r in same) else "")
        corpus.errors.append(CorpusError.at(
            origin_of(record), f"duplicate {what} {record.id!r}, also defined at {others}: none of them is used "
                               f"(the indexed version, if any, is kept) until only one file defines it{hint}"))
    return kept


def load_corpus(paths: list[Path], fmt: str | None = None) -> LoadedCorpus:
    corpus = LoadedCorpus()
    files = _unique_files([f for p in _unique_files([Path(p) for p in paths])
                           for f in _source_files(p, corpus)])
    articles: list[Article] = []
    pages: list[Page] = []
    for path in files:
        corpus.files.append(path)
        try:
            records = _read_file(path, fmt)
        except CorpusError as err:
            corpus.errors.append(err)
            continue
        for record in records:
            if isinstance(record, CorpusError):
                corpus.errors.append(record)
            elif isinstance(record, Page):
                pages.append(record)
            else:
                articles.append(record)
    corpus.articles = _refuse_duplicates(articles, "id", corpus)
    corpus.pages = _refuse_duplicates(pages, "page id", corpus, _page_origin)
    # A folder inside another given folder is walked twice: say each thing once.
    corpus.errors = list({str(e): e for e in corpus.errors}.values())
    corpus.skipped = list(dict.fromkeys(corpus.skipped))
    return corpus


__all__ = ["CorpusError", "LoadedCorpus", "load_corpus", "importer_for", "IMPORTERS"]
