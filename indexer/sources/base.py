"""What every importer shares: the error type and the field validation, so
that a malformed article is described the same way whatever its format."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Iterable, Protocol

from indexer.models import ARTICLE_KINDS, Article, Page
from indexer.repair import repair_text
from indexer.text import is_web_url

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


# Characters that change how text displays without being seen: C0 and C1
# controls (NUL, BEL, ...), the bidirectional embeddings, overrides, isolates
# and marks (U+202A-U+202E, U+2066-U+2069, U+200E/U+200F, U+061C), and the
# zero-width format characters (U+200B-U+200D, U+2060-U+2064, U+FEFF). An
# override in an author's name can make "Dr Evil" read as another person, a
# zero-width space makes "Jane\u200bRoe" look like Jane Roe while being
# another string, so attribution fields refuse them; in article text they are
# only noise and are stripped. A lone surrogate (U+D800-U+DFFF, which JSON's
# "\ud800" can write) is not a character at all and cannot even be encoded
# as UTF-8: refused in attribution, stripped from text. Tab, newline and
# carriage return are ordinary whitespace and pass.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
FORMAT_CHARACTERS = "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff"
SURROGATES = "\ud800-\udfff"
INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + BIDI_CONTROLS + FORMAT_CHARACTERS
                       + SURROGATES + "]")
ATTRIBUTION_FIELDS = ("title", "author", "credentials", "source", "url", "page")


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def strip_invisible(value: object) -> str | None:
    """Text with the invisible control and bidi characters removed."""
    return None if value is None else INVISIBLE.sub("", str(value))


def _invisible_char(value: str | None) -> str | None:
    """A description of the first invisible character in `value`, if any."""
    match = INVISIBLE.search(value or "")
    if not match:
        return None
    char = match.group()
    if "\ud800" <= char <= "\udfff":
        return f"U+{ord(char):04X}, a lone surrogate (not a character; broken UTF-16 or a bad \\u escape)"
    return f"U+{ord(char):04X} {unicodedata.name(char, 'CONTROL CHARACTER')}"


def _at(origin: str, lines: dict | None, name: str | None) -> str:
    """Where a field's problem is: its own line when the importer knows it
    (a front-matter key), else the record's origin."""
    line = (lines or {}).get(name)
    if not line:
        return origin
    path, _, _ = origin.rpartition(":")
    return f"{path or origin}:{line}"


def _short_fields(fields: dict, title: str, label: str, fail) -> dict:
    """The one-line fields, refused when too long or holding invisible characters."""
    short = {}
    for name in ATTRIBUTION_FIELDS:
        value = title if name == "title" else _clean(fields.get(name))
        if value and len(value) > MAX_FIELD_CHARS:
            raise fail(f"{label} field {name!r} is longer than {MAX_FIELD_CHARS} characters", name)
        bad = _invisible_char(value)
        if bad:
            raise fail(f"{label} field {name!r} contains {bad}, which can change how it displays "
                       f"(e.g. who seems to have written it); remove it", name)
        short[name] = value
    return short


def make_article(fields: dict, origin: str, lines: dict | None = None) -> Article:
    """Validate raw fields and build an Article, or raise CorpusError.

    Empty strings mean "not known" and become None, so an empty `author:`
    is an honest "unattributed", never a blank name. `lines` maps a field
    to the line it was written on, so an error points at that line. The
    text is repaired here (indexer.repair), the one place every format
    passes, so articles of every format get the same repairs.
    """
    def fail(msg: str, name: str | None = None) -> CorpusError:
        return CorpusError.at(_at(origin, lines, name), msg)

    article_id = _clean(fields.get("id"))
    if not article_id:
        raise fail("missing 'id'")
    if not ID_PATTERN.match(article_id):
        raise fail(f"bad id {article_id!r}: use letters, digits and . _ : - (at most 200)", "id")
    title = _clean(fields.get("title"))
    if not title:
        raise fail(f"article {article_id!r} has no 'title'", "title")
    text = _clean(strip_invisible(fields.get("text")))
    if not text:
        raise fail(f"article {article_id!r} has no text", "text")
    if len(text) > MAX_TEXT_CHARS:
        raise fail(f"article {article_id!r} text is {len(text)} characters; the limit is {MAX_TEXT_CHARS}", "text")
    kind = _clean(fields.get("kind")) or "article"
    if kind.lower() in ARTICLE_KINDS:  # `kind: Answer` is as clear as `kind: answer`
        kind = kind.lower()
    else:
        raise fail(f"article {article_id!r} has unknown kind {kind!r} (use one of {', '.join(ARTICLE_KINDS)}, "
                   f"or page for a page file)", "kind")
    short = _short_fields(fields, title, f"article {article_id!r}", fail)
    url = short["url"]
    if url and not is_web_url(url):
        raise fail(f"article {article_id!r} url {url!r} must start with http:// or https://", "url")
    if short["credentials"] and not short["author"]:
        raise fail(f"article {article_id!r} has credentials but no author", "credentials")
    synonyms = fields.get("synonyms") or ()
    if isinstance(synonyms, str):
        synonyms = [s for s in synonyms.split(";")]
    synonyms = tuple(s for s in (_clean(strip_invisible(x)) for x in synonyms) if s)
    repaired = repair_text(text)
    return Article(
        id=article_id, title=title, text=repaired.text, kind=kind,
        author=short["author"], credentials=short["credentials"], source=short["source"],
        url=url, page=short["page"], synonyms=synonyms, origin=origin,
        original_text=text if repaired.text != text else None, repairs=repaired.repairs,
    )


def make_page(fields: dict, origin: str, lines: dict | None = None) -> Page:
    def fail(msg: str, name: str | None = None) -> CorpusError:
        return CorpusError.at(_at(origin, lines, name), msg)

    page_id = _clean(fields.get("id"))
    if not page_id or not ID_PATTERN.match(page_id):
        raise fail(f"page has a missing or bad id {page_id!r}", "id")
    title = _clean(fields.get("title"))
    if not title:
        raise fail(f"page {page_id!r} has no 'title'", "title")
    for name in ("title", "url"):
        bad = _invisible_char(_clean(fields.get(name)))
        if bad:
            raise fail(f"page {page_id!r} field {name!r} contains {bad}, which can change how it displays; "
                       f"remove it", name)
    url = _clean(fields.get("url"))
    if url and not is_web_url(url):
        raise fail(f"page {page_id!r} url must start with http:// or https://", "url")
    page = Page(id=page_id, title=title, url=url, disclaimer=_clean(strip_invisible(fields.get("text"))),
                origin=origin.rpartition(":")[0] or origin)
    page.__dict__["_line_origin"] = origin  # where a duplicate page id is reported (not a field: not stored)
    return page
