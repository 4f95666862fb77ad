"""Importers: each turns one file format into `Article`s (and `Page`s).

`load_corpus` walks the given paths, picks an importer per file and returns
what it could read plus every problem found as `path:line: what is wrong`,
so an editor sees all mistakes at once and a bad file never blocks the rest
unless the caller asks for strictness.
"""
from __future__ import annotations

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


def iter_corpus_files(paths: list[Path]) -> list[Path]:
    """Expand directories (recursively, sorted, hidden files skipped)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if child.is_file() and not any(p.startswith(".") for p in rel.parts) \
                        and child.name not in IGNORED_NAMES:
                    files.append(child)
        else:
            files.append(path)
    return files


def load_corpus(paths: list[Path], fmt: str | None = None) -> LoadedCorpus:
    corpus = LoadedCorpus()
    seen: dict[str, str] = {}
    for path in iter_corpus_files([Path(p) for p in paths]):
        corpus.files.append(path)
        try:
            if not path.exists():
                raise CorpusError(str(path), 0, "no such file or directory")
            records = list(importer_for(path, fmt).read(path))
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
