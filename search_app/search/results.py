"""Who stands behind a result, in words, for both the JSON API and the page,
so the two can never disagree about who wrote a passage. The API's response
shapes are built from the models in `search_app/api/schemas.py`
(`search_app/api/responses.py`).

One line, one of three shapes:

* a person: "By David H. Adams, MD, Cardiothoracic Surgeon" (with the
  organisation in brackets when the corpus records one too);
* an organisation: "From National Heart, Lung, and Blood Institute (NHLBI)";
* neither: "Unattributed answer on ‘What is mitral regurgitation (MR)?’",
  the page (or, without one, nothing) and the site when the corpus records a
  web address ("… at example.org"). Never a guessed name.

The line comes as `Part`s so the page can put the name and credentials in
their own elements while saying exactly the API's words.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from indexer.index import PassageRecord
from indexer.text import is_web_url
from indexer.titles import display_title

UNATTRIBUTED = "Unattributed"
_NOUN = {"answer": "answer", "teaser": "summary of a related article"}  # what an unattributed text is, by kind


@dataclass(frozen=True)
class Part:
    text: str
    role: str = ""   # "author", "credentials", "source", "page", "site" or "" (plain words)


@dataclass(frozen=True)
class Attribution:
    parts: tuple[Part, ...]
    kind: str        # "person", "organisation" or "none"

    @property
    def text(self) -> str:
        return "".join(part.text for part in self.parts)


def site_of(url: str | None) -> str | None:
    """The domain of a web address, without "www."; None if there is none."""
    if not is_web_url(url):
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host[4:] if host and host.startswith("www.") else host


def attribution_of(author: str | None, credentials: str | None, source: str | None, *, kind: str = "article",
                   page_title: str | None = None, url: str | None = None) -> Attribution:
    """The one attribution line. `page_title`: the title of the page the text
    came from; `url`: where the text (or its page) was published."""
    if author:
        parts = [Part("By "), Part(author, "author")]
        if credentials:
            parts += [Part(", "), Part(credentials, "credentials")]
        if source:
            parts += [Part(" ("), Part(source, "source"), Part(")")]
        return Attribution(tuple(parts), "person")
    if source:
        return Attribution((Part("From "), Part(source, "source")), "organisation")
    parts = [Part(f"{UNATTRIBUTED} {_NOUN.get(kind, 'article')}")]
    if page_title:
        parts += [Part(" on ‘"), Part(display_title(page_title), "page"), Part("’")]
    site = site_of(url)
    if site:
        parts += [Part(" at "), Part(site, "site")]
    return Attribution(tuple(parts), "none")


def attribution_label(passage: PassageRecord, pages: dict) -> Attribution:
    """The attribution line of a passage; `pages`: the generation's pages by id."""
    page = pages.get(passage.page_id) if passage.page_id else None
    return attribution_of(passage.author, passage.credentials, passage.source, kind=passage.article_kind,
                          page_title=page.title if page else None,
                          url=passage.article_url or (page.url if page else None))
