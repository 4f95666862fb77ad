"""Find markup a browser would act on (tags, event handlers, javascript:
links) in a page, by parsing it: escaped text never counts."""
from __future__ import annotations

from html.parser import HTMLParser

ACTIVE_TAGS = {"script", "img", "svg", "iframe", "object", "embed", "b", "math", "style", "base", "meta-refresh"}


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ACTIVE_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action", "formaction") and value and \
                    value.strip().lower().startswith(("javascript:", "data:", "vbscript:")):
                self.found.append(f"<{tag} {name}={value[:30]!r}>")


def active_markup(html: str) -> list[str]:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.found
