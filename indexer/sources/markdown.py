"""The project's own corpus format: one Markdown file per article, a small
front-matter block of `key: value` lines between `---` lines, then the text.
See corpus/README.md for every field."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from indexer.models import Article, Page
from indexer.sources.base import CorpusError, make_article, make_page, read_text

KNOWN_KEYS = {"id", "kind", "title", "author", "credentials", "source", "url", "page", "synonyms"}


def parse_front_matter(text: str, path: str, lines_out: dict | None = None) -> tuple[dict, str, int]:
    """Split a document into (fields, body, body's first line number).
    `lines_out`, if given, receives each key's line number, so that a bad
    value is reported where the editor wrote it, not at line 1."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise CorpusError(path, 1, "expected a front-matter block starting with '---' on the first line")
    fields: dict[str, str] = {}
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() == "---":
            body = "\n".join(lines[number:])
            return fields, body, number + 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if not sep or not key:
            raise CorpusError(path, number, f"expected 'key: value', got {line.strip()[:60]!r}")
        if key not in KNOWN_KEYS:
            raise CorpusError(path, number, f"unknown field {key!r} (known: {', '.join(sorted(KNOWN_KEYS))})")
        if key in fields:
            raise CorpusError(path, number, f"field {key!r} given twice")
        fields[key] = value.strip()
        if lines_out is not None:
            lines_out[key] = number
    raise CorpusError(path, len(lines), "front-matter block is not closed with '---'")


class MarkdownImporter:
    name = "markdown"
    suffixes = (".md", ".markdown")

    def read(self, path: Path) -> Iterator[Article | Page | CorpusError]:
        text = read_text(path)
        lines: dict[str, int] = {}
        fields, body, body_line = parse_front_matter(text, str(path), lines)
        fields["text"] = body.strip()
        lines["text"] = body_line + len(body) - len(body.lstrip("\n")) if body.strip() else body_line
        origin = f"{path}:1"
        if fields.get("kind", "").strip().lower() == "page":
            fields.pop("kind")
            yield make_page(fields, origin, lines)
        else:
            yield make_article(fields, origin, lines)
