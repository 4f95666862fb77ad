"""What every importer shares: the error type and the field validation, so
that a malformed article is described the same way whatever its format."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Protocol

from indexer.models import ARTICLE_KINDS, Article, Page

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_TEXT_CHARS = 200_000
MAX_FIELD_CHARS = 500
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$")


class CorpusError(Exception):
    """A problem in one input file, reported as `path:line: message`."""

    def __init__(self, path: str, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message

    @classmethod
    def at(cls, origin: str, message: str) -> "CorpusError":
        path, _, line = origin.rpartition(":")
        if not line.isdigit():
            return cls(origin, 0, message)
        return cls(path, int(line), message)


class Importer(Protocol):
    name: str
    suffixes: tuple[str, ...]

    def read(self, path: Path) -> Iterable[Article | Page | CorpusError]: ...


def read_text(path: Path) -> str:
    """Read a file as UTF-8, refusing what is too big or not text."""
    size = path.stat().st_size
    if size == 0:
        raise CorpusError(str(path), 0, "file is empty")
    if size > MAX_FILE_BYTES:
        raise CorpusError(str(path), 0, f"file is {size} bytes; the limit is {MAX_FILE_BYTES}")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise CorpusError(str(path), line, f"not valid UTF-8 (byte {err.start}); save the file as UTF-8")
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise CorpusError(str(path), line, "contains a NUL byte; is this a binary file?")
    return text


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def make_article(fields: dict, origin: str) -> Article:
    """Validate raw fields and build an Article, or raise CorpusError.

    Empty strings mean "not known" and become None, so an empty `author:`
    is an honest "unattributed", never a blank name.
    """
    def fail(msg: str) -> CorpusError:
        return CorpusError.at(origin, msg)

    article_id = _clean(fields.get("id"))
    if not article_id:
        raise fail("missing 'id'")
    if not ID_PATTERN.match(article_id):
        raise fail(f"bad id {article_id!r}: use letters, digits and . _ : - (at most 200)")
    title = _clean(fields.get("title"))
    if not title:
        raise fail(f"article {article_id!r} has no 'title'")
    text = _clean(fields.get("text"))
    if not text:
        raise fail(f"article {article_id!r} has no text")
    if len(text) > MAX_TEXT_CHARS:
        raise fail(f"article {article_id!r} text is {len(text)} characters; the limit is {MAX_TEXT_CHARS}")
    kind = _clean(fields.get("kind")) or "article"
    if kind not in ARTICLE_KINDS:
        raise fail(f"article {article_id!r} has unknown kind {kind!r} (use one of {', '.join(ARTICLE_KINDS)})")
    short = {}
    for name in ("title", "author", "credentials", "source", "url", "page"):
        value = title if name == "title" else _clean(fields.get(name))
        if value and len(value) > MAX_FIELD_CHARS:
            raise fail(f"article {article_id!r} field {name!r} is longer than {MAX_FIELD_CHARS} characters")
        short[name] = value
    url = short["url"]
    if url and not re.match(r"^https?://[^\s]+$", url, re.IGNORECASE):
        raise fail(f"article {article_id!r} url {url!r} must start with http:// or https://")
    if short["credentials"] and not short["author"]:
        raise fail(f"article {article_id!r} has credentials but no author")
    synonyms = fields.get("synonyms") or ()
    if isinstance(synonyms, str):
        synonyms = [s for s in synonyms.split(";")]
    synonyms = tuple(s for s in (_clean(x) for x in synonyms) if s)
    return Article(
        id=article_id, title=title, text=text, kind=kind,
        author=short["author"], credentials=short["credentials"], source=short["source"],
        url=url, page=short["page"], synonyms=synonyms, origin=origin,
    )


def make_page(fields: dict, origin: str) -> Page:
    page_id = _clean(fields.get("id"))
    if not page_id or not ID_PATTERN.match(page_id):
        raise CorpusError.at(origin, f"page has a missing or bad id {page_id!r}")
    title = _clean(fields.get("title"))
    if not title:
        raise CorpusError.at(origin, f"page {page_id!r} has no 'title'")
    url = _clean(fields.get("url"))
    if url and not re.match(r"^https?://[^\s]+$", url, re.IGNORECASE):
        raise CorpusError.at(origin, f"page {page_id!r} url must start with http:// or https://")
    return Page(id=page_id, title=title, url=url, disclaimer=_clean(fields.get("text")))
