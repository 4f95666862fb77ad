"""The project's own corpus format: one Markdown file per article, a small
front-matter block of `key: value` lines between `---` lines, then the text.
See corpus/README.md for every field."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from indexer.models import Article, Page
from indexer.sources.base import CorpusError, make_article, make_page, read_text

KNOWN_KEYS = {"id", "kind", "title", "author", "credentials", "source", "url", "page", "synonyms"}


def parse_front_matter(text: str, path: str) -> tuple[dict, str, int]:
    """Split a document into (fields, body, body's first line number)."""
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
    raise CorpusError(path, len(lines), "front-matter block is not closed with '---'")


class MarkdownImporter:
    name = "markdown"
    suffixes = (".md", ".markdown")

    def read(self, path: Path) -> Iterator[Article | Page | CorpusError]:
        text = read_text(path)
        fields, body, body_line = parse_front_matter(text, str(path))
        fields["text"] = body.strip()
        origin = f"{path}:1"
        if fields.get("kind", "").strip() == "page":
            fields.pop("kind")
            yield make_page(fields, origin)
        else:
            yield make_article(fields, origin)
