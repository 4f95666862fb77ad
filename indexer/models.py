"""The two records that flow through the indexer: an `Article` (what an editor
writes) and a `Passage` (what gets embedded and returned to readers).

Attribution travels on both so that no later stage has to look it up again:
a passage that reaches a reader carries the same author, credentials and
source as the article it was cut from.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

ARTICLE_KINDS = ("answer", "teaser", "article")


@dataclass(frozen=True)
class Repair:
    """One change the import made to an article's text (indexer.repair), kept
    so an editor can see and check it: `kind` names the rule, `before` and
    `after` the text it replaced and what it put there."""

    kind: str
    before: str
    after: str


@dataclass(frozen=True)
class Page:
    """A source page several articles came from; holds what is not indexed
    (the site's disclaimer) but must still be shown beside its passages."""

    id: str
    title: str
    url: str | None = None
    disclaimer: str | None = None
    origin: str = ""  # file it was read from ("" when read back from an index that does not store it)

    def shown(self) -> tuple:
        """What readers see of the page: a change here must be published
        (a corrected disclaimer); where it was read from is not."""
        return (self.id, self.title, self.url, self.disclaimer)


@dataclass(frozen=True)
class Article:
    """One document as an editor wrote or imported it.

    `author` is a person's name or None ("unattributed"); an organisation
    that stands behind a text goes in `source`, never in `author`.
    """

    id: str
    title: str
    text: str
    kind: str = "article"
    author: str | None = None
    credentials: str | None = None
    source: str | None = None
    url: str | None = None
    page: str | None = None
    synonyms: tuple[str, ...] = ()
    origin: str = ""  # file (and line) it was read from, for error messages
    # The text as the source had it, when the import repaired it (None: the
    # text is the source's own), and what the repair changed.
    original_text: str | None = None
    repairs: tuple[Repair, ...] = ()

    def source_text(self) -> str:
        """The text exactly as the source had it, for checking a repair."""
        return self.text if self.original_text is None else self.original_text

    def content_hash(self) -> str:
        """Hash of everything that changes what is indexed or shown, so an
        edit to attribution alone still counts as a change. Computed once
        per object: a publish diffs every article of the index by it."""
        cached = self.__dict__.get("_content_hash")
        if cached is None:
            payload = {k: v for k, v in asdict(self).items() if k != "origin"}
            blob = json.dumps(payload, sort_keys=True, ensure_ascii=False)
            cached = hashlib.sha256(blob.encode("utf-8")).hexdigest()
            self.__dict__["_content_hash"] = cached  # frozen: bypass __setattr__, as cached_property does
        return cached


@dataclass(frozen=True)
class Passage:
    """A piece of an article sized for the model's window.

    `text` is what readers see; `embed_text` is what the model sees (the
    article title in front, so a passage is understood in its context).
    """

    article_id: str
    position: int
    text: str
    embed_text: str
    sentences: tuple[str, ...] = field(default=())
    heading: str | None = None  # the section heading in force where the passage starts

    def text_hash(self, model_name: str) -> str:
        return embedding_key(model_name, self.embed_text)


def embedding_key(model_name: str, text: str) -> str:
    """Key of a text's embedding in the cache: the same text under the same
    model never needs embedding twice."""
    return hashlib.sha256(f"{model_name}\0{text}".encode("utf-8")).hexdigest()


def article_embed_text(article: Article) -> str:
    """What the whole-article vector is computed from (the model reads the
    first 256 word pieces: the title and the opening of the text)."""
    return f"{article.title}\n{article.text}"
