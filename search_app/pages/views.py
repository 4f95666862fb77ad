"""The readers' page: a plain HTML form that works without JavaScript.

`/?q=...&page=N` is the whole state, so a result page can be shared and
bookmarked. Everything that comes from an article or a query reaches the page
through Jinja's autoescaping: highlighting is done by cutting the text into
pieces here (plain, query word, matched sentence) and letting the template
escape each piece; nothing is ever marked up as a string and declared safe.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, render_template, request, url_for

from indexer.index import IndexError_
from indexer.text import STOP_WORDS, is_web_url, stem, word_spans
from search_app.pages.more import in_order
from search_app.pages.question import question_page
from search_app.search.results import attribution_label, site_of
from indexer.titles import display_title
from search_app.shared_http import INDEX_RETRY_AFTER, ascii_whole_number, invalid_encoding_field
from search_app.search.match_quality import any_good, is_good, no_good_match_similarity
from search_app.search.hits import Also, Hit, matched_sentence
from search_app.search.query import InputError, normalise_query
from search_app.search.search_log import record_search
from search_app.search.searcher import SearchResult
from search_app.search.urgent import urgent_notice

web = Blueprint("web", __name__)

EXAMPLE_QUESTIONS = [
    "leaky heart valve",
    "what causes mitral regurgitation",
    "heart problems in dialysis patients",
    "can surgery fix a heart valve",
]

# A page is "no good match" when no hit on it is a good match
# (search_app/search/match_quality.py).

MAX_PAGE = 50   # deepest page a link may ask for (the API stops at offset 1000)

@dataclass(frozen=True)
class Piece:
    text: str
    term: bool = False   # a query word: shown strong


@dataclass(frozen=True)
class Segment:
    pieces: tuple[Piece, ...]
    match: bool = False  # the sentence that best matches the query: highlighted
    item: bool = False   # a list item ("- " in the passage text): shown on a line of its own


LIST_ITEM = "- "  # how the indexer writes a list item (indexer/chunking.py)


def mark_terms(text: str, query_stems: set[str]) -> tuple[Piece, ...]:
    """Cut `text` into plain pieces and query-word pieces (same words and stems
    as the lexical index, so what is marked is what matched)."""
    pieces: list[Piece] = []
    last = 0
    for start, end, word in word_spans(text):
        if word not in STOP_WORDS and stem(word) in query_stems:
            if start > last:
                pieces.append(Piece(text[last:start]))
            pieces.append(Piece(text[start:end], term=True))
            last = end
    if last < len(text):
        pieces.append(Piece(text[last:]))
    return tuple(pieces)


def passage_segments(sentences: list[str], matched: int | None, query_stems: set[str]) -> list[Segment]:
    """A passage (its sentences, joined by spaces as the passage text is) with
    the matched sentence flagged, query words marked and list items told
    apart from prose, so a list reads as a list and not as " - " runs."""
    return [Segment(mark_terms(sentence[len(LIST_ITEM):] if item else sentence, query_stems),
                    match=(i == matched), item=item)
            for i, sentence in enumerate(sentences)
            for item in [sentence.startswith(LIST_ITEM)]]


def safe_url(url: str | None) -> str | None:
    """Only http(s) links are ever made clickable."""
    if is_web_url(url):
        return url
    return None


domain_of = site_of  # the site named in unattributed lines is the one shown here


def parse_page(raw: str | None) -> int:
    """Page numbers from links; anything odd is simply the first page."""
    page = (ascii_whole_number(raw) if raw else None) or 1  # ASCII digits only, as in the API
    return min(max(page, 1), MAX_PAGE)


def _other_passages(result: SearchResult, hits: list[Hit]) -> dict:
    """Passage records for every hit's "more from this article", from the
    generation the search ran on (passage ids belong to one generation)."""
    ids = [pid for hit in hits for pid in hit.other_passages]
    return result.generation.passages(ids) if ids else {}


def also_summary(also: list[Also]) -> str:
    """The closed <details> line of a result's collapsed answers: how many,
    and who gives them ("2 more answers: from NHLBI and David H. Adams",
    "3 more answers: 3 unattributed")."""
    named: dict[str, int] = {}
    for a in also:
        name = a.passage.author or a.passage.source or ""
        named[name] = named.get(name, 0) + 1
    unnamed = named.pop("", 0)
    parts = [f"{name} ×{n}" if n > 1 else name for name, n in named.items()]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1] if parts else ""
    who = [f"from {listed}"] if parts else []
    who += [f"{unnamed} unattributed"] if unnamed else []
    count = f"{len(also)} more answer{'s' if len(also) != 1 else ''} to this question"
    return f"{count}: {'; '.join(who)}"


def _also_view(a: Also, pages: dict, query_stems: set[str]) -> dict:
    p = a.passage
    return {"attribution": attribution_label(p, pages), "url": safe_url(p.article_url),
            "segments": passage_segments(p.sentences or [p.text], matched_sentence(p, query_stems), query_stems)}


def _more_view(hit: Hit, others: dict, query_stems: set[str]) -> list[dict]:
    """The whole article in order for "More from this article", the shown
    passage at its place (marked, not repeated), the overlap dropped."""
    readings = in_order([hit.passage, *(others[i] for i in hit.other_passages if i in others)], hit.passage.id)
    if len(readings) < 2:
        return []
    return [{"position": r.position, "shown": r.shown, "repeats": r.repeats_only,
             "segments": passage_segments(list(r.sentences), None, query_stems)} for r in readings]


def result_views(result: SearchResult, hits: list[Hit]) -> list[dict]:
    query_stems = set(result.plan.highlight_stems)
    threshold = no_good_match_similarity(result.generation)
    others = _other_passages(result, hits)
    pages = result.generation.pages_by_id
    views = []
    for hit in hits:
        p = hit.passage
        url = safe_url(p.article_url)
        views.append({
            "rank": hit.rank,
            "article_id": p.article_id,
            "title": display_title(p.article_title),
            "url": url,
            "teaser": p.article_kind == "teaser",
            "heading": p.heading,
            "segments": passage_segments(p.sentences or [p.text], hit.matched_sentence, query_stems),
            "attribution": attribution_label(p, pages),  # its .text: the API's `attribution`, word for word
            "position": p.position + 1,
            "of": p.passage_count,
            "more": _more_view(hit, others, query_stems),
            "also": [_also_view(a, pages, query_stems) for a in hit.also],
            "also_summary": also_summary(hit.also) if hit.also else None,
            "answers": hit.answers,
            "good": is_good(hit, threshold),
        })
    return views


def page_url(query: str, page: int) -> str:
    return url_for("web.index", q=query, page=page) if page > 1 else url_for("web.index", q=query)


def disclaimers_of(generation) -> list[str]:
    return [p.disclaimer for p in generation.pages() if p.disclaimer]


@web.get("/")
def index():
    config = current_app.config["HEARTSEARCH"]
    searcher = current_app.extensions["searcher"]
    raw = request.args.get("q")
    page = parse_page(request.args.get("page"))
    context = {"query": raw or "", "state": "landing", "results": [], "error": None, "page": page,
               "examples": EXAMPLE_QUESTIONS, "max_chars": config.max_query_chars, "urgent": None,
               "corrected": None, "prev_url": None, "next_url": None, "first": 0, "last": 0}
    status = 200
    try:
        context["disclaimers"] = disclaimers_of(current_app.extensions["live_index"].generation)
    except Exception:  # the page still works; base.html has a general disclaimer
        current_app.logger.exception("could not read the disclaimers")
    if raw is not None and invalid_encoding_field(request.query_string) is not None:
        context.update(state="error", error="Your search contains characters we could not read (it is not "
                                            "valid UTF-8 text). Please type it again.")
        return render_template("index.html", **context), 400
    if raw is not None:
        try:
            context["urgent"] = urgent_notice(raw)
            query = normalise_query(raw, config.max_query_chars)
            context["query"] = query
            offset = (page - 1) * config.page_size
            # One search also fetches the next page, so "Next results" is only
            # offered when that page has a good match to show.
            result = searcher.search(query, 2 * config.page_size, offset=offset)
            context["disclaimers"] = disclaimers_of(result.generation)  # those of the results shown
            results = result_views(result, result.hits[:config.page_size])
            next_page = result.hits[config.page_size:]
            good = any(r["good"] for r in results)
            record_search(current_app.extensions.get("search_log"), result, result.hits[:config.page_size],
                          not good, context["urgent"].conditions if context["urgent"] else (), offset)
            if result.plan.corrected != result.plan.text:
                context["corrected"] = result.plan.corrected
            if not good:
                context["state"] = "no_match" if page == 1 else "no_more"
            else:
                context.update(state="results", results=results, first=offset + 1, last=offset + len(results))
                if page > 1:
                    context["prev_url"] = page_url(query, page - 1)
                if page < MAX_PAGE and any_good(next_page, result.generation):
                    context["next_url"] = page_url(query, page + 1)
            if page > 1 and not good:
                context["first_url"] = page_url(query, 1)
        except InputError as err:
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


@web.get("/questions/<article_id>")
def question(article_id: str):
    """Every answer to one article's question, side by side; 404 if unknown."""
    searcher = current_app.extensions["searcher"]
    generation = searcher.generation
    found = question_page(generation, searcher.questions(generation), article_id, safe_url)
    if found is None:
        abort(404)
    config = current_app.config["HEARTSEARCH"]
    return render_template("question.html", question=found, query="", max_chars=config.max_query_chars,
                           disclaimers=found.disclaimers)
