"""What the JSON API and the reader's page both need from HTTP: the same
reading of query-string numbers and encodings (so `?page=1_0` is refused on
the page as `?k=1_0` is in the API), and how long a client is told to wait
while the index is unavailable. Kept apart so neither area imports the other."""
from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

INDEX_RETRY_AFTER = 5  # seconds, in Retry-After on a 503 while no index can be served

_ASCII_INT = re.compile(r"[+-]?[0-9]+")


def ascii_whole_number(text: str) -> int | None:
    """`text` as a whole number if it is ASCII digits (a sign allowed), else
    None. Python's int() also takes `1_0`, ` 10 ` and other scripts' digits."""
    return int(text) if _ASCII_INT.fullmatch(text) else None


def invalid_encoding_field(query_string: bytes) -> str | None:
    """The name of the first query parameter whose value (or name) is not
    UTF-8 once percent-decoded; None when every one is."""
    for pair in query_string.split(b"&"):
        name, _, value = pair.partition(b"=")
        for part in (name, value):
            try:
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                return name.decode("utf-8", "replace") or "query"
    return None
