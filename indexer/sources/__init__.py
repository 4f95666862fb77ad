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


def folder_files(folder: Path, errors: list[CorpusError] | None = None) -> list[Path]:
    """The corpus files below `folder` (recursively, sorted, hidden files
    and README/LICENSE skipped). A folder that cannot be listed goes into
    `errors`: skipping it silently would make its articles look deleted."""
    found: list[Path] = []

    def unreadable(err: OSError) -> None:
        if errors is not None:
            errors.append(CorpusError(err.filename or str(folder), 0,
                                      f"cannot read this folder: {err.strerror or err}"))

    for root, dirs, names in os.walk(folder, onerror=unreadable, followlinks=True):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(root) / n for n in names if _wanted(folder, Path(root) / n)]
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
    files = folder_files(path, corpus.errors) if path.is_dir() else [path]
    if not files:
        corpus.empty_sources.append(path)
    return files


def _read_file(path: Path, fmt: str | None) -> list:
    """Every record of one file; a file the system cannot read is a CorpusError like any other."""
    try:
        return list(importer_for(path, fmt).read(path))
    except OSError as err:
        raise CorpusError(str(path), 0, f"cannot read this file: {err.strerror or err}") from None


def load_corpus(paths: list[Path], fmt: str | None = None) -> LoadedCorpus:
    corpus = LoadedCorpus()
    seen: dict[str, str] = {}
    files = [f for p in paths for f in _source_files(Path(p), corpus)]
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
                corpus.pages.append(record)
            elif record.id in seen:
                corpus.errors.append(CorpusError.at(record.origin, f"duplicate id {record.id!r} (first defined at {seen[record.id]})"))
            else:
                seen[record.id] = record.origin
                corpus.articles.append(record)
    return corpus


__all__ = ["CorpusError", "LoadedCorpus", "load_corpus", "importer_for", "IMPORTERS"]
