"""JSON Lines: one article per line, a JSON object with the fields described
in corpus/README.md (`id`, `title`, `text`, `kind`, `author`, `credentials`,
`source`, `url`, `page`, `synonyms`). `synonyms` is a list of strings or one
`;`-separated string. `"kind": "page"` describes a page, as in Markdown.

It also reads MedQuAD exports such as shared/corpora/medquad-heart.jsonl as
they are: their extra `focus` (the topic) is put first among the synonyms,
`qtype` (MedQuAD's question template) is not needed and ignored, and their
`source` codes ("NHLBI") are shown as the organisation's full name. Any other
unknown key is an error: it is most likely a misspelt field, and silently
dropping e.g. "autor" would publish a signed text as unattributed.

Each line stands alone: a broken line is reported as `path:line: ...` and the
other lines still load, so one bad record never hides a thousand good ones.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from indexer.models import Article, Page
from indexer.sources.base import CorpusError, make_article, make_page, read_text
from indexer.sources.nih_sources import organisation_name, topic_synonyms

KNOWN_KEYS = {"id", "kind", "title", "text", "author", "credentials", "source", "url", "page", "synonyms"}
MEDQUAD_KEYS = {"focus", "qtype"}
STRING_KEYS = (KNOWN_KEYS | MEDQUAD_KEYS) - {"synonyms"}

JSON_TYPE_NAMES = {dict: "an object", list: "an array", str: "a string", int: "a number",
                   float: "a number", bool: "true/false", type(None): "null"}


class _DuplicateKey(Exception):
    pass


def _refuse_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    """json.loads keeps the last of two equal keys without a word; an editor
    who wrote a field twice should hear about it, as in Markdown."""
    record: dict = {}
    for key, value in pairs:
        if key in record:
            raise _DuplicateKey(key)
        record[key] = value
    return record


def _json_type(value: object) -> str:
    return JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def decode_line(line: str, origin: str) -> dict:
    """Parse one line into a JSON object, or raise CorpusError saying why not."""
    try:
        record = json.loads(line, object_pairs_hook=_refuse_duplicate_keys)
    except _DuplicateKey as err:
        raise CorpusError.at(origin, f"field {err.args[0]!r} given twice")
    except json.JSONDecodeError as err:
        raise CorpusError.at(origin, f"not valid JSON: {err.msg} (column {err.colno})")
    except RecursionError:
        raise CorpusError.at(origin, "not valid JSON: nested too deeply")
    if not isinstance(record, dict):
        raise CorpusError.at(origin, f"expected a JSON object, got {_json_type(record)}")
    return record


def check_keys(record: dict, origin: str) -> None:
    """Refuse unknown keys and values of the wrong JSON type (a number as a
    title would otherwise be silently turned into text)."""
    for key, value in record.items():
        if key not in KNOWN_KEYS | MEDQUAD_KEYS:
            known = ", ".join(sorted(KNOWN_KEYS))
            raise CorpusError.at(origin, f"unknown field {key!r} (known: {known})")
        if key in STRING_KEYS and not isinstance(value, (str, type(None))):
            raise CorpusError.at(origin, f"field {key!r} must be a string, got {_json_type(value)}")
    synonyms = record.get("synonyms")
    if isinstance(synonyms, list):
        if not all(isinstance(s, str) for s in synonyms):
            raise CorpusError.at(origin, "field 'synonyms' must hold only strings")
    elif not isinstance(synonyms, (str, type(None))):
        raise CorpusError.at(origin, f"field 'synonyms' must be a list of strings or a string, "
                                     f"got {_json_type(synonyms)}")


def build_record(record: dict, origin: str) -> Article | Page:
    """Turn a checked JSON object into an Article (or a Page)."""
    fields = {key: value for key, value in record.items() if key not in MEDQUAD_KEYS}
    if (record.get("kind") or "").strip().lower() == "page":
        return make_page(fields, origin)
    synonyms = record.get("synonyms") or []
    if isinstance(synonyms, str):
        synonyms = synonyms.split(";")
    fields["synonyms"] = topic_synonyms(record.get("focus"), synonyms)
    fields["source"] = organisation_name(record.get("source"))
    return make_article(fields, origin)


class JsonlImporter:
    name = "jsonl"
    suffixes = (".jsonl", ".ndjson")

    def read(self, path: Path) -> Iterator[Article | Page | CorpusError]:
        text = read_text(path)
        # Split on "\n" only: str.splitlines() also breaks at U+2028 and other
        # separators that JSON allows unescaped inside strings.
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            origin = f"{path}:{number}"
            try:
                record = decode_line(line, origin)
                check_keys(record, origin)
                yield build_record(record, origin)
            except CorpusError as err:
                yield err
