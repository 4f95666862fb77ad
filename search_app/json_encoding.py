"""JSON responses encoded by orjson instead of the standard library.

Every API response is a JSON document of tens of kilobytes (ten results,
their attribution, the answers collapsed into them), and encoding it in
pure Python was a measurable share of a request's CPU (docs/performance.md);
orjson does the same in C. Output differences that matter to a client:
none (compact, keys in insertion order as `sort_keys = False` had them,
non-ASCII written as UTF-8 rather than \\u escapes, both valid JSON).
Reading request bodies stays with Flask's own parser.
"""
from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider


class OrjsonProvider(DefaultJSONProvider):
    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs:  # a caller asking for the standard library's options (indent, sort_keys...)
            return super().dumps(obj, **kwargs)
        return orjson.dumps(obj, default=self.default).decode()

    def response(self, *args: Any, **kwargs: Any):
        """As Flask's: compact, with a closing newline, indented in debug mode."""
        if self._app.debug:
            return super().response(*args, **kwargs)
        body = orjson.dumps(self._prepare_response_obj(args, kwargs), default=self.default) + b"\n"
        return self._app.response_class(body, mimetype=self.mimetype)
