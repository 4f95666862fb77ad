"""The readers' page: a plain HTML form that works without JavaScript.

`/?q=...&page=N` is the whole state, so a result page can be shared and
bookmarked. Everything that comes from an article or a query reaches the page
through Jinja's autoescaping: highlighting is done by cutting the text into
pieces here (plain, query word, matched sentence) and letting the template
escape each piece; nothing is ever marked up as a string and declared safe.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, current_app, render_template, request, url_for

from indexer.index import IndexError_
from indexer.text import STOP_WORDS, stem, words
from search_app.api.errors import INDEX_RETRY_AFTER
from search_app.search.results import UNATTRIBUTED, attribution_label
from search_app.api.schemas import ascii_whole_number, invalid_encoding_field
from search_app.search.searcher import Hit, QueryError, SearchResult, normalise_query
from search_app.pages.urgent import urgent_signs

web = Blueprint("web", __name__)

EXAMPLE_QUESTIONS = [
    "leaky heart valve",
    "what causes mitral regurgitation",
    "heart problems in dialysis patients",
    "can surgery fix a heart valve",
]

# A page is "no good match" when no hit on it has a similarity (hit.similarity:
# cosine of the shown passage to the query) of at least this. Measured with the
# real model (all-MiniLM-L6-v2) on 2026-11-28 at commit 959c207, best
# similarity among the top 10 of the default hybrid search:
#   shipped corpus (corpus/, 10 articles):
#     on-topic queries (15 written for it, e.g. "leaky heart valve" 0.530,
#       "heart murmur" 0.516, "treatment for a leaking valve" 0.421): min 0.290
#       ("systole diastole jet"), next 0.398, median 0.554; one-word topic
#       queries ("palpitations" 0.300, "murmur" 0.310, "valve" 0.389);
#       misspelt "leeky hart valve" 0.298;
#     off-topic queries (18: "how do I bake sourdough bread" -0.005, "best
#       football team" 0.043, "tax return deadline" -0.009, "how to change a
#       car tyre" 0.126, "hello" 0.105, ...): max 0.126, median 0.044.
#   ../shared MedQuAD heart corpus (954 articles):
#     the 100 shared dev queries: min 0.412, 5th percentile 0.478, median 0.634;
#     the same 18 off-topic queries: max 0.268 ("how to knit a scarf"),
#       median 0.157 (a bigger corpus gives unrelated text more chances).
# 0.28 sits between the highest off-topic score on either corpus (0.268) and
# the lowest on-topic one (0.290). The gap is narrow. Queries sharing a word
# or theme with the corpus pass any threshold that keeps real questions
# ("valve on my bicycle tyre" 0.335 / 0.505, "heart emoji meaning" 0.306 /
# 0.452, medical but off-corpus "what is diabetes" 0.191 / 0.693); they get
# their honestly ranked results. Re-measure when the model or corpus changes.
NO_GOOD_MATCH_SIMILARITY = 0.28

MAX_PAGE = 50   # deepest page a link may ask for (the API stops at offset 1000)

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


@dataclass(frozen=True)
class Piece:
    text: str
    term: bool = False   # a query word: shown strong


@dataclass(frozen=True)
class Segment:
    pieces: tuple[Piece, ...]
    match: bool = False  # the sentence that best matches the query: highlighted


def mark_terms(text: str, query_stems: set[str]) -> tuple[Piece, ...]:
    """Cut `text` into plain pieces and query-word pieces (same words and stems
    as the lexical index, so what is marked is what matched)."""
    pieces: list[Piece] = []
    last = 0
    for token in _TOKEN.finditer(text):
        token_words = [w for w in words(token.group()) if w not in STOP_WORDS]
        if token_words and any(stem(w) in query_stems for w in token_words):
            if token.start() > last:
                pieces.append(Piece(text[last:token.start()]))
            pieces.append(Piece(token.group(), term=True))
            last = token.end()
    if last < len(text):
        pieces.append(Piece(text[last:]))
    return tuple(pieces)


def passage_segments(sentences: list[str], matched: int | None, query_stems: set[str]) -> list[Segment]:
    """A passage (its sentences, joined by spaces as the passage text is) with
    the matched sentence flagged and query words marked."""
    return [Segment(mark_terms(sentence, query_stems), match=(i == matched))
            for i, sentence in enumerate(sentences)]


def safe_url(url: str | None) -> str | None:
    """Only http(s) links are ever made clickable."""
    if url and re.match(r"https?://[^\s]+$", url, re.IGNORECASE):
        return url
    return None


def domain_of(url: str | None) -> str | None:
    try:
        host = urlsplit(url).hostname if url else None
    except ValueError:
        return None
    return host[4:] if host and host.startswith("www.") else host


def parse_page(raw: str | None) -> int:
    """Page numbers from links; anything odd is simply the first page."""
    page = (ascii_whole_number(raw) if raw else None) or 1  # ASCII digits only, as in the API
    return min(max(page, 1), MAX_PAGE)


def _other_passages(searcher, result: SearchResult, hits: list[Hit]) -> dict:
    """Passage records for every hit's "more from this article", from the
    generation the search ran on (passage ids belong to one generation)."""
    ids = [pid for hit in hits for pid in hit.other_passages]
    generation = searcher.generation
    if not ids:
        return {}
    if generation.identity == result.identity:
        return generation.passages(ids)
    records = {}  # a newer generation was published mid-request: look up by article instead
    for hit in hits:
        for record in generation.article_passages(hit.passage.article_id):
            if record.position != hit.passage.position:
                records[record.id] = record
        hit.other_passages = [r.id for r in records.values() if r.article_id == hit.passage.article_id]
    return records


def is_good(hit: Hit) -> bool:
    return hit.similarity is None or hit.similarity >= NO_GOOD_MATCH_SIMILARITY


def result_views(searcher, result: SearchResult, hits: list[Hit]) -> list[dict]:
    query_stems = set(result.plan.highlight_stems)
    others = _other_passages(searcher, result, hits)
    pages = {p.id: p for p in searcher.generation.pages()}
    views = []
    for hit in hits:
        p = hit.passage
        page = pages.get(p.page_id) if p.page_id else None
        url = safe_url(p.article_url)
        more = sorted((others[i] for i in hit.other_passages if i in others), key=lambda r: r.position)
        views.append({
            "rank": hit.rank,
            "title": p.article_title,
            "url": url,
            "domain": domain_of(url),
            "teaser": p.article_kind == "teaser",
            "segments": passage_segments(p.sentences or [p.text], hit.matched_sentence, query_stems),
            "attribution": attribution_label(p),     # the API's words for who stands behind it
            "unattributed": attribution_label(p) == UNATTRIBUTED,
            "author": p.author,
            "credentials": p.credentials if p.author else None,
            "source": p.source,
            "page_title": page.title if page else None,
            "page_url": safe_url(page.url) if page else None,
            "position": p.position + 1,
            "of": p.passage_count,
            "more": [{"position": r.position + 1, "segments": passage_segments(r.sentences or [r.text], None,
                                                                               query_stems)}
                     for r in more],
            "good": is_good(hit),
        })
    return views


def page_url(query: str, page: int) -> str:
    return url_for("web.index", q=query, page=page) if page > 1 else url_for("web.index", q=query)


@web.get("/")
def index():
    config = current_app.config["HEARTSEARCH"]
    searcher = current_app.extensions["searcher"]
    raw = request.args.get("q")
    page = parse_page(request.args.get("page"))
    context = {"query": raw or "", "state": "landing", "results": [], "error": None, "page": page,
               "examples": EXAMPLE_QUESTIONS, "max_chars": config.max_query_chars, "urgent": [],
               "corrected": None, "prev_url": None, "next_url": None, "first": 0, "last": 0}
    status = 200
    try:
        context["disclaimers"] = searcher.disclaimers()
    except Exception:  # the page still works; base.html has a general disclaimer
        current_app.logger.exception("could not read the disclaimers")
    if raw is not None and invalid_encoding_field(request.query_string) is not None:
        context.update(state="error", error="Your search contains characters we could not read (it is not "
                                            "valid UTF-8 text). Please type it again.")
        return render_template("index.html", **context), 400
    if raw is not None:
        try:
            context["urgent"] = urgent_signs(raw)
            query = normalise_query(raw, config.max_query_chars)
            context["query"] = query
            offset = (page - 1) * config.page_size
            # One search also fetches the next page, so "Next results" is only
            # offered when that page has a good match to show.
            result = searcher.search(query, 2 * config.page_size, offset=offset)
            results = result_views(searcher, result, result.hits[:config.page_size])
            next_page = result.hits[config.page_size:]
            good = any(r["good"] for r in results)
            if result.plan.corrected != result.plan.text:
                context["corrected"] = result.plan.corrected
            if not good:
                context["state"] = "no_match" if page == 1 else "no_more"
            else:
                context.update(state="results", results=results, first=offset + 1, last=offset + len(results))
                if page > 1:
                    context["prev_url"] = page_url(query, page - 1)
                if any(is_good(hit) for hit in next_page) and page < MAX_PAGE:
                    context["next_url"] = page_url(query, page + 1)
            if page > 1 and not good:
                context["first_url"] = page_url(query, 1)
        except QueryError as err:
            context.update(state="error", error=err.message)
            status = 400
        except IndexError_ as err:  # the index folder gone or damaged: not our bug, and it passes
            current_app.logger.error("index unavailable for the readers' page: %s", err)
            context.update(state="error", error="Sorry, the search is not available right now. "
                                                "Please try again in a minute.")
            status = 503
        except Exception:
            current_app.logger.exception("search failed for the readers' page")
            context.update(state="error", error="Sorry, the search is not working right now. "
                                                "Please try again in a minute.")
            status = 500
    headers = {"Retry-After": str(INDEX_RETRY_AFTER)} if status == 503 else {}
    return render_template("index.html", **context), status, headers
